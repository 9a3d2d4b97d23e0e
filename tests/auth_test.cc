// Client authentication and authorization on a real cluster: a master with
// a tokens file (master/client_auth.h) and --plugin_roles=admin, driven by
// mrctl with no token, a wrong one, a `submit` one and an `admin` one; then
// the same over TLS (common/tls.h). Every refusal has its exact message and
// mrctl's exit code 4, and the cluster keeps serving.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

constexpr char kSubmitToken[] = "etl-token-7f3a9c2e51b04d6e";
constexpr char kAdminToken[] = "admin-token-c4d1e8f0a2b3957e";
constexpr int kExitDenied = 4;  // client/internal/mrctl.h

std::string DataGlob() { return DataDir() + "/pg-*.txt"; }

// Writes `text` to a fresh mode-0600 file under `dir`; returns its path.
std::string WriteSecret(const std::string& dir, const std::string& name,
                        const std::string& text) {
  const std::string path = absl::StrCat(dir, "/", name);
  EXPECT_TRUE(WriteFileAtomically(path, text).ok()) << path;
  EXPECT_EQ(chmod(path.c_str(), 0600), 0) << path;
  return path;
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // mrctl falls back on these; the test's environment must not decide.
    unsetenv("MR_TOKEN");
    unsetenv("MR_TOKEN_FILE");
    unsetenv("MR_TLS_CA");
    char templ[] = "/tmp/mr-auth-test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    tokens_ = WriteSecret(dir_, "tokens",
                          absl::StrCat("# TOKEN ROLE NAME\n", kSubmitToken,
                                       " submit etl\n", kAdminToken,
                                       " admin alice\n"));
    submit_file_ = WriteSecret(dir_, "submit.token",
                               absl::StrCat(kSubmitToken, "\n"));
    admin_file_ = WriteSecret(dir_, "admin.token", absl::StrCat(kAdminToken, "\n"));
    wrong_file_ = WriteSecret(dir_, "wrong.token", "not-a-known-token-42\n");
    absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
    ASSERT_TRUE(expected.ok()) << expected.status();
    expected_ = *expected;
  }
  void TearDown() override { RemoveAll(dir_).IgnoreError(); }

  ExternalMiniClusterOptions Options() const {
    ExternalMiniClusterOptions opts;
    opts.extra_master_flags = {absl::StrCat("--tokens_file=", tokens_),
                               "--plugin_roles=admin"};
    opts.client_token = kAdminToken;
    return opts;
  }

  // mrctl ARGS with `token_file` ("" for none).
  CommandResult Mrctl(ExternalMiniCluster& cluster,
                      const std::string& token_file,
                      std::vector<std::string> args) {
    if (!token_file.empty()) {
      args.insert(args.begin(), absl::StrCat("--token_file=", token_file));
    }
    absl::StatusOr<CommandResult> r = cluster.RunMrctl(args);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : CommandResult();
  }

  // Word count (or the plugin's) with `token_file` to a fresh output;
  // checks it succeeded with the reference output, owned by `owner`.
  void ExpectWordCount(ExternalMiniCluster& cluster,
                       const std::string& token_file,
                       const std::vector<std::string>& code,
                       const std::string& out_name, const std::string& owner) {
    const std::string out = cluster.PathUnderRoot(out_name);
    std::vector<std::string> args = {"submit"};
    args.insert(args.end(), code.begin(), code.end());
    args.insert(args.end(), {"--input", DataGlob(), "--output", out,
                             "--reduces", "3", "--wait", "--json"});
    CommandResult r = Mrctl(cluster, token_file, args);
    ASSERT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "stderr:\n" << r.err
                              << cluster.LogTails();
    absl::StatusOr<mrpb::JobStatus> status = ParseJobStatusJson(r.out);
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
    EXPECT_EQ(status->owner(), owner);
    JobOutputOptions opts;
    opts.expected_parts = 3;
    absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == expected_)
        << "output differs from the reference; first lines:\n"
        << got->substr(0, 200);
  }

  std::string dir_;
  std::string tokens_, submit_file_, admin_file_, wrong_file_;
  std::string expected_;
};

TEST_F(AuthTest, TokensAndRolesGateEveryCall) {
  ExternalMiniCluster cluster(Options());
  absl::Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s;
  const std::string master = cluster.master_address();
  const std::string refused = absl::StrCat("mrctl: master ", master, " ");
  const std::string plugin = LibDir() + "/libwordcount_plugin.so";
  ASSERT_TRUE(PathExists(plugin)) << plugin;

  // No token, a wrong one: every command is refused, nothing runs.
  const std::string out = cluster.PathUnderRoot("refused-out");
  const std::vector<std::string> submit = {
      "submit", "--app", "wordcount", "--input", DataGlob(), "--output", out};
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"list"}, {"workers"}, {"status", "job-000001"},
           {"kill", "job-000001"}, submit}) {
    CommandResult r = Mrctl(cluster, "", args);
    EXPECT_EQ(r.exit_code, kExitDenied) << args[0] << ": " << r.err;
    EXPECT_EQ(r.out, "") << args[0];
    EXPECT_EQ(r.err, refused + "did not accept the token: missing bearer "
                               "token (give one with --token_file FILE, "
                               "$MR_TOKEN_FILE or $MR_TOKEN)\n")
        << args[0];
    r = Mrctl(cluster, wrong_file_, args);
    EXPECT_EQ(r.exit_code, kExitDenied) << args[0] << ": " << r.err;
    EXPECT_EQ(r.err, refused + "did not accept the token: unknown bearer token\n")
        << args[0];
  }
  EXPECT_FALSE(PathExists(out));
  // The master logs the refusals without the tokens.
  absl::StatusOr<std::string> log = ReadFileToString(cluster.master()->log_path());
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_NE(log->find("refused: unknown bearer token"), std::string::npos);
  EXPECT_EQ(log->find("not-a-known-token-42"), std::string::npos);
  EXPECT_EQ(log->find(kSubmitToken), std::string::npos);

  // A `submit` token may not ship code: a plugin, a streaming job.
  const std::string tail =
      ": it runs code of its own on the workers, which only the roles of the "
      "master's --plugin_roles (admin) may\n";
  CommandResult r = Mrctl(cluster, submit_file_,
                          {"submit", "--plugin", plugin, "--input", DataGlob(),
                           "--output", out});
  EXPECT_EQ(r.exit_code, kExitDenied) << r.err;
  EXPECT_EQ(r.err, refused + "denied this: role 'submit' (etl) may not "
                             "submit a plugin job" + tail);
  r = Mrctl(cluster, submit_file_,
            {"submit", "--mapper", "cat", "--input", DataGlob(), "--output", out});
  EXPECT_EQ(r.exit_code, kExitDenied) << r.err;
  EXPECT_EQ(r.err, refused + "denied this: role 'submit' (etl) may not "
                             "submit a streaming job" + tail);
  EXPECT_FALSE(PathExists(out));

  // After every refusal the cluster serves: word count with the `submit`
  // token, the plugin with the `admin` one, both equal to the reference.
  ExpectWordCount(cluster, submit_file_, {"--app", "wordcount"}, "wc", "etl");
  ExpectWordCount(cluster, admin_file_, {"--plugin", plugin}, "plugin", "alice");

  // A `submit` token may not kill an admin's job; the job runs on.
  r = Mrctl(cluster, admin_file_,
            {"submit", "--app", "wordcount", "--input", DataGlob(), "--output",
             cluster.PathUnderRoot("admins")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string job = r.out.substr(0, r.out.find('\n'));
  r = Mrctl(cluster, submit_file_, {"kill", job});
  EXPECT_EQ(r.exit_code, kExitDenied) << r.err;
  EXPECT_EQ(r.err, absl::StrCat(refused, "denied this: role 'submit' (etl) "
                                "may not kill ", job, " (owner alice): that "
                                "needs role 'admin' or to own the job\n"));
  absl::StatusOr<mrpb::JobStatus> done = cluster.WaitForJob(job);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), mrpb::JOB_SUCCEEDED);

  // Any role reads; the owner shows, and survives a master restart.
  s = cluster.master()->Restart();
  ASSERT_TRUE(s.ok()) << s;
  r = Mrctl(cluster, submit_file_, {"status", job});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nowner: alice\n"), std::string::npos) << r.out;
  r = Mrctl(cluster, submit_file_, {"list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"owner\": \"alice\""), std::string::npos) << r.out;
}

TEST_F(AuthTest, TheMasterRefusesABadTokensFile) {
  const std::string bad = WriteSecret(
      dir_, "bad-tokens",
      absl::StrCat(kSubmitToken, " submit etl\n", kAdminToken, " root eve\n"));
  absl::StatusOr<CommandResult> r = RunCommand(
      {BinDir() + "/mr-master", absl::StrCat("--state_dir=", dir_, "/state"),
       "--port=0", absl::StrCat("--tokens_file=", bad)},
      absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_NE(r->err.find(absl::StrCat("mr-master: --tokens_file: ", bad,
                                     ":2: unknown role 'root' (submit or "
                                     "admin)\n")),
            std::string::npos)
      << r->err;
  r = RunCommand({BinDir() + "/mr-master",
                  absl::StrCat("--state_dir=", dir_, "/state"), "--port=0",
                  absl::StrCat("--tokens_file=", tokens_),
                  "--plugin_roles=admin,root"},
                 absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_NE(r->err.find("mr-master: --plugin_roles: unknown role 'root' "
                        "(submit or admin)\n"),
            std::string::npos)
      << r->err;
  // Tokens beyond loopback need TLS: they would travel in the clear, and the
  // worker RPCs would be open to anyone.
  r = RunCommand({BinDir() + "/mr-master",
                  absl::StrCat("--state_dir=", dir_, "/state"), "--port=0",
                  "--bind_host=0.0.0.0",
                  absl::StrCat("--tokens_file=", tokens_)},
                 absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_NE(r->err.find("mr-master: --tokens_file needs TLS (--tls_ca, "
                        "--tls_cert, --tls_key) when the master listens "
                        "beyond loopback (--bind_host=0.0.0.0)\n"),
            std::string::npos)
      << r->err;
}

// The same master over TLS: mrctl with the CA and a token works; without
// the CA it cannot reach the master, and says so.
TEST_F(AuthTest, TokensOverTls) {
  const std::string certs = dir_ + "/certs";
  absl::Status made = MakeDevCertificates(certs, {});
  ASSERT_TRUE(made.ok()) << made;
  const std::vector<std::string> tls = {
      absl::StrCat("--tls_ca=", certs, "/ca.crt"),
      absl::StrCat("--tls_cert=", certs, "/daemon.crt"),
      absl::StrCat("--tls_key=", certs, "/daemon.key")};
  ExternalMiniClusterOptions opts = Options();
  opts.extra_master_flags.insert(opts.extra_master_flags.end(), tls.begin(),
                                 tls.end());
  opts.extra_worker_flags = tls;
  opts.client_tls_ca = certs + "/ca.crt";
  ExternalMiniCluster cluster(opts);
  absl::Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s;

  const std::string ca_flag = absl::StrCat("--tls_ca=", certs, "/ca.crt");
  ExpectWordCount(cluster, submit_file_, {ca_flag, "--app", "wordcount"}, "wc",
                  "etl");
  CommandResult r = Mrctl(cluster, submit_file_, {ca_flag, "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The token still counts over TLS.
  r = Mrctl(cluster, "", {ca_flag, "list"});
  EXPECT_EQ(r.exit_code, kExitDenied) << r.err;

  // Without the CA: a plaintext client cannot talk to a TLS master.
  r = Mrctl(cluster, submit_file_, {"list"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err.rfind(absl::StrCat("mrctl: cannot reach master at ",
                                     cluster.master_address(), ": "), 0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find("(if the master uses TLS, give --tls_ca FILE or set "
                       "MR_TLS_CA)\n"),
            std::string::npos)
      << r.err;
  // A CA that is no PEM file is refused before any call.
  const std::string not_pem = WriteSecret(dir_, "not.pem", "hello\n");
  r = Mrctl(cluster, submit_file_, {absl::StrCat("--tls_ca=", not_pem), "list"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, absl::StrCat("mrctl: --tls_ca: ", not_pem,
                                " is not a PEM file\n"));
}

}  // namespace
}  // namespace test
}  // namespace mr
