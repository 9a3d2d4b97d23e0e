// Test doubles for running a Job's methods without the engine: a Context
// that records what the job emits and counts, and a ValueIterator over a
// vector. For unit tests only (apps_test, terasort_test).
//
// Thread-safety: none; each test uses its own instances.
#ifndef MR_APPS_INTERNAL_FAKE_CONTEXT_H_
#define MR_APPS_INTERNAL_FAKE_CONTEXT_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mr/mapreduce.h"

namespace mr {
namespace apps {
namespace internal {

class FakeContext : public Context {
 public:
  using KV = std::pair<std::string, std::string>;

  void Emit(std::string_view key, std::string_view value) override {
    emits.emplace_back(std::string(key), std::string(value));
  }
  void IncrementCounter(std::string_view name, int64_t delta) override {
    counters[std::string(name)] += delta;
  }
  std::string Param(std::string_view name,
                    std::string_view fallback) const override {
    auto it = params.find(std::string(name));
    return it == params.end() ? std::string(fallback) : it->second;
  }
  uint32_t TaskIndex() const override { return task_index; }
  TaskKind Kind() const override { return kind; }
  void EmitTo(std::string_view output, std::string_view key,
              std::string_view value) override {
    side_emits[std::string(output)].emplace_back(std::string(key),
                                                 std::string(value));
  }
  void Fail(std::string_view message) override { failure = std::string(message); }

  // The emits, sorted by key then value.
  std::vector<KV> Sorted() const {
    std::vector<KV> s = emits;
    std::sort(s.begin(), s.end());
    return s;
  }

  // Counter `name`, 0 when never incremented.
  int64_t Counter(const std::string& name) const {
    auto it = counters.find(name);
    return it == counters.end() ? 0 : it->second;
  }

  std::vector<KV> emits;
  std::map<std::string, std::vector<KV>> side_emits;  // by output name
  std::string failure;                                // the last Fail()
  std::map<std::string, int64_t> counters;
  std::map<std::string, std::string> params;
  uint32_t task_index = 0;
  TaskKind kind = TaskKind::kMap;
};

class VectorValues : public ValueIterator {
 public:
  explicit VectorValues(std::vector<std::string> values)
      : values_(std::move(values)) {}
  bool Next(std::string_view* value) override {
    if (next_ == values_.size()) return false;
    *value = values_[next_++];
    return true;
  }

 private:
  std::vector<std::string> values_;
  size_t next_ = 0;
};

}  // namespace internal
}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_INTERNAL_FAKE_CONTEXT_H_
