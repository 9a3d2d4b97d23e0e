#include "client/internal/credentials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace mr {
namespace client_internal {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/credentials_test_", getpid());
    ASSERT_TRUE(MakeDirs(dir_).ok());
  }
  void TearDown() override { RemoveAll(dir_).IgnoreError(); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomically(path, text).ok());
    return path;
  }

  absl::StatusOr<Credentials> Resolve(const CommandLine& cl) {
    return ResolveCredentials(cl, [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    });
  }

  std::string dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(CredentialsTest, NothingGivenIsPlaintextWithoutToken) {
  absl::StatusOr<Credentials> c = Resolve(CommandLine());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "");
  EXPECT_EQ(c->tls_ca, "");
}

TEST_F(CredentialsTest, FlagsWinOverTheEnvironment) {
  CommandLine cl;
  cl.token_file = Write("flag-token", "  flag-token-0123456789\n\n");
  cl.tls_ca = "/flag/ca.crt";
  env_["MR_TOKEN_FILE"] = Write("env-token", "env-file-token-012345\n");
  env_["MR_TOKEN"] = "env-token-0123456789";
  env_["MR_TLS_CA"] = "/env/ca.crt";
  absl::StatusOr<Credentials> c = Resolve(cl);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "flag-token-0123456789");
  EXPECT_EQ(c->tls_ca, "/flag/ca.crt");

  // Then $MR_TOKEN_FILE, then $MR_TOKEN; $MR_TLS_CA.
  c = Resolve(CommandLine());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "env-file-token-012345");
  EXPECT_EQ(c->tls_ca, "/env/ca.crt");
  env_.erase("MR_TOKEN_FILE");
  c = Resolve(CommandLine());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token, "env-token-0123456789");
}

TEST_F(CredentialsTest, BadTokensAreRefusedWithoutQuotingThem) {
  CommandLine cl;
  cl.token_file = dir_ + "/none";
  EXPECT_EQ(Resolve(cl).status(),
            absl::InvalidArgumentError(absl::StrCat(
                "--token_file: cannot open ", dir_,
                "/none: No such file or directory")));
  cl.token_file = Write("empty", " \n");
  EXPECT_EQ(Resolve(cl).status(),
            absl::InvalidArgumentError(
                absl::StrCat("--token_file ", dir_, "/empty holds no token")));
  cl.token_file = Write("two", "secret-part-one secret-part-two\n");
  absl::Status s = Resolve(cl).status();
  EXPECT_EQ(s, absl::InvalidArgumentError(absl::StrCat(
                   "--token_file ", dir_,
                   "/two: the token must be one word of printable ASCII")));
  EXPECT_EQ(std::string(s.message()).find("secret"), std::string::npos);

  env_["MR_TOKEN_FILE"] = dir_ + "/none";
  EXPECT_EQ(Resolve(CommandLine()).status(),
            absl::InvalidArgumentError(absl::StrCat(
                "$MR_TOKEN_FILE: cannot open ", dir_,
                "/none: No such file or directory")));
  env_.erase("MR_TOKEN_FILE");
  env_["MR_TOKEN"] = "";
  EXPECT_EQ(Resolve(CommandLine()).status(),
            absl::InvalidArgumentError("$MR_TOKEN holds no token"));
  env_["MR_TOKEN"] = "tok\xc3\xa9n-0123456789";
  EXPECT_EQ(Resolve(CommandLine()).status(),
            absl::InvalidArgumentError(
                "$MR_TOKEN: the token must be one word of printable ASCII"));
}

}  // namespace
}  // namespace client_internal
}  // namespace mr
