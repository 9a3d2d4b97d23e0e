// What a task attempt's process may do, and what the worker does about it:
// processes the job's code forks die with the attempt, whether it is killed
// or finishes; a task that takes more memory than --task_memory_mb fails
// with a reason that says so, while ordinary jobs run fine under a modest
// limit and report their peak memory.
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kProcessDeadline = absl::Seconds(10);

// A `sleep` argument no other process uses, so the sleepers a test's jobs
// fork can be told apart; kills whatever is left of them when it goes.
class SleeperMarker {
 public:
  SleeperMarker() {
    std::mt19937 rng(std::random_device{}());
    arg_ = absl::StrCat(800000 + rng() % 90000, ".", getpid());
    std::cout << "sleeper marker: sleep " << arg_ << std::endl;
  }
  ~SleeperMarker() {
    for (const ProcessInfo& p : Running()) kill(p.pid, SIGKILL);
  }
  const std::string& arg() const { return arg_; }
  std::vector<ProcessInfo> Running() const {
    return FindProcesses({"sleep", arg_});
  }

  // Waits up to `deadline` until pred(number of sleepers running) holds;
  // returns the last number.
  template <typename Pred>
  size_t WaitFor(Pred pred, absl::Duration deadline) const {
    const absl::Time end = absl::Now() + deadline;
    size_t n = Running().size();
    while (!pred(n) && absl::Now() < end) {
      absl::SleepFor(absl::Milliseconds(20));
      n = Running().size();
    }
    return n;
  }

 private:
  std::string arg_;
};

TEST(TaskProcessTest, ProcessesAKilledAttemptForkedDieWithIt) {
  ExternalMiniCluster cluster;
  ASSERT_TRUE(cluster.Start().ok());
  SleeperMarker sleeper;
  // 4 maps, each forking a sleeper, then hanging.
  absl::StatusOr<std::string> job = cluster.SubmitJob(
      {"--app", "crash", "--param", "fork_sleeper=" + sleeper.arg(), "--param",
       "hang=1", "--input", DataDir() + "/pg-*.txt", "--output",
       cluster.PathUnderRoot("out"), "--split-size", "900000", "--reduces",
       "1"});
  ASSERT_TRUE(job.ok()) << job.status();
  // Two workers of two slots: all four maps run, each with its sleeper.
  EXPECT_EQ(sleeper.WaitFor([](size_t n) { return n == 4; }, absl::Seconds(30)),
            4u);

  auto killed = cluster.RunMrctl({"kill", *job});
  ASSERT_TRUE(killed.ok()) << killed.status();
  ASSERT_EQ(killed->exit_code, 0) << killed->out << killed->err;
  EXPECT_EQ(sleeper.WaitFor([](size_t n) { return n == 0; }, kProcessDeadline),
            0u)
      << "sleepers outlived their killed attempts";
  absl::StatusOr<mrpb::JobStatus> status = cluster.GetJobStatus(*job);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_KILLED);
  // The workers live on.
  EXPECT_TRUE(cluster.worker(0)->IsRunning());
  EXPECT_TRUE(cluster.worker(1)->IsRunning());
}

TEST(TaskProcessTest, ProcessesAFinishedAttemptForkedDieWithIt) {
  ExternalMiniCluster cluster;
  ASSERT_TRUE(cluster.Start().ok());
  SleeperMarker sleeper;
  const std::string out = cluster.PathUnderRoot("out");
  auto r = cluster.RunMrctl(
      {"submit", "--app", "crash", "--param", "fork_sleeper=" + sleeper.arg(),
       "--input", DataDir() + "/pg-*.txt", "--output", out, "--split-size",
       "900000", "--reduces", "2", "--max-attempts", "1", "--wait", "--json"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->out << r->err;
  absl::StatusOr<mrpb::JobStatus> status = ParseJobStatusJson(r->out);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(JobCounter(*status, "sleepers forked"), 4 + 2);
  EXPECT_EQ(sleeper.WaitFor([](size_t n) { return n == 0; }, kProcessDeadline),
            0u)
      << "sleepers outlived their finished attempts";
  absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
  ASSERT_TRUE(expected.ok()) << expected.status();
  absl::StatusOr<std::string> got = ReadJobOutput(out);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == *expected) << "output differs from the reference";
}

TEST(TaskProcessTest, ATaskOverItsMemoryLimitFailsSayingSo) {
  ExternalMiniClusterOptions opts;
  opts.extra_worker_flags = {"--task_memory_mb=64"};
  ExternalMiniCluster cluster(opts);
  ASSERT_TRUE(cluster.Start().ok());
  auto r = cluster.RunMrctl(
      {"submit", "--app", "crash", "--param", "exhaust_memory=1", "--input",
       DataDir() + "/pg-sherlock_holmes.txt", "--output",
       cluster.PathUnderRoot("out"), "--max-attempts", "2", "--wait", "--json"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1) << r->out << r->err;
  absl::StatusOr<mrpb::JobStatus> status = ParseJobStatusJson(r->out);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_FAILED);
  EXPECT_EQ(status->error(),
            "map task 0 failed 2 times; last error: task exceeded its memory "
            "limit of 64 MiB");

  // What `mrctl status` shows.
  auto shown = cluster.RunMrctl({"status", status->job_id()});
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_THAT(shown->out,
              HasSubstr(absl::StrCat("job ", status->job_id(),
                                     " failed: map task 0 failed 2 times; "
                                     "last error: task exceeded its memory "
                                     "limit of 64 MiB\n")));
  EXPECT_TRUE(cluster.worker(0)->IsRunning());
  EXPECT_TRUE(cluster.worker(1)->IsRunning());
}

TEST(TaskProcessTest, OrdinaryJobsRunUnderAModestLimitAndReportPeakMemory) {
  constexpr int64_t kLimitMb = 256;
  ExternalMiniClusterOptions opts;
  opts.extra_worker_flags = {absl::StrCat("--task_memory_mb=", kLimitMb)};
  ExternalMiniCluster cluster(opts);
  ASSERT_TRUE(cluster.Start().ok());
  auto files = GutenbergFiles();
  ASSERT_TRUE(files.ok()) << files.status();

  // Word count, 8 maps and 4 reduces; each reduce fetches from 8 maps over
  // gRPC, on its fetch threads.
  const std::string wc_out = cluster.PathUnderRoot("wc");
  auto wc = cluster.RunMrctl({"submit", "--app", "wordcount", "--input",
                              DataDir() + "/pg-*.txt", "--output", wc_out,
                              "--split-size", "412638", "--reduces", "4",
                              "--max-attempts", "1", "--wait", "--json"});
  ASSERT_TRUE(wc.ok()) << wc.status();
  ASSERT_EQ(wc->exit_code, 0) << wc->out << wc->err;
  absl::StatusOr<mrpb::JobStatus> status = ParseJobStatusJson(wc->out);
  ASSERT_TRUE(status.ok()) << status.status();
  absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
  ASSERT_TRUE(expected.ok()) << expected.status();
  JobOutputOptions wc_read;
  wc_read.expected_parts = 4;
  absl::StatusOr<std::string> got = ReadJobOutput(wc_out, wc_read);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == *expected) << "word count output differs";

  // Peak memory: the largest attempt's, by kind and overall.
  const int64_t map_peak = JobCounter(*status, "max map task memory bytes");
  const int64_t reduce_peak = JobCounter(*status, "max reduce task memory bytes");
  const int64_t peak = JobCounter(*status, "max task memory bytes");
  std::cout << "peak memory: map " << map_peak << ", reduce " << reduce_peak
            << " bytes" << std::endl;
  EXPECT_GT(map_peak, 1 << 20);
  EXPECT_GT(reduce_peak, 1 << 20);
  EXPECT_EQ(peak, std::max(map_peak, reduce_peak));
  EXPECT_LT(peak, kLimitMb << 20);

  // The indexer, from its plugin.
  const std::string ix_out = cluster.PathUnderRoot("ix");
  auto ix = cluster.RunMrctl({"submit", "--plugin",
                              LibDir() + "/libindexer_plugin.so", "--input",
                              DataDir() + "/pg-*.txt", "--output", ix_out,
                              "--split-size", "412638", "--reduces", "2",
                              "--max-attempts", "1", "--wait"});
  ASSERT_TRUE(ix.ok()) << ix.status();
  ASSERT_EQ(ix->exit_code, 0) << ix->out << ix->err;
  auto index = IndexerReference(*files);
  ASSERT_TRUE(index.ok()) << index.status();
  auto ix_got = ReadJobOutput(ix_out);
  ASSERT_TRUE(ix_got.ok()) << ix_got.status();
  EXPECT_TRUE(*ix_got == RenderIndex(*index)) << "indexer output differs";
}

}  // namespace
}  // namespace test
}  // namespace mr
