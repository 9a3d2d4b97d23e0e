// Test helpers over the shuffle store's blocks, for the store's, the
// service's and the task runner's tests.

#ifndef MR_WORKER_SHUFFLE_TEST_UTIL_H_
#define MR_WORKER_SHUFFLE_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/record_block.h"
#include "worker/shuffle_store.h"

namespace mr {

// The shuffle secret tests ingest `job`'s map outputs under (a real one is
// random: common/shuffle_secret.h).
inline std::string TestSecret(const std::string& job) {
  return "test secret of " + job;
}

// Appends the records of one stored block (LZ4 data, its raw size and
// CRC32C) to *out as "key=value"; the error of a block that does not decode.
inline absl::Status AppendBlockRecords(std::string_view data, uint32_t raw_size,
                                       uint32_t crc32c,
                                       std::vector<std::string>* out) {
  std::string raw;
  if (absl::Status s = DecompressBlock(data, raw_size, crc32c, &raw); !s.ok()) {
    return s;
  }
  RecordBlockReader records(raw);
  std::string_view k, v;
  absl::Status s;
  while (records.Next(&k, &v, &s)) {
    out->push_back(std::string(k) + "=" + std::string(v));
  }
  return s;
}

// Every record of one partition of a map attempt in the store, as
// "key=value" in stored order; the store's error when it has no such output
// or a read fails.
inline absl::StatusOr<std::vector<std::string>> StoredPartitionRecords(
    ShuffleStore* store, const std::string& job, uint32_t map, uint64_t attempt,
    uint32_t partition) {
  auto reader = store->ReadPartition(job, map, attempt, partition);
  if (!reader.ok()) return reader.status();
  std::vector<std::string> out;
  StoredBlock block;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&block);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (absl::Status s = AppendBlockRecords(block.data, block.raw_size,
                                            block.crc32c, &out);
        !s.ok()) {
      return s;
    }
  }
  return out;
}

}  // namespace mr

#endif  // MR_WORKER_SHUFFLE_TEST_UTIL_H_
