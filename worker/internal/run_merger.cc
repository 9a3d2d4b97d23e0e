#include "worker/internal/run_merger.h"

#include <algorithm>

namespace mr {

absl::Status RunMerger::Open(const std::vector<std::string>& run_paths) {
  for (const std::string& path : run_paths) {
    auto run = std::make_unique<RunFileReader>();
    if (absl::Status s = run->Open(path); !s.ok()) return s;
    if (run->Valid()) heap_.push_back(runs_.size());
    runs_.push_back(std::move(run));
  }
  auto after = [this](size_t a, size_t b) { return After(a, b); };
  std::make_heap(heap_.begin(), heap_.end(), after);
  return absl::OkStatus();
}

absl::Status RunMerger::Next() {
  auto after = [this](size_t a, size_t b) { return After(a, b); };
  std::pop_heap(heap_.begin(), heap_.end(), after);
  RunFileReader* top = runs_[heap_.back()].get();
  if (absl::Status s = top->Next(); !s.ok()) return s;
  if (top->Valid()) {
    std::push_heap(heap_.begin(), heap_.end(), after);
  } else {
    heap_.pop_back();
  }
  return absl::OkStatus();
}

}  // namespace mr
