// Which record a task child is in, shared with the worker through a small
// file the child maps into memory: when the child dies in the job's code,
// the worker reads the record that killed it (Google MapReduce paper,
// section 4.6; Hadoop's SkipBadRecords).
//
// A map's record is an input line (chunk, byte offset). Per-record
// positions are kept only when the job allows skipping: then the child calls
// Map() once per record; otherwise it calls MapBlock() and the position is
// only the block's. A reduce's record is a key group: its ordinal in the
// partition's sorted order (the same in every attempt), and its key.
#ifndef MR_WORKER_INTERNAL_TASK_PROGRESS_H_
#define MR_WORKER_INTERNAL_TASK_PROGRESS_H_

#include <cstdint>
#include <string>

#include <vector>

#include "absl/status/statusor.h"
#include "proto/worker.pb.h"

namespace mr {

struct TaskProgress {
  static constexpr size_t kMaxKey = 200;

  volatile uint32_t in_user_code;  // 1 while the job's Map()/Reduce() runs
  volatile uint32_t precise;       // 1 when offset is the record's own
  volatile uint32_t chunk;         // maps: index of the split chunk
  volatile uint32_t key_size;      // reduces: bytes of key (<= kMaxKey)
  volatile uint64_t offset;        // maps: byte offset; reduces: group ordinal
  char key[kMaxKey];               // reduces: the group's key, cut short
};

// Creates the file at `path`, sized for a TaskProgress (worker side).
absl::Status CreateTaskProgressFile(const std::string& path);

// Maps the file at `path` (child side); with no path, a private TaskProgress
// that nobody reads. Either lives until the process ends.
absl::StatusOr<TaskProgress*> TaskProgressFile(const std::string& path);

// The offsets of `assignment`'s records to skip under `path` (a file for a
// map, ReducePartitionName() for a reduce), sorted for binary_search.
std::vector<uint64_t> SkippedOffsets(const mrpb::TaskAssignment& assignment,
                                     const std::string& path);

// Reads the file at `path` (worker side, after the child ended).
absl::StatusOr<TaskProgress> ReadTaskProgress(const std::string& path);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_TASK_PROGRESS_H_
