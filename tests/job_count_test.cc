// Without failures every task runs exactly once: with split size 412638 the
// books make exactly 8 maps, and across all worker logs each map index (and
// each reduce index) has exactly one "started" line and one "finished ... ok".
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

TEST(JobCountTest, EachTaskStartsExactlyOnce) {
  ExternalMiniCluster cluster;
  absl::Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s;
  const std::string out = cluster.PathUnderRoot("out");
  absl::StatusOr<CommandResult> r = cluster.RunMrctl(
      {"submit", "--app", "wordcount", "--input",
       DataDir() + "/pg-*.txt", "--output", out,
       "--split-size", "412638", "--reduces", "4", "--wait", "--json"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << "stdout:\n" << r->out << "stderr:\n" << r->err
                             << cluster.LogTails();
  absl::StatusOr<mrpb::JobStatus> status = ParseJobStatusJson(r->out);
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_EQ(status->maps_total(), 8u);
  ASSERT_EQ(status->reduces_total(), 4u);

  // (kind, index) -> lines
  std::map<std::pair<std::string, uint32_t>, int> started, finished_ok, finished;
  for (int i = 0; i < cluster.num_workers(); ++i) {
    absl::StatusOr<std::string> text = ReadFileToString(cluster.worker(i)->log_path());
    ASSERT_TRUE(text.ok()) << text.status();
    for (const TaskLogEvent& e : ParseTaskLogEvents(*text)) {
      if (e.job_id != status->job_id()) continue;
      const auto key = std::make_pair(e.kind, e.task_index);
      if (e.started) {
        ++started[key];
      } else {
        ++finished[key];
        if (e.outcome == "ok") ++finished_ok[key];
      }
    }
  }
  std::map<std::pair<std::string, uint32_t>, int> expected;
  for (uint32_t m = 0; m < 8; ++m) expected[{"MAP", m}] = 1;
  for (uint32_t p = 0; p < 4; ++p) expected[{"REDUCE", p}] = 1;
  EXPECT_EQ(started, expected) << cluster.LogTails(60);
  EXPECT_EQ(finished, expected);
  EXPECT_EQ(finished_ok, expected);
}

}  // namespace
}  // namespace test
}  // namespace mr
