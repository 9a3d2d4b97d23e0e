// Reads the records of one input chunk in the job's input format: text
// lines (worker/internal/split_reader.h) or fixed-length binary records
// (worker/internal/fixed_record_reader.h).
#ifndef MR_WORKER_INTERNAL_INPUT_READER_H_
#define MR_WORKER_INTERNAL_INPUT_READER_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "mr/mapreduce.h"
#include "proto/job.pb.h"
#include "worker/internal/split_reader.h"

namespace mr {

// The format of `chunk`'s input: the job's one format, or the one given for
// the chunk's input; text lines when the job names none.
mrpb::InputFormat InputFormatOf(const mrpb::JobSpec& spec,
                                const mrpb::FileChunk& chunk);

// Calls `fn` for each record of `chunk`, in file order (the record's views
// are valid during the call only), and `on_malformed(offset, reason)` for
// each malformed one: a line longer than options.max_record_bytes, a
// truncated fixed-length record.
absl::Status ForEachInputRecord(
    const mrpb::FileChunk& chunk, const mrpb::InputFormat& format,
    const SplitReaderOptions& options,
    const std::function<void(const InputRecord&)>& fn,
    const std::function<void(uint64_t offset, const std::string& reason)>&
        on_malformed);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_INPUT_READER_H_
