// Submissions the master must refuse: each gives exit code 2 and one line
// "mrctl: <reason>" on stderr naming the typed reason, creates no output, and
// leaves the cluster able to run a normal word count afterwards.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string DataGlob() { return DataDir() + "/pg-*.txt"; }

class RefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.Start();
    ASSERT_TRUE(s.ok()) << s;
    absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
    ASSERT_TRUE(expected.ok()) << expected.status();
    expected_ = *expected;
  }

  void TearDown() override {
    if (!HasFatalFailure()) ExpectWordCountWorks();
  }

  // `submit args...` is refused with exit code 2 and a one-line stderr
  // "mrctl: ..." containing each of `needles`.
  void ExpectRefused(const std::vector<std::string>& args,
                     const std::vector<std::string>& needles) {
    std::vector<std::string> full = {"submit"};
    full.insert(full.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> r = cluster_.RunMrctl(full);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, 2) << "stdout:\n" << r->out << "stderr:\n" << r->err;
    EXPECT_THAT(r->err, StartsWith("mrctl: "));
    EXPECT_EQ(CountLines(r->err), 1u) << r->err;
    EXPECT_TRUE(absl::EndsWith(r->err, "\n")) << r->err;
    for (const std::string& n : needles) EXPECT_THAT(r->err, HasSubstr(n));
  }

  // Runs `submit args... --wait` and expects success and the word count.
  void ExpectWordCount(const std::vector<std::string>& args, const std::string& out) {
    std::vector<std::string> full = {"submit"};
    full.insert(full.end(), args.begin(), args.end());
    full.push_back("--wait");
    absl::StatusOr<CommandResult> r = cluster_.RunMrctl(full);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << "stdout:\n" << r->out << "stderr:\n" << r->err
                               << cluster_.LogTails();
    absl::StatusOr<std::string> got = ReadJobOutput(out);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == expected_) << "output of '" << absl::StrJoin(full, " ")
                                   << "' differs from the reference";
  }

  // The cluster still works.
  void ExpectWordCountWorks() {
    const std::string out = cluster_.PathUnderRoot(absl::StrCat("good-", good_runs_++));
    ExpectWordCount({"--app", "wordcount", "--input", DataGlob(), "--output", out,
                     "--split-size", "1000000"},
                    out);
  }

  ExternalMiniCluster cluster_;
  std::string expected_;
  int good_runs_ = 0;
};

TEST_F(RefusalTest, NonexistentInputFile) {
  const std::string missing = DataDir() + "/pg-no-such-book.txt";
  const std::string out = cluster_.PathUnderRoot("out");
  ExpectRefused({"--app", "wordcount", "--input", DataGlob(), missing, "--output", out},
                {"NO_INPUT", missing});
  EXPECT_FALSE(PathExists(out));
}

TEST_F(RefusalTest, GlobMatchingNothing) {
  const std::string glob = DataDir() + "/*.nosuchextension";
  const std::string out = cluster_.PathUnderRoot("out");
  ExpectRefused({"--app", "wordcount", "--input", glob, "--output", out},
                {"NO_INPUT", glob});
  EXPECT_FALSE(PathExists(out));
}

TEST_F(RefusalTest, OutputExistsUnlessOverwrite) {
  const std::string out = cluster_.PathUnderRoot("out");
  // A committed result of another job: the indexer, so that a successful
  // overwrite is visible in the bytes.
  {
    absl::StatusOr<CommandResult> r = cluster_.RunMrctl(
        {"submit", "--app", "indexer", "--input", DataGlob(), "--output", out,
         "--wait"});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << r->err;
  }
  absl::StatusOr<std::string> before = ReadJobOutput(out);
  ASSERT_TRUE(before.ok()) << before.status();
  ExpectRefused({"--app", "wordcount", "--input", DataGlob(), "--output", out},
                {"OUTPUT_EXISTS"});
  // The committed result is untouched.
  absl::StatusOr<std::string> after = ReadJobOutput(out);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(*after == *before);
  ExpectWordCount({"--app", "wordcount", "--input", DataGlob(), "--output", out,
                   "--overwrite"},
                  out);
}

TEST_F(RefusalTest, UnknownApp) {
  const std::string out = cluster_.PathUnderRoot("out");
  ExpectRefused({"--app", "nosuchapp", "--input", DataGlob(), "--output", out},
                {"UNKNOWN_APP", "nosuchapp"});
  EXPECT_FALSE(PathExists(out));
}

TEST_F(RefusalTest, PluginThatIsNotASharedLibrary) {
  const std::string bad = cluster_.PathUnderRoot("bad.so");
  ASSERT_TRUE(WriteFileAtomically(bad, "this is not an ELF file\n").ok());
  const std::string out = cluster_.PathUnderRoot("out");
  ExpectRefused({"--plugin", bad, "--input", DataGlob(), "--output", out},
                {"BAD_PLUGIN"});
  EXPECT_FALSE(PathExists(out));
}

TEST_F(RefusalTest, PluginWithoutJobFactory) {
  const std::string lib = LibDir() + "/libnoexport_plugin.so";
  ASSERT_TRUE(PathExists(lib)) << lib;
  const std::string out = cluster_.PathUnderRoot("out");
  ExpectRefused({"--plugin", lib, "--input", DataGlob(), "--output", out},
                {"BAD_PLUGIN"});
  EXPECT_FALSE(PathExists(out));
}

TEST_F(RefusalTest, GrepWithoutPattern) {
  const std::string out = cluster_.PathUnderRoot("out");
  ExpectRefused({"--app", "grep", "--input", DataGlob(), "--output", out},
                {"BAD_PARAMS", "pattern"});
  EXPECT_FALSE(PathExists(out));
}

TEST_F(RefusalTest, WordCountPluginWorks) {
  const std::string lib = LibDir() + "/libwordcount_plugin.so";
  ASSERT_TRUE(PathExists(lib)) << lib;
  const std::string out = cluster_.PathUnderRoot("out");
  ExpectWordCount({"--plugin", lib, "--input", DataGlob(), "--output", out,
                   "--split-size", "412638", "--reduces", "3"},
                  out);
}

}  // namespace
}  // namespace test
}  // namespace mr
