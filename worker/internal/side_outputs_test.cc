#include "worker/internal/side_outputs.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/output_layout.h"

namespace mr {
namespace {

TEST(SideOutputsTest, FilesInTheAttemptDirAndBoundedNames) {
  std::string root = absl::StrCat(::testing::TempDir(), "/side_outputs_test.XXXXXX");
  ASSERT_NE(mkdtemp(root.data()), nullptr);
  absl::StatusOr<std::string> real = ResolvePath(root);
  ASSERT_TRUE(real.ok());
  const OutputLayout layout(*real + "/out", "job-000001");
  ASSERT_TRUE(layout.Prepare().ok());
  ASSERT_TRUE(layout.CreateAttemptDir(7).ok());
  {
    SideOutputs side(&layout, 7, 3, mrpb::OUTPUT_TSV);
    EXPECT_TRUE(side.Write("dead_letter", "k", "v").ok());
    EXPECT_TRUE(side.Write("dead_letter", "k2", "").ok());
    absl::Status bad = side.Write("Part", "k", "v");
    EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;
    for (size_t i = 1; i < SideOutputs::kMaxSideOutputs; ++i) {
      ASSERT_TRUE(side.Write(absl::StrCat("o", i), "k", "v").ok()) << i;
    }
    absl::Status more = side.Write("one_more", "k", "v");
    EXPECT_EQ(more.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(more.message(), "a task writes at most 64 side outputs; 'one_more' is one more");
    EXPECT_TRUE(side.Write("o1", "k", "v").ok());  // one already open
    EXPECT_TRUE(side.Close().ok());
    EXPECT_EQ(side.records(), 66);
  }
  EXPECT_EQ(ReadFileToString(layout.AttemptSideFile(7, "dead_letter", 3)).value_or("?"),
            "k\tv\nk2\t\n");
  EXPECT_EQ(ReadFileToString(layout.AttemptSideFile(7, "o1", 3)).value_or("?"),
            "k\tv\nk\tv\n");
  EXPECT_TRUE(RemoveAll(*real).ok());
}

}  // namespace
}  // namespace mr
