// An input file's bytes, read forward: as they are on disk, or
// decompressed (common/input_codec.h: ".gz" with zlib, ".lz4" with LZ4's
// frame API).
//
// A compressed file is checked as it is read: its magic bytes first (a
// ".gz" that is not gzip fails at once), then every member or frame; a
// corrupt or truncated one fails the read with DataLoss naming the file.
// Concatenated gzip members and LZ4 frames read as one stream.
//
// Thread-safety: not thread-safe.
#ifndef MR_WORKER_INTERNAL_INPUT_STREAM_H_
#define MR_WORKER_INTERNAL_INPUT_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace mr {

class InputStream {
 public:
  virtual ~InputStream() = default;
  // Reads up to `n` bytes (n > 0) into `buf`; 0 at the end of the stream.
  // Errors name the file.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

// Opens `path` (a regular file) and positions its stream at `offset`: a
// byte offset in the file, which must be 0 for a compressed one (read from
// its start, decompressed). NotFound / PermissionDenied /
// FailedPrecondition (not a regular file) / Internal name the file.
absl::StatusOr<std::unique_ptr<InputStream>> OpenInputStream(
    const std::string& path, uint64_t offset);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_INPUT_STREAM_H_
