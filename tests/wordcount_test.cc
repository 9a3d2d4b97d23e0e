// Word count and the indexer on the eight Gutenberg books: the job's output
// must equal the single-process reference byte for byte.
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/proto_maps.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

std::string DataGlob() { return DataDir() + "/pg-*.txt"; }

// Lines in all the books (every book ends with '\n').
int64_t TotalLines(const std::vector<std::string>& files) {
  int64_t n = 0;
  for (const std::string& f : files) {
    FILE* fp = fopen(f.c_str(), "rb");
    if (fp == nullptr) return -1;
    char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof(buf), fp)) > 0) {
      for (size_t i = 0; i < got; ++i) n += buf[i] == '\n';
    }
    fclose(fp);
  }
  return n;
}

TEST(ReferenceTest, GutenbergFigures) {
  absl::StatusOr<std::vector<std::string>> files = GutenbergFiles();
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 8u);
  absl::StatusOr<std::map<std::string, int64_t>> counts = WordCountReference(*files);
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->size(), 22107u);
  int64_t total = 0;
  for (const auto& [w, n] : *counts) total += n;
  EXPECT_EQ(total, 623948);
  const std::string text = RenderWordCount(*counts);
  const std::string head = "A 509\nABOUT 2\nACT 8\nACTRESS 1\n";
  EXPECT_EQ(text.substr(0, head.size()), head);
  EXPECT_EQ(CountLines(text), 22107u);

  absl::StatusOr<std::map<std::string, std::set<std::string>>> index =
      IndexerReference(*files);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->size(), 22107u);
  EXPECT_EQ(index->at("the").size(), 8u);
  const std::string rendered = RenderIndex(*index);
  EXPECT_EQ(rendered.substr(0, rendered.find('\n') + 1),
            absl::StrCat("A 8 ", "pg-being_ernest.txt,pg-dorian_gray.txt,"
                                 "pg-frankenstein.txt,pg-grimm.txt,"
                                 "pg-huckleberry_finn.txt,pg-metamorphosis.txt,"
                                 "pg-sherlock_holmes.txt,pg-tom_sawyer.txt\n"));
}

TEST(ReferenceTest, SortLinesAndCountLines) {
  EXPECT_EQ(SortLines("b 1\na 2\nB 3"), "B 3\na 2\nb 1\n");
  EXPECT_EQ(SortLines(""), "");
  EXPECT_EQ(SortLines(std::string("\xc3\xa9\nz\n")), std::string("z\n\xc3\xa9\n"));
  EXPECT_EQ(CountLines("a\nb\n"), 2u);
}

class WordCountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::vector<std::string>> files = GutenbergFiles();
    ASSERT_TRUE(files.ok()) << files.status();
    files_ = *files;
    absl::StatusOr<std::map<std::string, int64_t>> counts = WordCountReference(files_);
    ASSERT_TRUE(counts.ok()) << counts.status();
    expected_ = RenderWordCount(*counts);
  }

  // Runs word count with `extra` submit flags on `cluster`; checks the
  // output and the counters.
  void RunAndCheck(ExternalMiniCluster& cluster, const std::vector<std::string>& extra,
                   int reduces) {
    const std::string out = cluster.PathUnderRoot("wc-out");
    std::vector<std::string> args = {"submit", "--app", "wordcount", "--input",
                                     DataGlob(), "--output", out, "--wait",
                                     "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    absl::StatusOr<CommandResult> r = cluster.RunMrctl(args);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << "stdout:\n" << r->out << "stderr:\n" << r->err
                               << cluster.LogTails();
    absl::StatusOr<mrpb::JobStatus> status = ParseJobStatusJson(r->out);
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
    EXPECT_EQ(status->reduces_total(), static_cast<uint32_t>(reduces));
    EXPECT_EQ(status->reduces_done(), static_cast<uint32_t>(reduces));
    EXPECT_EQ(status->maps_done(), status->maps_total());
    EXPECT_EQ(status->input_files_size(), 8);
    const CounterMap c = CountersFromProto(status->counters());
    EXPECT_EQ(c.count("map input records") ? c.at("map input records") : -1,
              TotalLines(files_));
    EXPECT_EQ(c.count("reduce input groups") ? c.at("reduce input groups") : -1, 22107);
    EXPECT_EQ(c.count("reduce output records") ? c.at("reduce output records") : -1,
              22107);

    JobOutputOptions opts;
    opts.expected_parts = reduces;
    absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(CountLines(*got), 22107u);
    EXPECT_TRUE(*got == expected_) << "output differs from the reference; first "
                                   << "lines:\n" << got->substr(0, 200);
  }

  std::vector<std::string> files_;
  std::string expected_;
};

TEST_F(WordCountTest, ThreeWorkersMatchesReference) {
  ExternalMiniClusterOptions opts;
  opts.num_workers = 3;
  ExternalMiniCluster cluster(opts);
  absl::Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s;
  // 8 maps (412638 * 8 = 3301104), 5 reduces.
  RunAndCheck(cluster, {"--split-size", "412638", "--reduces", "5"}, 5);
}

TEST_F(WordCountTest, TwoWorkersMatchesReference) {
  ExternalMiniCluster cluster;
  absl::Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s;
  // The defaults: one 64 MiB split holds all the books; 4 reduces.
  RunAndCheck(cluster, {}, 4);
}

TEST(IndexerTest, MatchesReference) {
  absl::StatusOr<std::vector<std::string>> files = GutenbergFiles();
  ASSERT_TRUE(files.ok()) << files.status();
  absl::StatusOr<std::map<std::string, std::set<std::string>>> index =
      IndexerReference(*files);
  ASSERT_TRUE(index.ok()) << index.status();

  ExternalMiniCluster cluster;
  absl::Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s;
  const std::string out = cluster.PathUnderRoot("index-out");
  absl::StatusOr<CommandResult> r = cluster.RunMrctl(
      {"submit", "--app", "indexer", "--input", DataGlob(), "--output", out,
       "--split-size", "412638", "--reduces", "3", "--wait"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << "stdout:\n" << r->out << "stderr:\n" << r->err
                             << cluster.LogTails();
  JobOutputOptions opts;
  opts.expected_parts = 3;
  absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(CountLines(*got), 22107u);
  EXPECT_TRUE(*got == RenderIndex(*index))
      << "output differs from the reference; first lines:\n" << got->substr(0, 300);
}

}  // namespace
}  // namespace test
}  // namespace mr
