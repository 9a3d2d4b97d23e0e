#include "common/output_layout.h"

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mr {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Files = std::map<std::string, std::string>;

// relative path -> contents of every file under `dir`; directories as
// "name/" -> "".
Files Tree(const std::string& dir) {
  Files out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), dir).string();
    if (it->is_directory()) {
      out[rel + "/"] = "";
    } else {
      out[rel] = ReadFileToString(it->path().string()).value_or("?");
    }
  }
  return out;
}

class OutputLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TMPDIR");
    std::string templ = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp",
                                     "/output_layout_test.XXXXXX");
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    absl::StatusOr<std::string> real = ResolvePath(templ);
    ASSERT_TRUE(real.ok()) << real.status();
    root_ = *real;
    out_ = root_ + "/out";
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(root_).ok()); }

  void Write(const std::string& path, const std::string& data) {
    ASSERT_TRUE(MakeDirs(fs::path(path).parent_path().string()).ok());
    ASSERT_TRUE(WriteFileAtomically(path, data).ok()) << path;
  }

  // What a reduce attempt and its worker do: write, then commit.
  void RunReduce(const OutputLayout& layout, uint64_t attempt,
                 uint32_t partition, const std::string& data) {
    ASSERT_TRUE(layout.CreateAttemptDir(attempt).ok());
    ASSERT_TRUE(
        WriteFileAtomically(layout.AttemptFile(attempt, partition), data).ok());
    ASSERT_TRUE(layout.CommitAttempt(attempt, partition).ok());
  }

  std::string root_;
  std::string out_;
};

TEST_F(OutputLayoutTest, Names) {
  OutputLayout layout(out_, "job-000003");
  EXPECT_EQ(layout.output_dir(), out_);
  EXPECT_EQ(layout.staging_dir(), root_ + "/.out.job-000003.staging");
  EXPECT_EQ(layout.temporary_dir(), root_ + "/.out.job-000003.staging/_temporary");
  EXPECT_EQ(layout.AttemptDir(12),
            root_ + "/.out.job-000003.staging/_temporary/attempt-12");
  EXPECT_EQ(layout.AttemptFile(12, 7),
            root_ + "/.out.job-000003.staging/_temporary/attempt-12/part-r-00007");
  EXPECT_EQ(layout.StagedPartFile(7),
            root_ + "/.out.job-000003.staging/part-r-00007");
  EXPECT_EQ(OutputLayout::PartFileName(123456), "part-r-123456");
  EXPECT_EQ(layout.CommitToken(1700000000123),
            "committed by job-000003 (submitted at 1700000000123 ms)\n");
}

TEST_F(OutputLayoutTest, CheckTarget) {
  EXPECT_TRUE(OutputLayout::CheckTarget(out_, false).ok());  // missing
  ASSERT_TRUE(MakeDirs(out_).ok());
  EXPECT_TRUE(OutputLayout::CheckTarget(out_, false).ok());  // empty

  Write(out_ + "/notes.txt", "x");
  absl::Status s = OutputLayout::CheckTarget(out_, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("not empty"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("--overwrite"));
  EXPECT_TRUE(OutputLayout::CheckTarget(out_, true).ok());

  Write(out_ + "/_SUCCESS", "");
  s = OutputLayout::CheckTarget(out_, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("committed result"));
  EXPECT_TRUE(OutputLayout::CheckTarget(out_, true).ok());

  Write(root_ + "/file", "x");
  s = OutputLayout::CheckTarget(root_ + "/file", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
}

TEST_F(OutputLayoutTest, AJobsLifeLeavesExactlyItsPartsAndSuccess) {
  OutputLayout layout(out_, "job-000001");
  ASSERT_TRUE(layout.Prepare().ok());
  EXPECT_EQ(Tree(layout.staging_dir()), (Files{{"_temporary/", ""}}));
  EXPECT_FALSE(PathExists(out_));

  RunReduce(layout, 5, 0, "a 1\n");
  // A losing attempt of partition 1 writes, and is removed.
  ASSERT_TRUE(layout.CreateAttemptDir(6).ok());
  ASSERT_TRUE(WriteFileAtomically(layout.AttemptFile(6, 1), "loser\n").ok());
  layout.RemoveAttempt(6);
  RunReduce(layout, 7, 1, "b 2\n");
  EXPECT_FALSE(PathExists(out_));  // nothing visible before the commit

  const std::string token = layout.CommitToken(42);
  ASSERT_TRUE(layout.Commit(2, token, {}).ok());
  EXPECT_EQ(Tree(out_), (Files{{"_SUCCESS", token},
                               {"part-r-00000", "a 1\n"},
                               {"part-r-00001", "b 2\n"}}));
  EXPECT_FALSE(PathExists(layout.staging_dir()));
  EXPECT_TRUE(layout.IsCommitted(token));
  EXPECT_FALSE(layout.IsCommitted(layout.CommitToken(43)));
}

TEST_F(OutputLayoutTest, SideFilesAreCommittedWithTheirAttemptOnly) {
  OutputLayout layout(out_, "job-000001");
  ASSERT_TRUE(layout.Prepare().ok());
  EXPECT_EQ(layout.SideFileName("dead_letter", 3), "dead_letter-r-00003");
  EXPECT_EQ(OutputLayout(out_, "j", OutputLayout::Parts::kMap).SideFileName("x", 3),
            "x-m-00003");
  for (const char* bad : {"", "part", "Dead", "9x", "a-b", "_x",
                          "abcdefghijabcdefghijabcdefghijabc"}) {
    EXPECT_EQ(OutputLayout::CheckSideOutputName(bad).code(),
              absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(OutputLayout::CheckSideOutputName("dead_letter2").ok());

  // Attempt 5 of partition 0 crashed after moving its side files, before
  // its part file: the task is not committed, its side files are staged.
  ASSERT_TRUE(layout.CreateAttemptDir(5).ok());
  Write(layout.AttemptSideFile(5, "dead_letter", 0), "stale\n");
  Write(layout.AttemptSideFile(5, "rejects", 0), "stale too\n");
  ASSERT_TRUE(fs::exists(layout.AttemptSideFile(5, "dead_letter", 0)));
  Write(layout.temporary_dir() + "/sides-part-r-00000", "");  // as CommitAttempt() does
  fs::rename(layout.AttemptSideFile(5, "dead_letter", 0),
             layout.staging_dir() + "/dead_letter-r-00000");
  fs::rename(layout.AttemptSideFile(5, "rejects", 0),
             layout.staging_dir() + "/rejects-r-00000");
  layout.RemoveAttempt(5);
  // Attempt 6 commits with one side output of its own: it replaces the
  // partition's side files as a whole.
  ASSERT_TRUE(layout.CreateAttemptDir(6).ok());
  Write(layout.AttemptSideFile(6, "dead_letter", 0), "bad row\n");
  Write(layout.AttemptFile(6, 0), "good row\n");
  ASSERT_TRUE(layout.CommitAttempt(6, 0).ok());
  RunReduce(layout, 7, 1, "other\n");

  const std::string token = layout.CommitToken(42);
  ASSERT_TRUE(layout.Commit(2, token, {}).ok());
  EXPECT_EQ(Tree(out_), (Files{{"_SUCCESS", token},
                               {"dead_letter-r-00000", "bad row\n"},
                               {"part-r-00000", "good row\n"},
                               {"part-r-00001", "other\n"}}));
}

TEST_F(OutputLayoutTest, AMissingPartFailsTheCommitAndChangesNothing) {
  Write(out_ + "/part-r-00000", "old\n");
  Write(out_ + "/_SUCCESS", "");
  const Files before = Tree(out_);
  OutputLayout layout(out_, "job-000002");
  ASSERT_TRUE(layout.Prepare().ok());
  RunReduce(layout, 1, 0, "new\n");
  OutputLayout::CommitOptions overwrite;
  overwrite.overwrite = true;
  absl::Status s = layout.Commit(2, layout.CommitToken(1), overwrite);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("part-r-00001"));
  EXPECT_EQ(Tree(out_), before);
  ASSERT_TRUE(layout.Abort().ok());
  EXPECT_FALSE(PathExists(layout.staging_dir()));
  EXPECT_EQ(Tree(out_), before);
}

TEST_F(OutputLayoutTest, OverwriteReplacesEveryOldFile) {
  for (int p = 0; p < 4; ++p) {
    Write(absl::StrCat(out_, "/", OutputLayout::PartFileName(p)), "old\n");
  }
  Write(out_ + "/_SUCCESS", "");
  OutputLayout layout(out_, "job-000002");
  ASSERT_TRUE(layout.Prepare().ok());
  RunReduce(layout, 1, 0, "x\n");
  RunReduce(layout, 2, 1, "y\n");
  OutputLayout::CommitOptions overwrite;
  overwrite.overwrite = true;
  const std::string token = layout.CommitToken(9);
  ASSERT_TRUE(layout.Commit(2, token, overwrite).ok());
  EXPECT_EQ(Tree(out_), (Files{{"_SUCCESS", token},
                               {"part-r-00000", "x\n"},
                               {"part-r-00001", "y\n"}}));
  EXPECT_FALSE(PathExists(layout.staging_dir()));
}

TEST_F(OutputLayoutTest, WithoutOverwriteAnOutputThatAppearedIsKept) {
  OutputLayout layout(out_, "job-000001");
  ASSERT_TRUE(layout.Prepare().ok());
  RunReduce(layout, 1, 0, "x\n");
  Write(out_ + "/someone-elses", "keep me");
  absl::Status s = layout.Commit(1, layout.CommitToken(1), {});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(Tree(out_), (Files{{"someone-elses", "keep me"}}));
}

TEST_F(OutputLayoutTest, ACommitInterruptedAfterTheSwapIsFinished) {
  Write(out_ + "/part-r-00003", "old\n");
  Write(out_ + "/_SUCCESS", "");
  OutputLayout layout(out_, "job-000004");
  ASSERT_TRUE(layout.Prepare().ok());
  RunReduce(layout, 1, 0, "new\n");
  OutputLayout::CommitOptions crashing;
  crashing.overwrite = true;
  crashing.inject = [](StagedDirectory::Point p) {
    return p == StagedDirectory::Point::kAfterSwap ? absl::AbortedError("crash")
                                                   : absl::OkStatus();
  };
  const std::string token = layout.CommitToken(5);
  EXPECT_EQ(layout.Commit(1, token, crashing).code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(layout.IsCommitted(token));
  EXPECT_TRUE(PathExists(layout.staging_dir()));  // the old output
  OutputLayout::CommitOptions overwrite;
  overwrite.overwrite = true;
  ASSERT_TRUE(layout.Commit(1, token, overwrite).ok());
  EXPECT_EQ(Tree(out_), (Files{{"_SUCCESS", token}, {"part-r-00000", "new\n"}}));
  EXPECT_FALSE(PathExists(layout.staging_dir()));
}

TEST_F(OutputLayoutTest, ALateAttemptCannotRecreateAnEndedJobsStaging) {
  OutputLayout layout(out_, "job-000001");
  ASSERT_TRUE(layout.Prepare().ok());
  ASSERT_TRUE(layout.Abort().ok());
  absl::Status s = layout.CreateAttemptDir(3);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("is gone"));
  EXPECT_FALSE(PathExists(layout.staging_dir()));

  // Nor after a commit, when the staging path briefly holds the old output.
  OutputLayout second(out_, "job-000002");
  ASSERT_TRUE(second.Prepare().ok());
  RunReduce(second, 1, 0, "x\n");
  ASSERT_TRUE(second.Commit(1, second.CommitToken(1), {}).ok());
  EXPECT_EQ(second.CreateAttemptDir(2).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(PathExists(second.staging_dir()));
}

}  // namespace
}  // namespace mr
