// A plugin whose Map() dereferences a null pointer on every line that
// contains the parameter `crash_on` (default: every line). Tests use it to
// show that a crashing plugin costs its task attempt, never the worker.
#include <string>

#include "mr/mapreduce.h"

namespace {

class SegvJob : public mr::Job {
 public:
  std::string Setup(const std::map<std::string, std::string>& params) override {
    auto it = params.find("crash_on");
    if (it != params.end()) crash_on_ = it->second;
    return {};
  }
  void Map(const mr::InputRecord& record, mr::Context& ctx) override {
    if (record.line.find(crash_on_) != std::string_view::npos) {
      volatile int* volatile p = nullptr;
      *p = 1;  // SIGSEGV, on purpose
    }
    ctx.Emit(record.line, "");
  }
  void Reduce(std::string_view key, mr::ValueIterator&,
              mr::Context& ctx) override {
    ctx.Emit(key, "");
  }

 private:
  std::string crash_on_;
};

}  // namespace

MR_EXPORT_JOB(SegvJob)
