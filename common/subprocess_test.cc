#include "common/subprocess.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "gtest/gtest.h"

namespace mr {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(10);

class SubprocessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Orphaned grandchildren come to this process, so a test can reap (and
    // so count) them.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    const char* tmp = getenv("TMPDIR");
    std::string templ = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp",
                                     "/subprocess_test.XXXXXX");
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    EXPECT_TRUE(RemoveAll(dir_).ok());
  }

  // The pid a shell wrote to `path`, waiting up to kDeadline for it.
  pid_t ReadPid(const std::string& path) {
    const absl::Time deadline = absl::Now() + kDeadline;
    while (absl::Now() < deadline) {
      absl::StatusOr<std::string> text = ReadFileToString(path);
      int pid = 0;
      if (text.ok() && !text->empty() && text->back() == '\n' &&
          absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid)) {
        return pid;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    ADD_FAILURE() << "no pid in " << path;
    return -1;
  }

  // Calls ReapOrphans() until it has reaped `n` in all, or kDeadline passes;
  // returns the total.
  int ReapOrphansUntil(int n) {
    int total = 0;
    const absl::Time deadline = absl::Now() + kDeadline;
    while (total < n && absl::Now() < deadline) {
      total += ReapOrphans();
      if (total < n) absl::SleepFor(absl::Milliseconds(5));
    }
    return total;
  }

  // Reaps `pid` (a child of this process), waiting up to kDeadline; its
  // wait status, or -1 when it is still running.
  int ReapWithin(pid_t pid) {
    const absl::Time deadline = absl::Now() + kDeadline;
    while (absl::Now() < deadline) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) return status;
      absl::SleepFor(absl::Milliseconds(5));
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return -1;
  }

  std::string dir_;
};

TEST_F(SubprocessTest, ReportsExitCode) {
  Subprocess child;
  ASSERT_TRUE(child.Start({"/bin/sh", "-c", "exit 3"}, "").ok());
  absl::StatusOr<Subprocess::Exit> exit = child.Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_FALSE(exit->signaled);
  EXPECT_EQ(exit->code, 3);
  EXPECT_EQ(exit->Describe(), "exit code 3");
  EXPECT_EQ(child.Wait().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SubprocessTest, ChildLeadsItsOwnProcessGroup) {
  Subprocess child;
  ASSERT_TRUE(child.Start({"/bin/sleep", "1000"}, "").ok());
  EXPECT_EQ(getpgid(child.pid()), child.pid());
  EXPECT_NE(getpgid(child.pid()), getpgrp());
  child.Kill(SIGKILL);
  absl::StatusOr<Subprocess::Exit> exit = child.Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->signaled);
  EXPECT_EQ(exit->signal, SIGKILL);
}

TEST_F(SubprocessTest, WhatTheChildLeftInItsGroupDiesWhenItEnds) {
  const std::string pid_file = dir_ + "/grandchild.pid";
  Subprocess child;
  ASSERT_TRUE(child
                  .Start({"/bin/sh", "-c",
                          absl::StrCat("sleep 1000 & echo $! > ", pid_file)},
                         "")
                  .ok());
  absl::StatusOr<Subprocess::Exit> exit = child.Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->code, 0);
  const pid_t grandchild = ReadPid(pid_file);
  ASSERT_GT(grandchild, 0);
  // The orphaned sleep came to this process (a subreaper), killed: reaping
  // it shows how it ended.
  const int status = ReapWithin(grandchild);
  ASSERT_NE(status, -1) << "the grandchild is still running";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST_F(SubprocessTest, KillSignalsTheWholeGroup) {
  const std::string pid_file = dir_ + "/grandchild.pid";
  Subprocess child;
  ASSERT_TRUE(
      child
          .Start({"/bin/sh", "-c",
                  absl::StrCat("sleep 1000 & echo $! > ", pid_file, "; wait")},
                 "")
          .ok());
  const pid_t grandchild = ReadPid(pid_file);
  ASSERT_GT(grandchild, 0);
  child.Kill(SIGTERM);
  absl::StatusOr<Subprocess::Exit> exit = child.Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->signaled);
  EXPECT_EQ(exit->signal, SIGTERM);
  const int status = ReapWithin(grandchild);
  ASSERT_NE(status, -1) << "the grandchild is still running";
  // SIGTERM from Kill(), or SIGKILL from the cleanup if it came first.
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_TRUE(WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGKILL)
      << WTERMSIG(status);
}

TEST_F(SubprocessTest, ReapOrphansLeavesSubprocessChildrenAlone) {
  // A child no Subprocess started (older, so waitid reports it first)...
  const pid_t other = fork();
  ASSERT_GE(other, 0);
  if (other == 0) _exit(0);
  // ... and one a Subprocess did; both have ended before ReapOrphans().
  Subprocess child;
  ASSERT_TRUE(child.Start({"/bin/sh", "-c", "exit 7"}, "").ok());
  siginfo_t info;
  ASSERT_EQ(waitid(P_PID, other, &info, WEXITED | WNOWAIT), 0);
  ASSERT_EQ(waitid(P_PID, child.pid(), &info, WEXITED | WNOWAIT), 0);

  EXPECT_EQ(ReapOrphans(), 1);
  EXPECT_EQ(waitpid(other, nullptr, WNOHANG), -1);  // already reaped
  EXPECT_EQ(ReapOrphans(), 0);
  absl::StatusOr<Subprocess::Exit> exit = child.Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->code, 7);
}

TEST_F(SubprocessTest, ReapOrphansReapsTheGroupItKilled) {
  const std::string pid_file = dir_ + "/grandchild.pid";
  Subprocess child;
  ASSERT_TRUE(child
                  .Start({"/bin/sh", "-c",
                          absl::StrCat("sleep 1000 & echo $! > ", pid_file)},
                         "")
                  .ok());
  ASSERT_TRUE(child.Wait().ok());
  ASSERT_GT(ReadPid(pid_file), 0);
  EXPECT_EQ(ReapOrphansUntil(1), 1);
  EXPECT_EQ(ReapOrphans(), 0);
}

TEST_F(SubprocessTest, ReportsPeakMemoryOfTheChildAndWhatItWaitedFor) {
  // tail keeps the last 64 MiB of a pipe in memory.
  Subprocess child;
  ASSERT_TRUE(child
                  .Start({"/bin/sh", "-c",
                          "head -c 67108864 /dev/zero | tail -c 67108864 "
                          "> /dev/null"},
                         "")
                  .ok());
  absl::StatusOr<Subprocess::Exit> exit = child.Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->code, 0);
  EXPECT_GE(exit->max_rss_bytes, 64ll << 20);
  EXPECT_LT(exit->max_rss_bytes, 1ll << 30);
}

TEST_F(SubprocessTest, WaitForTimesOutThenWaits) {
  Subprocess child;
  ASSERT_TRUE(child.Start({"/bin/sleep", "1000"}, "").ok());
  EXPECT_EQ(child.WaitFor(20).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  child.Kill(SIGKILL);
  absl::StatusOr<Subprocess::Exit> exit = child.WaitFor(10000);
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->signaled);
}

}  // namespace
}  // namespace mr
