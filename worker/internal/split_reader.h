// Reads the lines of one chunk of an input file.
//
// A line belongs to the chunk that holds its first byte: a chunk that starts
// mid-line skips to the next line start, and the last line that starts inside
// the chunk is read to its end even past the chunk. Every line of a file is
// thus read by exactly one of the chunks that cover the file.
#ifndef MR_WORKER_INTERNAL_SPLIT_READER_H_
#define MR_WORKER_INTERNAL_SPLIT_READER_H_

#include <functional>

#include "absl/status/status.h"
#include "mr/mapreduce.h"
#include "proto/job.pb.h"

namespace mr {

// Calls `fn` with the lines of `chunk`, in file order, in blocks of whole
// lines (as many as one read buffer holds); the block's views are valid only
// during the call. With `line_numbers`, fills InputBlock::first_line_number
// (counting newlines from the file's start).
// NotFound / PermissionDenied / Internal name the file on I/O errors.
absl::Status ReadChunkBlocks(const mrpb::FileChunk& chunk, bool line_numbers,
                             const std::function<void(const InputBlock&)>& fn);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_SPLIT_READER_H_
