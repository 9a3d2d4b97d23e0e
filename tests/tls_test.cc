// TLS on every channel (client -> master, worker -> master, worker ->
// worker), mutual TLS between the daemons, the gRPC health service, and the
// worker's graceful drain on SIGTERM: real master and worker processes.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/health.h"
#include "common/tls.h"
#include "gtest/gtest.h"
#include "proto/shuffle.grpc.pb.h"
#include "proto/worker.grpc.pb.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

std::string DataGlob() { return DataDir() + "/pg-*.txt"; }

// Credentials from the PEM files in `dir` (as MakeDevCertificates makes
// them): the CA only, or the CA and the daemon certificate.
std::shared_ptr<grpc::ChannelCredentials> Credentials(const std::string& dir,
                                                      bool with_certificate,
                                                      const std::string& ca_dir = "") {
  TlsFiles files;
  files.ca_file = (ca_dir.empty() ? dir : ca_dir) + "/ca.crt";
  if (with_certificate) {
    files.cert_file = dir + "/daemon.crt";
    files.key_file = dir + "/daemon.key";
  }
  absl::StatusOr<TlsConfig> tls = TlsConfig::Load(files, with_certificate);
  EXPECT_TRUE(tls.ok()) << tls.status();
  return tls.value_or(TlsConfig()).ChannelCredentials();
}

// Submits word count over the books and checks the output byte for byte.
void RunWordCount(ExternalMiniCluster& cluster, const std::string& name) {
  const std::string out = cluster.PathUnderRoot(name);
  absl::StatusOr<CommandResult> r = cluster.RunMrctl(
      {"submit", "--app", "wordcount", "--input", DataGlob(), "--output", out,
       "--reduces", "3", "--wait", "--json"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->err << cluster.LogTails();
  absl::StatusOr<mrpb::JobStatus> status = ParseJobStatusJson(r->out);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
  EXPECT_GT(JobCounter(*status, "shuffle bytes"), 0);
  absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
  ASSERT_TRUE(expected.ok()) << expected.status();
  JobOutputOptions opts;
  opts.expected_parts = 3;
  absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == *expected) << "output differs from the reference";
}

std::string ReadLog(const ExternalDaemon& d) {
  return ReadFileToString(d.log_path()).value_or("");
}

ExternalMiniClusterOptions TlsCluster() {
  ExternalMiniClusterOptions opts;
  opts.tls = true;
  opts.heartbeat_interval_ms = 200;
  opts.heartbeat_timeout_ms = 2000;
  return opts;
}

TEST(TlsTest, WordCountOverMutualTls) {
  ExternalMiniCluster cluster(TlsCluster());
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  RunWordCount(cluster, "out");
  // Every daemon says what it runs; none runs in the clear.
  for (ExternalDaemon* d :
       {cluster.master(), cluster.worker(0), cluster.worker(1)}) {
    const std::string log = ReadLog(*d);
    EXPECT_TRUE(absl::StrContains(log, "(TLS (mutual))")) << d->name();
    EXPECT_FALSE(absl::StrContains(log, "WITHOUT TLS")) << d->name();
  }
}

TEST(TlsTest, PlaintextClusterSaysSoLoudly) {
  ExternalMiniCluster cluster;
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_TRUE(absl::StrContains(ReadLog(*cluster.master()),
                                "the master runs WITHOUT TLS"));
  EXPECT_TRUE(absl::StrContains(ReadLog(*cluster.worker(0)),
                                "the worker runs WITHOUT TLS"));
}

TEST(TlsTest, ClientWithoutTheCaIsRefused) {
  ExternalMiniCluster cluster(TlsCluster());
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  // mrctl in plaintext against the TLS master.
  absl::StatusOr<CommandResult> r = RunCommand(
      {BinDir() + "/mrctl", "--master", cluster.master()->address(), "workers"},
      absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 3) << r->err;
  EXPECT_TRUE(absl::StrContains(r->err, "if the master uses TLS, give --tls_ca"))
      << r->err;
  // A client trusting another CA does not trust the master.
  const std::string rogue = cluster.PathUnderRoot("rogue");
  ASSERT_TRUE(MakeDevCertificates(rogue, {}).ok());
  r = RunCommand({BinDir() + "/mrctl", "--master", cluster.master()->address(),
                  "--tls_ca", rogue + "/ca.crt", "workers"},
                 absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 3) << r->err;
}

// Only holders of the cluster's certificate register as workers, take
// tasks, download plugins or fetch shuffle data; the cluster keeps serving.
TEST(TlsTest, PeersWithoutTheClusterCertificateAreRefused) {
  ExternalMiniCluster cluster(TlsCluster());
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  const std::string tls = cluster.PathUnderRoot("tls");
  const std::string rogue = cluster.PathUnderRoot("rogue");
  ASSERT_TRUE(MakeDevCertificates(rogue, {}).ok());

  // TLS with the right CA, but no certificate: the master answers, and
  // refuses every worker RPC.
  auto master = mrpb::MasterWorkerService::NewStub(grpc::CreateChannel(
      cluster.master()->address(), Credentials(tls, false)));
  {
    grpc::ClientContext ctx;
    mrpb::RegisterWorkerRequest req;
    req.set_address("127.0.0.1:1");
    req.set_slots(4);
    mrpb::RegisterWorkerResponse resp;
    grpc::Status s = master->RegisterWorker(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_TRUE(absl::StartsWith(
        s.error_message(),
        "registering as a worker needs the cluster's certificate (mutual "
        "TLS); "))
        << s.error_message();
  }
  {
    grpc::ClientContext ctx;
    mrpb::HeartbeatRequest req;
    req.set_worker_id("w0001");
    mrpb::HeartbeatResponse resp;
    grpc::Status s = master->Heartbeat(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    mrpb::GetPluginRequest req;
    mrpb::GetPluginResponse resp;
    grpc::Status s = master->GetPlugin(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // A certificate from another CA does not get past the handshake.
  auto rogue_master = mrpb::MasterWorkerService::NewStub(grpc::CreateChannel(
      cluster.master()->address(), Credentials(rogue, true, tls)));
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    mrpb::RegisterWorkerRequest req;
    req.set_address("127.0.0.1:1");
    req.set_slots(4);
    mrpb::RegisterWorkerResponse resp;
    grpc::Status s = rogue_master->RegisterWorker(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  }

  // The shuffle service requires the certificate at the handshake.
  auto fetch = [&](std::shared_ptr<grpc::ChannelCredentials> creds) {
    auto shuffle = mrpb::Shuffle::NewStub(
        grpc::CreateChannel(cluster.worker(0)->address(), creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    mrpb::FetchRequest req;
    req.set_job_id("job-000001");
    auto reader = shuffle->FetchMapOutput(&ctx, req);
    mrpb::FetchBatch batch;
    while (reader->Read(&batch)) {
    }
    return reader->Finish();
  };
  EXPECT_EQ(fetch(Credentials(tls, false)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(fetch(Credentials(rogue, true, tls)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(fetch(grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // With the cluster's certificate the handshake passes and the service
  // itself answers (it holds no such job).
  const grpc::StatusCode member = fetch(Credentials(tls, true)).error_code();
  EXPECT_NE(member, grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(member, grpc::StatusCode::OK);

  // The cluster's own workers still serve; no stranger was registered.
  absl::StatusOr<mrpb::ListWorkersResponse> workers = cluster.ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  EXPECT_EQ(workers->workers_size(), 2);
  RunWordCount(cluster, "after");
}

TEST(TlsTest, HealthServiceOnMainAndProbePorts) {
  absl::StatusOr<int> master_probe = ReserveLoopbackPort();
  absl::StatusOr<int> worker_probe = ReserveLoopbackPort();
  ASSERT_TRUE(master_probe.ok() && worker_probe.ok());
  ExternalMiniClusterOptions opts = TlsCluster();
  opts.num_workers = 1;
  opts.extra_master_flags = {absl::StrCat("--health_port=", *master_probe)};
  opts.extra_worker_flags = {absl::StrCat("--health_port=", *worker_probe)};
  ExternalMiniCluster cluster(opts);
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  const std::string tls = cluster.PathUnderRoot("tls");

  // Probe ports: plaintext, health only.
  for (int port : {*master_probe, *worker_probe}) {
    absl::StatusOr<bool> serving =
        CheckHealth(absl::StrCat("127.0.0.1:", port),
                    grpc::InsecureChannelCredentials(), absl::Seconds(5));
    ASSERT_TRUE(serving.ok()) << serving.status();
    EXPECT_TRUE(*serving) << port;
  }
  // Main ports, over TLS (the worker's needs the certificate).
  absl::StatusOr<bool> master = CheckHealth(
      cluster.master()->address(), Credentials(tls, false), absl::Seconds(5));
  ASSERT_TRUE(master.ok()) << master.status();
  EXPECT_TRUE(*master);
  absl::StatusOr<bool> worker = CheckHealth(
      cluster.worker(0)->address(), Credentials(tls, true), absl::Seconds(5));
  ASSERT_TRUE(worker.ok()) << worker.status();
  EXPECT_TRUE(*worker);
  // The probe port carries nothing else: no job service there.
  auto probe_master = mrpb::MasterWorkerService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", *master_probe),
      grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  mrpb::GetPluginRequest req;
  mrpb::GetPluginResponse resp;
  EXPECT_EQ(probe_master->GetPlugin(&ctx, req, &resp).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST(TlsTest, WildcardAddressIsNotAdvertised) {
  ExternalMiniCluster cluster;
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  absl::StatusOr<CommandResult> r = RunCommand(
      {BinDir() + "/mr-worker", "--master", cluster.master()->address(),
       "--data_dir", cluster.PathUnderRoot("wildcard"), "--bind_host=0.0.0.0"},
      absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_TRUE(absl::StrContains(
      r->err, "--bind_host=0.0.0.0 listens on every interface, which is no "
              "address peers can reach: give --advertise_host"))
      << r->err;
  r = RunCommand({BinDir() + "/mr-worker", "--master",
                  cluster.master()->address(), "--data_dir",
                  cluster.PathUnderRoot("wildcard"), "--advertise_host=::"},
                 absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_TRUE(absl::StrContains(
      r->err, "--advertise_host=:: is a wildcard address; peers cannot reach it"))
      << r->err;
}

// SIGTERM to a worker in the middle of a job: it takes nothing new, lets
// its attempts finish, keeps serving the map output the job needs, then
// leaves; the job succeeds with the reference output and nothing it did
// is re-run.
TEST(TlsTest, SigtermDrainsTheWorker) {
  ExternalMiniClusterOptions opts = TlsCluster();
  opts.extra_worker_flags = {"--drain_timeout_ms=30000"};
  ExternalMiniCluster cluster(opts);
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  const std::string out = cluster.PathUnderRoot("slow-out");
  // Word count output, every attempt sleeping 0-1.5 s at its first call.
  absl::StatusOr<std::string> job = cluster.SubmitJob(
      {"--app", "crash", "--input", DataGlob(), "--output", out,
       "--split-size", "412638", "--reduces", "4", "--param",
       "crash_probability=0", "--param", "sleep_probability=1", "--param",
       "max_sleep_ms=1500"});
  ASSERT_TRUE(job.ok()) << job.status();
  // Once worker 1 runs something, drain it (SIGTERM to the worker alone,
  // as Kubernetes sends it to the container's PID 1).
  ExternalDaemon* victim = cluster.worker(1);
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (absl::Now() < give_up &&
         !absl::StrContains(ReadLog(*victim), " started at ")) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(absl::StrContains(ReadLog(*victim), " started at "));
  ASSERT_EQ(kill(victim->pid(), SIGTERM), 0);
  const absl::Time term = absl::Now();
  // The drain (up to 30 s) plus the shutdown, with room for a slow
  // sanitized build.
  while (victim->IsRunning() && absl::Now() - term < absl::Seconds(90)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_FALSE(victim->IsRunning()) << victim->LogTail();
  const absl::Duration drain = absl::Now() - term;
  EXPECT_TRUE(WIFEXITED(victim->last_wait_status()) &&
              WEXITSTATUS(victim->last_wait_status()) == 0)
      << victim->last_wait_status();

  absl::StatusOr<mrpb::JobStatus> status =
      cluster.WaitForJob(*job, absl::Seconds(120));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED) << cluster.LogTails();
  absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
  ASSERT_TRUE(expected.ok()) << expected.status();
  JobOutputOptions out_opts;
  out_opts.expected_parts = 4;
  absl::StatusOr<std::string> got = ReadJobOutput(out, out_opts);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == *expected) << "output differs from the reference";

  const std::string log = ReadLog(*victim);
  EXPECT_TRUE(absl::StrContains(log, "SIGTERM: draining, then shutting down"));
  // It finished everything it had started (no attempt killed half-way).
  EXPECT_TRUE(absl::StrContains(
      log, "drained: no attempt runs, no map output is needed"))
      << victim->LogTail(40);
  for (const TaskLogEvent& e : ParseTaskLogEvents(log)) {
    if (!e.started) EXPECT_EQ(e.outcome, "ok") << e.attempt_id;
  }
  EXPECT_TRUE(absl::StrContains(ReadLog(*cluster.master()),
                                "it drained and left the cluster"));
  absl::Status one = cluster.WaitForWorkerCount(1, absl::Seconds(5));
  EXPECT_TRUE(one.ok()) << one;
  std::cout << "drain took " << absl::FormatDuration(drain) << std::endl;
}

}  // namespace
}  // namespace test
}  // namespace mr
