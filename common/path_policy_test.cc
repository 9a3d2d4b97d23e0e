#include "common/path_policy.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mr {
namespace {

using ::testing::HasSubstr;

// A scratch tree:
//   DIR/in/a.txt           DIR/out/          DIR/out2/
//   DIR/secret/s.txt       DIR/elsewhere/
class PathPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TMPDIR");
    std::string templ = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp",
                                     "/path_policy_test.XXXXXX");
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    char real[PATH_MAX];
    ASSERT_NE(realpath(templ.c_str(), real), nullptr);
    dir_ = real;
    for (const char* d : {"in", "out", "out2", "secret", "elsewhere"}) {
      ASSERT_TRUE(MakeDirs(P(d)).ok());
    }
    ASSERT_TRUE(WriteFileAtomically(P("in/a.txt"), "a").ok());
    ASSERT_TRUE(WriteFileAtomically(P("secret/s.txt"), "s").ok());
    auto policy = PathPolicy::Create({P("in")}, {P("out")});
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = *policy;
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(dir_).ok()); }

  std::string P(const std::string& rel) const {
    return absl::StrCat(dir_, "/", rel);
  }
  void Link(const std::string& target, const std::string& at) {
    ASSERT_EQ(symlink(target.c_str(), P(at).c_str()), 0) << at;
  }

  std::string dir_;
  PathPolicy policy_;
};

TEST_F(PathPolicyTest, AllowsPathsInsideTheRoots) {
  EXPECT_TRUE(policy_.CheckInput(P("in")).ok());
  EXPECT_TRUE(policy_.CheckInput(P("in/a.txt")).ok());
  EXPECT_TRUE(policy_.CheckOutput(P("out")).ok());
  EXPECT_TRUE(policy_.CheckOutput(P("out/job1")).ok());
  // Spelled with "." and ".." that stay inside, and repeated slashes.
  EXPECT_TRUE(policy_.CheckOutput(P("out/../out/./x")).ok());
  EXPECT_TRUE(policy_.CheckOutput(absl::StrCat(dir_, "//out///x/")).ok());
}

TEST_F(PathPolicyTest, KindsAreSeparate) {
  absl::Status s = policy_.CheckOutput(P("in/x"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            absl::StrCat("output ", P("in/x"),
                         " is outside the allowed output roots ", P("out"),
                         " (--allowed_output_roots)"));
  s = policy_.CheckInput(P("out/part-r-00000"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("(--allowed_input_roots)"));
}

TEST_F(PathPolicyTest, DotDotOutOfTheRootIsRefused) {
  const std::string escaped = P("out/../secret/x");
  absl::Status s = policy_.CheckOutput(escaped);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            absl::StrCat("output ", escaped, " resolves to ", P("secret/x"),
                         ", outside the allowed output roots ", P("out"),
                         " (--allowed_output_roots)"));
  EXPECT_EQ(policy_.CheckInput(P("in/../secret/s.txt")).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(PathPolicyTest, DotDotAfterAMissingDirectoryIsRefused) {
  // "new" does not exist: what ".." after it means is not settled yet.
  const std::string path = P("out/new/../../secret/x");
  absl::Status s = policy_.CheckOutput(path);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("'..' follows " + P("out/new") +
                                     ", which does not exist"));
  // Even when it would stay inside.
  EXPECT_EQ(policy_.CheckOutput(P("out/new/../x")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy_.CheckOutput(P("out/new/.")).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(PathPolicyTest, NonexistentTailsAreAppended) {
  auto c = PathPolicy::Canonicalize(P("out/a/b/c"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c, P("out/a/b/c"));
  EXPECT_TRUE(policy_.CheckOutput(P("out/a/b/c")).ok());
  EXPECT_EQ(policy_.CheckOutput(P("nowhere/a/b")).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(PathPolicyTest, SymlinkOutOfTheRootIsRefused) {
  Link(P("elsewhere"), "out/link");
  const std::string through = P("out/link/result");
  absl::Status s = policy_.CheckOutput(through);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            absl::StrCat("output ", through, " resolves to ",
                         P("elsewhere/result"),
                         ", outside the allowed output roots ", P("out"),
                         " (--allowed_output_roots)"));
  // An input file that is a link to a file outside.
  Link(P("secret/s.txt"), "in/s.txt");
  EXPECT_EQ(policy_.CheckInput(P("in/s.txt")).code(),
            absl::StatusCode::kPermissionDenied);
  // A relative link.
  Link("../elsewhere", "out/rel");
  EXPECT_EQ(policy_.CheckOutput(P("out/rel/x")).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(PathPolicyTest, DanglingSymlinkIsFollowed) {
  // Writing through it would create its target, outside the root.
  Link(P("elsewhere/not-yet"), "out/dangling");
  absl::Status s = policy_.CheckOutput(P("out/dangling"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("resolves to " + P("elsewhere/not-yet")));
  EXPECT_EQ(policy_.CheckOutput(P("out/dangling/x")).code(),
            absl::StatusCode::kPermissionDenied);
  // One that points inside is fine.
  Link(P("out/later"), "out/inside");
  EXPECT_TRUE(policy_.CheckOutput(P("out/inside/x")).ok());
  // A loop is refused, not followed forever.
  Link(P("out/loop"), "out/loop");
  s = policy_.CheckOutput(P("out/loop/x"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("cannot be checked"));
}

TEST_F(PathPolicyTest, SymlinkInsideTheRootIsAllowed) {
  ASSERT_TRUE(MakeDirs(P("out/real")).ok());
  Link(P("out/real"), "out/alias");
  EXPECT_TRUE(policy_.CheckOutput(P("out/alias/x")).ok());
  Link("real", "out/rel-alias");
  EXPECT_TRUE(policy_.CheckOutput(P("out/rel-alias")).ok());
  // A link from outside into a root: what counts is where it leads.
  Link(P("out/real"), "elsewhere/into-out");
  EXPECT_TRUE(policy_.CheckOutput(P("elsewhere/into-out/x")).ok());
}

TEST_F(PathPolicyTest, PrefixOfANameIsNotInside) {
  absl::Status s = policy_.CheckOutput(P("out2/x"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy_.CheckOutput(P("out2")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy_.CheckOutput(P("outx")).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(PathPolicyTest, RelativePathsAreRefused) {
  absl::Status s = policy_.CheckOutput("out/x");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            absl::StrCat("output 'out/x' is not an absolute path; it must lie "
                         "in the allowed output roots ",
                         P("out"), " (--allowed_output_roots)"));
  EXPECT_EQ(policy_.CheckInput("").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(PathPolicy::Canonicalize("x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PathPolicyTest, RootWithTrailingSlashOrThroughASymlink) {
  Link(P("out"), "out-link");
  auto policy = PathPolicy::Create({P("in") + "/"}, {P("out-link") + "//"});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->input_roots(), std::vector<std::string>{P("in")});
  // The root is its real directory: paths through the link and not are
  // the same.
  EXPECT_EQ(policy->output_roots(), std::vector<std::string>{P("out")});
  EXPECT_TRUE(policy->CheckOutput(P("out/x")).ok());
  EXPECT_TRUE(policy->CheckOutput(P("out-link/x")).ok());
  EXPECT_EQ(policy->CheckOutput(P("out2/x")).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(PathPolicyTest, BadRootsNameTheFlag) {
  auto missing = PathPolicy::Create({}, {P("none")});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(),
            absl::StrCat("--allowed_output_roots: root ", P("none"),
                         ": No such file or directory"));
  auto relative = PathPolicy::FromFlags("in", "");
  EXPECT_EQ(relative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(relative.status().message(),
              HasSubstr("--allowed_input_roots: root 'in' is not an absolute"));
  auto file = PathPolicy::Create({P("in/a.txt")}, {});
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(file.status().message(), HasSubstr("is not a directory"));
}

TEST_F(PathPolicyTest, FlagsListSeveralRoots) {
  auto policy = PathPolicy::FromFlags(absl::StrCat(P("in"), ",", P("secret")),
                                      absl::StrCat(P("out"), ",,", P("out2")));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->CheckInput(P("secret/s.txt")).ok());
  EXPECT_TRUE(policy->CheckOutput(P("out2/x")).ok());
  EXPECT_EQ(policy->CheckOutput(P("elsewhere")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy->Describe(),
            absl::StrCat("inputs under ", P("in"), ", ", P("secret"),
                         " (--allowed_input_roots); outputs under ", P("out"),
                         ", ", P("out2"), " (--allowed_output_roots)"));
}

TEST_F(PathPolicyTest, EmptyRootsRestrictNothing) {
  PathPolicy open;
  EXPECT_FALSE(open.restricts_inputs());
  EXPECT_TRUE(open.CheckInput(P("secret/s.txt")).ok());
  EXPECT_TRUE(open.CheckOutput("relative/too").ok());
  EXPECT_TRUE(open.CheckOutputDir("/").ok());
  auto outputs_only = PathPolicy::FromFlags("", P("out"));
  ASSERT_TRUE(outputs_only.ok());
  EXPECT_TRUE(outputs_only->CheckInput(P("secret/s.txt")).ok());
  EXPECT_FALSE(outputs_only->CheckOutput(P("secret/x")).ok());
  EXPECT_EQ(open.Describe(), "inputs anywhere; outputs anywhere");
}

TEST_F(PathPolicyTest, OutputDirMustNotBeARootItself) {
  EXPECT_TRUE(policy_.CheckOutputDir(P("out/job")).ok());
  absl::Status s = policy_.CheckOutputDir(P("out"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            absl::StrCat("output ", P("out"),
                         " is an allowed output root itself: a job builds its "
                         "output beside it, in ",
                         dir_, ", outside the allowed output roots ", P("out"),
                         " (--allowed_output_roots); write to a directory "
                         "inside the root"));
  // Outside altogether: the ordinary refusal.
  s = policy_.CheckOutputDir(P("elsewhere/x"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("is outside the allowed output roots"));
}

}  // namespace
}  // namespace mr
