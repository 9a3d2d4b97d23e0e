// General job features on a two-worker cluster: secondary sort with a custom
// partitioner (the latest_events plugin, apps/plugins/), map-only jobs
// (--reduces 0) and user counters, each against a reference computed here.
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

class JobFeaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.Start();
    ASSERT_TRUE(s.ok()) << s;
  }

  mrpb::JobStatus Submit(std::vector<std::string> args) {
    absl::StatusOr<mrpb::JobStatus> s = cluster_.SubmitAndWait(std::move(args));
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : mrpb::JobStatus();
  }

  std::string Part(const std::string& dir, const char* kind, int i) {
    absl::StatusOr<std::string> text =
        ReadFileToString(absl::StrFormat("%s/part-%s-%05d", dir, kind, i));
    EXPECT_TRUE(text.ok()) << text.status() << "\n" << DescribeTree(dir);
    return text.ok() ? *text : "";
  }

  ExternalMiniCluster cluster_;
};

TEST_F(JobFeaturesTest, SecondarySortGroupsByUserNewestFirstInRangePartitions) {
  // 30,000 events of 300 users over 3 files; some timestamps negative,
  // some repeated within a user; a few bad lines.
  std::mt19937_64 rng(5);
  std::map<std::string, std::vector<std::pair<int64_t, std::string>>> events;
  std::vector<std::string> files;
  int bad = 0;
  for (int f = 0; f < 3; ++f) {
    std::string text;
    for (int i = 0; i < 10000; ++i) {
      if (i % 997 == 0) {
        text += "no commas here\n";
        ++bad;
        continue;
      }
      std::string user;
      const uint64_t u = rng() % 300;
      user.push_back(static_cast<char>('a' + u % 26));
      user += absl::StrCat("user", u);
      const int64_t ts = static_cast<int64_t>(rng() % 2000) - 500;
      const std::string event = absl::StrCat("e", f, "-", i);
      events[user].emplace_back(ts, event);
      absl::StrAppend(&text, user, ",", ts, ",", event, "\n");
    }
    const std::string path = cluster_.PathUnderRoot(absl::StrCat("events-", f, ".csv"));
    ASSERT_TRUE(WriteFileAtomically(path, text).ok());
    files.push_back(path);
  }
  // The reference: per user, newest first; equal timestamps keep the order
  // the shuffle delivers them in, which is not pinned, so compare the
  // events of one timestamp as a set.
  const std::string out = cluster_.PathUnderRoot("latest");
  const mrpb::JobStatus s = Submit(
      {"--plugin", LibDir() + "/liblatest_events_plugin.so", "--input",
       files[0], files[1], files[2], "--output", out, "--reduces", "4",
       "--split-size", "65536"});
  ASSERT_EQ(s.state(), mrpb::JOB_SUCCEEDED);
  EXPECT_EQ(JobCounter(s, "bad lines"), bad);
  std::string all;
  for (int p = 0; p < 4; ++p) {
    const std::string part = Part(out, "r", p);
    for (absl::string_view line : absl::StrSplit(part, '\n', absl::SkipEmpty())) {
      const unsigned first = static_cast<unsigned char>(line[0]);
      EXPECT_EQ(first * 4 / 256, static_cast<unsigned>(p)) << line;
    }
    all += part;
  }
  std::vector<absl::string_view> lines = absl::StrSplit(all, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), events.size());
  auto it = events.begin();
  for (absl::string_view line : lines) {
    const std::string& user = it->first;
    std::vector<std::pair<int64_t, std::string>> want = it->second;
    ++it;
    ASSERT_EQ(line.substr(0, user.size() + 1), user + " ") << line;
    std::vector<std::pair<int64_t, std::string>> got;
    for (absl::string_view item :
         absl::StrSplit(line.substr(user.size() + 1), ',')) {
      std::pair<absl::string_view, absl::string_view> te =
          absl::StrSplit(item, absl::MaxSplits(':', 1));
      int64_t t = 0;
      ASSERT_TRUE(absl::SimpleAtoi(te.first, &t)) << item;
      got.emplace_back(t, std::string(te.second));
    }
    // Newest first, strictly by timestamp.
    for (size_t i = 1; i < got.size(); ++i) {
      EXPECT_GE(got[i - 1].first, got[i].first) << line;
    }
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << user;
  }
}

TEST_F(JobFeaturesTest, ATotalOrderCutsBetweenKeyGroups) {
  // 400 users with 50 events each: with --total-order, the ranges come from
  // sampled group keys, so no user's group is cut in two (one line each).
  std::string text;
  for (int e = 0; e < 50; ++e) {
    for (int u = 0; u < 400; ++u) absl::StrAppend(&text, "u", u, ",", e, ",x\n");
  }
  const std::string in = cluster_.PathUnderRoot("grouped.csv");
  ASSERT_TRUE(WriteFileAtomically(in, text).ok());
  const std::string out = cluster_.PathUnderRoot("grouped-out");
  const mrpb::JobStatus s = Submit(
      {"--plugin", LibDir() + "/liblatest_events_plugin.so", "--input", in,
       "--output", out, "--reduces", "4", "--total-order"});
  ASSERT_EQ(s.state(), mrpb::JOB_SUCCEEDED);
  std::string all;
  for (int p = 0; p < 4; ++p) all += Part(out, "r", p);
  std::vector<absl::string_view> lines = absl::StrSplit(all, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 400u);
  for (absl::string_view line : lines) {
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 49) << line;
  }
  // Ordered by user across the part files, as a total order must be.
  std::vector<std::string> users;
  for (absl::string_view line : lines) {
    users.emplace_back(line.substr(0, line.find(' ')));
  }
  EXPECT_TRUE(std::is_sorted(users.begin(), users.end()));
}

TEST_F(JobFeaturesTest, AFileNamedByTwoInputsIsRefused) {
  const std::string in = cluster_.PathUnderRoot("once.txt");
  ASSERT_TRUE(WriteFileAtomically(in, "a b\n").ok());
  absl::StatusOr<CommandResult> r = cluster_.RunMrctl(
      {"submit", "--app", "wordcount", "--input", in, "--input", in,
       "--output", cluster_.PathUnderRoot("twice-out")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err,
            absl::StrCat("mrctl: submission refused (INVALID_SPEC): input ", in,
                         " is named by --input ", in, " and by --input ", in,
                         "; a file belongs to one input (to read one file as "
                         "two inputs, name it once through a symbolic link)\n"));
}

TEST_F(JobFeaturesTest, MapOnlyWordCountWritesOnePartPerMap) {
  absl::StatusOr<std::vector<std::string>> books = GutenbergFiles();
  ASSERT_TRUE(books.ok()) << books.status();
  absl::StatusOr<std::map<std::string, int64_t>> want = WordCountReference(*books);
  ASSERT_TRUE(want.ok()) << want.status();
  const std::string out = cluster_.PathUnderRoot("map-only");
  const mrpb::JobStatus s = Submit({"--app", "wordcount", "--input",
                                    DataDir() + "/pg-*.txt", "--output", out,
                                    "--reduces", "0", "--split-size", "2000000"});
  ASSERT_EQ(s.state(), mrpb::JOB_SUCCEEDED);
  EXPECT_TRUE(s.spec().map_only());
  EXPECT_EQ(s.reduces_total(), 0u);
  ASSERT_GT(s.maps_total(), 1u);
  // Each map's part holds its own counts; summed they are the books'.
  std::map<std::string, int64_t> sum;
  for (uint32_t m = 0; m < s.maps_total(); ++m) {
    for (absl::string_view line :
         absl::StrSplit(Part(out, "m", m), '\n', absl::SkipEmpty())) {
      std::pair<absl::string_view, absl::string_view> wc =
          absl::StrSplit(line, absl::MaxSplits(' ', 1));
      int64_t n = 0;
      ASSERT_TRUE(absl::SimpleAtoi(wc.second, &n)) << line;
      sum[std::string(wc.first)] += n;
    }
  }
  EXPECT_TRUE(sum == *want);
  EXPECT_FALSE(PathExists(out + "/part-r-00000"));
  EXPECT_TRUE(PathExists(out + "/_SUCCESS"));
}

TEST_F(JobFeaturesTest, TotalOrderWordCountConcatenatesToTheSortedCounts) {
  // wordcount aggregates in memory and emits in Finish(): the sample task
  // must call it too, or it samples nothing.
  absl::StatusOr<std::string> want = ExpectedWordCountOfBooks();
  ASSERT_TRUE(want.ok()) << want.status();
  const std::string out = cluster_.PathUnderRoot("sorted-counts");
  const mrpb::JobStatus s = Submit({"--app", "wordcount", "--input",
                                    DataDir() + "/pg-*.txt", "--output", out,
                                    "--total-order", "--reduces", "3",
                                    "--split-size", "4000000"});
  ASSERT_EQ(s.state(), mrpb::JOB_SUCCEEDED);
  EXPECT_TRUE(s.sampled());
  std::string all;
  for (int p = 0; p < 3; ++p) all += Part(out, "r", p);
  EXPECT_TRUE(all == *want) << "the part files concatenated differ";
  ASSERT_EQ(s.partitions_size(), 3);
  for (const mrpb::PartitionSize& p : s.partitions()) {
    EXPECT_GT(p.records(), 0u) << s.DebugString();
  }
}

TEST_F(JobFeaturesTest, SideFilesThatCannotShipAreRefusedBeforeSubmitting) {
  const std::string out = cluster_.PathUnderRoot("refused");
  const std::string missing = cluster_.PathUnderRoot("no-such-file");
  absl::StatusOr<CommandResult> r = cluster_.RunMrctl(
      {"submit", "--app", "wordcount", "--input", DataDir() + "/pg-*.txt",
       "--output", out, "--file", missing});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err, absl::StrCat("mrctl: side file ", missing,
                                 ": No such file or directory\n"));
  const std::string a = cluster_.PathUnderRoot("a/lookup.csv");
  const std::string b = cluster_.PathUnderRoot("b/lookup.csv");
  ASSERT_TRUE(MakeDirs(cluster_.PathUnderRoot("a")).ok());
  ASSERT_TRUE(MakeDirs(cluster_.PathUnderRoot("b")).ok());
  ASSERT_TRUE(WriteFileAtomically(a, "x").ok());
  ASSERT_TRUE(WriteFileAtomically(b, "y").ok());
  r = cluster_.RunMrctl({"submit", "--app", "wordcount", "--input",
                         DataDir() + "/pg-*.txt", "--output", out, "--file", a,
                         "--file", b});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err, absl::StrCat("mrctl: two side files are named lookup.csv (",
                                 b, ")\n"));
  EXPECT_FALSE(PathExists(out));
}

}  // namespace
}  // namespace test
}  // namespace mr
