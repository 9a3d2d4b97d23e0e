// The worker's local store of map output: one RocksDB, keyed as
// common/shuffle_keys.h says, holding the LZ4 record blocks that map tasks
// spilled. Map attempts hand in whole SST files (ingested, not rewritten);
// reducers' fetches read one partition of one map attempt; a finished job's
// data is dropped whole.
//
// No WAL: a worker that restarts is a new worker and starts from an empty
// store (lost map output is recomputed by the master's choice).
//
// Thread-safety: thread-safe (RocksDB is).
#ifndef MR_WORKER_SHUFFLE_STORE_H_
#define MR_WORKER_SHUFFLE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include <map>
#include <set>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "proto/worker.pb.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mr {

struct StoredBlock {
  uint32_t run = 0;
  uint32_t raw_size = 0;
  uint32_t crc32c = 0;
  std::string data;  // LZ4 block
};

// Reads one partition of one map attempt, block by block, run after run.
class PartitionReader {
 public:
  PartitionReader(std::unique_ptr<rocksdb::Iterator> it, std::string map_prefix,
                  uint32_t partition);

  // Sets *block to the next block and returns true, or returns false at the
  // end. DataLoss/Internal on a read error.
  absl::StatusOr<bool> Next(StoredBlock* block);

 private:
  // Positions on the first block of `partition` in the first run >= run_;
  // false when no run is left. A read error is an error, never the end.
  absl::StatusOr<bool> SeekRun();
  // Valid(), or the iterator's error when it stopped on one.
  absl::StatusOr<bool> Valid() const;

  std::unique_ptr<rocksdb::Iterator> it_;
  const std::string map_prefix_;
  const uint32_t partition_;
  uint32_t run_ = 0;
  std::string run_prefix_;  // of the run-partition being read; empty at end
  bool started_ = false;
};

struct ShuffleStoreOptions {
  // RocksDB's max_open_files: at most this many files open (table files,
  // the others opened again on demand, plus ~10 for the log and manifest;
  // common/table_cache_shards.h keeps RocksDB's sharding from overshooting
  // a small bound), however many runs the store holds. -1: no bound.
  // Default: 256.
  int max_open_files = 256;
};

class ShuffleStore {
 public:
  // Opens a fresh, empty store at `dir` (what was there is destroyed).
  static absl::StatusOr<std::unique_ptr<ShuffleStore>> Open(
      const std::string& dir, const ShuffleStoreOptions& options = {});

  // Moves a map attempt's SST files into the store and marks the attempt's
  // output complete (an attempt with no records then still reads as empty).
  // `secret` is the job's shuffle secret (common/shuffle_secret.h), from the
  // attempt's assignment: fetches of the job's outputs must carry it (the
  // latest ingested is the job's).
  absl::Status IngestMapOutput(const std::string& job_id, uint32_t map,
                               uint64_t attempt, const std::string& secret,
                               const std::vector<std::string>& sst_files)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Whether a fetch of that map attempt's output may be served:
  // NotFound (as ReadPartition() says it) when the store holds nothing of
  // the job; PermissionDenied "wrong shuffle secret for job J" when
  // `secret` is not the job's (or is empty). Compares in constant time;
  // never names either secret.
  absl::Status CheckSecret(const std::string& job_id, uint32_t map,
                           uint64_t attempt, const std::string& secret)
      ABSL_LOCKS_EXCLUDED(mu_);

  // NotFound when this store holds no complete output of that attempt. The
  // reader sees the output as it was at this call: whole, even if a
  // DropJob() of its job runs meanwhile.
  absl::StatusOr<std::unique_ptr<PartitionReader>> ReadPartition(
      const std::string& job_id, uint32_t map, uint64_t attempt,
      uint32_t partition);

  // Deletes everything of `job_id` (and forgets its secret), reclaiming
  // whole files at once. Once it returns, ReadPartition() of the job is
  // NotFound; readers made before read on undisturbed.
  absl::Status DropJob(const std::string& job_id);

  // Test-only fault injection: flips a byte in the first stored block of a
  // map attempt's output. Returns false when that output has no block.
  absl::StatusOr<bool> CorruptForTest(const std::string& job_id, uint32_t map,
                                      uint64_t attempt);

  // Bytes of live SST files (for tests and status).
  uint64_t LiveBytes();

  // The complete map outputs held, as (job, map, attempt).
  std::vector<mrpb::HeldMapOutput> HeldOutputs() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit ShuffleStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}

  std::unique_ptr<rocksdb::DB> db_;
  absl::Mutex mu_;
  // job id -> (map, attempt) of its complete outputs here.
  std::map<std::string, std::set<std::pair<uint32_t, uint64_t>>> held_
      ABSL_GUARDED_BY(mu_);
  // job id -> its shuffle secret; kept from the first ingest (even one
  // that then failed) until DropJob().
  std::map<std::string, std::string> secrets_ ABSL_GUARDED_BY(mu_);
};

// The key marking a map attempt's output complete; sorts after its blocks.
std::string MapOutputDoneKey(const std::string& job_id, uint32_t map,
                             uint64_t attempt);

}  // namespace mr

#endif  // MR_WORKER_SHUFFLE_STORE_H_
