// A worker that is PID 1 of its own pid namespace, as the entrypoint of a
// container is: its task children must still run (they used to exit at
// once, taking a parent pid of 1 for a dead worker), and the orphans it
// inherits must not pile up as zombies. Started with
// `unshare --pid --fork --mount-proc --kill-child` (we run as root); without
// unshare, or without the right to use it, the test fails and says so.
#include <signal.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kProcessDeadline = absl::Seconds(10);

// The worker under its unshare wrapper: the wrapper's only child.
pid_t WrappedPid(pid_t wrapper) {
  for (const ProcessInfo& p : ListProcesses()) {
    if (p.ppid == wrapper) return p.pid;
  }
  return -1;
}

// Zombies whose parent is `pid`.
std::vector<pid_t> ZombieChildren(pid_t pid) {
  std::vector<pid_t> out;
  for (const ProcessInfo& p : ListProcesses()) {
    if (p.ppid == pid && p.state == 'Z') out.push_back(p.pid);
  }
  return out;
}

TEST(ContainerTest, WorkerAsPid1RunsWordCountAndReapsOrphans) {
  ExternalMiniClusterOptions opts;
  opts.num_workers = 1;
  opts.worker_command_prefix = {"unshare", "--pid", "--fork", "--mount-proc",
                         "--kill-child"};
  ExternalMiniCluster cluster(opts);
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok())
      << "cannot start a worker as PID 1 of a pid namespace with "
         "`unshare --pid --fork --mount-proc` (needs util-linux's unshare and "
         "root, or CAP_SYS_ADMIN): "
      << started;
  absl::StatusOr<std::string> log = ReadFileToString(cluster.worker(0)->log_path());
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_THAT(*log, HasSubstr("running as PID 1: reaping orphaned processes"));
  const pid_t worker = WrappedPid(cluster.worker(0)->pid());
  ASSERT_GT(worker, 0) << "no process under unshare (pid "
                       << cluster.worker(0)->pid() << ")";

  absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
  ASSERT_TRUE(expected.ok()) << expected.status();

  // Word count: 8 maps, 3 reduces, every task child a child of PID 1.
  const std::string out = cluster.PathUnderRoot("wc-out");
  auto wc = cluster.RunMrctl({"submit", "--app", "wordcount", "--input",
                              DataDir() + "/pg-*.txt", "--output", out,
                              "--split-size", "412638", "--reduces", "3",
                              "--max-attempts", "1", "--wait"});
  ASSERT_TRUE(wc.ok()) << wc.status();
  ASSERT_EQ(wc->exit_code, 0) << wc->out << wc->err;
  JobOutputOptions read_opts;
  read_opts.expected_parts = 3;
  absl::StatusOr<std::string> got = ReadJobOutput(out, read_opts);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(CountLines(*got), 22107u);
  EXPECT_TRUE(*got == *expected) << "output differs from the reference";

  // The same job, each attempt leaving a `sleep` behind: killed with the
  // attempt's process group, each becomes an orphan of PID 1, then a zombie
  // that PID 1 must reap.
  std::mt19937 rng(std::random_device{}());
  const std::string marker =
      absl::StrCat(900000 + rng() % 90000, ".", getpid());
  std::cout << "sleeper marker: sleep " << marker << std::endl;
  const std::string out2 = cluster.PathUnderRoot("crash-out");
  auto crash = cluster.RunMrctl(
      {"submit", "--app", "crash", "--param", "fork_sleeper=" + marker,
       "--input", DataDir() + "/pg-*.txt", "--output", out2, "--split-size",
       "412638", "--reduces", "3", "--max-attempts", "1", "--wait", "--json"});
  ASSERT_TRUE(crash.ok()) << crash.status();
  ASSERT_EQ(crash->exit_code, 0) << crash->out << crash->err;
  absl::StatusOr<mrpb::JobStatus> status = ParseJobStatusJson(crash->out);
  ASSERT_TRUE(status.ok()) << status.status();
  // Every map, and every reduce (none is empty), forked one.
  EXPECT_EQ(JobCounter(*status, "sleepers forked"), 8 + 3);
  got = ReadJobOutput(out2, read_opts);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == *expected) << "crash app output differs from the reference";

  const absl::Time deadline = absl::Now() + kProcessDeadline;
  std::vector<ProcessInfo> sleepers = FindProcesses({"sleep", marker});
  std::vector<pid_t> zombies = ZombieChildren(worker);
  while ((!sleepers.empty() || !zombies.empty()) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    sleepers = FindProcesses({"sleep", marker});
    zombies = ZombieChildren(worker);
  }
  for (const ProcessInfo& p : sleepers) kill(p.pid, SIGKILL);
  EXPECT_TRUE(sleepers.empty())
      << sleepers.size() << " sleepers outlived their attempts";
  EXPECT_TRUE(zombies.empty())
      << zombies.size() << " zombie children of the PID 1 worker (pid "
      << worker << ") after " << kProcessDeadline;
}

}  // namespace
}  // namespace test
}  // namespace mr
