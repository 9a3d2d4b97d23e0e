// A task attempt's side outputs (Context::EmitTo()): one OutputWriter per
// name, opened on first use in the attempt's directory, committed with the
// attempt's part file (OutputLayout::CommitAttempt()).
//
// Thread-safety: not thread-safe (one task's contexts, one thread).
#ifndef MR_WORKER_INTERNAL_SIDE_OUTPUTS_H_
#define MR_WORKER_INTERNAL_SIDE_OUTPUTS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/output_layout.h"
#include "proto/job.pb.h"
#include "worker/internal/output_writer.h"

namespace mr {

class SideOutputs {
 public:
  // Each side output holds a file and a write buffer open until the end.
  static constexpr size_t kMaxSideOutputs = 64;

  // `layout` must outlive this. REQUIRES: the attempt's directory exists.
  SideOutputs(const OutputLayout* layout, uint64_t attempt, uint32_t partition,
              mrpb::OutputFormat format)
      : layout_(layout), attempt_(attempt), partition_(partition), format_(format) {}

  // Appends a record to side output `name`; InvalidArgument for a bad
  // name or one name more than kMaxSideOutputs, or the writer's error.
  absl::Status Write(std::string_view name, std::string_view key,
                     std::string_view value);

  // Flushes, syncs and closes every side file.
  absl::Status Close();

  // Records written, over every side output.
  int64_t records() const { return records_; }

 private:
  const OutputLayout* const layout_;
  const uint64_t attempt_;
  const uint32_t partition_;
  const mrpb::OutputFormat format_;
  std::map<std::string, std::unique_ptr<OutputWriter>, std::less<>> writers_;
  int64_t records_ = 0;
};

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_SIDE_OUTPUTS_H_
