// What map, combine and reduce contexts share: parameters and user counters.
#ifndef MR_WORKER_INTERNAL_TASK_CONTEXT_H_
#define MR_WORKER_INTERNAL_TASK_CONTEXT_H_

#include <map>
#include <string>
#include <string_view>

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

  // The first error an Emit() ran into; later emits are dropped.
  const absl::Status& status() const { return status_; }

 protected:
  absl::Status status_;

 private:
  const std::map<std::string, std::string>* const params_;
  std::map<std::string, int64_t>* const counters_;
  const uint32_t task_index_;
};

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_TASK_CONTEXT_H_
