// Reads the fixed-length binary records of one chunk of an input file
// (InputFormat FIXED).
//
// Records start at multiples of record_bytes from the file's start. A record
// belongs to the chunk that holds its first byte, so every record of a file
// is read by exactly one of the chunks that cover it, wherever the master
// cut them. A last piece shorter than record_bytes (a truncated file) is
// malformed: reported by offset, never handed on.
//
// Memory: one read buffer of whole records (at least one record).
#ifndef MR_WORKER_INTERNAL_FIXED_RECORD_READER_H_
#define MR_WORKER_INTERNAL_FIXED_RECORD_READER_H_

#include <cstdint>
#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "proto/job.pb.h"

namespace mr {

// Calls `fn(records, offset)` with runs of whole records of `chunk`, in file
// order: `records` holds n * record_bytes bytes, the first record at file
// offset `offset`; the view is valid only during the call. Calls
// `on_malformed(offset)` for a truncated last record.
// NotFound / PermissionDenied / FailedPrecondition / Internal name the file.
// REQUIRES: record_bytes > 0.
absl::Status ReadFixedRecords(
    const mrpb::FileChunk& chunk, uint32_t record_bytes,
    const std::function<void(std::string_view records, uint64_t offset)>& fn,
    const std::function<void(uint64_t offset)>& on_malformed);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_FIXED_RECORD_READER_H_
