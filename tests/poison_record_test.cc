// A record that deterministically crashes the job's map code (a segfault in
// plugin code): with skipping enabled, the job succeeds after two failed
// attempts at it, counts it as skipped and says where it is; with skipping
// disabled, the job fails after the retry limit naming the record; past the
// job's skip limit, the job fails.
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/proto_maps.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;

// The only line of the corpus that contains "ACTRESS".
constexpr char kPoison[] = "ACTRESS";

class PoisonRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    input_ = DataDir() + "/pg-dorian_gray.txt";
    auto text = ReadFileToString(input_);
    ASSERT_TRUE(text.ok()) << text.status();
    // Where the poison line starts, and the distinct lines of the rest.
    uint64_t offset = 0;
    int poison_lines = 0;
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      if (offset >= text->size()) break;  // after the final newline
      if (line.find(kPoison) != absl::string_view::npos) {
        poison_offset_ = offset;
        poison_line_ = std::string(line);
        ++poison_lines;
      } else {
        distinct_.insert(std::string(line));
      }
      offset += line.size() + 1;
    }
    ASSERT_EQ(poison_lines, 1);
  }

  std::vector<std::string> Submit(const std::string& out,
                                  const std::vector<std::string>& extra,
                                  const std::string& reduces = "2") {
    std::vector<std::string> args = {
        "submit", "--plugin", LibDir() + "/libsegv_plugin.so", "--input",
        input_, "--output", out, "--reduces", reduces, "--wait"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  ExternalMiniCluster cluster_;
  std::string input_;
  uint64_t poison_offset_ = 0;
  std::string poison_line_;
  std::set<std::string> distinct_;
};

TEST_F(PoisonRecordTest, SkippedWhenTheJobAllowsIt) {
  const std::string out = cluster_.PathUnderRoot("out");
  auto r = cluster_.RunMrctl(Submit(
      out, {"--param", absl::StrCat("crash_on=", kPoison),
            "--max-skipped-records", "1"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->out << r->err << cluster_.LogTails();

  auto status = cluster_.GetJobStatus("job-000001");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(CountersFromProto(status->counters()).at("skipped records"), 1);
  ASSERT_EQ(status->skipped_records_size(), 1);
  EXPECT_EQ(status->skipped_records(0).path(), input_);
  EXPECT_EQ(status->skipped_records(0).offset(), poison_offset_);
  // `mrctl status` shows where.
  auto shown = cluster_.RunMrctl({"status", "job-000001"});
  ASSERT_TRUE(shown.ok());
  EXPECT_THAT(shown->out, HasSubstr(absl::StrCat(input_, ":", poison_offset_)));

  // Every other line is there, once (the segv job writes each distinct line).
  std::string expected;
  for (const std::string& line : distinct_) absl::StrAppend(&expected, line, "\n");
  JobOutputOptions options;
  options.check_key_order = false;  // keys are whole lines, with spaces
  auto got = ReadJobOutput(out, options);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, SortLines(expected));
}

TEST_F(PoisonRecordTest, FailsTheJobWhenSkippingIsOff) {
  auto r = cluster_.RunMrctl(Submit(
      cluster_.PathUnderRoot("out"),
      {"--param", absl::StrCat("crash_on=", kPoison)}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1) << r->out << r->err;
  EXPECT_THAT(r->out, HasSubstr("map task 0 failed 4 times"));
  EXPECT_THAT(r->out, HasSubstr("killed by signal 11 (Segmentation fault)"));
  // Even without skipping, the failure says which record: the job runs its
  // map record by record only when skipping is on, so here it names the
  // block it was in, not the record.
  EXPECT_THAT(r->out, ::testing::Not(HasSubstr("while mapping the record")));
}

TEST_F(PoisonRecordTest, ReduceKeyGroupSkippedWhenTheJobAllowsIt) {
  // The segv job's keys are the distinct lines; one crashes Reduce().
  const std::string bad_key = *std::next(distinct_.begin(), distinct_.size() / 2);
  const std::string out = cluster_.PathUnderRoot("out");
  auto r = cluster_.RunMrctl(Submit(
      out, {"--param", "crash_on_key=" + bad_key, "--max-skipped-records", "1"},
      /*reduces=*/"1"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->out << r->err << cluster_.LogTails();
  auto status = cluster_.GetJobStatus("job-000001");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(CountersFromProto(status->counters()).at("skipped records"), 1);
  ASSERT_EQ(status->skipped_records_size(), 1);
  EXPECT_EQ(status->skipped_records(0).path(), "partition 0");
  EXPECT_EQ(status->skipped_records(0).key(), bad_key.substr(0, 200));
  // One reduce: the group's ordinal is its rank among the sorted keys (the
  // poison line included, since maps emit it).
  std::set<std::string> all = distinct_;
  EXPECT_EQ(status->skipped_records(0).offset(),
            static_cast<uint64_t>(std::distance(all.begin(), all.find(bad_key))) +
                (poison_line_ < bad_key ? 1 : 0));

  std::string expected;
  for (const std::string& line : distinct_) {
    if (line != bad_key) absl::StrAppend(&expected, line, "\n");
  }
  absl::StrAppend(&expected, poison_line_, "\n");
  JobOutputOptions options;
  options.check_key_order = false;
  auto got = ReadJobOutput(out, options);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, SortLines(expected));
}

TEST_F(PoisonRecordTest, ReduceCrashFailsTheJobWhenSkippingIsOff) {
  const std::string bad_key = *distinct_.rbegin();
  auto r = cluster_.RunMrctl(Submit(cluster_.PathUnderRoot("out"),
                                    {"--param", "crash_on_key=" + bad_key}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1) << r->out << r->err;
  EXPECT_THAT(r->out, HasSubstr("failed 4 times"));
  EXPECT_THAT(r->out, HasSubstr("killed by signal 11 (Segmentation fault)"));
  EXPECT_THAT(r->out, HasSubstr("while reducing key group"));
}

TEST_F(PoisonRecordTest, FailsTheJobPastItsSkipLimit) {
  // " the " is on thousands of lines: the second bad record passes limit 1.
  auto r = cluster_.RunMrctl(Submit(
      cluster_.PathUnderRoot("out"),
      {"--param", "crash_on= the ", "--max-skipped-records", "1"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1) << r->out << r->err;
  EXPECT_THAT(r->out, HasSubstr("more than 1 records crash the job's code"));
  EXPECT_THAT(r->out, HasSubstr(input_ + ":"));
}

}  // namespace
}  // namespace test
}  // namespace mr
