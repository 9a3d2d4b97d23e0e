// grep: the output equals "path:lineno:line" for every matching line of the
// books (1-based line numbers, the path as the master resolved the input),
// computed here with <regex>; each part file is ordered by (path, lineno).
#include <map>
#include <regex>
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

// The expected output, sorted as ReadJobOutput sorts.
std::string GrepReference(const std::vector<std::string>& files, const std::regex& re) {
  std::string out;
  for (const std::string& f : files) {
    absl::StatusOr<std::string> text = ReadFileToString(f);
    if (!text.ok()) return "cannot read " + f;
    size_t start = 0;
    uint64_t lineno = 0;
    while (start < text->size()) {
      size_t nl = text->find('\n', start);
      if (nl == std::string::npos) nl = text->size();
      const std::string line = text->substr(start, nl - start);
      ++lineno;
      if (std::regex_search(line, re)) absl::StrAppend(&out, f, ":", lineno, ":", line, "\n");
      start = nl + 1;
    }
  }
  return SortLines(out);
}

class GrepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.Start();
    ASSERT_TRUE(s.ok()) << s;
    absl::StatusOr<std::vector<std::string>> files = GutenbergFiles();
    ASSERT_TRUE(files.ok()) << files.status();
    files_ = *files;
  }

  // Runs grep with `params` and returns the sorted output; checks the
  // per-part-file order by (path, line number).
  std::string RunGrep(const std::vector<std::string>& params, int reduces) {
    const std::string out = cluster_.PathUnderRoot(absl::StrCat("out-", runs_++));
    std::vector<std::string> args = {
        "submit", "--app", "grep", "--input",
        DataDir() + "/pg-*.txt", "--output", out,
        "--split-size", "412638", "--reduces", std::to_string(reduces), "--wait"};
    for (const std::string& p : params) {
      args.push_back("--param");
      args.push_back(p);
    }
    absl::StatusOr<CommandResult> r = cluster_.RunMrctl(args);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << "stdout:\n" << r->out << "stderr:\n" << r->err
                               << cluster_.LogTails();
    JobOutputOptions opts;
    opts.expected_parts = reduces;
    opts.check_key_order = false;  // lines order by (path, number), not bytes
    absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok()) return "";
    for (int p = 0; p < reduces; ++p) {
      const std::string part = absl::StrCat(out, "/part-r-", absl::StrFormat("%05d", p));
      absl::StatusOr<std::string> text = ReadFileToString(part);
      EXPECT_TRUE(text.ok()) << text.status();
      if (!text.ok()) continue;
      std::pair<std::string, uint64_t> prev;
      bool first = true;
      for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
        std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
        uint64_t n = 0;
        EXPECT_TRUE(f.size() == 3 && absl::SimpleAtoi(f[1], &n)) << part << ": " << line;
        if (f.size() != 3) continue;
        std::pair<std::string, uint64_t> key(std::string(f[0]), n);
        EXPECT_TRUE(first || prev < key) << part << ": " << line << " after "
                                         << prev.first << ":" << prev.second;
        prev = std::move(key);
        first = false;
      }
    }
    return *got;
  }

  ExternalMiniCluster cluster_;
  std::vector<std::string> files_;
  int runs_ = 0;
};

TEST_F(GrepTest, ChapterHeadings) {
  const std::string expected =
      GrepReference(files_, std::regex("^CHAPTER [IVXL]+", std::regex::extended));
  ASSERT_EQ(CountLines(expected), 154u);  // as GNU grep -cE counts them
  const std::string got = RunGrep({"pattern=^CHAPTER [IVXL]+"}, 3);
  EXPECT_EQ(got, expected);
}

TEST_F(GrepTest, Alternation) {
  const std::string expected =
      GrepReference(files_, std::regex("Holmes|Alice", std::regex::extended));
  ASSERT_EQ(CountLines(expected), 473u);
  EXPECT_EQ(RunGrep({"pattern=Holmes|Alice"}, 4), expected);
}

TEST_F(GrepTest, IgnoreCase) {
  const std::string expected = GrepReference(
      files_, std::regex("sherlock", std::regex::extended | std::regex::icase));
  const std::string got = RunGrep({"pattern=sherlock", "ignore_case=true"}, 2);
  ASSERT_EQ(CountLines(expected), 102u);  // as GNU grep -ci counts them
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace test
}  // namespace mr
