// The cluster fixture itself: it starts, lists its workers, and can kill,
// pause, resume, restart and shut down each daemon, also under a wrapper
// command; and its /proc helpers.
#include "tests/external_mini_cluster.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <set>
#include <vector>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;

TEST(RunCommandTest, CapturesOutputAndExitCode) {
  absl::StatusOr<CommandResult> r =
      RunCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"}, absl::Seconds(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(RunCommandTest, LargeOutputOnBothStreams) {
  absl::StatusOr<CommandResult> r = RunCommand(
      {"/bin/sh", "-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2"},
      absl::Seconds(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out.size(), 300000u);
  EXPECT_EQ(r->err.size(), 200000u);
}

TEST(RunCommandTest, TimeoutKills) {
  const absl::Time start = absl::Now();
  absl::StatusOr<CommandResult> r =
      RunCommand({"/bin/sleep", "30"}, absl::Milliseconds(300));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(RunCommandTest, MissingBinary) {
  absl::StatusOr<CommandResult> r =
      RunCommand({"/nonexistent/binary"}, absl::Seconds(10));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("/nonexistent/binary"));
}

TEST(ParseTaskLogEventsTest, ParsesStartedAndFinished) {
  const std::string log =
      "I1124 23:44:00.123456 77 task_runner.cc:12] task job-000001 MAP 3 attempt 7 "
      "started at 1700000000123\n"
      "I1124 23:44:00.223456 77 worker.cc:40] unrelated line\n"
      "I1124 23:44:00.323456 77 task_runner.cc:30] task job-000001 REDUCE 0 attempt "
      "12 finished at 1700000000456 ok\n"
      "task job-000002 MAP 10 attempt 99 finished at 5 failed\n";
  std::vector<TaskLogEvent> e = ParseTaskLogEvents(log);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].job_id, "job-000001");
  EXPECT_EQ(e[0].kind, "MAP");
  EXPECT_EQ(e[0].task_index, 3u);
  EXPECT_EQ(e[0].attempt_id, 7u);
  EXPECT_TRUE(e[0].started);
  EXPECT_EQ(e[0].wall_ms, 1700000000123);
  EXPECT_EQ(e[0].outcome, "");
  EXPECT_EQ(e[1].kind, "REDUCE");
  EXPECT_FALSE(e[1].started);
  EXPECT_EQ(e[1].attempt_id, 12u);
  EXPECT_EQ(e[1].wall_ms, 1700000000456);
  EXPECT_EQ(e[1].outcome, "ok");
  EXPECT_EQ(e[2].job_id, "job-000002");
  EXPECT_EQ(e[2].task_index, 10u);
  EXPECT_EQ(e[2].outcome, "failed");
}

TEST(ExternalMiniClusterTest, StartListsWorkers) {
  ExternalMiniClusterOptions opts;
  opts.num_workers = 3;
  opts.slots_per_worker = 1;
  ExternalMiniCluster cluster(opts);
  absl::Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(cluster.master_address(), ::testing::StartsWith("127.0.0.1:"));
  absl::StatusOr<mrpb::ListWorkersResponse> workers = cluster.ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  ASSERT_EQ(workers->workers_size(), 3);
  std::set<std::string> listed, started;
  for (const auto& w : workers->workers()) {
    listed.insert(w.address());
    EXPECT_EQ(w.slots(), 1u);
  }
  for (int i = 0; i < 3; ++i) started.insert(cluster.worker(i)->address());
  EXPECT_EQ(listed, started);

  absl::StatusOr<CommandResult> r = cluster.RunMrctl({"workers", "--json"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->err;
  for (const std::string& a : started) EXPECT_THAT(r->out, HasSubstr(a));
}

TEST(ExternalMiniClusterTest, KillPauseResumeRestartShutdown) {
  ExternalMiniCluster cluster;
  absl::Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s;
  ExternalDaemon* w0 = cluster.worker(0);
  ExternalDaemon* w1 = cluster.worker(1);

  ASSERT_TRUE(w0->Pause().ok());
  EXPECT_TRUE(w0->IsRunning());
  EXPECT_TRUE(w0->IsPaused());
  ASSERT_TRUE(w0->Resume().ok());
  EXPECT_FALSE(w0->IsPaused());

  const std::string address = w1->address();
  const pid_t old_pid = w1->pid();
  ASSERT_TRUE(w1->Kill().ok());
  EXPECT_FALSE(w1->IsRunning());
  EXPECT_EQ(w1->pid(), -1);
  EXPECT_TRUE(WIFSIGNALED(w1->last_wait_status()) &&
              WTERMSIG(w1->last_wait_status()) == SIGKILL);
  EXPECT_EQ(w1->Pause().code(), absl::StatusCode::kFailedPrecondition);
  s = w1->Restart();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(w1->IsRunning());
  EXPECT_NE(w1->pid(), old_pid);
  EXPECT_EQ(w1->address(), address);  // the restart keeps the port
  EXPECT_EQ(w1->Start().code(), absl::StatusCode::kFailedPrecondition);

  // A paused daemon still shuts down cleanly on SIGTERM.
  ASSERT_TRUE(w0->Pause().ok());
  s = w0->Shutdown();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_FALSE(w0->IsRunning());

  // The master restarts on its port; the surviving worker finds it again.
  const std::string master_address = cluster.master_address();
  s = cluster.master()->Restart();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(cluster.master_address(), master_address);
  s = cluster.WaitForWorkerCount(1, absl::Seconds(30));
  EXPECT_TRUE(s.ok()) << s;

  s = cluster.master()->Shutdown();
  EXPECT_TRUE(s.ok()) << s;
  // mrctl reports an unreachable master with exit code 3.
  absl::StatusOr<CommandResult> r = cluster.RunMrctl({"list"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 3) << r->err;
}

// The one process whose parent is `parent`, or nullopt.
std::optional<ProcessInfo> OnlyChildOf(pid_t parent) {
  std::optional<ProcessInfo> found;
  for (ProcessInfo& p : ListProcesses()) {
    if (p.ppid != parent) continue;
    if (found) return std::nullopt;
    found = std::move(p);
  }
  return found;
}

TEST(ExternalMiniClusterTest, WrappedWorkerRunsUnderItsWrapperAndShutsDown) {
  ExternalMiniClusterOptions opts;
  opts.num_workers = 1;
  opts.worker_command_prefix = {"unshare", "--pid", "--fork", "--kill-child"};
  ExternalMiniCluster cluster(opts);
  absl::Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s;
  ExternalDaemon* w = cluster.worker(0);
  std::optional<ProcessInfo> worker = OnlyChildOf(w->pid());
  ASSERT_TRUE(worker.has_value());
  ASSERT_GE(worker->argv.size(), 1u);
  EXPECT_EQ(worker->argv[0], cluster.bin_dir() + "/mr-worker");

  // Signals reach the worker under the wrapper.
  ASSERT_TRUE(w->Pause().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (OnlyChildOf(w->pid()).value_or(ProcessInfo()).state != 'T' &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(OnlyChildOf(w->pid()).value_or(ProcessInfo()).state, 'T');
  ASSERT_TRUE(w->Resume().ok());
  s = w->Shutdown();
  EXPECT_TRUE(s.ok()) << s;  // the worker, then unshare, exited with 0
  EXPECT_FALSE(w->IsRunning());

  s = w->Restart();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(OnlyChildOf(w->pid()).has_value());
  ASSERT_TRUE(w->Kill().ok());
  // The worker dies with its wrapper's group.
  const absl::Time gone_by = absl::Now() + absl::Seconds(10);
  while (!FindProcesses(worker->argv).empty() && absl::Now() < gone_by) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(FindProcesses(worker->argv).empty());
}

TEST(ExternalMiniClusterTest, MissingWrapperFailsTheStartSayingWhy) {
  ExternalMiniClusterOptions opts;
  opts.num_workers = 1;
  opts.worker_command_prefix = {"no-such-wrapper-command"};
  ExternalMiniCluster cluster(opts);
  absl::Status s = cluster.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("no executable 'no-such-wrapper-command' on PATH"));
}

TEST(ListProcessesTest, FindsAChildByItsArgv) {
  const std::string marker = absl::StrCat("987654.", getpid());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execl("/bin/sleep", "sleep", marker.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::vector<ProcessInfo> found;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (found.empty() && absl::Now() < deadline) {
    found = FindProcesses({"sleep", marker});
    if (found.empty()) absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pid, child);
  EXPECT_EQ(found[0].ppid, getpid());
  EXPECT_NE(found[0].state, 'Z');
  kill(child, SIGKILL);
  // Killed but not reaped: a zombie, which FindProcesses leaves out.
  siginfo_t info;
  ASSERT_EQ(waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
  EXPECT_TRUE(FindProcesses({"sleep", marker}).empty());
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
}

TEST(ExternalMiniClusterTest, RootDirIsRemoved) {
  std::string root;
  {
    ExternalMiniClusterOptions opts;
    opts.num_workers = 1;
    ExternalMiniCluster cluster(opts);
    absl::Status s = cluster.Start();
    ASSERT_TRUE(s.ok()) << s;
    root = cluster.root_dir();
    EXPECT_TRUE(PathExists(root + "/logs/master.log"));
    EXPECT_TRUE(PathExists(root + "/logs/worker-0.log"));
    EXPECT_TRUE(PathExists(root + "/master.addr"));
    EXPECT_TRUE(PathExists(root + "/worker-0.addr"));
  }
  if (getenv("MR_KEEP_TEST_DIRS") == nullptr) {
    EXPECT_FALSE(PathExists(root));
  }
}

}  // namespace
}  // namespace test
}  // namespace mr
