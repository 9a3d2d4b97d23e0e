// The sample task of a job that sorts totally (--total-order) or plans
// (JobTraits::plans): it runs before the maps, maps a sample of the input
// with the job's Map() and, from what Map() emits, finds the keys that cut
// the reduce partitions into ranges of about equal size, and the job's plan
// (Job::Plan()).
//
// The sample: the whole input when it is at most kSampleInputBytes; else
// kSampleInputBytes / kSampleWindowBytes windows of kSampleWindowBytes,
// evenly spread over the input's bytes (each window's records are read as a
// split's are, in the input's format).
#ifndef MR_WORKER_INTERNAL_SAMPLE_TASK_H_
#define MR_WORKER_INTERNAL_SAMPLE_TASK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mr/mapreduce.h"
#include "proto/worker.pb.h"

namespace mr {

inline constexpr uint64_t kSampleInputBytes = 16 << 20;
inline constexpr uint64_t kSampleWindowBytes = 64 << 10;

// The chunks of `split` to sample (see above).
std::vector<mrpb::FileChunk> SampleWindows(const mrpb::InputSplit& split);

// The R-1 keys that cut `sample` (sorted by key; the job's group keys, so
// that no key group straddles two ranges) into R ranges of about
// equal record counts: bounds[i-1] is the key at rank i*n/R ("" for an
// empty sample). Partition i holds keys in [bounds[i-1], bounds[i]).
std::vector<std::string> PartitionBounds(const Sample& sample,
                                         uint32_t num_partitions);

// Runs the sample task of spec.assignment() (whose split holds every
// split's chunks): sets result's partition_bounds (total order) and plan
// (a job that plans).
absl::Status RunSampleTask(const mrpb::TaskSpec& spec, Job* job,
                           mrpb::TaskResult* result);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_SAMPLE_TASK_H_
