// Which input record a map task child is mapping, shared with the worker
// through a small file the child maps into memory: when the child dies in
// the job's code, the worker reads the record that killed it (Google
// MapReduce paper, section 4.6; Hadoop's SkipBadRecords).
//
// Per-record positions are kept only when the job allows skipping: then the
// child calls Map() once per record; otherwise it calls MapBlock() and the
// position is only the block's.
#ifndef MR_WORKER_INTERNAL_MAP_PROGRESS_H_
#define MR_WORKER_INTERNAL_MAP_PROGRESS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace mr {

struct MapProgress {
  volatile uint32_t in_user_code;  // 1 while the job's Map() runs
  volatile uint32_t precise;       // 1 when offset is the record's own
  volatile uint32_t chunk;         // index of the split chunk
  uint32_t reserved;
  volatile uint64_t offset;        // of the record in the chunk's file
};

// Creates the file at `path`, sized for a MapProgress (worker side).
absl::Status CreateMapProgressFile(const std::string& path);

// Maps the file at `path` (child side). The mapping lives until the process
// ends.
absl::StatusOr<MapProgress*> MapProgressFile(const std::string& path);

// Reads the file at `path` (worker side, after the child ended).
absl::StatusOr<MapProgress> ReadMapProgress(const std::string& path);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_MAP_PROGRESS_H_
