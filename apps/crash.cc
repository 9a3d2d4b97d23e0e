#include "apps/crash.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mr {
namespace apps {
namespace {

// Reads the parameter `name` as a probability into *p (left unchanged when
// absent); a message when it is not a number in [0, 1].
std::string ReadProbability(const std::map<std::string, std::string>& params,
                            const std::string& name, double* p) {
  auto it = params.find(name);
  if (it == params.end()) return {};
  double v = 0;
  if (!absl::SimpleAtod(it->second, &v) || !(v >= 0 && v <= 1)) {
    return absl::StrCat("crash: ", name, " must be a number in [0, 1], got '",
                        it->second, "'");
  }
  *p = v;
  return {};
}

}  // namespace

std::string Crash::Setup(const std::map<std::string, std::string>& params) {
  double crash_p = 0.333;
  double sleep_p = 0.333;
  int64_t max_sleep_ms = 10000;
  if (std::string e = ReadProbability(params, "crash_probability", &crash_p);
      !e.empty()) {
    return e;
  }
  if (std::string e = ReadProbability(params, "sleep_probability", &sleep_p);
      !e.empty()) {
    return e;
  }
  if (crash_p + sleep_p > 1.0 + 1e-9) {
    return "crash: crash_probability + sleep_probability must be at most 1";
  }
  if (auto it = params.find("max_sleep_ms"); it != params.end()) {
    if (!absl::SimpleAtoi(it->second, &max_sleep_ms) || max_sleep_ms < 0) {
      return absl::StrCat(
          "crash: max_sleep_ms must be a non-negative integer, got '",
          it->second, "'");
    }
  }

  // random_device alone may be a fixed-sequence fallback on some platforms;
  // the pid keeps sibling task children apart in that case.
  std::random_device rd;
  std::seed_seq seed{rd(), rd(), static_cast<unsigned>(getpid())};
  std::mt19937_64 gen(seed);
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(gen);
  if (u < crash_p) {
    fate_ = Fate::kCrash;
  } else if (u < crash_p + sleep_p) {
    fate_ = Fate::kSleep;
    sleep_ms_ = std::uniform_int_distribution<int64_t>(0, max_sleep_ms)(gen);
  } else {
    fate_ = Fate::kNormal;
  }
  acted_ = false;
  return {};
}

void Crash::MaybeMisbehave() {
  if (acted_) return;
  acted_ = true;
  switch (fate_) {
    case Fate::kCrash:
      std::_Exit(1);
    case Fate::kSleep:
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
      break;
    case Fate::kNormal:
      break;
  }
}

void Crash::Map(const InputRecord& record, Context& ctx) {
  MaybeMisbehave();
  WordCount::Map(record, ctx);
}

void Crash::MapBlock(const InputBlock& block, Context& ctx) {
  MaybeMisbehave();
  WordCount::MapBlock(block, ctx);
}

void Crash::Reduce(std::string_view key, ValueIterator& values,
                   Context& ctx) {
  MaybeMisbehave();
  WordCount::Reduce(key, values, ctx);
}

}  // namespace apps
}  // namespace mr
