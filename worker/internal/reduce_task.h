// The body of a reduce attempt, run in the task child process: fetches the
// partition from every map output, merges the runs (in passes of at most the
// job's merge_factor runs, see multi_pass_merge.h), calls the job's Reduce()
// once per key group, and writes the attempt's file of the job's output
// (OutputLayout::AttemptFile()). Committing (the rename) is the worker's,
// once the master agrees.
#ifndef MR_WORKER_INTERNAL_REDUCE_TASK_H_
#define MR_WORKER_INTERNAL_REDUCE_TASK_H_

#include <string>

#include "absl/status/status.h"
#include "mr/mapreduce.h"
#include "proto/worker.pb.h"

namespace mr {

// How a reduce's key groups are named as records (RecordLocation.path; the
// offset is the group's ordinal in the partition).
std::string ReducePartitionName(uint32_t partition);

// Writes the attempt's file (OutputLayout::AttemptFile()) and fills
// result->counters; among them "merge passes": the intermediate passes plus
// the final merge (so at least 1).
absl::Status RunReduceTask(const mrpb::TaskSpec& spec, Job* job,
                           mrpb::TaskResult* result);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_REDUCE_TASK_H_
