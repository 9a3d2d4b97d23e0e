// The MIT 6.5840 MapReduce lab's crash test, with real processes and real
// signals: the "crash" app (apps/crash.h) makes about a third of all task
// attempts exit abruptly and another third stall for up to 3 s, while the
// test SIGKILLs a random worker every 1-3 s and restarts it 0.5 s later.
// The job must still succeed and its output must equal word count's
// reference byte for byte. Run three times, since every run draws differently.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

constexpr absl::Duration kJobTimeout = absl::Seconds(180);

class CrashTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
    ASSERT_TRUE(expected.ok()) << expected.status();
    expected_ = *expected;
  }

  std::string expected_;
};

// Polls the job every 100 ms for up to `d`; its final status once it has
// left JOB_RUNNING, else nullopt. A failed poll (the master is never killed
// here) fails the test and ends the wait.
std::optional<mrpb::JobStatus> PollFor(ExternalMiniCluster& cluster,
                                       const std::string& job,
                                       absl::Duration d) {
  const absl::Time end = absl::Now() + d;
  while (true) {
    absl::StatusOr<mrpb::JobStatus> s = cluster.GetJobStatus(job);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return mrpb::JobStatus();
    if (s->state() != mrpb::JOB_RUNNING) return *s;
    if (absl::Now() >= end) return std::nullopt;
    absl::SleepFor(std::min(absl::Milliseconds(100), end - absl::Now()));
  }
}

// Attempt outcomes in the workers' logs for `job`: outcome -> count ("ok",
// "failed", ...), from the "task ... finished at ..." lines.
std::map<std::string, int> AttemptOutcomes(ExternalMiniCluster& cluster,
                                           const std::string& job) {
  std::map<std::string, int> out;
  for (int i = 0; i < cluster.num_workers(); ++i) {
    absl::StatusOr<std::string> log =
        ReadFileToString(cluster.worker(i)->log_path());
    if (!log.ok()) continue;
    for (const TaskLogEvent& e : ParseTaskLogEvents(*log)) {
      if (e.job_id != job || e.started) continue;
      std::string outcome = e.outcome;  // "failed:" before its reason
      if (!outcome.empty() && outcome.back() == ':') outcome.pop_back();
      ++out[outcome];
    }
  }
  return out;
}

TEST_P(CrashTest, CrashAppUnderWorkerKillsMatchesReference) {
  ExternalMiniClusterOptions opts;
  opts.num_workers = 3;
  opts.heartbeat_interval_ms = 200;
  opts.heartbeat_timeout_ms = 1500;
  ExternalMiniCluster cluster(opts);
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;

  const std::string out = cluster.PathUnderRoot("crash-out");
  // 8 maps (412638 * 8 = 3301104 bytes), 4 reduces.
  absl::StatusOr<std::string> job = cluster.SubmitJob(
      {"--app", "crash", "--input", DataDir() + "/pg-*.txt", "--output", out,
       "--split-size", "412638", "--reduces", "4", "--max-attempts", "30",
       "--param", "max_sleep_ms=3000"});
  ASSERT_TRUE(job.ok()) << job.status();
  const absl::Time start = absl::Now();

  // The killer runs on this thread, between polls (the fixture is not
  // thread-safe). At most one worker is down at any time: never fewer than
  // two of the three run.
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pause_ms(1000, 3000);
  std::uniform_int_distribution<int> pick(0, cluster.num_workers() - 1);
  int kills = 0;
  std::optional<mrpb::JobStatus> final_status;
  while (!final_status && absl::Now() - start < kJobTimeout) {
    final_status =
        PollFor(cluster, *job, absl::Milliseconds(pause_ms(rng)));
    if (final_status) break;
    const int victim = pick(rng);
    ASSERT_TRUE(cluster.worker(victim)->IsRunning());
    absl::Status k = cluster.worker(victim)->Kill();
    ASSERT_TRUE(k.ok()) << k;
    ++kills;
    final_status = PollFor(cluster, *job, absl::Milliseconds(500));
    absl::Status r = cluster.worker(victim)->Restart();
    ASSERT_TRUE(r.ok()) << "restarting worker " << victim << ": " << r;
  }
  if (!final_status) {
    absl::StatusOr<mrpb::JobStatus> s = cluster.WaitForJob(
        *job, absl::Seconds(1));
    ASSERT_TRUE(s.ok()) << "job still running after " << kJobTimeout << ": "
                        << s.status() << "\n" << cluster.LogTails();
    final_status = *s;
  }
  const absl::Duration took = absl::Now() - start;

  const std::map<std::string, int> outcomes = AttemptOutcomes(cluster, *job);
  std::string outcome_text;
  for (const auto& [o, n] : outcomes) absl::StrAppend(&outcome_text, " ", o, "=", n);
  std::cout << "crash run " << GetParam() << ": " << kills
            << " worker kills; job " << mrpb::JobState_Name(final_status->state())
            << " in " << absl::FormatDuration(took)
            << "; attempt outcomes in the worker logs:" << outcome_text
            << std::endl;

  ASSERT_EQ(final_status->state(), mrpb::JOB_SUCCEEDED)
      << final_status->error() << "\n" << cluster.LogTails(60);
  EXPECT_EQ(final_status->maps_done(), 8u);
  EXPECT_EQ(final_status->reduces_done(), 4u);
  JobOutputOptions read_opts;
  read_opts.expected_parts = 4;
  absl::StatusOr<std::string> got = ReadJobOutput(out, read_opts);
  ASSERT_TRUE(got.ok()) << got.status() << "; the output directory holds:\n"
                          << DescribeTree(out);
  EXPECT_EQ(CountLines(*got), 22107u);
  EXPECT_TRUE(*got == expected_)
      << "output differs from the word count reference; first lines:\n"
      << got->substr(0, 200);
}

INSTANTIATE_TEST_SUITE_P(ThreeRuns, CrashTest, ::testing::Range(0, 3));

}  // namespace
}  // namespace test
}  // namespace mr
