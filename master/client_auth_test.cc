#include "master/client_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace mr {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSubmitToken[] = "s3cr3t-submit-token-0001";
constexpr char kAdminToken[] = "s3cr3t-admin-token-00002";

const std::string& GoodFile() {
  static const std::string* const text = new std::string(absl::StrCat(
      "# TOKEN ROLE NAME\n"
      "\n",
      kSubmitToken, "  submit\tetl-nightly\n",
      "   # an indented comment\n",
      kAdminToken, " admin alice\r\n"));
  return *text;
}

absl::Status ParseError(const std::string& text) {
  return ClientAuthenticator::Parse(text, "/etc/mr/tokens").status();
}

TEST(ClientAuthParseTest, ReadsTokensRolesAndNames) {
  absl::StatusOr<ClientAuthenticator> auth =
      ClientAuthenticator::Parse(GoodFile(), "tokens");
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_TRUE(auth->enabled());
  EXPECT_EQ(auth->size(), 2u);

  const std::string submit = absl::StrCat("Bearer ", kSubmitToken);
  absl::StatusOr<ClientCaller> c =
      auth->AuthenticateHeader(absl::string_view(submit));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "etl-nightly");
  EXPECT_EQ(c->role, ClientRole::kSubmit);

  const std::string admin = absl::StrCat("Bearer ", kAdminToken);
  c = auth->AuthenticateHeader(absl::string_view(admin));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "alice");
  EXPECT_EQ(c->role, ClientRole::kAdmin);
}

TEST(ClientAuthParseTest, RefusesMalformedLinesNamingFileAndLine) {
  const std::string tok = "0123456789abcdef";  // 16 characters
  EXPECT_EQ(ParseError(absl::StrCat("# c\n", tok, " submit\n")),
            absl::InvalidArgumentError(
                "/etc/mr/tokens:2: expected TOKEN ROLE NAME, found 2 fields"));
  EXPECT_EQ(ParseError(absl::StrCat(tok, " submit bob extra\n")),
            absl::InvalidArgumentError(
                "/etc/mr/tokens:1: expected TOKEN ROLE NAME, found 4 fields"));
  EXPECT_EQ(ParseError(absl::StrCat(tok, " root bob\n")),
            absl::InvalidArgumentError(
                "/etc/mr/tokens:1: unknown role 'root' (submit or admin)"));
  EXPECT_EQ(ParseError("\n\nshort-token-15c submit bob\n"),
            absl::InvalidArgumentError(
                "/etc/mr/tokens:3: the token is 15 characters long; tokens "
                "need at least 16"));
  EXPECT_EQ(ParseError(absl::StrCat(tok, " submit bob\n", tok, " admin eve\n")),
            absl::InvalidArgumentError(
                "/etc/mr/tokens:2: the same token as line 1 (each token may "
                "appear once)"));
  EXPECT_EQ(ParseError("0123456789abcde\xc3\xa9 submit bob\n"),
            absl::InvalidArgumentError(
                "/etc/mr/tokens:1: the token holds a character other than "
                "printable ASCII"));
  EXPECT_EQ(ParseError(absl::StrCat(tok, " submit b\x01ob\n")),
            absl::InvalidArgumentError(
                "/etc/mr/tokens:1: the name holds a control character"));
  EXPECT_EQ(ParseError("# only comments\n\n"),
            absl::InvalidArgumentError(
                "/etc/mr/tokens holds no tokens: nobody could use the master "
                "(leave out --tokens_file for a master without "
                "authentication)"));
}

TEST(ClientAuthParseTest, ErrorsNeverQuoteTheToken) {
  const std::string secret = "TOPSECRETVALUE";  // too short
  absl::Status s = ParseError(absl::StrCat(secret, " submit bob\n"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr(secret)));
  const std::string long_secret = "TOPSECRETVALUE-long-enough";
  s = ParseError(absl::StrCat(long_secret, " superuser bob\n"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr(long_secret)));
  s = ParseError(absl::StrCat(long_secret, " admin bob\n", long_secret,
                              " admin bob\n"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr(long_secret)));
}

TEST(ClientAuthTest, MissingOrMalformedHeaderIsMissingToken) {
  auto auth = ClientAuthenticator::Parse(GoodFile(), "tokens");
  ASSERT_TRUE(auth.ok());
  const absl::Status missing =
      absl::UnauthenticatedError("missing bearer token");
  EXPECT_EQ(auth->AuthenticateHeader(std::nullopt).status(), missing);
  EXPECT_EQ(auth->AuthenticateHeader(absl::string_view("")).status(), missing);
  EXPECT_EQ(auth->AuthenticateHeader(absl::string_view("Bearer")).status(),
            missing);
  EXPECT_EQ(auth->AuthenticateHeader(absl::string_view("Bearer   ")).status(),
            missing);
  // The token alone, or another scheme, is not a bearer token.
  EXPECT_EQ(auth->AuthenticateHeader(absl::string_view(kSubmitToken)).status(),
            missing);
  const std::string basic = absl::StrCat("Basic ", kSubmitToken);
  EXPECT_EQ(auth->AuthenticateHeader(absl::string_view(basic)).status(),
            missing);
}

TEST(ClientAuthTest, SchemeIsCaseInsensitive) {
  auto auth = ClientAuthenticator::Parse(GoodFile(), "tokens");
  ASSERT_TRUE(auth.ok());
  const std::string lower = absl::StrCat("bearer ", kAdminToken);
  absl::StatusOr<ClientCaller> c = auth->AuthenticateHeader(absl::string_view(lower));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "alice");
}

TEST(ClientAuthTest, UnknownTokensAreRefusedWithoutEchoingThem) {
  auto auth = ClientAuthenticator::Parse(GoodFile(), "tokens");
  ASSERT_TRUE(auth.ok());
  const absl::Status unknown =
      absl::UnauthenticatedError("unknown bearer token");
  for (const std::string& token :
       {std::string("wrong-token-0123456789"),
        // A prefix, an extension, a one-character change of a real token.
        std::string(kSubmitToken).substr(0, 20),
        absl::StrCat(kSubmitToken, "x"),
        absl::StrCat("t", std::string(kSubmitToken).substr(1))}) {
    const std::string header = absl::StrCat("Bearer ", token);
    EXPECT_EQ(auth->AuthenticateHeader(absl::string_view(header)).status(),
              unknown)
        << token;
  }
}

TEST(ClientAuthTest, ReadsTheAuthorizationMetadata) {
  auto auth = ClientAuthenticator::Parse(GoodFile(), "tokens");
  ASSERT_TRUE(auth.ok());
  const std::string value = absl::StrCat("Bearer ", kSubmitToken);
  std::multimap<grpc::string_ref, grpc::string_ref> metadata;
  metadata.emplace("user-agent", "grpc-c++");
  EXPECT_EQ(auth->Authenticate(metadata).status(),
            absl::UnauthenticatedError("missing bearer token"));
  metadata.emplace("authorization", value);
  absl::StatusOr<ClientCaller> c = auth->Authenticate(metadata);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "etl-nightly");
}

TEST(ClientAuthTest, WithoutTokensEveryoneIsAnAnonymousAdmin) {
  ClientAuthenticator open;
  EXPECT_FALSE(open.enabled());
  for (std::optional<absl::string_view> header :
       {std::optional<absl::string_view>(),
        std::optional<absl::string_view>("Bearer whatever-it-is-123")}) {
    absl::StatusOr<ClientCaller> c = open.AuthenticateHeader(header);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->name, "anonymous");
    EXPECT_EQ(c->role, ClientRole::kAdmin);
  }
}

TEST(ClientAuthTest, ParsesRoleLists) {
  EXPECT_EQ(*ParseClientRoles("admin"),
            std::vector<ClientRole>{ClientRole::kAdmin});
  EXPECT_EQ(*ParseClientRoles("submit,admin"),
            (std::vector<ClientRole>{ClientRole::kSubmit, ClientRole::kAdmin}));
  EXPECT_TRUE(ParseClientRoles("")->empty());
  EXPECT_EQ(ParseClientRoles("admin,root").status(),
            absl::InvalidArgumentError("unknown role 'root' (submit or admin)"));
}

class ClientAuthFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("client_auth_test_", getpid());
    ASSERT_TRUE(MakeDirs(dir_).ok());
  }
  void TearDown() override { RemoveAll(dir_).IgnoreError(); }
  std::string dir_;
};

TEST_F(ClientAuthFileTest, LoadsAFileAndNamesItInErrors) {
  const std::string path = dir_ + "/tokens";
  ASSERT_TRUE(WriteFileAtomically(path, GoodFile()).ok());
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  absl::StatusOr<ClientAuthenticator> auth = ClientAuthenticator::LoadFile(path);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->size(), 2u);

  // Readable by others: loads (with a warning in the log).
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  EXPECT_TRUE(ClientAuthenticator::LoadFile(path).ok());

  ASSERT_TRUE(WriteFileAtomically(path, "abc\n").ok());
  EXPECT_EQ(ClientAuthenticator::LoadFile(path).status(),
            absl::InvalidArgumentError(absl::StrCat(
                path, ":1: expected TOKEN ROLE NAME, found 1 fields")));
  EXPECT_EQ(ClientAuthenticator::LoadFile(dir_ + "/none").status(),
            absl::InvalidArgumentError(absl::StrCat(
                "tokens file ", dir_, "/none: No such file or directory")));
  EXPECT_EQ(ClientAuthenticator::LoadFile(dir_).status(),
            absl::InvalidArgumentError(
                absl::StrCat("tokens file ", dir_, " is not a regular file")));
}

}  // namespace
}  // namespace mr
