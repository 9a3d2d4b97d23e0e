// Submissions the master must refuse: each gives exit code 2 and one line
// "mrctl: <reason>" on stderr naming the typed reason, creates no output, and
// leaves the cluster able to run a normal word count afterwards.
#include <sys/stat.h>
#include <unistd.h>

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

// The real path of `path` (the master names paths that way).
std::string Real(const std::string& path) {
  absl::StatusOr<std::string> real = ResolvePath(path);
  return real.ok() ? *real : path;
}

TEST_F(RefusalTest, FifoInputIsUnreadable) {
  const std::string in = Real(cluster_.PathUnderRoot("in"));
  ASSERT_TRUE(MakeDirs(in).ok());
  ASSERT_TRUE(WriteFileAtomically(in + "/a.txt", "a b\n").ok());
  ASSERT_EQ(mkfifo((in + "/pipe.txt").c_str(), 0644), 0);
  const std::string out = cluster_.PathUnderRoot("out");
  // Named, matched by a glob, or in a directory given as input.
  for (const std::string& input : {in + "/pipe.txt", in + "/*.txt", in}) {
    ExpectRefused({"--app", "wordcount", "--input", input, "--output", out},
                  {"INPUT_UNREADABLE", in + "/pipe.txt is not a regular file (a FIFO)"});
  }
  EXPECT_FALSE(PathExists(out));
}

TEST_F(RefusalTest, OutputInsideAnInputDirectory) {
  const std::string in = Real(cluster_.PathUnderRoot("in"));
  ASSERT_TRUE(MakeDirs(in).ok());
  ASSERT_TRUE(WriteFileAtomically(in + "/a.txt", "a b\n").ok());
  ExpectRefused({"--app", "wordcount", "--input", in, "--output", in + "/out"},
                {"PATHS_OVERLAP", "the output " + in +
                                      "/out lies inside the input directory " + in});
  EXPECT_FALSE(PathExists(in + "/out"));
}

TEST_F(RefusalTest, OutputHoldingAnInput) {
  const std::string data = Real(cluster_.PathUnderRoot("data"));
  ASSERT_TRUE(MakeDirs(data + "/sub").ok());
  ASSERT_TRUE(WriteFileAtomically(data + "/sub/x.txt", "x y\n").ok());
  ExpectRefused({"--app", "wordcount", "--input", data + "/sub/x.txt", "--output",
                 data, "--overwrite"},
                {"PATHS_OVERLAP", "the output " + data + " holds the input " + data +
                                      "/sub/x.txt"});
  EXPECT_EQ(ReadFileToString(data + "/sub/x.txt").value_or(""), "x y\n");
  EXPECT_EQ(DescribeTree(cluster_.root_dir()).find(".staging"), std::string::npos);
}

// While a job runs (its workers are paused, so it stays running), no other
// job may write where it writes, nor read what it writes, nor replace what
// it reads, whichever way the paths are spelled.
TEST_F(RefusalTest, PathsOfARunningJobAreRefused) {
  const std::string root = Real(cluster_.root_dir());
  const std::string in = root + "/in";
  ASSERT_TRUE(MakeDirs(in).ok());
  ASSERT_TRUE(WriteFileAtomically(in + "/a.txt", "a b\n").ok());
  // The running job overwrites a committed output, so that its output
  // holds files while it runs.
  const std::string busy = root + "/p/busy";
  ASSERT_TRUE(MakeDirs(busy).ok());
  ASSERT_TRUE(WriteFileAtomically(busy + "/part-r-00000", "old 1\n").ok());
  ASSERT_TRUE(WriteFileAtomically(busy + "/_SUCCESS", "").ok());
  for (int i = 0; i < cluster_.num_workers(); ++i) {
    ASSERT_TRUE(cluster_.worker(i)->Pause().ok());
  }
  absl::StatusOr<std::string> job = cluster_.SubmitJob(
      {"--app", "wordcount", "--input", in + "/a.txt", "--output", busy,
       "--overwrite"});
  ASSERT_TRUE(job.ok()) << job.status();
  const std::string running = "running job " + *job;
  const std::vector<std::string> wc = {"--app", "wordcount", "--input", in + "/a.txt"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& more) {
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };

  // The same output, spelled otherwise.
  ExpectRefused(with(wc, {"--output", busy + "/"}),
                {"OUTPUT_IN_USE", "the output " + busy + " is also the output of " + running});
  ExpectRefused(with(wc, {"--output", root + "/p/../p/./busy"}),
                {"OUTPUT_IN_USE", "the output " + busy + " is also the output of " + running});
  ASSERT_EQ(symlink(busy.c_str(), (root + "/alias").c_str()), 0);
  ExpectRefused(with(wc, {"--output", root + "/alias", "--overwrite"}),
                {"OUTPUT_IN_USE", "the output " + busy + " is also the output of " + running,
                 "given as " + root + "/alias"});
  ASSERT_EQ(symlink((root + "/p").c_str(), (root + "/plink").c_str()), 0);
  ExpectRefused(with(wc, {"--output", root + "/plink/busy/"}),
                {"OUTPUT_IN_USE", "the output " + busy + " is also the output of " + running});
  // Nested outputs.
  ExpectRefused(with(wc, {"--output", busy + "/inner"}),
                {"OUTPUT_IN_USE",
                 "the output " + busy + "/inner lies inside " + busy + ", the output of " + running});
  ExpectRefused(with(wc, {"--output", root + "/p", "--overwrite"}),
                {"OUTPUT_IN_USE",
                 "the output " + root + "/p holds " + busy + ", the output of " + running});
  // Reading what a running job writes.
  ExpectRefused({"--app", "wordcount", "--input", busy + "/part-r-00000", "--output",
                 root + "/other"},
                {"PATHS_OVERLAP", "the input " + busy + "/part-r-00000 lies inside " + busy +
                                      ", the output of " + running});
  // Replacing what a running job reads.
  ExpectRefused({"--app", "wordcount", "--input", DataGlob(), "--output", in, "--overwrite"},
                {"PATHS_OVERLAP",
                 "the output " + in + " holds " + in + "/a.txt, an input of " + running});
  EXPECT_FALSE(PathExists(busy + "/inner"));
  EXPECT_FALSE(PathExists(root + "/other"));

  absl::StatusOr<CommandResult> kill = cluster_.RunMrctl({"kill", *job});
  ASSERT_TRUE(kill.ok()) << kill.status();
  EXPECT_EQ(kill->exit_code, 0) << kill->err;
  for (int i = 0; i < cluster_.num_workers(); ++i) {
    ASSERT_TRUE(cluster_.worker(i)->Resume().ok());
  }
  // Killed, it left the output it would have replaced as it was.
  EXPECT_EQ(ReadFileToString(busy + "/part-r-00000").value_or(""), "old 1\n");
  // Once it has ended, its paths are free.
  ExpectWordCount({"--app", "wordcount", "--input", DataGlob(), "--output", busy + "/",
                   "--overwrite", "--split-size", "1000000"},
                  busy);
}

}  // namespace
}  // namespace test
}  // namespace mr
