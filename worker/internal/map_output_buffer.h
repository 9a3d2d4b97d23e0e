// Buffers a map task's output, sorts it by (partition, key), runs the
// combiner, and spills each sorted run as one SST file of LZ4 record blocks,
// keyed as common/shuffle_keys.h says. The worker ingests the files into its
// store when the task succeeds.
//
// Memory: every allocation the buffer makes is counted against
// budget_bytes:
//   - the arena: blocks of arena_block_bytes (capped at budget_bytes / 16)
//     holding the records' keys and values back to back; a record larger
//     than a block gets a block of its own;
//   - the index: one 32-byte Entry per record, in an array whose growth the
//     buffer decides, counting the old and the new array while both live;
//     after each spill it is resized (while empty, so without a copy) to
//     the share of the budget the records seen so far need;
//   - the sort: none; it sorts the index in place (std::sort, ties broken by
//     arrival order, so equal keys keep their order without a scratch
//     buffer).
// Before a record is added, the buffer spills if the allocations that record
// needs would pass the budget. Blocks and index are kept across spills and
// reused. A single record larger than the whole budget is buffered alone
// (the one case where the count passes the budget) and spilled at once.
// Outside the budget: the spill's writer (a raw record block, its compressed
// copy, and the SST writer's buffers).
//
// Thread-safety: not thread-safe (one per map task).
#ifndef MR_WORKER_INTERNAL_MAP_OUTPUT_BUFFER_H_
#define MR_WORKER_INTERNAL_MAP_OUTPUT_BUFFER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/job_limits.h"
#include "mr/mapreduce.h"

namespace mr {

struct MapOutputOptions {
  std::string job_id;
  uint32_t map_index = 0;
  uint64_t attempt_id = 0;
  uint32_t num_partitions = 1;
  // The most bytes the buffer allocates (see the memory contract above).
  // Default: kDefaultSortBufferBytes (64 MiB).
  uint64_t budget_bytes = kDefaultSortBufferBytes;
  // Bytes per arena block, capped at budget_bytes / 16. Default: 1 MiB.
  size_t arena_block_bytes = 1 << 20;
  // Raw bytes per record block of a spilled run. Default: 128 KiB.
  size_t block_bytes = 128 << 10;
  // Where the SST files go.
  std::string spill_dir;
};

class MapOutputBuffer {
 public:
  // `job` (for the combiner), `counters` and `params` must outlive the
  // buffer.
  MapOutputBuffer(MapOutputOptions options, Job* job,
                  std::map<std::string, int64_t>* counters,
                  const std::map<std::string, std::string>* params);
  ~MapOutputBuffer();

  // Adds one record to `partition`, spilling first when the record would not
  // fit in the budget. InvalidArgument when the key or the value is 4 GiB or
  // more.
  // REQUIRES: partition < num_partitions.
  absl::Status Add(uint32_t partition, std::string_view key,
                   std::string_view value);

  // Spills what is buffered. The SST files are then sst_files().
  absl::Status Finish();

  const std::vector<std::string>& sst_files() const { return sst_files_; }

  // What the buffer has allocated, as counted against the budget: now, and
  // the most at any moment so far.
  uint64_t allocated_bytes() const { return arena_bytes_ + index_bytes_; }
  uint64_t peak_allocated_bytes() const { return peak_bytes_; }

  // One buffered record's index entry.
  struct Entry {
    // The key's first 8 bytes, zero-padded, big-endian: most comparisons
    // of the sort end here, without touching the arena.
    uint64_t prefix;
    const char* data;  // the key in the arena; the value follows it
    uint32_t key_len;
    uint32_t value_len;
    uint32_t partition;
    uint32_t seq;  // arrival order since the last spill: ties in the sort
  };

 private:
  struct Block {
    std::unique_ptr<char[]> mem;
    size_t size = 0;
  };

  // The bytes the arena must newly allocate for a record of `bytes`.
  size_t ArenaNeed(size_t bytes) const;
  // The index capacity to grow to for one more entry when `arena_need`
  // more arena bytes are allocated too: 0 when no growth is needed, -1
  // when the growth would pass the budget.
  int64_t IndexGrowth(size_t arena_need) const;
  // Whether a record of `bytes` fits in the budget; sets *index_growth
  // as IndexGrowth() does.
  bool Fits(size_t bytes, int64_t* index_growth) const;
  // Space for `bytes` in the arena (allocating a block when needed).
  char* ArenaAlloc(size_t bytes);
  void GrowIndex(size_t capacity);
  // Frees the arena blocks and the index (an empty buffer only).
  void ReleaseMemory();
  // Updates the peak, counting `transient_bytes` allocated on top of the
  // allocations counted now.
  void NoteAllocation(uint64_t transient_bytes);

  // Writes what is buffered as a run and empties the buffer; with `retune`,
  // then resizes the index for the average record size seen.
  absl::Status Spill(bool retune);
  // Resizes the (empty) index to fit the budget's share of `records` records
  // of `bytes` bytes in all, when it is more than 10% off.
  void Retune(uint64_t records, uint64_t bytes);
  std::string_view KeyOf(const Entry& e) const {
    return std::string_view(e.data, e.key_len);
  }
  std::string_view ValueOf(const Entry& e) const {
    return std::string_view(e.data + e.key_len, e.value_len);
  }

  const MapOutputOptions options_;
  const size_t arena_block_bytes_;
  Job* const job_;
  std::map<std::string, int64_t>* const counters_;
  const std::map<std::string, std::string>* const params_;

  // The arena: the first in_use_ blocks hold records, the last of them up
  // to block_used_; later blocks are spare (kept from before a spill).
  std::vector<Block> blocks_;
  size_t in_use_ = 0;
  size_t block_used_ = 0;
  uint64_t arena_bytes_ = 0;
  // The index: its capacity is index_capacity_ entries (index_bytes_).
  std::unique_ptr<Entry[]> index_;
  size_t index_capacity_ = 0;
  size_t index_size_ = 0;
  uint64_t index_bytes_ = 0;
  uint64_t peak_bytes_ = 0;
  uint64_t fill_bytes_ = 0;  // keys and values since the last spill

  std::vector<std::string> sst_files_;
  uint32_t next_run_ = 0;
};

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_MAP_OUTPUT_BUFFER_H_
