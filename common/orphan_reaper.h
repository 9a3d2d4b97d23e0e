// A thread that reaps orphaned processes: what a daemon needs when it runs
// as PID 1 of a pid namespace (a container's init), which inherits every
// orphan in the namespace; unreaped, they would pile up as zombies. It never
// takes the exit status of a child a Subprocess started (see ReapOrphans()
// in common/subprocess.h), so start children only with Subprocess.
//
//   std::unique_ptr<OrphanReaper> reaper;
//   if (getpid() == 1) reaper = std::make_unique<OrphanReaper>();
//
// Thread-safety: construct and destroy from one thread.
#ifndef MR_COMMON_ORPHAN_REAPER_H_
#define MR_COMMON_ORPHAN_REAPER_H_

#include <atomic>
#include <cstdint>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace mr {

class OrphanReaper {
 public:
  // Starts the thread, which reaps every `period`.
  explicit OrphanReaper(absl::Duration period = absl::Milliseconds(200));
  // Stops the thread (after one last round).
  ~OrphanReaper();
  OrphanReaper(const OrphanReaper&) = delete;
  OrphanReaper& operator=(const OrphanReaper&) = delete;

  // Orphans reaped so far.
  int64_t reaped() const { return reaped_.load(); }

 private:
  void Run();

  const absl::Duration period_;
  absl::Notification stop_;
  std::atomic<int64_t> reaped_{0};
  std::thread thread_;  // last: starts once the rest is initialized
};

}  // namespace mr

#endif  // MR_COMMON_ORPHAN_REAPER_H_
