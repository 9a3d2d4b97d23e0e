// Reads the lines of one chunk of an input file.
//
// A line belongs to the chunk that holds its first byte: a chunk that starts
// mid-line skips to the next line start, and the last line that starts inside
// the chunk is read to its end even past the chunk. Every line of a file is
// thus read by exactly one of the chunks that cover the file.
//
// A line longer than max_record_bytes (not counting its newline) is
// malformed: it is reported by offset, never handed on, and never held:
// once a line outgrows a read (1 MiB), the reader measures it by scanning
// ahead without buffering, then either drops it or reads it into a buffer
// of its size. Memory: a read or two, plus the longest line handed on (at
// most max_record_bytes). Time: linear in the bytes read, which are the
// chunk's plus at most max_record_bytes and a read past its end (the end of
// its last line), a long line's bytes twice; no byte is searched twice in
// one read.
#ifndef MR_WORKER_INTERNAL_SPLIT_READER_H_
#define MR_WORKER_INTERNAL_SPLIT_READER_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "common/job_limits.h"
#include "mr/mapreduce.h"
#include "proto/job.pb.h"

namespace mr {

// What reading a chunk cost, for tests and measurements.
struct SplitReaderStats {
  uint64_t bytes_read = 0;      // from the file
  uint64_t bytes_examined = 0;  // searched for '\n' (each byte at most once)
  size_t max_buffer_bytes = 0;  // the read buffer's largest capacity
};

struct SplitReaderOptions {
  // Fill InputBlock::first_line_number (counting newlines from the file's
  // start). Default: false.
  bool line_numbers = false;
  // Longer lines are malformed. Default: kDefaultMaxRecordBytes (64 MiB).
  uint64_t max_record_bytes = kDefaultMaxRecordBytes;
  // Where to add what the read cost. Default: nowhere.
  SplitReaderStats* stats = nullptr;
};

// Calls `fn` with the lines of `chunk`, in file order, in blocks of whole
// lines (as many as one read buffer holds); the block's views are valid only
// during the call. Calls `on_malformed` with the file offset of each
// malformed line's first byte, in file order among the blocks (a malformed
// line still counts in line numbers).
// NotFound / PermissionDenied / Internal name the file on I/O errors.
absl::Status ReadChunkBlocks(const mrpb::FileChunk& chunk,
                             const SplitReaderOptions& options,
                             const std::function<void(const InputBlock&)>& fn,
                             const std::function<void(uint64_t)>& on_malformed);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_SPLIT_READER_H_
