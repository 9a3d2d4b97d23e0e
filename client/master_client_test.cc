#include "client/master_client.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/internal/fake_master.h"
#include "common/file_util.h"

namespace mr {
namespace {

using client_internal::FakeMaster;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string TempDir() {
  std::string tmpl = ::testing::TempDir() + "/mr_client_test.XXXXXX";
  char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

FakeMaster::StatusAnswer Answer(mrpb::JobState state, uint32_t maps_done) {
  FakeMaster::StatusAnswer a;
  a.response.set_found(true);
  a.response.mutable_status()->set_job_id("job-000001");
  a.response.mutable_status()->set_state(state);
  a.response.mutable_status()->set_maps_done(maps_done);
  a.response.mutable_status()->set_maps_total(2);
  return a;
}

FakeMaster::StatusAnswer Down() {
  FakeMaster::StatusAnswer a;
  a.error = grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting");
  return a;
}

// Options whose clock only moves when WaitForJob sleeps; records the sleeps.
struct FakeTime {
  ManualClock clock;
  std::vector<int64_t> sleeps_ms;
  MasterClientOptions Options() {
    MasterClientOptions o;
    o.clock = &clock;
    o.sleep = [this](absl::Duration d) {
      sleeps_ms.push_back(absl::ToInt64Milliseconds(d));
      clock.Advance(absl::ToInt64Milliseconds(d));
    };
    return o;
  }
};

TEST(MasterClientTest, SubmitShipsPluginWithItsBaseName) {
  FakeMaster master;
  mrpb::SubmitJobResponse canned;
  canned.set_job_id("job-000003");
  canned.set_num_maps(5);
  master.set_submit_response(canned);

  const std::string dir = TempDir();
  const std::string plugin = dir + "/libmyjob.so";
  // Bigger than gRPC's 4 MiB default message limit.
  const std::string bytes(6 << 20, 'p');
  ASSERT_TRUE(WriteFileAtomically(plugin, bytes).ok());

  MasterClient client(master.address());
  mrpb::JobSpec spec;
  spec.add_inputs("/in/a.txt");
  spec.set_output_dir("/out");
  absl::StatusOr<mrpb::SubmitJobResponse> r = client.Submit(spec, plugin);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->job_id(), "job-000003");
  EXPECT_EQ(r->num_maps(), 5u);
  const mrpb::SubmitJobRequest sent = master.last_submit();
  EXPECT_EQ(sent.spec().plugin_name(), "libmyjob.so");
  EXPECT_EQ(sent.spec().output_dir(), "/out");
  EXPECT_EQ(sent.plugin().size(), bytes.size());
  EXPECT_TRUE(sent.plugin() == bytes);
  ASSERT_TRUE(RemoveAll(dir).ok());
}

TEST(MasterClientTest, SubmitWithoutPluginSendsNoBytes) {
  FakeMaster master;
  MasterClient client(master.address());
  mrpb::JobSpec spec;
  spec.set_app("wordcount");
  ASSERT_TRUE(client.Submit(spec, "").ok());
  EXPECT_EQ(master.last_submit().spec().app(), "wordcount");
  EXPECT_EQ(master.last_submit().spec().plugin_name(), "");
  EXPECT_EQ(master.last_submit().plugin(), "");
}

TEST(MasterClientTest, SubmitMissingOrUnreadablePlugin) {
  FakeMaster master;
  MasterClient client(master.address());
  const std::string dir = TempDir();

  absl::StatusOr<mrpb::SubmitJobResponse> r =
      client.Submit(mrpb::JobSpec(), dir + "/nope.so");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr(dir + "/nope.so"));

  r = client.Submit(mrpb::JobSpec(), dir);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            absl::StrCat("plugin ", dir, " is not a regular file"));

  if (geteuid() != 0) {  // root reads anything
    const std::string locked = dir + "/locked.so";
    ASSERT_TRUE(WriteFileAtomically(locked, "x").ok());
    ASSERT_EQ(chmod(locked.c_str(), 0), 0);
    r = client.Submit(mrpb::JobSpec(), locked);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(locked));
  }
  EXPECT_EQ(master.last_submit().ByteSizeLong(), 0u);  // nothing was sent
  ASSERT_TRUE(RemoveAll(dir).ok());
}

TEST(MasterClientTest, UnreachableMasterFailsFastWithContext) {
  std::string address;
  {
    FakeMaster gone;  // a port nobody listens on once it shuts down
    address = gone.address();
  }
  MasterClient client(address);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<mrpb::ListJobsResponse> r = client.ListJobs();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()),
              StartsWith(absl::StrCat("master ", address, ": ")));
  EXPECT_TRUE(MasterClient::IsUnreachable(r.status()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(MasterClientTest, SimpleRpcsReturnResponses) {
  FakeMaster master;
  mrpb::ListJobsResponse jobs;
  jobs.add_jobs()->set_job_id("job-000001");
  master.set_list_jobs_response(jobs);
  mrpb::KillJobResponse kill;
  kill.set_error(mrpb::KillJobResponse::ALREADY_FINISHED);
  master.set_kill_response(kill);
  mrpb::ListWorkersResponse workers;
  workers.add_workers()->set_worker_id("worker-1");
  master.set_list_workers_response(workers);

  MasterClient client(master.address());
  absl::StatusOr<mrpb::ListJobsResponse> j = client.ListJobs();
  ASSERT_TRUE(j.ok()) << j.status();
  ASSERT_EQ(j->jobs_size(), 1);
  EXPECT_EQ(j->jobs(0).job_id(), "job-000001");
  absl::StatusOr<mrpb::KillJobResponse> k = client.KillJob("job-000001");
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->error(), mrpb::KillJobResponse::ALREADY_FINISHED);
  absl::StatusOr<mrpb::ListWorkersResponse> w = client.ListWorkers();
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->workers_size(), 1);
  absl::StatusOr<mrpb::GetJobStatusResponse> s = client.GetJobStatus("job-9");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->found());
}

TEST(MasterClientTest, WaitForJobPollsUntilTerminalAndRidesOutRestarts) {
  FakeMaster master;
  master.AddStatusAnswer(Down());
  master.AddStatusAnswer(Down());
  master.AddStatusAnswer(Answer(mrpb::JOB_RUNNING, 1));
  master.AddStatusAnswer(Down());
  master.AddStatusAnswer(Answer(mrpb::JOB_RUNNING, 2));
  master.AddStatusAnswer(Answer(mrpb::JOB_SUCCEEDED, 2));
  FakeTime time;
  MasterClient client(master.address(), time.Options());

  std::vector<std::string> seen;
  absl::StatusOr<mrpb::JobStatus> done = client.WaitForJob(
      "job-000001", absl::Milliseconds(250), [&](const mrpb::JobStatus& s) {
        seen.push_back(absl::StrCat(mrpb::JobState_Name(s.state()), " ",
                                    s.maps_done()));
      });
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), mrpb::JOB_SUCCEEDED);
  EXPECT_EQ(seen, (std::vector<std::string>{"JOB_RUNNING 1", "JOB_RUNNING 2",
                                            "JOB_SUCCEEDED 2"}));
  // Backoff 200, 400; a poll; the backoff starts over after a success.
  EXPECT_EQ(time.sleeps_ms, (std::vector<int64_t>{200, 400, 250, 200, 250}));
  EXPECT_EQ(master.status_calls(), 6);
}

TEST(MasterClientTest, WaitForJobReturnsFailedJobAsResult) {
  FakeMaster master;
  FakeMaster::StatusAnswer failed = Answer(mrpb::JOB_FAILED, 1);
  failed.response.mutable_status()->set_error("map 1 failed 4 attempts");
  master.AddStatusAnswer(failed);
  FakeTime time;
  MasterClient client(master.address(), time.Options());
  absl::StatusOr<mrpb::JobStatus> done =
      client.WaitForJob("job-000001", absl::Milliseconds(250), nullptr);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), mrpb::JOB_FAILED);
  EXPECT_EQ(done->error(), "map 1 failed 4 attempts");
  EXPECT_TRUE(time.sleeps_ms.empty());
}

TEST(MasterClientTest, WaitForJobGivesUpAfterTheLimit) {
  FakeMaster master;
  master.AddStatusAnswer(Down());
  FakeTime time;
  MasterClientOptions options = time.Options();
  options.unreachable_limit = absl::Seconds(10);
  MasterClient client(master.address(), options);
  absl::StatusOr<mrpb::JobStatus> done =
      client.WaitForJob("job-000001", absl::Milliseconds(250), nullptr);
  EXPECT_EQ(done.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(done.status().message(),
            absl::StrCat("master ", master.address(),
                         ": restarting (unreachable for 10.0 s, gave up)"));
  EXPECT_EQ(time.sleeps_ms,
            (std::vector<int64_t>{200, 400, 800, 1600, 3200, 3800}));
  EXPECT_EQ(master.status_calls(), 7);
}

TEST(MasterClientTest, WaitForJobBackoffCapsAtFiveSeconds) {
  FakeMaster master;
  master.AddStatusAnswer(Down());
  FakeTime time;
  MasterClient client(master.address(), time.Options());  // 120 s limit
  absl::StatusOr<mrpb::JobStatus> done =
      client.WaitForJob("job-000001", absl::Milliseconds(250), nullptr);
  EXPECT_EQ(done.status().code(), absl::StatusCode::kUnavailable);
  int64_t total = 0;
  for (int64_t s : time.sleeps_ms) {
    EXPECT_LE(s, 5000);
    total += s;
  }
  EXPECT_EQ(total, 120000);
  ASSERT_GE(time.sleeps_ms.size(), 7u);
  EXPECT_EQ(time.sleeps_ms[5], 5000);
}

TEST(MasterClientTest, WaitForUnknownJobIsNotFound) {
  FakeMaster master;  // no answers: found = false
  FakeTime time;
  MasterClient client(master.address(), time.Options());
  absl::StatusOr<mrpb::JobStatus> done =
      client.WaitForJob("job-000042", absl::Milliseconds(250), nullptr);
  EXPECT_EQ(done.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(done.status().message(),
            absl::StrCat("master ", master.address(), ": no job job-000042"));
}

TEST(MasterClientTest, WaitForJobStopsAtOtherErrors) {
  FakeMaster master;
  FakeMaster::StatusAnswer bad;
  bad.error = grpc::Status(grpc::StatusCode::INTERNAL, "boom");
  master.AddStatusAnswer(bad);
  FakeTime time;
  MasterClient client(master.address(), time.Options());
  absl::StatusOr<mrpb::JobStatus> done =
      client.WaitForJob("job-000001", absl::Milliseconds(250), nullptr);
  EXPECT_EQ(done.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(master.status_calls(), 1);
}

}  // namespace
}  // namespace mr
