// What map, combine and reduce contexts share: parameters and user counters.
#ifndef MR_WORKER_INTERNAL_TASK_CONTEXT_H_
#define MR_WORKER_INTERNAL_TASK_CONTEXT_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "mr/mapreduce.h"

namespace mr {

class TaskContext : public Context {
 public:
  TaskContext(const std::map<std::string, std::string>* params,
              std::map<std::string, int64_t>* counters, uint32_t task_index)
      : params_(params), counters_(counters), task_index_(task_index) {}

  void IncrementCounter(std::string_view name, int64_t delta) override {
    (*counters_)[std::string(name)] += delta;
  }
  std::string Param(std::string_view name,
                    std::string_view fallback) const override {
    auto it = params_->find(std::string(name));
    return it == params_->end() ? std::string(fallback) : it->second;
  }
  uint32_t TaskIndex() const override { return task_index_; }
  std::string FilePath(std::string_view name) const override;
  std::string FilesDir() const override { return files_dir_; }
  TaskKind Kind() const override { return kind_; }
  void Fail(std::string_view message) override {
    if (status_.ok()) {
      status_ = absl::AbortedError(absl::string_view(message.data(), message.size()));
    }
  }

  // Where the job's side files are, and their names (TaskSpec.files_dir,
  // JobSpec.side_files): one task runs per process, so every context of
  // the process shares them. Set before any task code runs.
  static void SetTaskFiles(std::string dir, std::vector<std::string> names) {
    files_dir_ = std::move(dir);
    file_names_ = std::move(names);
  }
  // The kind of the process's task, likewise.
  static void SetTaskKind(TaskKind kind) { kind_ = kind; }

  // The first error an Emit() ran into; later emits are dropped.
  const absl::Status& status() const { return status_; }

 protected:
  absl::Status status_;

 private:
  const std::map<std::string, std::string>* const params_;
  std::map<std::string, int64_t>* const counters_;
  const uint32_t task_index_;
  static inline std::string files_dir_;
  static inline std::vector<std::string> file_names_;
  static inline TaskKind kind_ = TaskKind::kMap;
};

inline std::string TaskContext::FilePath(std::string_view name) const {
  for (const std::string& n : file_names_) {
    if (n == name) return files_dir_ + "/" + n;
  }
  return {};
}

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_TASK_CONTEXT_H_
