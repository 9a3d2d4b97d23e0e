#include "worker/internal/side_outputs.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace mr {

absl::Status SideOutputs::Write(std::string_view name, std::string_view key,
                                std::string_view value) {
  auto it = writers_.find(name);
  if (it == writers_.end()) {
    const std::string n(name);
    if (absl::Status s = OutputLayout::CheckSideOutputName(n); !s.ok()) return s;
    if (writers_.size() >= kMaxSideOutputs) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a task writes at most ", kMaxSideOutputs, " side outputs; '", n, "' is one more"));
    }
    auto writer = std::make_unique<OutputWriter>(format_);
    if (absl::Status s = writer->Open(layout_->AttemptSideFile(attempt_, n, partition_));
        !s.ok()) {
      return s;
    }
    it = writers_.emplace(n, std::move(writer)).first;
  }
  ++records_;
  return it->second->Write(key, value);
}

absl::Status SideOutputs::Close() {
  for (auto& [name, writer] : writers_) {
    if (absl::Status s = writer->Close(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace mr
