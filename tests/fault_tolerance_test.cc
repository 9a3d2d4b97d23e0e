// Fault tolerance with real processes and real signals: a worker SIGKILLed
// in the middle of the map phase or of the reduce phase costs time, never
// the job or a byte of its output; a worker killed and restarted rejoins as
// a new worker and runs the next job.
//
// The map-phase test also prints the "recovery" figures: the job's duration
// without a kill, and the time from the kill to the job's completion.
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/proto_maps.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

constexpr absl::Duration kJobTimeout = absl::Seconds(150);

std::string DataGlob() { return DataDir() + "/pg-*.txt"; }

ExternalMiniClusterOptions FastHeartbeats() {
  ExternalMiniClusterOptions opts;
  opts.num_workers = 2;
  opts.heartbeat_interval_ms = 200;
  opts.heartbeat_timeout_ms = 2000;
  return opts;
}

// Index of the worker whose pid is `pid`, or -1.
int WorkerIndexByPid(ExternalMiniCluster& cluster, int64_t pid) {
  for (int i = 0; i < cluster.num_workers(); ++i) {
    if (cluster.worker(i)->pid() == pid) return i;
  }
  return -1;
}

class FaultToleranceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
    ASSERT_TRUE(expected.ok()) << expected.status();
    expected_ = *expected;
  }

  // Polls the job as fast as the master answers until `ready(status)` holds;
  // that status. Fails (returning the last status) when the job leaves
  // JOB_RUNNING first or after `timeout`.
  template <typename Pred>
  absl::StatusOr<mrpb::JobStatus> PollUntil(ExternalMiniCluster& cluster,
                                            const std::string& job,
                                            Pred ready,
                                            absl::Duration timeout) {
    const absl::Time end = absl::Now() + timeout;
    while (true) {
      absl::StatusOr<mrpb::JobStatus> s = cluster.GetJobStatus(job);
      if (!s.ok()) return s.status();
      if (ready(*s)) return *s;
      if (s->state() != mrpb::JOB_RUNNING) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the job ended (", mrpb::JobState_Name(s->state()),
            ") before the moment to kill came: maps ", s->maps_done(), "/",
            s->maps_total(), " reduces ", s->reduces_done(), "/",
            s->reduces_total()));
      }
      if (absl::Now() >= end) {
        return absl::DeadlineExceededError(absl::StrCat(
            "still waiting for the moment to kill: maps ", s->maps_done(), "/",
            s->maps_total(), " reduces ", s->reduces_done(), "/",
            s->reduces_total()));
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  // Waits for `job`, then checks it succeeded with `reduces` part files that
  // equal the word count reference.
  void ExpectSucceededWithReference(ExternalMiniCluster& cluster,
                                    const std::string& job,
                                    const std::string& out, int reduces,
                                    mrpb::JobStatus* final_status) {
    absl::StatusOr<mrpb::JobStatus> s = cluster.WaitForJob(job, kJobTimeout);
    ASSERT_TRUE(s.ok()) << s.status() << "\n" << cluster.LogTails(60);
    *final_status = *s;
    ASSERT_EQ(s->state(), mrpb::JOB_SUCCEEDED)
        << s->error() << "\n" << cluster.LogTails(60);
    EXPECT_EQ(s->maps_done(), s->maps_total());
    EXPECT_EQ(s->reduces_done(), static_cast<uint32_t>(reduces));
    EXPECT_EQ(JobCounter(*s, "reduce output records"), 22107);
    JobOutputOptions opts;
    opts.expected_parts = reduces;
    absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
    ASSERT_TRUE(got.ok()) << got.status() << "; the output directory holds:\n"
                          << DescribeTree(out);
    EXPECT_EQ(CountLines(*got), 22107u);
    EXPECT_TRUE(*got == expected_)
        << "output differs from the word count reference; first lines:\n"
        << got->substr(0, 200);
  }

  std::string expected_;
};

TEST_F(FaultToleranceTest, WorkerKilledDuringMapPhase) {
  ExternalMiniCluster cluster(FastHeartbeats());
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  // 3301104 / 200000: 17 maps; 4 reduces (the default).
  const std::vector<std::string> job_args = {
      "--app", "wordcount", "--input", DataGlob(), "--split-size", "200000"};

  // The same job undisturbed, for the baseline duration.
  const std::string base_out = cluster.PathUnderRoot("baseline-out");
  std::vector<std::string> args = job_args;
  args.insert(args.end(), {"--output", base_out});
  absl::StatusOr<std::string> base_job = cluster.SubmitJob(args);
  ASSERT_TRUE(base_job.ok()) << base_job.status();
  mrpb::JobStatus base_status;
  ExpectSucceededWithReference(cluster, *base_job, base_out, 4, &base_status);
  if (HasFatalFailure()) return;
  ASSERT_EQ(base_status.maps_total(), 17u);

  const std::string out = cluster.PathUnderRoot("wc-out");
  args = job_args;
  args.insert(args.end(), {"--output", out});
  absl::StatusOr<std::string> job = cluster.SubmitJob(args);
  ASSERT_TRUE(job.ok()) << job.status();
  absl::StatusOr<mrpb::JobStatus> at_kill = PollUntil(
      cluster, *job,
      [](const mrpb::JobStatus& s) {
        return s.maps_done() >= 2 && s.maps_done() < s.maps_total();
      },
      absl::Seconds(60));
  ASSERT_TRUE(at_kill.ok()) << at_kill.status();
  const pid_t victim_pid = cluster.worker(0)->pid();
  const absl::Time kill_time = absl::Now();
  absl::Status k = cluster.worker(0)->Kill();
  ASSERT_TRUE(k.ok()) << k;

  mrpb::JobStatus final_status;
  ExpectSucceededWithReference(cluster, *job, out, 4, &final_status);
  if (HasFatalFailure()) return;

  const int64_t base_ms =
      base_status.finish_time_ms() - base_status.submit_time_ms();
  const int64_t job_ms =
      final_status.finish_time_ms() - final_status.submit_time_ms();
  const int64_t recovery_ms =
      final_status.finish_time_ms() - absl::ToUnixMillis(kill_time);
  std::cout << "recovery: job without a kill " << base_ms
            << " ms; with worker 0 (pid " << victim_pid << ") SIGKILLed at maps "
            << at_kill->maps_done() << "/" << at_kill->maps_total() << ": "
            << job_ms << " ms, of which kill -> job done " << recovery_ms
            << " ms (heartbeat timeout 2000 ms)" << std::endl;

  // The killed worker stays dead and the master forgets it.
  EXPECT_FALSE(cluster.worker(0)->IsRunning());
  absl::Status one = cluster.WaitForWorkerCount(1, absl::Seconds(15));
  EXPECT_TRUE(one.ok()) << one;
}

TEST_F(FaultToleranceTest, WorkerKilledDuringReducePhase) {
  ExternalMiniCluster cluster(FastHeartbeats());
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  // The crash app with no crash, every attempt sleeping 0-4 s at its first
  // call: word count output, with reduces slow enough to be caught running.
  // 8 maps over both workers, 4 reduces.
  const std::string out = cluster.PathUnderRoot("slow-out");
  absl::StatusOr<std::string> job = cluster.SubmitJob(
      {"--app", "crash", "--input", DataGlob(), "--output", out,
       "--split-size", "412638", "--reduces", "4", "--param",
       "crash_probability=0", "--param", "sleep_probability=1", "--param",
       "max_sleep_ms=4000"});
  ASSERT_TRUE(job.ok()) << job.status();
  absl::StatusOr<mrpb::JobStatus> at_kill = PollUntil(
      cluster, *job,
      [](const mrpb::JobStatus& s) {
        return s.maps_total() > 0 && s.maps_done() == s.maps_total() &&
               s.reduces_done() < s.reduces_total();
      },
      absl::Seconds(90));
  ASSERT_TRUE(at_kill.ok()) << at_kill.status();

  // Kill a worker that runs reduce attempts now (both hold map outputs);
  // worker 0 when the master's view does not say.
  int victim = 0;
  absl::StatusOr<mrpb::ListWorkersResponse> workers = cluster.ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  for (const mrpb::WorkerInfo& w : workers->workers()) {
    const int i = WorkerIndexByPid(cluster, w.pid());
    if (i >= 0 && w.running_tasks() > 0) {
      victim = i;
      break;
    }
  }
  const absl::Time kill_time = absl::Now();
  absl::Status k = cluster.worker(victim)->Kill();
  ASSERT_TRUE(k.ok()) << k;

  mrpb::JobStatus final_status;
  ExpectSucceededWithReference(cluster, *job, out, 4, &final_status);
  if (HasFatalFailure()) return;
  std::cout << "reduce-phase kill: worker " << victim << " SIGKILLed at reduces "
            << at_kill->reduces_done() << "/" << at_kill->reduces_total()
            << " (" << at_kill->reduces_running() << " running); kill -> job "
            << "done " << final_status.finish_time_ms() - absl::ToUnixMillis(kill_time)
            << " ms; job " << final_status.finish_time_ms() -
                                  final_status.submit_time_ms()
            << " ms" << std::endl;
  EXPECT_FALSE(cluster.worker(victim)->IsRunning());
}

TEST_F(FaultToleranceTest, RestartedWorkerRejoinsAsNewWorker) {
  ExternalMiniCluster cluster(FastHeartbeats());
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;

  absl::StatusOr<mrpb::ListWorkersResponse> before = cluster.ListWorkers();
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->workers_size(), 2);
  std::string old_id;
  for (const mrpb::WorkerInfo& w : before->workers()) {
    if (w.pid() == cluster.worker(0)->pid()) old_id = w.worker_id();
  }
  ASSERT_FALSE(old_id.empty()) << "no listed worker has worker 0's pid "
                               << cluster.worker(0)->pid();

  absl::Status k = cluster.worker(0)->Kill();
  ASSERT_TRUE(k.ok()) << k;
  absl::Status r = cluster.worker(0)->Restart();
  ASSERT_TRUE(r.ok()) << r;
  const int64_t new_pid = cluster.worker(0)->pid();

  // Until the master lists exactly two workers: the restarted one (its new
  // pid) and worker 1, and no longer the old id.
  std::string new_id;
  absl::StatusOr<mrpb::ListWorkersResponse> now;
  const absl::Time end = absl::Now() + absl::Seconds(20);
  while (absl::Now() < end) {
    now = cluster.ListWorkers();
    ASSERT_TRUE(now.ok()) << now.status();
    bool old_listed = false;
    new_id.clear();
    for (const mrpb::WorkerInfo& w : now->workers()) {
      if (w.worker_id() == old_id) old_listed = true;
      if (w.pid() == new_pid) new_id = w.worker_id();
    }
    if (!new_id.empty() && !old_listed && now->workers_size() == 2) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_FALSE(new_id.empty()) << "the restarted worker (pid " << new_pid
                               << ") never registered; listed: "
                               << now->DebugString();
  EXPECT_NE(new_id, old_id);
  ASSERT_EQ(now->workers_size(), 2) << now->DebugString();
  for (const mrpb::WorkerInfo& w : now->workers()) {
    EXPECT_NE(w.worker_id(), old_id) << now->DebugString();
  }
  std::cout << "worker 0 was " << old_id << ", rejoined as " << new_id
            << std::endl;

  // And the next job runs on the cluster as it is now.
  const std::string out = cluster.PathUnderRoot("after-restart-out");
  absl::StatusOr<std::string> job = cluster.SubmitJob(
      {"--app", "wordcount", "--input", DataGlob(), "--output", out,
       "--split-size", "412638", "--reduces", "3"});
  ASSERT_TRUE(job.ok()) << job.status();
  mrpb::JobStatus final_status;
  ExpectSucceededWithReference(cluster, *job, out, 3, &final_status);
}

}  // namespace
}  // namespace test
}  // namespace mr
