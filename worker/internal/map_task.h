// The body of a map attempt, run in the task child process: reads the
// split's records, calls the job's Map(), and spills sorted runs (SST files)
// into the attempt's scratch directory.
#ifndef MR_WORKER_INTERNAL_MAP_TASK_H_
#define MR_WORKER_INTERNAL_MAP_TASK_H_

#include "absl/status/status.h"
#include "mr/mapreduce.h"
#include "proto/worker.pb.h"

namespace mr {

// Fills result->sst_files, result->counters and result->malformed_records
// (the first kMaxReportedMalformedRecords input records longer than the
// job's max_record_bytes; all are counted as "malformed records").
absl::Status RunMapTask(const mrpb::TaskSpec& spec, Job* job,
                        mrpb::TaskResult* result);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_MAP_TASK_H_
