// Small splits: the master packs the input bytes, in sorted file order, into
// splits of --split-size bytes across file boundaries, so 3,301,104 bytes in
// 65,536-byte splits make ceil(3301104 / 65536) = 51 maps, and the result
// must not change.
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

TEST(SplitTest, SmallSplitsGiveSameWordCount) {
  absl::StatusOr<std::vector<std::string>> files = GutenbergFiles();
  ASSERT_TRUE(files.ok()) << files.status();
  absl::StatusOr<std::map<std::string, int64_t>> counts = WordCountReference(*files);
  ASSERT_TRUE(counts.ok()) << counts.status();

  ExternalMiniCluster cluster;
  absl::Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s;
  const std::string out = cluster.PathUnderRoot("out");
  absl::StatusOr<CommandResult> r = cluster.RunMrctl(
      {"submit", "--app", "wordcount", "--input",
       DataDir() + "/pg-*.txt", "--output", out,
       "--split-size", "65536", "--wait", "--json"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << "stdout:\n" << r->out << "stderr:\n" << r->err
                             << cluster.LogTails();
  absl::StatusOr<mrpb::JobStatus> status = ParseJobStatusJson(r->out);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
  EXPECT_EQ(status->maps_total(), 51u);
  EXPECT_EQ(status->maps_done(), 51u);
  EXPECT_EQ(status->reduces_total(), 4u);
  // The raw JSON names the field as protobuf's printer does.
  EXPECT_TRUE(std::regex_search(r->out, std::regex(R"("mapsTotal":\s*51\b)")))
      << r->out;

  // `mrctl status JOB --json` reports the same.
  absl::StatusOr<CommandResult> st =
      cluster.RunMrctl({"status", status->job_id(), "--json"});
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_EQ(st->exit_code, 0) << st->err;
  absl::StatusOr<mrpb::JobStatus> again = ParseJobStatusJson(st->out);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->maps_total(), 51u);
  EXPECT_EQ(again->state(), mrpb::JOB_SUCCEEDED);

  JobOutputOptions opts;
  opts.expected_parts = 4;
  absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == RenderWordCount(*counts))
      << "output differs from the reference; first lines:\n" << got->substr(0, 200);
}

}  // namespace
}  // namespace test
}  // namespace mr
