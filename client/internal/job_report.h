// The text mrctl prints about jobs and workers. Pure functions of the
// protos (and of `now_ms` where an elapsed time shows), so tests can pin the
// exact bytes.
#ifndef MR_CLIENT_INTERNAL_JOB_REPORT_H_
#define MR_CLIENT_INTERNAL_JOB_REPORT_H_

#include <cstdint>
#include <string>

#include "proto/client.pb.h"

namespace mr {
namespace client_internal {

// "running", "succeeded", "failed", "killed"; "unknown" otherwise.
std::string JobStateName(mrpb::JobState state);

// The report of `mrctl status` and of `mrctl submit --wait`:
//
//   job job-000001 succeeded in 3.2 s
//   output: /abs/out (4 part files)
//   counters:
//     map input records          77193
//     ...
//
// The first line by state: "job J succeeded in S s", "job J failed: ERROR",
// "job J killed" (": ERROR" when it has one), "job J running for S s" (S
// measured to `now_ms`, unix epoch ms). All but a succeeded job then show
//   progress: maps D/T  reduces D/T
// (with "  (N tasks running)" when N > 0). The output line counts part files
// (= reduces) only for a succeeded job. Then "owner: NAME" (who submitted
// it; jobs from before owners were recorded have none), one line per
// skipped record, and
// when input records were malformed (the "malformed records" counter):
//   malformed records: 3; first: /in/a.txt:1024 (longer than 1048576 bytes)
// When the job's checks failed (the "check failures" counter):
//   checks failed: 2 (see the job's output)
// Then, for a job with reduces once maps are done, the map output bound for
// each reduce partition (the first kMaxPartitionsShown):
//   map output per reduce partition:
//     partition  records  bytes
//             0      120   4800
//   skew: partition 3 holds 5.2x the median bytes
// (the skew line only when the largest partition's bytes are over
// kSkewFactor times the median's).
// Counters are sorted by name, names
// left-aligned, values right-aligned; "counters: none" when there are none.
// Every line ends in '\n'.
std::string FormatJobReport(const mrpb::JobStatus& status, int64_t now_ms);

inline constexpr int kMaxPartitionsShown = 64;
inline constexpr uint64_t kSkewFactor = 4;

// The job's "check failures" counter (0 when it has none).
int64_t CheckFailures(const mrpb::JobStatus& status);

// The partition whose map output bytes are over kSkewFactor times the
// median's (the largest), setting *ratio to largest / median (0 when the
// median is 0); -1 when there is none.
int SkewedPartition(const mrpb::JobStatus& status, double* ratio);

// `mrctl list`: columns JOB ID, STATE, MAPS (done/total), REDUCES
// (done/total), APP (the app, or the plugin's file name), OWNER, OUTPUT.
std::string FormatJobTable(const mrpb::ListJobsResponse& jobs);

// `mrctl workers`: columns ID, ADDRESS, SLOTS, RUNNING, LAST HEARTBEAT
// ("N ms ago").
std::string FormatWorkerTable(const mrpb::ListWorkersResponse& workers);

}  // namespace client_internal
}  // namespace mr

#endif  // MR_CLIENT_INTERNAL_JOB_REPORT_H_
