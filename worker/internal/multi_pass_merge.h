// Bounds how many sorted runs a reduce opens at once (Hadoop's
// io.sort.factor): before the final merge into Reduce(), runs are merged in
// intermediate passes, each opening at most merge_factor runs and writing
// one run file, until at most merge_factor remain.
//
// Passes are planned as Hadoop's Merger plans them: the first merges just
// enough runs that every later pass, the final one included, is a full
// merge_factor-way merge, so N runs take ceil((N - F) / (F - 1))
// intermediate passes for N > F. Each pass merges neighbouring runs (the
// window of that many with the fewest bytes) and puts the result where they
// were: the order of the runs is kept, and with it RunMerger's stability
// (equal keys come out in the order of the original runs, i.e. by map and
// spill, whatever the merge factor).
//
// Thread-safety: a plain function; the files are the caller's.
#ifndef MR_WORKER_INTERNAL_MULTI_PASS_MERGE_H_
#define MR_WORKER_INTERNAL_MULTI_PASS_MERGE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/job_limits.h"

namespace mr {

struct MultiPassMergeOptions {
  // The most runs one pass opens. Default: kDefaultMergeFactor (64).
  // REQUIRES: >= 2.
  uint32_t merge_factor = kDefaultMergeFactor;
  // Where intermediate runs are written (created if missing).
  std::string dir;
  // Raw bytes per record block of an intermediate run. Default: 128 KiB.
  size_t block_bytes = 128 << 10;
};

struct MultiPassMergeStats {
  int64_t passes = 0;          // intermediate passes
  int64_t runs_merged = 0;     // input runs of those passes
  int64_t bytes_written = 0;   // compressed bytes of intermediate runs
};

// Merges `runs` (run files as run_file.h writes them, in order) until at
// most options.merge_factor remain, and returns those, in order. Empty
// files are dropped first. Every input run a pass merges is deleted once
// its pass is done. Adds to *stats. DataLoss on a corrupt run; Internal or
// ResourceExhausted (disk full) on I/O errors, naming the file.
absl::StatusOr<std::vector<std::string>> MergeDownToFactor(
    std::vector<std::string> runs, const MultiPassMergeOptions& options,
    MultiPassMergeStats* stats);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_MULTI_PASS_MERGE_H_
