// The defaults and bounds of a job's settings (JobSpec fields where 0 means
// "the default"), defined once: the master fills them in and enforces the
// bounds at submission (JobTracker::ValidateSpec), mrctl's help quotes them,
// and the task code falls back on them.
#ifndef MR_COMMON_JOB_LIMITS_H_
#define MR_COMMON_JOB_LIMITS_H_

#include <cstdint>

namespace mr {

// JobSpec.num_reduces (mrctl --reduces): the reduce tasks, and so the part
// files of the output.
// Default: 4. At most 100000.
inline constexpr uint32_t kDefaultReduces = 4;
inline constexpr uint32_t kMaxReduces = 100000;
// A job that generates its input (--maps M): at most this many maps.
inline constexpr uint32_t kMaxMaps = 100000;

// InputFormat FIXED (mrctl --input-format fixed:BYTES): at most 64 MiB a
// record.
inline constexpr uint64_t kMaxFixedRecordBytes = 64 << 20;

// JobSpec.split_size (mrctl --split-size): the input bytes of one map task.
// Default: 64 MiB.
inline constexpr uint64_t kDefaultSplitSize = 64ull << 20;

// JobSpec.max_task_attempts (mrctl --max-attempts): failed attempts of one
// task after which the job fails.
// Default: 4.
inline constexpr uint32_t kDefaultMaxTaskAttempts = 4;

// JobSpec.sort_buffer_bytes (mrctl --sort-buffer-mb): the memory a map task
// may allocate to buffer and sort its output before it spills a run.
// Default: 64 MiB. At least 1 MiB.
inline constexpr uint64_t kDefaultSortBufferBytes = 64ull << 20;
inline constexpr uint64_t kMinSortBufferBytes = 1ull << 20;

// JobSpec.merge_factor (mrctl --merge-factor; Hadoop's io.sort.factor): the
// most sorted runs one merge pass opens.
// Default: 64. Between 2 and 1000 (each open run holds a file descriptor and
// about half a MiB of buffers).
inline constexpr uint32_t kDefaultMergeFactor = 64;
inline constexpr uint32_t kMinMergeFactor = 2;
inline constexpr uint32_t kMaxMergeFactor = 1000;

// JobSpec.max_record_bytes (mrctl --max-record-bytes): an input record
// (line, without its newline) longer than this is malformed: counted,
// reported by file and offset, and skipped.
// Default: 64 MiB. At most 1 GiB.
inline constexpr uint64_t kDefaultMaxRecordBytes = 64ull << 20;
inline constexpr uint64_t kMaxMaxRecordBytes = 1ull << 30;

// How many malformed records' locations a map task reports and a job keeps
// (the count is the "malformed records" counter).
inline constexpr int kMaxReportedMalformedRecords = 100;

}  // namespace mr

#endif  // MR_COMMON_JOB_LIMITS_H_
