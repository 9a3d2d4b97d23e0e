// Merges sorted runs k-way into one sorted stream, holding one block per run
// in memory. Equal keys come out in the order of the runs as given (stable).
//
// Thread-safety: not thread-safe.
#ifndef MR_WORKER_INTERNAL_RUN_MERGER_H_
#define MR_WORKER_INTERNAL_RUN_MERGER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "worker/internal/run_file.h"

namespace mr {

class RunMerger {
 public:
  // Opens every run and positions on the smallest record.
  absl::Status Open(const std::vector<std::string>& run_paths);

  bool Valid() const { return !heap_.empty(); }
  // REQUIRES: Valid(). Views are invalidated by Next().
  std::string_view key() const { return runs_[heap_.front()]->key(); }
  std::string_view value() const { return runs_[heap_.front()]->value(); }
  absl::Status Next();

 private:
  // The std heap functions keep the greatest on top; this ordering makes the
  // smallest key greatest, and among equal keys the earliest run.
  bool After(size_t a, size_t b) const {
    const int c = runs_[a]->key().compare(runs_[b]->key());
    return c != 0 ? c > 0 : a > b;
  }

  std::vector<std::unique_ptr<RunFileReader>> runs_;
  std::vector<size_t> heap_;  // indices into runs_ of the runs not yet done
};

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_RUN_MERGER_H_
