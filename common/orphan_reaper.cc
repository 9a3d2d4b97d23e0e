#include "common/orphan_reaper.h"

#include "common/subprocess.h"

namespace mr {

OrphanReaper::OrphanReaper(absl::Duration period)
    : period_(period), thread_([this] { Run(); }) {}

OrphanReaper::~OrphanReaper() {
  stop_.Notify();
  thread_.join();
}

void OrphanReaper::Run() {
  // Polling rather than waiting for SIGCHLD: that would mean blocking it in
  // every thread, and the task children would inherit the blocked mask.
  do {
    reaped_ += ReapOrphans();
  } while (!stop_.WaitForNotificationWithTimeout(period_));
  reaped_ += ReapOrphans();
}

}  // namespace mr
