// Time reaches the logic through Clock, so tests can jump it (STYLE 7).
#ifndef MR_COMMON_CLOCK_H_
#define MR_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace mr {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds on a monotonic clock: for timeouts and durations.
  virtual int64_t MonotonicMs() = 0;
  // Milliseconds since the Unix epoch: for display.
  virtual int64_t WallMs() = 0;

  // The process-wide real clock. Never null; lives forever.
  static Clock* Real();
};

// A clock that moves only when told. Thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1000000) : now_ms_(start_ms) {}
  int64_t MonotonicMs() override { return now_ms_.load(); }
  int64_t WallMs() override { return now_ms_.load(); }
  void Advance(int64_t ms) { now_ms_.fetch_add(ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace mr

#endif  // MR_COMMON_CLOCK_H_
