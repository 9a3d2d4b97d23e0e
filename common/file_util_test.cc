#include "common/file_util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FileUtilTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TMPDIR");
    std::string templ =
        absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/file_util_test.XXXXXX");
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    // Absolute and normalized, as ExpandInputs returns paths.
    dir_ = AbsolutePath(templ);
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(dir_).ok()); }

  std::string Path(const std::string& name) const {
    return absl::StrCat(dir_, "/", name);
  }
  void Touch(const std::string& name, const std::string& data = "x") {
    ASSERT_TRUE(WriteFileAtomically(Path(name), data).ok()) << name;
  }

  std::string dir_;
};

TEST_F(FileUtilTest, WriteThenReadRoundTrip) {
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>(i % 251));
  ASSERT_TRUE(WriteFileAtomically(Path("f"), data).ok());
  absl::StatusOr<std::string> read = ReadFileToString(Path("f"));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, data);
  // Overwrite with something shorter: the old bytes are gone.
  ASSERT_TRUE(WriteFileAtomically(Path("f"), "short").ok());
  read = ReadFileToString(Path("f"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "short");
  // An empty file.
  ASSERT_TRUE(WriteFileAtomically(Path("empty"), "").ok());
  read = ReadFileToString(Path("empty"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "");
}

TEST_F(FileUtilTest, WriteLeavesNoTemporaryFile) {
  ASSERT_TRUE(WriteFileAtomically(Path("f"), "data").ok());
  absl::StatusOr<std::vector<std::string>> files = ExpandInputs({dir_});
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre(Path("f")));
}

TEST_F(FileUtilTest, ReadMissingFileIsNotFound) {
  absl::StatusOr<std::string> read = ReadFileToString(Path("missing"));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(read.status().message()), HasSubstr(Path("missing")));
}

TEST_F(FileUtilTest, WriteIntoMissingDirectoryIsNotFound) {
  absl::Status s = WriteFileAtomically(Path("no/such/dir/f"), "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
}

TEST_F(FileUtilTest, MakeDirsRemoveAllAndFileSize) {
  ASSERT_TRUE(MakeDirs(Path("a/b/c")).ok());
  ASSERT_TRUE(MakeDirs(Path("a/b/c")).ok());  // idempotent
  Touch("a/b/c/f", "12345");
  absl::StatusOr<uint64_t> size = FileSize(Path("a/b/c/f"));
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 5u);
  EXPECT_EQ(FileSize(Path("nope")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(PathExists(Path("a/b/c/f")));
  ASSERT_TRUE(RemoveAll(Path("a")).ok());
  EXPECT_FALSE(PathExists(Path("a")));
  EXPECT_TRUE(RemoveAll(Path("a")).ok());  // absent is fine
}

TEST_F(FileUtilTest, ExpandGlobMatchingNothingIsNotFoundNamingTheGlob) {
  Touch("a.txt");
  const std::string glob = Path("*.nomatch");
  absl::StatusOr<std::vector<std::string>> files = ExpandInputs({Path("a.txt"), glob});
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(files.status().message()), HasSubstr(glob));
}

TEST_F(FileUtilTest, ExpandMissingPlainPathIsNotFound) {
  const std::string missing = Path("missing.txt");
  absl::StatusOr<std::vector<std::string>> files = ExpandInputs({missing});
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(files.status().message()), HasSubstr(missing));
}

TEST_F(FileUtilTest, ExpandEmptyListIsInvalidArgument) {
  EXPECT_EQ(ExpandInputs({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FileUtilTest, ExpandDirectoryGivesItsRegularFilesOnly) {
  ASSERT_TRUE(MakeDirs(Path("d/sub")).ok());
  Touch("d/b");
  Touch("d/a");
  Touch("d/sub/deep");  // not directly in d: not included
  absl::StatusOr<std::vector<std::string>> files = ExpandInputs({Path("d")});
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre(Path("d/a"), Path("d/b")));
}

TEST_F(FileUtilTest, ExpandSaysWhichPatternsNameEachFile) {
  ASSERT_TRUE(MakeDirs(Path("d")).ok());
  Touch("d/a");
  Touch("d/b");
  Touch("c");
  std::vector<std::vector<uint32_t>> named_by;
  absl::StatusOr<std::vector<std::string>> files = ExpandInputs(
      {Path("c"), Path("d"), Path("d/b*")}, nullptr, &named_by);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre(Path("c"), Path("d/a"), Path("d/b")));
  EXPECT_THAT(named_by, ElementsAre(ElementsAre(0u), ElementsAre(1u),
                                    ElementsAre(1u, 2u)));
}

TEST_F(FileUtilTest, ExpandEmptyDirectoryIsNotFound) {
  ASSERT_TRUE(MakeDirs(Path("empty")).ok());
  absl::StatusOr<std::vector<std::string>> files = ExpandInputs({Path("empty")});
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(files.status().message()), HasSubstr(Path("empty")));
}

TEST_F(FileUtilTest, ExpandSortsAndDedupes) {
  Touch("c.txt");
  Touch("a.txt");
  Touch("b.txt");
  Touch("b.log");
  absl::StatusOr<std::vector<std::string>> files = ExpandInputs(
      {Path("c.txt"), Path("*.txt"), dir_, Path("a.txt"), Path("./b.txt")});
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre(Path("a.txt"), Path("b.log"), Path("b.txt"),
                                  Path("c.txt")));
}

TEST_F(FileUtilTest, ExpandMakesRelativePathsAbsolute) {
  Touch("rel.txt");
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(chdir(dir_.c_str()), 0);
  absl::StatusOr<std::vector<std::string>> files = ExpandInputs({"rel.txt"});
  absl::StatusOr<std::vector<std::string>> globbed = ExpandInputs({"./*.txt"});
  ASSERT_EQ(chdir(cwd), 0);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre(Path("rel.txt")));
  ASSERT_TRUE(globbed.ok()) << globbed.status();
  EXPECT_THAT(*globbed, ElementsAre(Path("rel.txt")));
}

TEST_F(FileUtilTest, ExpandRefusesANonRegularFileNamingIt) {
  Touch("a.txt");
  ASSERT_EQ(mkfifo(Path("fifo.txt").c_str(), 0644), 0);
  for (const std::string& pattern : {Path("fifo.txt"), Path("*.txt"), dir_}) {
    absl::StatusOr<std::vector<std::string>> files = ExpandInputs({pattern});
    EXPECT_EQ(files.status().code(), absl::StatusCode::kFailedPrecondition)
        << pattern << ": " << files.status();
    EXPECT_THAT(std::string(files.status().message()),
                HasSubstr(Path("fifo.txt") + " is not a regular file (a FIFO)"));
  }
}

TEST_F(FileUtilTest, ExpandRefusesADanglingSymlink) {
  ASSERT_EQ(symlink(Path("nowhere").c_str(), Path("link").c_str()), 0);
  absl::StatusOr<std::vector<std::string>> files = ExpandInputs({Path("link")});
  EXPECT_EQ(files.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(files.status().message()), HasSubstr(Path("link")));
}

TEST_F(FileUtilTest, ExpandReportsTheDirectoriesItExpanded) {
  ASSERT_TRUE(MakeDirs(Path("d/sub")).ok());
  Touch("d/a");
  Touch("e");
  std::vector<std::string> dirs;
  absl::StatusOr<std::vector<std::string>> files =
      ExpandInputs({Path("d/"), Path("e")}, &dirs);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre(Path("d/a"), Path("e")));
  EXPECT_THAT(dirs, ElementsAre(Path("d/")));
}

TEST_F(FileUtilTest, ResolvePathFollowsLinksAndNormalizes) {
  ASSERT_TRUE(MakeDirs(Path("real/sub")).ok());
  ASSERT_EQ(symlink(Path("real").c_str(), Path("link").c_str()), 0);
  absl::StatusOr<std::string> real_dir = ResolvePath(dir_);
  ASSERT_TRUE(real_dir.ok()) << real_dir.status();
  const std::string r = *real_dir;
  auto resolve = [](const std::string& p) {
    absl::StatusOr<std::string> s = ResolvePath(p);
    return s.ok() ? *s : "error: " + s.status().ToString();
  };
  EXPECT_EQ(resolve(Path("real")), r + "/real");
  EXPECT_EQ(resolve(Path("real/")), r + "/real");
  EXPECT_EQ(resolve(Path("real//sub/..")), r + "/real");
  EXPECT_EQ(resolve(Path("link")), r + "/real");
  EXPECT_EQ(resolve(Path("link/sub/")), r + "/real/sub");
  // Missing tails are appended to the deepest existing ancestor.
  EXPECT_EQ(resolve(Path("link/new/deeper/")), r + "/real/new/deeper");
  EXPECT_EQ(resolve(Path("link/new/../other")), r + "/real/other");
  // "link/.." is the parent of what the link points to, physically.
  ASSERT_EQ(symlink(Path("real/sub").c_str(), Path("deep").c_str()), 0);
  EXPECT_EQ(resolve(Path("deep/../x")), r + "/real/x");
  // A dangling link resolves to where it points.
  ASSERT_EQ(symlink(Path("real/later").c_str(), Path("dangling").c_str()), 0);
  EXPECT_EQ(resolve(Path("dangling")), r + "/real/later");
  EXPECT_EQ(resolve(Path("dangling/x")), r + "/real/later/x");
  EXPECT_EQ(resolve("/"), "/");
  // A file in the middle of the path.
  Touch("file");
  absl::StatusOr<std::string> bad = ResolvePath(Path("file/x"));
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr(Path("file/x")));
  // A loop.
  ASSERT_EQ(symlink(Path("loop").c_str(), Path("loop").c_str()), 0);
  EXPECT_FALSE(ResolvePath(Path("loop/x")).ok());
}

TEST_F(FileUtilTest, PathIsWithinComparesWholeComponents) {
  EXPECT_TRUE(PathIsWithin("/a/b", "/a/b"));
  EXPECT_TRUE(PathIsWithin("/a/b/c", "/a/b"));
  EXPECT_TRUE(PathIsWithin("/a", "/"));
  EXPECT_FALSE(PathIsWithin("/a/bc", "/a/b"));
  EXPECT_FALSE(PathIsWithin("/a", "/a/b"));
  EXPECT_FALSE(PathIsWithin("/a", ""));
}

}  // namespace
}  // namespace mr
