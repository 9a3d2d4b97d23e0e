// Reads the records of one input chunk in its input's format
// (mrpb::InputFormat): text lines, CSV records, JSON Lines, fixed-length
// binary records; from the file as it is, or decompressed (".gz", ".lz4":
// worker/internal/input_stream.h).
//
// Which records a chunk reads: those whose first byte lies in
// [offset, offset + length), so every record of a file is read by exactly
// one of the chunks that cover it, wherever the master cut them. A
// compressed file is never cut (master/input_splitter.h): its chunk at
// offset 0 reads the whole decompressed stream (record offsets are in that
// stream), whatever its length; a chunk of one at another offset reads
// nothing. (A sample task's window, FileChunk.sample_window, reads the
// records that start in its first `length` decompressed bytes.)
//
//  - TEXT: lines, without their '\n' (worker/internal/split_reader.h).
//  - CSV: RFC 4180 records (common/csv.h), without their line end; `fields`
//    holds the unquoted fields. Empty lines are no records. With `header`,
//    each file's first record names the columns (RecordFields::name; ""
//    past the header's last column) and is not a record itself. A chunk
//    that starts mid-file must know whether its first byte is inside a
//    quoted field: it counts the '"' bytes of the file before it (a
//    vectorized count, several GB/s from the page cache), so a chunk at
//    offset O reads O extra bytes, and a file cut into n chunks about n/2
//    times its size in all. With `header`, such a chunk also reads the
//    file's first record.
//  - JSONL: one JSON value per line (worker/internal/json_line_parser.h),
//    the line without its line end ("\n" or "\r\n"); lines holding only
//    whitespace are no records.
//  - FIXED: records of record_bytes bytes, starting at its multiples; a
//    truncated last record is malformed.
//
// Malformed records are reported with their offset and a reason, and
// skipped: longer than max_record_bytes (not counting the line end), a
// CSV record that breaks RFC 4180 (a quote inside an unquoted field, a byte
// after a closing quote, a quoted field still open at the end of the file),
// a line that is not JSON, a truncated fixed-length record. A malformed CSV
// header is reported like any record, and the file's columns then have no
// names. A corrupt compressed file is no malformed record: the read fails
// (DataLoss naming the file).
//
// InputRecord::line_number is filled (when asked) for TEXT only.
#ifndef MR_WORKER_INTERNAL_INPUT_READER_H_
#define MR_WORKER_INTERNAL_INPUT_READER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "mr/mapreduce.h"
#include "proto/job.pb.h"
#include "worker/internal/split_reader.h"

namespace mr {

// The format of `chunk`'s input: the job's one format, or the one given for
// the chunk's input (FileChunk::input_index); text lines when the job names
// none.
mrpb::InputFormat InputFormatOf(const mrpb::JobSpec& spec,
                                const mrpb::FileChunk& chunk);

// Calls `fn` for each record of `chunk`, in file order (the record's views
// are valid during the call only), and `on_malformed(offset, reason)` for
// each malformed one, in file order among the records.
// Errors: NotFound / PermissionDenied / FailedPrecondition / Internal for
// I/O, DataLoss for a corrupt compressed file; each names the file.
absl::Status ForEachInputRecord(
    const mrpb::FileChunk& chunk, const mrpb::InputFormat& format,
    const SplitReaderOptions& options,
    const std::function<void(const InputRecord&)>& fn,
    const std::function<void(uint64_t offset, const std::string& reason)>&
        on_malformed);

// ReadChunkBlocks() (split_reader.h) for a text chunk that may be
// compressed: the lines of a compressed file in blocks of whole lines as
// well (each ending in '\n'), its too-long lines reported by offset.
absl::Status ReadTextBlocks(const mrpb::FileChunk& chunk,
                            const SplitReaderOptions& options,
                            const std::function<void(const InputBlock&)>& fn,
                            const std::function<void(uint64_t)>& on_malformed);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_INPUT_READER_H_
