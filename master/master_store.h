// The master's durable state, in its own RocksDB (STATE_DIR/db): every job's
// record (spec, input, splits, state), every finished task (a map's output
// attempt, a reduce's commit, with their counters), and the id counters.
// Written with the WAL on (not synced: the state survives the master
// process being killed, which is what the master must survive; a machine
// crash may lose the last writes).
//
// Keys: "ids", "job/<job id>", "task/<job id>/<M|R><index:08d>" (the
// messages of proto/state.proto), and "pipeline/<run id>" (a pipeline run,
// mrpb::PipelineRun of proto/client.proto: the run's state is what its
// status shows, so one message serves both). A record that cannot be read, or that
// holds what no master writes (CheckJob(), CheckTask()), is moved to
// "quarantine/<its key>" with an error logged that names it, and loading goes
// on: no single record keeps the master down, and what Load() returns can be
// restored without checking it again.
//
// Thread-safety: thread-safe (RocksDB is).
#ifndef MR_MASTER_MASTER_STORE_H_
#define MR_MASTER_MASTER_STORE_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "absl/status/statusor.h"
#include "proto/client.pb.h"
#include "proto/state.pb.h"

namespace mr {

class MasterStore {
 public:
  struct State {
    mrstate::MasterIds ids;
    std::vector<mrstate::JobRecord> jobs;  // in job id order
    std::map<std::string, std::vector<mrstate::TaskRecord>> tasks;  // by job
    // Keys of the records that did not parse or failed CheckJob() or
    // CheckTask(), now under "quarantine/".
    std::vector<std::string> quarantined;
    // False when "ids" was missing or quarantined: the caller derives the
    // counters from what it loaded.
    bool has_ids = false;
  };

  static absl::StatusOr<std::unique_ptr<MasterStore>> Open(
      const std::string& dir);

  // Reads every record. Records that do not parse or do not pass the checks
  // below are quarantined (see above); only a failure of RocksDB itself is
  // an error.
  absl::StatusOr<State> Load();

  // Whether a job record that parsed, stored under `key`, is one a master
  // could have written, in what restoring it trusts: the key names its id;
  // the id is a file name (it names the staging directory, which restoring
  // removes); the output is absolute and in ResolvePath() form, not "/"; it
  // has a state and an input split; its reduce count is that of a map-only
  // job (0) or between 1 and kMaxReduces (it sizes the task table); a
  // sampled total-order job has one partition bound fewer than reduces, any
  // other none. InvalidArgument naming `key` and the field when not.
  static absl::Status CheckJob(const std::string& key,
                               const mrstate::JobRecord& job);
  // The same for a task record under `key` whose job's record is `job`
  // (null when no job record with its id was loaded): a map or a reduce,
  // under the key its kind and index give, one of the job's tasks.
  static absl::Status CheckTask(const std::string& key,
                                const mrstate::TaskRecord& task,
                                const mrstate::JobRecord* job);

  // Writes gathered to be applied together, in order, by Write(). Building
  // one does no I/O, so it can be filled under a caller's lock and written
  // after the lock is released.
  class Batch {
   public:
    void PutIds(const mrstate::MasterIds& ids);
    void PutJob(const mrstate::JobRecord& job);
    void PutTask(const std::string& job_id, const mrstate::TaskRecord& task);
    bool empty() const { return puts_.empty(); }
    // Adds `later`'s writes after this batch's.
    void Append(Batch later);

   private:
    friend class MasterStore;
    void Put(const std::string& key, const google::protobuf::MessageLite& value);
    std::vector<std::pair<std::string, std::string>> puts_;  // in order
  };
  // Applies `batch` atomically and clears it; on an error the batch is left
  // as it was, for a later try.
  absl::Status Write(Batch* batch);

  // One record, written as a batch of one.
  absl::Status PutIds(const mrstate::MasterIds& ids);
  absl::Status PutJob(const mrstate::JobRecord& job);
  absl::Status PutTask(const std::string& job_id, const mrstate::TaskRecord& task);

  // Pipeline runs (master/pipeline/pipeline_runner.h), under
  // "pipeline/<run id>", apart from the job records: Load() leaves them out.
  absl::Status PutPipelineRun(const mrpb::PipelineRun& run);
  // Every stored run that parses and names itself by its key, in run id
  // order; the others are quarantined like job records.
  absl::StatusOr<std::vector<mrpb::PipelineRun>> LoadPipelineRuns();

  // Test-only: writes raw bytes under `key`, as a damaged store would hold.
  absl::Status PutRawForTest(const std::string& key, const std::string& bytes);
  // Test-only: deletes every record, quarantined ones too (a fuzzer reuses
  // one store for many inputs: opening one costs more than using it).
  absl::Status ClearForTest();

 private:
  explicit MasterStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
  // Moves the record at `key` to "quarantine/<key>".
  absl::Status Quarantine(const std::string& key, const std::string& value);

  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace mr

#endif  // MR_MASTER_MASTER_STORE_H_
