#include "common/staged_directory.h"

#include <stdlib.h>
#include <sys/stat.h>

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
using Point = StagedDirectory::Point;
using Replace = StagedDirectory::Replace;

// relative path -> contents of every file under `dir`.
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    out[fs::relative(it->path(), dir).string()] =
        ReadFileToString(it->path().string()).value_or("?");
  }
  return out;
}

class StagedDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TMPDIR");
    std::string templ = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp",
                                     "/staged_directory_test.XXXXXX");
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    absl::StatusOr<std::string> real = ResolvePath(templ);
    ASSERT_TRUE(real.ok()) << real.status();
    root_ = *real;
    target_ = root_ + "/out";
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(root_).ok()); }

  void Write(const std::string& path, const std::string& data) {
    ASSERT_TRUE(MakeDirs(fs::path(path).parent_path().string()).ok());
    ASSERT_TRUE(WriteFileAtomically(path, data).ok()) << path;
  }

  // Stages {"a": "new a"} under `tag`.
  StagedDirectory StageNew(const std::string& tag) {
    StagedDirectory d(target_, tag);
    EXPECT_TRUE(d.Create().ok());
    Write(d.staging_path() + "/a", "new a");
    return d;
  }

  std::string root_;
  std::string target_;
};

TEST_F(StagedDirectoryTest, StagingIsAHiddenSiblingNamedByTheTag) {
  StagedDirectory d(target_, "job-000007");
  EXPECT_EQ(d.target(), target_);
  EXPECT_EQ(d.staging_path(), root_ + "/.out.job-000007.staging");
  EXPECT_EQ(StagedDirectory("/x", "t").staging_path(), "/.x.t.staging");
}

TEST_F(StagedDirectoryTest, CreateMakesParentsAndReplacesALeftover) {
  StagedDirectory d(root_ + "/p/q/out", "t");
  Write(d.staging_path() + "/stale", "x");  // also creates root/p/q
  ASSERT_TRUE(d.Create().ok());
  EXPECT_TRUE(Files(d.staging_path()).empty());
  EXPECT_TRUE(fs::is_directory(d.staging_path()));
  EXPECT_FALSE(PathExists(d.target()));
}

TEST_F(StagedDirectoryTest, PublishWithoutTargetRenames) {
  StagedDirectory d = StageNew("t1");
  ASSERT_TRUE(d.Publish("_MARK", "token 1\n", {}).ok());
  EXPECT_EQ(Files(target_), (std::map<std::string, std::string>{
                                {"_MARK", "token 1\n"}, {"a", "new a"}}));
  EXPECT_FALSE(PathExists(d.staging_path()));
  EXPECT_TRUE(d.IsPublished("_MARK", "token 1\n"));
  EXPECT_FALSE(d.IsPublished("_MARK", "token 2\n"));
}

TEST_F(StagedDirectoryTest, PublishReplacesTheOldVersionWhole) {
  Write(target_ + "/a", "old a");
  Write(target_ + "/b", "old b");
  Write(target_ + "/sub/c", "old c");
  StagedDirectory d = StageNew("t1");
  ASSERT_TRUE(d.Publish("_MARK", "token 1\n", {}).ok());
  EXPECT_EQ(Files(target_), (std::map<std::string, std::string>{
                                {"_MARK", "token 1\n"}, {"a", "new a"}}));
  EXPECT_FALSE(PathExists(d.staging_path()));
}

TEST_F(StagedDirectoryTest, NeverReplaceAcceptsOnlyAnEmptyDirectory) {
  ASSERT_TRUE(MakeDirs(target_).ok());
  StagedDirectory::PublishOptions never;
  never.replace = Replace::kNever;
  StagedDirectory d = StageNew("t1");
  ASSERT_TRUE(d.Publish("_MARK", "token 1\n", never).ok());
  EXPECT_EQ(Files(target_).size(), 2u);

  // Now the target is not empty: refused, both sides left as they were.
  StagedDirectory d2 = StageNew("t2");
  absl::Status s = d2.Publish("_MARK", "token 2\n", never);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(target_));
  EXPECT_TRUE(d.IsPublished("_MARK", "token 1\n"));
  EXPECT_EQ(Files(d2.staging_path())["a"], "new a");
  ASSERT_TRUE(d2.Discard().ok());
  EXPECT_FALSE(PathExists(d2.staging_path()));
  EXPECT_TRUE(d.IsPublished("_MARK", "token 1\n"));
}

TEST_F(StagedDirectoryTest, MissingStagingIsFailedPrecondition) {
  Write(target_ + "/a", "old a");
  StagedDirectory d(target_, "t1");
  absl::Status s = d.Publish("_MARK", "token 1\n", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(d.staging_path()));
  EXPECT_EQ(Files(target_), (std::map<std::string, std::string>{{"a", "old a"}}));
}

// A crash at each point, then Publish() again (a restarted process) or
// Discard() (one that gave up): the target always holds one whole version.
TEST_F(StagedDirectoryTest, ACrashAtEitherPointIsFinishedByPublishingAgain) {
  const std::map<std::string, std::string> old_files = {{"a", "old a"},
                                                        {"b", "old b"}};
  const std::map<std::string, std::string> new_files = {
      {"_MARK", "token 1\n"}, {"a", "new a"}};
  for (Point crash_at : {Point::kBeforeSwap, Point::kAfterSwap}) {
    SCOPED_TRACE(crash_at == Point::kBeforeSwap ? "before swap" : "after swap");
    ASSERT_TRUE(RemoveAll(target_).ok());
    Write(target_ + "/a", "old a");
    Write(target_ + "/b", "old b");
    StagedDirectory d = StageNew("t1");
    StagedDirectory::PublishOptions crashing;
    crashing.inject = [crash_at](Point p) {
      return p == crash_at ? absl::AbortedError("crash") : absl::OkStatus();
    };
    EXPECT_EQ(d.Publish("_MARK", "token 1\n", crashing).code(),
              absl::StatusCode::kAborted);
    if (crash_at == Point::kBeforeSwap) {
      EXPECT_EQ(Files(target_), old_files);
      EXPECT_FALSE(d.IsPublished("_MARK", "token 1\n"));
    } else {
      EXPECT_EQ(Files(target_), new_files);
      EXPECT_EQ(Files(d.staging_path()), old_files);  // the old version
      EXPECT_TRUE(d.IsPublished("_MARK", "token 1\n"));
    }
    ASSERT_TRUE(d.Publish("_MARK", "token 1\n", {}).ok());
    EXPECT_EQ(Files(target_), new_files);
    EXPECT_FALSE(PathExists(d.staging_path()));
    // Once more changes nothing.
    ASSERT_TRUE(d.Publish("_MARK", "token 1\n", {}).ok());
    EXPECT_EQ(Files(target_), new_files);
  }
}

TEST_F(StagedDirectoryTest, DiscardAfterACrashKeepsOneWholeVersion) {
  for (Point crash_at : {Point::kBeforeSwap, Point::kAfterSwap}) {
    ASSERT_TRUE(RemoveAll(target_).ok());
    Write(target_ + "/a", "old a");
    StagedDirectory d = StageNew("t1");
    StagedDirectory::PublishOptions crashing;
    crashing.inject = [crash_at](Point p) {
      return p == crash_at ? absl::AbortedError("crash") : absl::OkStatus();
    };
    EXPECT_FALSE(d.Publish("_MARK", "token 1\n", crashing).ok());
    ASSERT_TRUE(d.Discard().ok());
    EXPECT_FALSE(PathExists(d.staging_path()));
    const std::string a = ReadFileToString(target_ + "/a").value_or("none");
    EXPECT_EQ(a, crash_at == Point::kBeforeSwap ? "old a" : "new a");
  }
}

}  // namespace
}  // namespace mr
