#include "common/orphan_reaper.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/subprocess.h"
#include "gtest/gtest.h"

namespace mr {
namespace {

TEST(OrphanReaperTest, ReapsOtherChildrenAndLeavesSubprocessesAlone) {
  // The older child first: waitid() reports ended children oldest first,
  // and an ended Subprocess child hides those after it until its Wait().
  const pid_t other = fork();
  ASSERT_GE(other, 0);
  if (other == 0) _exit(0);
  Subprocess child;
  ASSERT_TRUE(child.Start({"/bin/sh", "-c", "exit 5"}, "").ok());

  OrphanReaper reaper(absl::Milliseconds(5));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (reaper.reaped() < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(reaper.reaped(), 1);
  EXPECT_EQ(waitpid(other, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  // The Subprocess's child was left to its Wait().
  absl::StatusOr<Subprocess::Exit> exit = child.Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->code, 5);
  EXPECT_EQ(reaper.reaped(), 1);
}

}  // namespace
}  // namespace mr
