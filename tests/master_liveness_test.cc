// The master as the workers and clients see it over time: a master that
// stalls does not blame its workers, a retried submission does not start a
// second job, and finished jobs leave the working set yet stay visible.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> WorkerIds(ExternalMiniCluster& cluster) {
  std::vector<std::string> ids;
  auto workers = cluster.ListWorkers();
  if (!workers.ok()) return ids;
  for (const auto& w : workers->workers()) ids.push_back(w.worker_id());
  return ids;
}

TEST(MasterLivenessTest, AStalledMasterDeclaresNoWorkerDead) {
  ExternalMiniClusterOptions options;
  options.heartbeat_interval_ms = 200;
  options.heartbeat_timeout_ms = 2000;
  ExternalMiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok()) << cluster.LogTails();
  const std::vector<std::string> before = WorkerIds(cluster);
  ASSERT_EQ(before.size(), 2u);

  // Stopped for five heartbeat timeouts.
  ASSERT_TRUE(cluster.master()->Pause().ok());
  absl::SleepFor(absl::Milliseconds(10000));
  ASSERT_TRUE(cluster.master()->Resume().ok());

  // Once the master has run a few liveness checks (every 200 ms) and
  // answered heartbeats again, the same workers are there.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  std::string log;
  while (absl::Now() < deadline) {
    log = ReadFileToString(cluster.master()->log_path()).value_or("");
    if (absl::StrContains(log, "the master made no progress for")) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_THAT(log, HasSubstr("the master made no progress for"));
  absl::SleepFor(absl::Milliseconds(1000));  // checks keep running meanwhile
  EXPECT_EQ(WorkerIds(cluster), before);
  log = ReadFileToString(cluster.master()->log_path()).value_or("");
  EXPECT_THAT(log, Not(HasSubstr("declared dead:")));

  // And a job runs on them.
  const std::string out = cluster.PathUnderRoot("out");
  auto r = cluster.RunMrctl({"submit", "--app", "wordcount", "--input",
                             DataDir() + "/pg-*.txt", "--output", out, "--wait"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  EXPECT_EQ(ReadJobOutput(out).value_or("x"),
            ExpectedWordCountOfBooks().value_or("y"));
}

TEST(MasterLivenessTest, ASubmissionRetriedWithItsRequestIdStartsNoSecondJob) {
  ExternalMiniCluster cluster;
  ASSERT_TRUE(cluster.Start().ok()) << cluster.LogTails();
  const std::string out = cluster.PathUnderRoot("out");
  const std::vector<std::string> submit = {
      "submit", "--app", "wordcount", "--input", DataDir() + "/pg-*.txt",
      "--output", out, "--request-id", "nightly-2026-11-25"};
  auto first = cluster.RunMrctl(submit);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->exit_code, 0) << first->err;
  EXPECT_EQ(first->out, "job-000001\n");
  auto again = cluster.RunMrctl(submit);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->exit_code, 0) << again->err;
  EXPECT_EQ(again->out, "job-000001\n");
  std::vector<std::string> json_args = submit;
  json_args.push_back("--json");
  auto json = cluster.RunMrctl(json_args);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(json->out, HasSubstr("\"jobId\": \"job-000001\""));
  EXPECT_THAT(json->out, HasSubstr("\"duplicate\": true"));

  auto status = cluster.WaitForJob("job-000001");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
  auto list = cluster.RunMrctl({"list"});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(CountLines(list->out), 2u) << list->out;  // header + one job
  // Even after the job ended, and after a master restart.
  ASSERT_TRUE(cluster.master()->Restart().ok());
  again = cluster.RunMrctl(submit);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->exit_code, 0) << again->err;
  EXPECT_EQ(again->out, "job-000001\n");
}

TEST(MasterLivenessTest, FinishedJobsRetireFromTheWorkingSetButStayListed) {
  ExternalMiniClusterOptions options;
  options.extra_master_flags = {"--job_retention_ms=0"};
  ExternalMiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok()) << cluster.LogTails();
  for (int i = 1; i <= 2; ++i) {
    auto r = cluster.RunMrctl(
        {"submit", "--app", "wordcount", "--input",
         DataDir() + "/pg-metamorphosis.txt", "--output",
         cluster.PathUnderRoot(absl::StrCat("out-", i)), "--wait"});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << r->out << r->err;
  }
  auto expect_lists = [&](const std::string& when) {
    // Retirement happens on the master's next liveness check.
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    absl::StatusOr<CommandResult> list;
    while (absl::Now() < deadline) {
      list = cluster.RunMrctl({"list"});
      ASSERT_TRUE(list.ok()) << list.status();
      if (!absl::StrContains(list->out, "job-")) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_THAT(list->out, Not(HasSubstr("job-"))) << when;
    auto all = cluster.RunMrctl({"list", "--all"});
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_EQ(all->exit_code, 0) << when;
    EXPECT_THAT(all->out, HasSubstr("job-000001  succeeded")) << when;
    EXPECT_THAT(all->out, HasSubstr("job-000002  succeeded")) << when;
    auto status = cluster.RunMrctl({"status", "job-000001", "--json"});
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(status->exit_code, 0) << when;
    EXPECT_THAT(status->out, HasSubstr("\"retired\": true")) << when;
    EXPECT_THAT(status->out, HasSubstr("\"state\": \"JOB_SUCCEEDED\"")) << when;
  };
  expect_lists("before a restart");
  ASSERT_TRUE(cluster.master()->Restart().ok());
  expect_lists("after a restart");
}

}  // namespace
}  // namespace test
}  // namespace mr
