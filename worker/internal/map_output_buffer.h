// Buffers a map task's output, sorts it by (partition, key), runs the
// combiner, and spills each sorted run as one SST file of LZ4 record blocks,
// keyed as common/shuffle_keys.h says. The worker ingests the files into its
// store when the task succeeds.
//
// Memory: records live in one arena plus a 24-byte index entry each; when the
// two together reach the budget the buffer spills a run.
//
// Thread-safety: not thread-safe (one per map task).
#ifndef MR_WORKER_INTERNAL_MAP_OUTPUT_BUFFER_H_
#define MR_WORKER_INTERNAL_MAP_OUTPUT_BUFFER_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "mr/mapreduce.h"

namespace mr {

struct MapOutputOptions {
  std::string job_id;
  uint32_t map_index = 0;
  uint64_t attempt_id = 0;
  uint32_t num_partitions = 1;
  // Default: 64 MiB.
  uint64_t budget_bytes = 64ull << 20;
  // Raw bytes per record block. Default: 128 KiB.
  size_t block_bytes = 128 << 10;
  // Where the SST files go.
  std::string spill_dir;
};

class MapOutputBuffer {
 public:
  // `job` (for the combiner) and `counters` must outlive the buffer.
  MapOutputBuffer(MapOutputOptions options, Job* job,
                  std::map<std::string, int64_t>* counters,
                  const std::map<std::string, std::string>* params);

  // Adds one record to `partition`; spills when the budget is reached.
  // REQUIRES: partition < num_partitions.
  absl::Status Add(uint32_t partition, std::string_view key,
                   std::string_view value);

  // Spills what is buffered. The SST files are then sst_files().
  absl::Status Finish();

  const std::vector<std::string>& sst_files() const { return sst_files_; }

  // One buffered record's index entry.
  struct Entry {
    uint64_t offset;  // of the key in the arena; the value follows it
    uint32_t key_len;
    uint32_t value_len;
    uint32_t partition;
  };

 private:

  absl::Status Spill();
  std::string_view KeyOf(const Entry& e) const {
    return std::string_view(arena_.data() + e.offset, e.key_len);
  }
  std::string_view ValueOf(const Entry& e) const {
    return std::string_view(arena_.data() + e.offset + e.key_len, e.value_len);
  }

  const MapOutputOptions options_;
  Job* const job_;
  std::map<std::string, int64_t>* const counters_;
  const std::map<std::string, std::string>* const params_;
  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<std::string> sst_files_;
  uint32_t next_run_ = 0;
};

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_MAP_OUTPUT_BUFFER_H_
