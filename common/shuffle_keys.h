// How map output is keyed in a worker's RocksDB store. Every key is
//
//   <job_id>/<map:08x>/<attempt:016x>/<run:08x>/<partition:08x>/<block:08x>
//
// so one job, one map attempt, and one run of one partition are each a key
// prefix; blocks of a run-partition sort in write order; and each spilled run
// (one SST file) covers a key range disjoint from the other runs', which lets
// a map task's runs be ingested as separate files. Job ids never hold '/'.
#ifndef MR_COMMON_SHUFFLE_KEYS_H_
#define MR_COMMON_SHUFFLE_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_format.h"

namespace mr {

inline std::string JobKeyPrefix(std::string_view job_id) {
  return absl::StrFormat("%s/", job_id);
}

inline std::string MapOutputKeyPrefix(std::string_view job_id, uint32_t map,
                                      uint64_t attempt) {
  return absl::StrFormat("%s/%08x/%016x/", job_id, map, attempt);
}

inline std::string RunPartitionKeyPrefix(std::string_view job_id, uint32_t map,
                                         uint64_t attempt, uint32_t run,
                                         uint32_t partition) {
  return absl::StrFormat("%s/%08x/%016x/%08x/%08x/", job_id, map, attempt, run,
                         partition);
}

inline std::string BlockKey(std::string_view job_id, uint32_t map,
                            uint64_t attempt, uint32_t run, uint32_t partition,
                            uint32_t block) {
  return absl::StrFormat("%s/%08x/%016x/%08x/%08x/%08x", job_id, map, attempt,
                         run, partition, block);
}

// The run number of a key under MapOutputKeyPrefix(job, map, attempt).
// REQUIRES: key starts with that prefix of length prefix_len.
inline uint32_t RunOfKey(std::string_view key, size_t prefix_len) {
  uint32_t run = 0;
  for (size_t i = prefix_len; i < prefix_len + 8 && i < key.size(); ++i) {
    const char c = key[i];
    run = run * 16 + static_cast<uint32_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return run;
}

}  // namespace mr

#endif  // MR_COMMON_SHUFFLE_KEYS_H_
