#include "client/internal/mrctl.h"

#include <fstream>
#include <sstream>
#include <tuple>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/internal/fake_master.h"
#include "common/proto_maps.h"

namespace mr {
namespace client_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Runs one mrctl command line against `master_address`.
struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

RunResult RunMrctl(const std::string& master_address,
             std::vector<std::string> args, bool tty = false,
             const std::string& token = "") {
  args.insert(args.begin(), {"--master", master_address});
  RunResult run;
  absl::StatusOr<CommandLine> cl = ParseCommandLine(args, nullptr, "/cwd");
  EXPECT_TRUE(cl.ok()) << cl.status();
  if (!cl.ok()) return run;
  MasterClientOptions client_options;
  client_options.sleep = [](absl::Duration) {};  // polls back to back
  client_options.token = token;
  MasterClient client(cl->master, client_options);
  std::ostringstream out, err;
  MrctlOptions options;
  options.err_is_tty = tty;
  options.has_token = !token.empty();
  Mrctl mrctl(&client, &out, &err, options);
  run.code = mrctl.Run(*cl);
  run.out = out.str();
  run.err = err.str();
  return run;
}

mrpb::JobStatus Status(mrpb::JobState state, uint32_t maps_done,
                       uint32_t reduces_done) {
  mrpb::JobStatus s;
  s.set_job_id("job-000001");
  s.set_state(state);
  s.mutable_spec()->set_output_dir("/cwd/out");
  s.set_maps_total(8);
  s.set_maps_done(maps_done);
  s.set_reduces_total(4);
  s.set_reduces_done(reduces_done);
  s.set_submit_time_ms(1000);
  if (state != mrpb::JOB_RUNNING) s.set_finish_time_ms(4200);
  return s;
}

FakeMaster::StatusAnswer Answer(const mrpb::JobStatus& s) {
  FakeMaster::StatusAnswer a;
  a.response.set_found(true);
  *a.response.mutable_status() = s;
  return a;
}

const std::vector<std::string> kSubmit = {
    "submit", "--app", "wordcount", "--input", "in/*.txt", "--output", "out"};

std::vector<std::string> With(std::vector<std::string> args,
                              const std::vector<std::string>& extra) {
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(MrctlTest, SubmitPrintsJobIdAndSendsAbsolutePaths) {
  FakeMaster master;
  mrpb::SubmitJobResponse ok;
  ok.set_job_id("job-000001");
  ok.set_num_maps(8);
  master.set_submit_response(ok);
  RunResult r = RunMrctl(master.address(), kSubmit);
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "job-000001\n");
  EXPECT_EQ(r.err, "");
  const mrpb::SubmitJobRequest sent = master.last_submit();
  EXPECT_EQ(sent.spec().app(), "wordcount");
  ASSERT_EQ(sent.spec().inputs_size(), 1);
  EXPECT_EQ(sent.spec().inputs(0), "/cwd/in/*.txt");
  EXPECT_EQ(sent.spec().output_dir(), "/cwd/out");
}

TEST(MrctlTest, RefusedSubmission) {
  FakeMaster master;
  mrpb::SubmitJobResponse refused;
  refused.set_error(mrpb::SubmitJobResponse::OUTPUT_EXISTS);
  refused.set_message("/cwd/out holds a committed result");
  master.set_submit_response(refused);
  RunResult r = RunMrctl(master.address(), kSubmit);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "mrctl: submission refused (OUTPUT_EXISTS): /cwd/out holds a "
            "committed result\n");
}

TEST(MrctlTest, MissingPluginIsAUsageError) {
  FakeMaster master;
  RunResult r = RunMrctl(master.address(),
                   {"submit", "--plugin", "/nonexistent/libx.so", "--input",
                    "a", "--output", "o"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err,
            "mrctl: plugin /nonexistent/libx.so: No such file or directory\n");
}

TEST(MrctlTest, SubmitWaitPlain) {
  FakeMaster master;
  mrpb::SubmitJobResponse ok;
  ok.set_job_id("job-000001");
  ok.set_num_maps(8);
  master.set_submit_response(ok);
  master.AddStatusAnswer(Answer(Status(mrpb::JOB_RUNNING, 0, 0)));
  master.AddStatusAnswer(Answer(Status(mrpb::JOB_RUNNING, 5, 0)));
  master.AddStatusAnswer(Answer(Status(mrpb::JOB_RUNNING, 5, 0)));
  mrpb::JobStatus done = Status(mrpb::JOB_SUCCEEDED, 8, 4);
  CountersToProto({{"map input records", 77193},
                   {"reduce output records", 22107}},
                  done.mutable_counters());
  master.AddStatusAnswer(Answer(done));
  RunResult r = RunMrctl(master.address(), With(kSubmit, {"--wait"}));
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.err,
            "submitted job-000001 (8 maps)\n"
            "maps 0/8 reduces 0/4\n"
            "maps 5/8 reduces 0/4\n"
            "maps 8/8 reduces 4/4\n");
  EXPECT_EQ(r.out,
            "job job-000001 succeeded in 3.2 s\n"
            "output: /cwd/out (4 part files)\n"
            "counters:\n"
            "  map input records      77193\n"
            "  reduce output records  22107\n");
}

TEST(MrctlTest, SubmitWaitLiveFailedJob) {
  FakeMaster master;
  mrpb::SubmitJobResponse ok;
  ok.set_job_id("job-000001");
  ok.set_num_maps(1);
  master.set_submit_response(ok);
  master.AddStatusAnswer(Answer(Status(mrpb::JOB_RUNNING, 4, 0)));
  mrpb::JobStatus failed = Status(mrpb::JOB_FAILED, 8, 0);
  failed.set_error("reduce 0 failed 4 attempts: boom");
  master.AddStatusAnswer(Answer(failed));
  RunResult r = RunMrctl(master.address(), With(kSubmit, {"--wait"}), /*tty=*/true);
  EXPECT_EQ(r.code, kExitJobFailed);
  EXPECT_EQ(r.err,
            "submitted job-000001 (1 map)\n"
            "\r[########................] maps 4/8  reduces 0/4"
            "\r[################........] maps 8/8  reduces 0/4\n");
  EXPECT_THAT(r.out,
              StartsWith("job job-000001 failed: reduce 0 failed 4 attempts: "
                         "boom\n"));
}

TEST(MrctlTest, SubmitWaitJsonKilled) {
  FakeMaster master;
  mrpb::SubmitJobResponse ok;
  ok.set_job_id("job-000001");
  master.set_submit_response(ok);
  master.AddStatusAnswer(Answer(Status(mrpb::JOB_KILLED, 2, 0)));
  RunResult r = RunMrctl(master.address(), With(kSubmit, {"--wait", "--json"}));
  EXPECT_EQ(r.code, kExitJobFailed);
  EXPECT_THAT(r.out, StartsWith("{\n"));
  EXPECT_THAT(r.out, HasSubstr("\"jobId\": \"job-000001\""));
  EXPECT_THAT(r.out, HasSubstr("\"state\": \"JOB_KILLED\""));
  EXPECT_THAT(r.out, HasSubstr("\"mapsDone\": 2"));
  EXPECT_THAT(r.out, HasSubstr("\"reducesDone\": 0"));
  EXPECT_THAT(r.out, HasSubstr("\"submitTimeMs\": \"1000\""));
  EXPECT_EQ(r.err, "submitted job-000001 (0 maps)\nmaps 2/8 reduces 0/4\n");
}

TEST(MrctlTest, StatusOfUnknownJob) {
  FakeMaster master;
  RunResult r = RunMrctl(master.address(), {"status", "job-000009"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "mrctl: no job job-000009\n");
}

TEST(MrctlTest, StatusOfSucceededJob) {
  FakeMaster master;
  master.AddStatusAnswer(Answer(Status(mrpb::JOB_SUCCEEDED, 8, 4)));
  RunResult r = RunMrctl(master.address(), {"status", "job-000001"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out,
            "job job-000001 succeeded in 3.2 s\n"
            "output: /cwd/out (4 part files)\n"
            "counters: none\n");
}

TEST(MrctlTest, ListAndWorkersJson) {
  FakeMaster master;
  RunResult r = RunMrctl(master.address(), {"list", "--json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "{\n \"jobs\": []\n}\n");
  r = RunMrctl(master.address(), {"workers", "--json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "{\n \"workers\": []\n}\n");
  r = RunMrctl(master.address(), {"list"});
  EXPECT_EQ(r.out, "JOB ID  STATE  MAPS  REDUCES  APP  OWNER  OUTPUT\n");
}

TEST(MrctlTest, Kill) {
  FakeMaster master;
  RunResult r = RunMrctl(master.address(), {"kill", "job-000001"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, "killed job-000001\n");

  mrpb::KillJobResponse finished;
  finished.set_error(mrpb::KillJobResponse::ALREADY_FINISHED);
  finished.set_message("job-000001 already succeeded");
  master.set_kill_response(finished);
  r = RunMrctl(master.address(), {"kill", "job-000001"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "mrctl: cannot kill job-000001 (ALREADY_FINISHED): job-000001 "
            "already succeeded\n");
}

TEST(MrctlTest, UnreachableMaster) {
  std::string address;
  {
    FakeMaster gone;
    address = gone.address();
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"list"}, {"workers"}, {"status", "j"}, {"kill", "j"}, kSubmit}) {
    RunResult r = RunMrctl(address, args);
    EXPECT_EQ(r.code, kExitUnreachable) << args[0];
    EXPECT_EQ(r.out, "") << args[0];
    EXPECT_THAT(r.err, StartsWith(absl::StrCat(
                           "mrctl: cannot reach master at ", address, ": ")))
        << args[0];
    EXPECT_THAT(r.err, ::testing::Not(HasSubstr(": master "))) << args[0];
    // Nothing listens there: no hint about TLS.
    EXPECT_THAT(r.err, ::testing::Not(HasSubstr("--tls_ca"))) << args[0];
  }
}

const std::vector<std::vector<std::string>>& EveryCommand() {
  static const auto* const commands = new std::vector<std::vector<std::string>>{
      {"list"}, {"workers"}, {"status", "j"}, {"kill", "j"}, kSubmit};
  return *commands;
}

TEST(MrctlTest, SendsTheTokenOnEveryCall) {
  FakeMaster master;
  mrpb::SubmitJobResponse submitted;
  submitted.set_job_id("job-000001");
  master.set_submit_response(submitted);
  for (const auto& args : EveryCommand()) {
    RunMrctl(master.address(), args, false, "tok-0123456789abcdef");
  }
  EXPECT_EQ(master.authorizations(),
            std::vector<std::string>(EveryCommand().size(),
                                     "Bearer tok-0123456789abcdef"));
}

TEST(MrctlTest, WithoutATokenSendsNone) {
  FakeMaster master;
  for (const auto& args : EveryCommand()) RunMrctl(master.address(), args);
  EXPECT_EQ(master.authorizations(),
            std::vector<std::string>(EveryCommand().size(), ""));
}

TEST(MrctlTest, RefusedCallersGetOneLineAndTheirOwnExitCode) {
  FakeMaster master;
  const std::string prefix = absl::StrCat("mrctl: master ", master.address());
  master.set_refusal(
      grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing bearer token"));
  for (const auto& args : EveryCommand()) {
    RunResult r = RunMrctl(master.address(), args);
    EXPECT_EQ(r.code, kExitDenied) << args[0];
    EXPECT_EQ(r.out, "") << args[0];
    EXPECT_EQ(r.err, prefix + " did not accept the token: missing bearer "
                              "token (give one with --token_file FILE, "
                              "$MR_TOKEN_FILE or $MR_TOKEN)\n")
        << args[0];
  }
  // With a token, no hint to give one.
  master.set_refusal(
      grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unknown bearer token"));
  RunResult r = RunMrctl(master.address(), {"list"}, false, "wrong-token-1234");
  EXPECT_EQ(r.code, kExitDenied);
  EXPECT_EQ(r.err, prefix + " did not accept the token: unknown bearer token\n");

  master.set_refusal(grpc::Status(
      grpc::StatusCode::PERMISSION_DENIED,
      "role 'submit' (bob) may not kill job-000001 (owner alice): that needs "
      "role 'admin' or to own the job"));
  r = RunMrctl(master.address(), {"kill", "job-000001"}, false, "tok-0123456789");
  EXPECT_EQ(r.code, kExitDenied);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, prefix + " denied this: role 'submit' (bob) may not kill "
                            "job-000001 (owner alice): that needs role "
                            "'admin' or to own the job\n");
}

TEST(MrctlTest, PipelineCheckPrintsTheStepsInRunOrderOrTheError) {
  const std::string dir = ::testing::TempDir();
  const std::string good = dir + "/good.yaml", bad = dir + "/bad.yaml";
  const std::string steps = R"(pipeline: daily
partition: {column: dt, timezone: Europe/Paris}
steps:
  - name: load_it
    load: {input: clean, files: {path: "/w/dt={{dt}}", format: jsonl, mode: overwrite_partition}}
  - name: raw
    extract: {files: "/in/dt={{dt}}/*.jsonl", format: jsonl}
  - name: clean
    validate: {input: raw, schema: {id: int64}, rules: [{not_null: [id]}]}
)";
  std::ofstream(good) << steps;
  std::ofstream(bad) << steps + "  - name: raw\n    extract: {files: x, format: csv}\n";
  const std::string tab = dir + "/tab.yaml";
  std::ofstream(tab) << "pipeline: \"dai\\tly\"" << steps.substr(steps.find('\n'));
  for (const auto& [file, code, out, err] :
       std::vector<std::tuple<std::string, int, std::string, std::string>>{
           {good, kExitOk,
            "pipeline daily: 3 steps, partition dt (dates in Europe/Paris)\n"
            "  raw      extract\n"
            "  clean    validate   after raw\n"
            "  load_it  load       after clean\n",
            ""},
           {bad, kExitUsage, "",
            "mrctl: " + bad + ":10:11: step 'raw': a second step named 'raw' "
            "(the first is on line 6)\n"},
           {dir + "/none.yaml", kExitUsage, "",
            "mrctl: cannot read pipeline file " + dir +
                "/none.yaml: No such file or directory\n"},
           // Escaped once: a tab in the path shows as \t.
           {dir + "/no\tne.yaml", kExitUsage, "",
            "mrctl: cannot read pipeline file " + dir +
                "/no\\tne.yaml: No such file or directory\n"},
           {tab, kExitUsage, "",
            "mrctl: " + tab + ":1:11: pipeline 'dai\\tly' must be letters, "
            "digits and '_', not starting with a digit, at most 63\n"}}) {
    absl::StatusOr<CommandLine> cl =
        ParseCommandLine({"pipeline", "check", file}, nullptr, "/cwd");
    ASSERT_TRUE(cl.ok()) << cl.status();
    std::ostringstream o, e;
    Mrctl mrctl(nullptr, &o, &e, MrctlOptions());
    EXPECT_EQ(mrctl.Run(*cl), code) << file;
    EXPECT_EQ(o.str(), out);
    EXPECT_EQ(e.str(), err);
  }
}

}  // namespace
}  // namespace client_internal
}  // namespace mr
