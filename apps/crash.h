// crash: word count that misbehaves on purpose, for fault-tolerance tests
// (the MIT 6.5840 MapReduce lab's crash app, adapted). Its output is exactly
// wordcount's ("word count" lines, same word definition).
//
// Once per task attempt, in Setup(), the instance draws its fate from a
// generator seeded with std::random_device and the pid:
//   - with probability "crash_probability" it ends the whole process at its
//     first Map()/MapBlock()/Reduce() call with std::_Exit(1) (no flush, no
//     destructors: the task child simply dies);
//   - else with probability "sleep_probability" it sleeps a uniform random
//     0 .. "max_sleep_ms" milliseconds at that first call, then works
//     normally;
//   - else it works normally.
// A task that never calls Map/MapBlock/Reduce (an empty partition) never
// misbehaves.
//
// Parameters (all optional): "crash_probability" (default 0.333),
// "sleep_probability" (default 0.333), each in [0, 1] with a sum <= 1;
// "max_sleep_ms" (default 10000), a non-negative integer. Setup() refuses
// other values with a message naming the parameter.
//
// Deterministic misbehaviour, for the tests of task processes, also at the
// first Map()/MapBlock()/Reduce() call of every attempt, in this order:
//   - "fork_sleeper=ARG": starts `sleep ARG` (found on PATH), a grandchild
//     of the worker that the attempt never waits for (ARG makes it
//     recognizable, e.g. "864000.12345"), and counts it in the counter
//     "sleepers forked";
//   - "exhaust_memory=1": allocates and touches 1 MiB blocks, keeping them,
//     until an allocation fails (what then happens is the engine's affair);
//   - "hang=1": sleeps forever.
// When any of them is set, crash_probability and sleep_probability
// default to 0.
//
// Thread-safety: like every Job, used from one thread.
#ifndef MR_APPS_CRASH_H_
#define MR_APPS_CRASH_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "apps/wordcount.h"
#include "mr/mapreduce.h"

namespace mr {
namespace apps {

class Crash : public WordCount {
 public:
  enum class Fate { kNormal, kCrash, kSleep };

  std::string Setup(const std::map<std::string, std::string>& params) override;
  void Map(const InputRecord& record, Context& ctx) override;
  void MapBlock(const InputBlock& block, Context& ctx) override;
  void Reduce(std::string_view key, ValueIterator& values,
              Context& ctx) override;

  // What Setup() drew (kNormal before Setup()), and for kSleep how long.
  Fate fate() const { return fate_; }
  int64_t sleep_ms() const { return sleep_ms_; }

 private:
  // Acts out the fate on the first call; does nothing afterwards.
  void MaybeMisbehave(Context& ctx);

  Fate fate_ = Fate::kNormal;
  int64_t sleep_ms_ = 0;
  bool acted_ = false;
  std::string sleeper_arg_;  // empty: no sleeper
  bool exhaust_memory_ = false;
  bool hang_ = false;
};

}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_CRASH_H_
