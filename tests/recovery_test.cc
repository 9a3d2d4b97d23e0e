// Failures the engine recovers from without losing or doubling a record:
// corrupt shuffle data (in transit and on disk), a straggling worker (SIGSTOP)
// beaten by a backup attempt, and a master killed and restarted mid-job.
// Each job's output must equal the single-process reference exactly.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/file_util.h"
#include "common/proto_maps.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;

// Name, size and mtime of every file under `dir`.
std::map<std::string, std::pair<uint64_t, int64_t>> Snapshot(
    const std::string& dir) {
  std::map<std::string, std::pair<uint64_t, int64_t>> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    struct stat st;
    if (stat(e.path().c_str(), &st) == 0) {
      out[e.path().string()] = {static_cast<uint64_t>(st.st_size),
                                static_cast<int64_t>(st.st_mtim.tv_sec) *
                                        1000000000 +
                                    st.st_mtim.tv_nsec};
    }
  }
  return out;
}

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto expected = ExpectedWordCountOfBooks();
    ASSERT_TRUE(expected.ok()) << expected.status();
    expected_ = *expected;
  }

  // Starts `cluster`, runs word count over the books with 8 maps and
  // 4 reduces, and checks the output equals the reference.
  void RunWordCountAndCheck(ExternalMiniCluster& cluster,
                            const std::string& name) {
    const std::string out = cluster.PathUnderRoot(name);
    auto r = cluster.RunMrctl({"submit", "--app", "wordcount", "--input",
                               DataDir() + "/pg-*.txt", "--output", out,
                               "--split-size", "412638", "--reduces", "4",
                               "--wait"});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << r->out << r->err << cluster.LogTails();
    auto got = ReadJobOutput(out);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, expected_);
  }

  std::string expected_;
};

std::string ReadLog(const ExternalDaemon* d) {
  return ReadFileToString(d->log_path()).value_or("");
}

TEST_F(RecoveryTest, CorruptBatchesInTransitAreFetchedAgain) {
  ExternalMiniClusterOptions options;
  options.extra_worker_flags = {"--inject_corrupt_shuffle_batches=2"};
  ExternalMiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  RunWordCountAndCheck(cluster, "out");
  // The reducers saw the corruption (and never merged it).
  const std::string logs = ReadLog(cluster.worker(0)) + ReadLog(cluster.worker(1));
  EXPECT_THAT(logs, HasSubstr("fails its checksum"));
}

TEST_F(RecoveryTest, CorruptStoredMapOutputIsRecomputed) {
  ExternalMiniClusterOptions options;
  options.extra_worker_flags = {"--inject_corrupt_stored_outputs=1"};
  ExternalMiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  RunWordCountAndCheck(cluster, "out");
  EXPECT_THAT(ReadLog(cluster.worker(0)) + ReadLog(cluster.worker(1)),
              HasSubstr("injected corruption into its stored output"));
  // Re-fetching cannot help a corrupt stored run: the map ran again.
  EXPECT_THAT(ReadLog(cluster.master()), HasSubstr("re-running the map"));
}

TEST_F(RecoveryTest, BackupAttemptBeatsAPausedWorker) {
  ExternalMiniClusterOptions options;
  options.slots_per_worker = 1;
  // Far beyond the test's length: only a backup attempt (and the reducers'
  // fetch-failure reports) can finish this job.
  options.heartbeat_interval_ms = 200;
  options.heartbeat_timeout_ms = 120000;
  ExternalMiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  const std::string out = cluster.PathUnderRoot("out");
  auto job = cluster.SubmitJob({"--app", "wordcount", "--input",
                                DataDir() + "/pg-*.txt", "--output", out,
                                "--split-size", "412638", "--reduces", "2"});
  ASSERT_TRUE(job.ok()) << job.status();

  // Pause worker 0 as soon as it has started a map of the job.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  bool paused = false;
  while (!paused && absl::Now() < give_up) {
    for (const TaskLogEvent& e : ParseTaskLogEvents(ReadLog(cluster.worker(0)))) {
      if (e.job_id == *job && e.kind == "MAP" && e.started) paused = true;
    }
    if (paused) {
      ASSERT_TRUE(cluster.worker(0)->Pause().ok());
    } else {
      absl::SleepFor(absl::Milliseconds(2));
    }
  }
  ASSERT_TRUE(paused) << "worker 0 never started a map";

  const absl::Time paused_at = absl::Now();
  auto status = cluster.WaitForJob(*job, absl::Seconds(90));
  ASSERT_TRUE(status.ok()) << status.status() << cluster.LogTails();
  ASSERT_EQ(status->state(), mrpb::JOB_SUCCEEDED) << status->error();
  EXPECT_LT(absl::Now() - paused_at, absl::Seconds(60));
  EXPECT_THAT(ReadLog(cluster.master()), HasSubstr("backup attempt"));
  // Counters count committed attempts only: every input line once.
  EXPECT_EQ(CountersFromProto(status->counters()).at("map input records"), 66602);
  auto got = ReadJobOutput(out);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, expected_);

  // Woken up, the stale attempt finishes and reports: it changes nothing.
  const auto before = Snapshot(out);
  ASSERT_TRUE(cluster.worker(0)->Resume().ok());
  absl::Status ended = WaitForAttemptsToEnd(*cluster.worker(0));
  ASSERT_TRUE(ended.ok()) << ended;
  EXPECT_EQ(Snapshot(out), before);
  auto after = cluster.GetJobStatus(*job);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(CountersFromProto(after->counters()).at("map input records"), 66602);
}

TEST_F(RecoveryTest, MasterKilledMidJobResumesAfterRestart) {
  ExternalMiniClusterOptions options;
  options.slots_per_worker = 1;
  options.heartbeat_interval_ms = 200;
  options.heartbeat_timeout_ms = 2000;
  ExternalMiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  const std::string out = cluster.PathUnderRoot("out");

  // A client waits on the job the whole time.
  absl::StatusOr<CommandResult> waited;
  std::thread client([&] {
    waited = cluster.RunMrctl({"submit", "--app", "wordcount", "--input",
                               DataDir() + "/pg-*.txt", "--output", out,
                               "--split-size", "65536", "--reduces", "4",
                               "--wait"});
  });
  // Kill the master once some maps are done but not all.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  bool killed = false;
  while (!killed && absl::Now() < give_up) {
    auto s = cluster.GetJobStatus("job-000001");
    if (s.ok() && s->maps_done() >= 5 && s->maps_done() < s->maps_total()) {
      ASSERT_TRUE(cluster.master()->Kill().ok());
      killed = true;
    } else {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  ASSERT_TRUE(killed) << "no moment with some maps done";
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_TRUE(cluster.master()->Restart().ok());
  client.join();

  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(waited->exit_code, 0) << waited->out << waited->err
                                  << cluster.LogTails();
  EXPECT_THAT(waited->out, HasSubstr("job job-000001 succeeded"));
  auto got = ReadJobOutput(out);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, expected_);
  const std::string master_log = ReadLog(cluster.master());
  EXPECT_THAT(master_log, HasSubstr("restored job-000001 (JOB_RUNNING)"));
  // Workers came back with what they held, and it was reused.
  EXPECT_THAT(master_log, ::testing::ContainsRegex("holding [1-9][0-9]* map outputs"));
  auto status = cluster.GetJobStatus("job-000001");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(CountersFromProto(status->counters()).at("map input records"), 66602);

  // And a restarted master still reports the job after another restart.
  ASSERT_TRUE(cluster.master()->Restart().ok());
  // (The client's channel may still be backing off from the kill.)
  absl::StatusOr<mrpb::JobStatus> again;
  for (int i = 0; i < 100; ++i) {
    again = cluster.GetJobStatus("job-000001");
    if (again.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->state(), mrpb::JOB_SUCCEEDED);
}

}  // namespace
}  // namespace test
}  // namespace mr
