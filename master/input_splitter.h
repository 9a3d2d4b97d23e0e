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
  // Which of JobSpec.inputs the file came from (FileChunk.input_index).
  uint32_t input_index = 0;
};

// Packs the bytes of `files`, in the given order, into splits of `split_size`
// bytes: a file larger than a split is cut across several, and small files
// share one split (a split is a list of file chunks). Empty files add
// nothing. Every split but the last holds exactly `split_size` bytes, except
// around compressed files (common/input_codec.h: ".gz", ".lz4"), which
// cannot be cut: each is one chunk of its whole size, packed into the split
// under way when it fits in what that split has left, else starting a split
// of its own (which it may overfill; the next file starts a new one).
//
// Splits are cut at byte offsets; records are kept whole by the reader
// (worker/internal/input_reader.h): a record belongs to the chunk holding
// its first byte, so a record straddling a cut is read by exactly one split.
// Each chunk carries its file's input_index.
//
// REQUIRES: split_size > 0.
std::vector<mrpb::InputSplit> ComputeSplits(const std::vector<InputFile>& files,
                                            uint64_t split_size);

}  // namespace mr

#endif  // MR_MASTER_INPUT_SPLITTER_H_
