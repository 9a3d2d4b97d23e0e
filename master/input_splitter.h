// Cuts a job's input files into map splits.
#ifndef MR_MASTER_INPUT_SPLITTER_H_
#define MR_MASTER_INPUT_SPLITTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/job.pb.h"

namespace mr {

struct InputFile {
  std::string path;
  uint64_t size = 0;
};

// Packs the bytes of `files`, in the given order, into splits of `split_size`
// bytes: a file larger than a split is cut across several, and small files
// share one split (a split is a list of file chunks). Every split but the last
// holds exactly `split_size` bytes; empty files add nothing.
//
// Splits are cut at byte offsets; records are kept whole by the reader
// (worker/internal/split_reader.h): a line belongs to the chunk holding its
// first byte, so a line straddling a cut is read by exactly one split.
//
// REQUIRES: split_size > 0.
std::vector<mrpb::InputSplit> ComputeSplits(const std::vector<InputFile>& files,
                                            uint64_t split_size);

}  // namespace mr

#endif  // MR_MASTER_INPUT_SPLITTER_H_
