#include "apps/crash.h"

#include <spawn.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

extern char** environ;

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

// Reads the parameter `name` as a flag ("1" or "0") into *on (left
// unchanged when absent); a message when it is something else.
std::string ReadFlag(const std::map<std::string, std::string>& params,
                     const std::string& name, bool* on) {
  auto it = params.find(name);
  if (it == params.end()) return {};
  if (it->second != "0" && it->second != "1") {
    return absl::StrCat("crash: ", name, " must be 0 or 1, got '", it->second,
                        "'");
  }
  *on = it->second == "1";
  return {};
}

// Starts `sleep arg` and leaves it running (and unwaited for).
void ForkSleeper(const std::string& arg) {
  std::string name = "sleep";
  std::string a = arg;
  char* argv[] = {name.data(), a.data(), nullptr};
  pid_t pid;
  if (posix_spawnp(&pid, "sleep", nullptr, nullptr, argv, environ) != 0) {
    fprintf(stderr, "crash: cannot start sleep %s\n", arg.c_str());
    std::_Exit(1);
  }
}

[[noreturn]] void ExhaustMemory() {
  std::vector<std::unique_ptr<char[]>> blocks;
  while (true) {
    constexpr size_t kBlock = 1 << 20;
    blocks.emplace_back(new char[kBlock]);
    memset(blocks.back().get(), 1, kBlock);  // resident, not just reserved
  }
}

}  // namespace

std::string Crash::Setup(const std::map<std::string, std::string>& params) {
  sleeper_arg_.clear();
  exhaust_memory_ = false;
  hang_ = false;
  if (auto it = params.find("fork_sleeper"); it != params.end()) {
    if (it->second.empty()) return "crash: fork_sleeper must not be empty";
    sleeper_arg_ = it->second;
  }
  if (std::string e = ReadFlag(params, "exhaust_memory", &exhaust_memory_);
      !e.empty()) {
    return e;
  }
  if (std::string e = ReadFlag(params, "hang", &hang_); !e.empty()) return e;
  const bool deterministic = !sleeper_arg_.empty() || exhaust_memory_ || hang_;
  double crash_p = deterministic ? 0 : 0.333;
  double sleep_p = deterministic ? 0 : 0.333;
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

void Crash::MaybeMisbehave(Context& ctx) {
  if (acted_) return;
  acted_ = true;
  if (!sleeper_arg_.empty()) {
    ForkSleeper(sleeper_arg_);
    ctx.IncrementCounter("sleepers forked", 1);
  }
  if (exhaust_memory_) ExhaustMemory();
  while (hang_) std::this_thread::sleep_for(std::chrono::hours(1));
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
  MaybeMisbehave(ctx);
  WordCount::Map(record, ctx);
}

void Crash::MapBlock(const InputBlock& block, Context& ctx) {
  MaybeMisbehave(ctx);
  WordCount::MapBlock(block, ctx);
}

void Crash::Reduce(std::string_view key, ValueIterator& values,
                   Context& ctx) {
  MaybeMisbehave(ctx);
  WordCount::Reduce(key, values, ctx);
}

}  // namespace apps
}  // namespace mr
