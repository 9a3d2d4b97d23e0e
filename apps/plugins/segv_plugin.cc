// A plugin that dereferences a null pointer: Map() on every line containing
// the parameter `crash_on`, Reduce() on the key equal to `crash_on_key`
// (each only when given). Otherwise it writes each distinct input line. Tests
// use it to show that crashing job code costs its task attempt, never the
// worker, and that such records can be skipped.
#include <map>
#include <optional>
#include <string>

#include "mr/mapreduce.h"

namespace {

// Not instrumented: in the sanitized build (tests/sanitize.sh) UBSan would
// turn the null store into a report and exit(1); the tests need the SIGSEGV.
[[noreturn]] __attribute__((no_sanitize("address", "undefined"))) void Segfault() {
  volatile int* volatile p = nullptr;
  *p = 1;  // SIGSEGV, on purpose
  __builtin_unreachable();
}

class SegvJob : public mr::Job {
 public:
  std::string Setup(const std::map<std::string, std::string>& params) override {
    if (auto it = params.find("crash_on"); it != params.end()) {
      crash_on_ = it->second;
    }
    if (auto it = params.find("crash_on_key"); it != params.end()) {
      crash_on_key_ = it->second;
    }
    return {};
  }
  void Map(const mr::InputRecord& record, mr::Context& ctx) override {
    if (crash_on_ && record.line.find(*crash_on_) != std::string_view::npos) {
      Segfault();
    }
    ctx.Emit(record.line, "");
  }
  void Reduce(std::string_view key, mr::ValueIterator&,
              mr::Context& ctx) override {
    if (crash_on_key_ && key == *crash_on_key_) Segfault();
    ctx.Emit(key, "");
  }

 private:
  std::optional<std::string> crash_on_;
  std::optional<std::string> crash_on_key_;
};

}  // namespace

MR_EXPORT_JOB(SegvJob)
