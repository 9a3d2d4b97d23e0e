#include "master/job_tracker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

#include "common/file_util.h"
#include "common/proto_maps.h"
#include "common/output_layout.h"
#include "common/path_policy.h"
#include "master/master_store.h"

namespace mr {
namespace {

class JobTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("job_tracker_test_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(MakeDirs(root_ + "/in").ok());
    ASSERT_TRUE(WriteFileAtomically(root_ + "/in/a.txt", "a b\nc d\n").ok());
    ASSERT_TRUE(WriteFileAtomically(root_ + "/in/b.txt", "e f\n").ok());
    options_.state_dir = root_ + "/state";
    options_.clock = &clock_;
    options_.heartbeat_timeout_ms = 5000;
    plugins_ = std::make_unique<PluginStore>(root_ + "/state/plugins");
    ASSERT_TRUE(plugins_->Init().ok());
    tracker_ = std::make_unique<JobTracker>(options_, plugins_.get(), nullptr);
  }
  void TearDown() override { RemoveAll(root_).IgnoreError(); }

  std::string RegisterWorker(const std::string& address, uint32_t slots) {
    mrpb::RegisterWorkerRequest r;
    r.set_address(address);
    r.set_slots(slots);
    return tracker_->Register(r).worker_id();
  }

  mrpb::SubmitJobResponse Submit(uint64_t split_size, uint32_t reduces,
                                 bool overwrite = false) {
    mrpb::SubmitJobRequest req;
    req.mutable_spec()->set_app("wordcount");
    req.mutable_spec()->add_inputs(root_ + "/in/*.txt");
    req.mutable_spec()->set_output_dir(root_ + "/out");
    req.mutable_spec()->set_split_size(split_size);
    req.mutable_spec()->set_num_reduces(reduces);
    req.mutable_spec()->set_overwrite(overwrite);
    return tracker_->Submit(req);
  }

  // Like a worker: reports what ended, lists what runs.
  mrpb::HeartbeatResponse Beat(const std::string& worker, uint32_t free_slots,
                               std::vector<mrpb::TaskReport> reports = {},
                               std::vector<uint64_t> running = {}) {
    mrpb::HeartbeatRequest req;
    req.set_worker_id(worker);
    req.set_free_slots(free_slots);
    for (auto& r : reports) *req.add_reports() = r;
    for (uint64_t id : running) req.add_running_attempts(id);
    mrpb::HeartbeatResponse response = tracker_->Heartbeat(req);
    // As the master's output thread would: commits, staging removal.
    tracker_->RunOutputWork(absl::ZeroDuration());
    return response;
  }

  static mrpb::TaskReport Done(const mrpb::TaskAssignment& a) {
    mrpb::TaskReport r;
    r.set_job_id(a.job_id());
    r.set_kind(a.kind());
    r.set_task_index(a.task_index());
    r.set_attempt_id(a.attempt_id());
    r.set_state(mrpb::ATTEMPT_SUCCEEDED);
    CountersToProto({{"map input records", 1}}, r.mutable_counters());
    return r;
  }

  mrpb::CommitTaskResponse::Decision Commit(const std::string& worker,
                                            const mrpb::TaskAssignment& a) {
    mrpb::CommitTaskRequest req;
    req.set_worker_id(worker);
    req.set_job_id(a.job_id());
    req.set_task_index(a.task_index());
    req.set_attempt_id(a.attempt_id());
    return tracker_->Commit(req).decision();
  }

  std::string root_;
  ManualClock clock_;
  MasterOptions options_;
  std::unique_ptr<PluginStore> plugins_;
  std::unique_ptr<JobTracker> tracker_;
};

TEST_F(JobTrackerTest, RunsMapsThenReducesThenCommitsTheJob) {
  const std::string w = RegisterWorker("127.0.0.1:1", 8);
  auto submitted = Submit(/*split_size=*/6, /*reduces=*/2);
  ASSERT_EQ(submitted.error(), mrpb::SubmitJobResponse::OK);
  EXPECT_EQ(submitted.num_maps(), 2u);  // 12 bytes in splits of 6

  auto r1 = Beat(w, 8);
  ASSERT_EQ(r1.assignments_size(), 2);  // maps only: reduces wait
  for (const auto& a : r1.assignments()) EXPECT_EQ(a.kind(), mrpb::MAP);

  auto r2 = Beat(w, 8, {Done(r1.assignments(0)), Done(r1.assignments(1))});
  ASSERT_EQ(r2.assignments_size(), 2);
  for (const auto& a : r2.assignments()) {
    EXPECT_EQ(a.kind(), mrpb::REDUCE);
    ASSERT_EQ(a.map_outputs_size(), 2);
    EXPECT_EQ(a.map_outputs(0).worker_address(), "127.0.0.1:1");
  }
  // The reduces write their files into the job's staging directory.
  const OutputLayout layout(root_ + "/out", submitted.job_id());
  EXPECT_TRUE(PathExists(layout.temporary_dir()));
  EXPECT_FALSE(PathExists(root_ + "/out"));
  for (const auto& a : r2.assignments()) {
    EXPECT_EQ(Commit(w, a), mrpb::CommitTaskResponse::COMMIT);
    ASSERT_TRUE(
        WriteFileAtomically(layout.StagedPartFile(a.task_index()), "").ok());
  }
  Beat(w, 8, {Done(r2.assignments(0)), Done(r2.assignments(1))});

  auto status = tracker_->GetStatus(submitted.job_id());
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
  EXPECT_EQ(status->maps_done(), 2u);
  EXPECT_EQ(status->reduces_done(), 2u);
  EXPECT_EQ(CountersFromProto(status->counters()).at("map input records"), 4);
  EXPECT_TRUE(PathExists(root_ + "/out/_SUCCESS"));
  EXPECT_TRUE(PathExists(root_ + "/out/part-r-00001"));
  EXPECT_FALSE(PathExists(layout.staging_dir()));

  // The next heartbeat tells the worker to drop the job's map output.
  auto r3 = Beat(w, 8);
  ASSERT_EQ(r3.finished_jobs_size(), 1);
  EXPECT_EQ(r3.finished_jobs(0), submitted.job_id());

  // A committed result is not overwritten by accident.
  auto again = Submit(6, 2);
  EXPECT_EQ(again.error(), mrpb::SubmitJobResponse::OUTPUT_EXISTS);
  auto overwrite = Submit(6, 2, /*overwrite=*/true);
  EXPECT_EQ(overwrite.error(), mrpb::SubmitJobResponse::OK);
  // The committed result stays until the new job commits; killed, the new
  // job leaves it as it was.
  EXPECT_TRUE(PathExists(root_ + "/out/_SUCCESS"));
  const OutputLayout second(root_ + "/out", overwrite.job_id());
  EXPECT_TRUE(PathExists(second.staging_dir()));
  EXPECT_EQ(tracker_->Kill(overwrite.job_id()).error(), mrpb::KillJobResponse::OK);
  tracker_->RunOutputWork(absl::ZeroDuration());
  EXPECT_FALSE(PathExists(second.staging_dir()));
  EXPECT_TRUE(PathExists(root_ + "/out/_SUCCESS"));
}

TEST_F(JobTrackerTest, AJobWhoseStagedOutputLacksAPartFailsAtCommit) {
  const std::string w = RegisterWorker("127.0.0.1:1", 8);
  auto submitted = Submit(/*split_size=*/100, /*reduces=*/2);
  ASSERT_EQ(submitted.error(), mrpb::SubmitJobResponse::OK);
  auto m = Beat(w, 8);
  ASSERT_EQ(m.assignments_size(), 1);
  auto r = Beat(w, 8, {Done(m.assignments(0))});
  ASSERT_EQ(r.assignments_size(), 2);
  for (const auto& a : r.assignments()) {
    EXPECT_EQ(Commit(w, a), mrpb::CommitTaskResponse::COMMIT);
  }
  // Neither reduce wrote its file.
  Beat(w, 8, {Done(r.assignments(0)), Done(r.assignments(1))});
  auto status = tracker_->GetStatus(submitted.job_id());
  EXPECT_EQ(status->state(), mrpb::JOB_FAILED);
  EXPECT_NE(status->error().find("lacks part-r-00000"), std::string::npos)
      << status->error();
  EXPECT_FALSE(PathExists(root_ + "/out"));
  EXPECT_FALSE(
      PathExists(OutputLayout(root_ + "/out", submitted.job_id()).staging_dir()));
}

TEST_F(JobTrackerTest, RefusesCollidingPathsNamingBoth) {
  auto first = Submit(100, 1);
  ASSERT_EQ(first.error(), mrpb::SubmitJobResponse::OK);

  mrpb::SubmitJobRequest req;
  req.mutable_spec()->set_app("wordcount");
  req.mutable_spec()->add_inputs(root_ + "/in");
  // The same output, spelled otherwise.
  req.mutable_spec()->set_output_dir(root_ + "/in/../out/");
  auto r = tracker_->Submit(req);
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::OUTPUT_IN_USE) << r.message();
  EXPECT_EQ(r.message(),
            "the output " + root_ + "/out is also the output of running job " +
                first.job_id() + " (the output was given as " + root_ +
                "/in/../out/)");

  req.mutable_spec()->set_output_dir(root_ + "/in/out");
  r = tracker_->Submit(req);
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::PATHS_OVERLAP) << r.message();
  EXPECT_EQ(r.message(),
            "the output " + root_ + "/in/out lies inside the input directory " +
                root_ + "/in");
  EXPECT_FALSE(PathExists(root_ + "/in/out"));
}

TEST_F(JobTrackerTest, OnlyTheCurrentAttemptMayCommit) {
  const std::string w1 = RegisterWorker("127.0.0.1:1", 1);
  const std::string w2 = RegisterWorker("127.0.0.1:2", 1);
  ASSERT_EQ(Submit(100, 1).error(), mrpb::SubmitJobResponse::OK);
  auto m = Beat(w1, 1);
  ASSERT_EQ(m.assignments_size(), 1);
  auto r = Beat(w1, 1, {Done(m.assignments(0))});
  ASSERT_EQ(r.assignments_size(), 1);
  const mrpb::TaskAssignment reduce = r.assignments(0);

  // w1 goes silent and is declared dead: its reduce is re-queued, and its
  // map output (which the reduce needs) is recomputed first.
  // (The master runs its liveness check every 100 ms meanwhile: one check
  // after a silent gap would look like a stall of the master itself.)
  for (int i = 0; i < 60; ++i) {
    clock_.Advance(100);
    Beat(w2, 0);
    tracker_->CheckWorkerLiveness();
  }
  auto m2 = Beat(w2, 1);
  ASSERT_EQ(m2.assignments_size(), 1);
  EXPECT_EQ(m2.assignments(0).kind(), mrpb::MAP);
  EXPECT_GT(m2.assignments(0).attempt_id(), reduce.attempt_id());

  // The dead worker's late attempt is fenced off.
  EXPECT_EQ(Commit(w1, reduce), mrpb::CommitTaskResponse::ABORT);
  auto hb = Beat(w1, 1);
  EXPECT_EQ(hb.status(), mrpb::HeartbeatResponse::UNKNOWN_WORKER);

  auto r2 = Beat(w2, 1, {Done(m2.assignments(0))});
  ASSERT_EQ(r2.assignments_size(), 1);
  EXPECT_EQ(Commit(w2, r2.assignments(0)), mrpb::CommitTaskResponse::COMMIT);
  // A second request for the same task from a different attempt loses.
  EXPECT_EQ(Commit(w2, reduce), mrpb::CommitTaskResponse::ABORT);
}

TEST_F(JobTrackerTest, FailsTheJobAfterMaxAttempts) {
  const std::string w = RegisterWorker("127.0.0.1:1", 1);
  auto submitted = Submit(100, 1);
  for (int i = 0; i < 4; ++i) {
    auto r = Beat(w, 1);
    ASSERT_EQ(r.assignments_size(), 1) << "attempt " << i;
    mrpb::TaskReport failed = Done(r.assignments(0));
    failed.set_state(mrpb::ATTEMPT_FAILED);
    failed.set_error("boom");
    Beat(w, 0, {failed});
  }
  auto status = tracker_->GetStatus(submitted.job_id());
  EXPECT_EQ(status->state(), mrpb::JOB_FAILED);
  EXPECT_EQ(status->error(), "map task 0 failed 4 times; last error: boom");
  EXPECT_EQ(Beat(w, 1).assignments_size(), 0);
}

TEST_F(JobTrackerTest, BackupAttemptOfAStragglerWinsAndTheOriginalIsKilled) {
  const std::string w1 = RegisterWorker("127.0.0.1:1", 1);
  const std::string w2 = RegisterWorker("127.0.0.1:2", 1);
  auto submitted = Submit(/*split_size=*/6, /*reduces=*/1);  // 2 maps
  auto slow = Beat(w1, 1);
  auto fast = Beat(w2, 1);
  ASSERT_EQ(slow.assignments_size(), 1);
  ASSERT_EQ(fast.assignments_size(), 1);
  const uint64_t slow_id = slow.assignments(0).attempt_id();
  clock_.Advance(100);
  mrpb::TaskReport fast_done = Done(fast.assignments(0));
  // Not yet a straggler: no backup.
  EXPECT_EQ(Beat(w2, 1, {fast_done}).assignments_size(), 0);
  Beat(w1, 0, {}, {slow_id});

  // At 1.5 s (> 1 s and > twice the 100 ms median), w2 backs it up.
  clock_.Advance(1400);
  Beat(w1, 0, {}, {slow_id});
  auto backup = Beat(w2, 1);
  ASSERT_EQ(backup.assignments_size(), 1);
  EXPECT_EQ(backup.assignments(0).kind(), mrpb::MAP);
  EXPECT_EQ(backup.assignments(0).task_index(),
            slow.assignments(0).task_index());
  EXPECT_NE(backup.assignments(0).attempt_id(), slow.assignments(0).attempt_id());

  // The backup wins; the original is killed, and its late success is
  // ignored (counted once).
  Beat(w2, 1, {Done(backup.assignments(0))});
  auto kill = Beat(w1, 0, {}, {slow_id});
  ASSERT_EQ(kill.kill_attempts_size(), 1);
  EXPECT_EQ(kill.kill_attempts(0), slow_id);
  Beat(w1, 0, {Done(slow.assignments(0))});
  auto status = tracker_->GetStatus(submitted.job_id());
  EXPECT_EQ(status->maps_done(), 2u);
  EXPECT_EQ(CountersFromProto(status->counters()).at("map input records"), 2);
}

TEST_F(JobTrackerTest, SkipsARecordAfterTwoCrashesOnIt) {
  const std::string w = RegisterWorker("127.0.0.1:1", 1);
  mrpb::SubmitJobRequest req;
  req.mutable_spec()->set_app("wordcount");
  req.mutable_spec()->add_inputs(root_ + "/in/a.txt");
  req.mutable_spec()->set_output_dir(root_ + "/out");
  req.mutable_spec()->set_max_skipped_records(1);
  auto submitted = tracker_->Submit(req);
  ASSERT_EQ(submitted.error(), mrpb::SubmitJobResponse::OK);
  for (int i = 0; i < 2; ++i) {
    auto r = Beat(w, 1);
    ASSERT_EQ(r.assignments_size(), 1);
    EXPECT_EQ(r.assignments(0).skip_records_size(), 0);
    mrpb::TaskReport crashed = Done(r.assignments(0));
    crashed.set_state(mrpb::ATTEMPT_FAILED);
    crashed.set_error("task process killed by signal 11");
    crashed.mutable_crashed_on()->set_path(root_ + "/in/a.txt");
    crashed.mutable_crashed_on()->set_offset(4);
    Beat(w, 0, {crashed});
  }
  auto third = Beat(w, 1);
  ASSERT_EQ(third.assignments_size(), 1);
  ASSERT_EQ(third.assignments(0).skip_records_size(), 1);
  EXPECT_EQ(third.assignments(0).skip_records(0).offset(), 4u);
  auto status = tracker_->GetStatus(submitted.job_id());
  EXPECT_EQ(status->state(), mrpb::JOB_RUNNING);
  ASSERT_EQ(status->skipped_records_size(), 1);
  EXPECT_EQ(status->skipped_records(0).path(), root_ + "/in/a.txt");
}

TEST_F(JobTrackerTest, AnAssignmentLostWithItsResponseRunsAgain) {
  const std::string w = RegisterWorker("127.0.0.1:1", 1);
  ASSERT_EQ(Submit(100, 1).error(), mrpb::SubmitJobResponse::OK);
  auto lost = Beat(w, 1);  // this response never reaches the worker
  ASSERT_EQ(lost.assignments_size(), 1);
  // The next heartbeat lists nothing running: the task is handed out again.
  auto again = Beat(w, 1);
  ASSERT_EQ(again.assignments_size(), 1);
  EXPECT_EQ(again.assignments(0).task_index(), lost.assignments(0).task_index());
  EXPECT_NE(again.assignments(0).attempt_id(), lost.assignments(0).attempt_id());
}

TEST_F(JobTrackerTest, AKilledJobStaysKilledWhateverItsAttemptsReport) {
  const std::string w = RegisterWorker("127.0.0.1:1", 1);
  mrpb::SubmitJobRequest req;
  req.mutable_spec()->set_app("wordcount");
  req.mutable_spec()->add_inputs(root_ + "/in/a.txt");
  req.mutable_spec()->set_output_dir(root_ + "/out");
  req.mutable_spec()->set_max_task_attempts(1);
  auto submitted = tracker_->Submit(req);
  auto r = Beat(w, 1);
  ASSERT_EQ(r.assignments_size(), 1);
  EXPECT_EQ(tracker_->Kill(submitted.job_id()).error(),
            mrpb::KillJobResponse::OK);
  auto kill = Beat(w, 0, {}, {r.assignments(0).attempt_id()});
  ASSERT_EQ(kill.kill_attempts_size(), 1);
  // The killed attempt reports failure: the job stays killed, not failed.
  mrpb::TaskReport killed = Done(r.assignments(0));
  killed.set_state(mrpb::ATTEMPT_FAILED);
  killed.set_error("killed by the worker");
  Beat(w, 1, {killed});
  auto status = tracker_->GetStatus(submitted.job_id());
  EXPECT_EQ(status->state(), mrpb::JOB_KILLED);
  EXPECT_EQ(status->error(), "killed by the user");
  EXPECT_EQ(status->maps_running(), 0u);
}

TEST_F(JobTrackerTest, RefusesBadSubmissions) {
  mrpb::SubmitJobRequest req;
  req.mutable_spec()->set_app("nosuchapp");
  req.mutable_spec()->add_inputs(root_ + "/in/a.txt");
  req.mutable_spec()->set_output_dir(root_ + "/out");
  auto r = tracker_->Submit(req);
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::UNKNOWN_APP);

  req.mutable_spec()->set_app("wordcount");
  req.mutable_spec()->set_inputs(0, root_ + "/in/*.csv");
  r = tracker_->Submit(req);
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::NO_INPUT);
  EXPECT_NE(r.message().find("*.csv"), std::string::npos) << r.message();

  req.mutable_spec()->set_app("grep");
  req.mutable_spec()->set_inputs(0, root_ + "/in/a.txt");
  r = tracker_->Submit(req);
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::BAD_PARAMS);

  req.mutable_spec()->set_app("wordcount");
  req.mutable_spec()->set_output_dir("relative/out");
  EXPECT_EQ(tracker_->Submit(req).error(),
            mrpb::SubmitJobResponse::INVALID_SPEC);
}

TEST_F(JobTrackerTest, ASilentWorkerIsDeclaredDeadAfterTheTimeout) {
  const std::string w = RegisterWorker("127.0.0.1:1", 1);
  for (int i = 0; i < 50; ++i) {  // 5 s in steps of the liveness period
    tracker_->CheckWorkerLiveness();
    clock_.Advance(100);
  }
  tracker_->CheckWorkerLiveness();
  EXPECT_EQ(tracker_->ListWorkers().size(), 1u);  // exactly 5000 ms: alive
  clock_.Advance(100);
  tracker_->CheckWorkerLiveness();
  EXPECT_TRUE(tracker_->ListWorkers().empty());
}

TEST_F(JobTrackerTest, AStalledMasterDoesNotBlameItsWorkers) {
  const std::string w = RegisterWorker("127.0.0.1:1", 1);
  tracker_->CheckWorkerLiveness();
  clock_.Advance(10000);  // the master was stopped for 10 s
  tracker_->CheckWorkerLiveness();
  ASSERT_EQ(tracker_->ListWorkers().size(), 1u);
  // From the resumption on, the worker has the full timeout...
  for (int i = 0; i < 50; ++i) {
    clock_.Advance(100);
    tracker_->CheckWorkerLiveness();
  }
  EXPECT_EQ(tracker_->ListWorkers().size(), 1u);
  // ...and no more.
  clock_.Advance(100);
  tracker_->CheckWorkerLiveness();
  EXPECT_TRUE(tracker_->ListWorkers().empty());
}

TEST_F(JobTrackerTest, ARetriedSubmissionReturnsTheJobTheFirstCreated) {
  mrpb::SubmitJobRequest req;
  req.mutable_spec()->set_app("wordcount");
  req.mutable_spec()->add_inputs(root_ + "/in/*.txt");
  req.mutable_spec()->set_output_dir(root_ + "/out");
  req.set_request_id("req-1");
  auto first = tracker_->Submit(req);
  ASSERT_EQ(first.error(), mrpb::SubmitJobResponse::OK);
  EXPECT_FALSE(first.duplicate());
  auto again = tracker_->Submit(req);
  ASSERT_EQ(again.error(), mrpb::SubmitJobResponse::OK);
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.job_id(), first.job_id());
  EXPECT_EQ(again.num_maps(), first.num_maps());
  EXPECT_EQ(tracker_->ListJobs().size(), 1u);
  // Another id is another submission (refused here: the output is in use).
  req.set_request_id("req-2");
  EXPECT_EQ(tracker_->Submit(req).error(),
            mrpb::SubmitJobResponse::OUTPUT_IN_USE);
}

TEST_F(JobTrackerTest, FinishedJobsRetireAfterTheRetentionPeriod) {
  options_.job_retention_ms = 60000;
  tracker_ = std::make_unique<JobTracker>(options_, plugins_.get(), nullptr);
  const std::string w = RegisterWorker("127.0.0.1:1", 8);
  auto submitted = Submit(/*split_size=*/100, /*reduces=*/1);
  ASSERT_EQ(submitted.error(), mrpb::SubmitJobResponse::OK);
  auto maps = Beat(w, 8);
  ASSERT_EQ(maps.assignments_size(), 1);
  auto reduces = Beat(w, 8, {Done(maps.assignments(0))});
  ASSERT_EQ(reduces.assignments_size(), 1);
  ASSERT_EQ(Commit(w, reduces.assignments(0)),
            mrpb::CommitTaskResponse::COMMIT);
  ASSERT_TRUE(WriteFileAtomically(
                  OutputLayout(root_ + "/out", submitted.job_id())
                      .StagedPartFile(0),
                  "")
                  .ok());
  Beat(w, 8, {Done(reduces.assignments(0))});
  ASSERT_EQ(tracker_->GetStatus(submitted.job_id())->state(),
            mrpb::JOB_SUCCEEDED);

  clock_.Advance(59000);
  tracker_->CheckWorkerLiveness();
  Beat(w, 8);
  EXPECT_EQ(tracker_->ListJobs().size(), 1u);
  clock_.Advance(2000);
  tracker_->CheckWorkerLiveness();
  EXPECT_TRUE(tracker_->ListJobs().empty());
  auto all = tracker_->ListJobs(/*all=*/true);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].retired());
  EXPECT_EQ(all[0].state(), mrpb::JOB_SUCCEEDED);
  // One map and one reduce, each reporting 1 (see Done()).
  EXPECT_EQ(CountersFromProto(all[0].counters()).at("map input records"), 2);
  auto status = tracker_->GetStatus(submitted.job_id());
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->retired());
  EXPECT_EQ(tracker_->Kill(submitted.job_id()).error(),
            mrpb::KillJobResponse::ALREADY_FINISHED);
}

TEST_F(JobTrackerTest, FillsInDataPathDefaults) {
  auto submitted = Submit(/*split_size=*/6, /*reduces=*/1);
  ASSERT_EQ(submitted.error(), mrpb::SubmitJobResponse::OK);
  auto status = tracker_->GetStatus(submitted.job_id());
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->spec().sort_buffer_bytes(), 64ull << 20);
  EXPECT_EQ(status->spec().merge_factor(), 64u);
  EXPECT_EQ(status->spec().max_record_bytes(), 64ull << 20);
}

TEST_F(JobTrackerTest, RefusesNonsenseDataPathSettings) {
  auto submit = [&](auto set) {
    mrpb::SubmitJobRequest req;
    req.mutable_spec()->set_app("wordcount");
    req.mutable_spec()->add_inputs(root_ + "/in/a.txt");
    req.mutable_spec()->set_output_dir(root_ + "/out");
    set(req.mutable_spec());
    return tracker_->Submit(req);
  };
  auto r = submit([](mrpb::JobSpec* s) { s->set_merge_factor(1); });
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::INVALID_SPEC);
  EXPECT_EQ(r.message(), "the merge factor must be between 2 and 1000, got 1");
  r = submit([](mrpb::JobSpec* s) { s->set_merge_factor(1001); });
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::INVALID_SPEC);
  EXPECT_EQ(r.message(), "the merge factor must be between 2 and 1000, got 1001");
  r = submit([](mrpb::JobSpec* s) { s->set_sort_buffer_bytes((1 << 20) - 1); });
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::INVALID_SPEC);
  EXPECT_EQ(r.message(),
            "the sort buffer must be at least 1048576 bytes (1 MiB), got 1048575");
  r = submit([](mrpb::JobSpec* s) { s->set_max_record_bytes((1ull << 30) + 1); });
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::INVALID_SPEC);
  EXPECT_EQ(r.message(),
            "the record size limit must be at most 1073741824 bytes (1 GiB), "
            "got 1073741825");
  r = submit([](mrpb::JobSpec* s) {
    s->set_merge_factor(2);
    s->set_sort_buffer_bytes(1 << 20);
    s->set_max_record_bytes(1);
  });
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::OK) << r.message();
}

TEST_F(JobTrackerTest, KeepsTheFirstMalformedRecordsOnce) {
  const std::string w = RegisterWorker("127.0.0.1:1", 8);
  auto submitted = Submit(/*split_size=*/6, /*reduces=*/1);
  ASSERT_EQ(submitted.error(), mrpb::SubmitJobResponse::OK);
  auto r1 = Beat(w, 8);
  ASSERT_EQ(r1.assignments_size(), 2);
  auto malformed = [](mrpb::TaskReport r, const std::string& path, int from,
                      int n) {
    for (int i = from; i < from + n; ++i) {
      mrpb::RecordLocation* at = r.add_malformed_records();
      at->set_path(path);
      at->set_offset(i);
    }
    return r;
  };
  Beat(w, 8, {malformed(Done(r1.assignments(0)), "/a", 0, 60),
              malformed(Done(r1.assignments(1)), "/b", 0, 60)});
  auto status = tracker_->GetStatus(submitted.job_id());
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(status->malformed_records_size(), 100);
  EXPECT_EQ(status->malformed_records(0).path(), "/a");
  EXPECT_EQ(status->malformed_records(59).offset(), 59u);
  EXPECT_EQ(status->malformed_records(60).path(), "/b");
  EXPECT_EQ(status->malformed_records(99).offset(), 39u);
}

TEST_F(JobTrackerTest, MalformedRecordsOfARerunMapAreNotDoubled) {
  const std::string w = RegisterWorker("127.0.0.1:1", 8);
  auto submitted = Submit(/*split_size=*/100, /*reduces=*/1);
  ASSERT_EQ(submitted.error(), mrpb::SubmitJobResponse::OK);
  auto r1 = Beat(w, 8);
  ASSERT_EQ(r1.assignments_size(), 1);
  mrpb::TaskReport done = Done(r1.assignments(0));
  done.add_malformed_records()->set_path("/a");
  auto r2 = Beat(w, 8, {done});
  ASSERT_EQ(r2.assignments_size(), 1);  // the reduce
  // Its fetch fails: the map runs again and reports the same record.
  mrpb::ReportFetchFailureRequest failure;
  failure.set_job_id(submitted.job_id());
  failure.set_reduce_attempt_id(r2.assignments(0).attempt_id());
  *failure.mutable_location() = r2.assignments(0).map_outputs(0);
  tracker_->ReportFetchFailure(failure);
  auto r3 = Beat(w, 8, {}, {r2.assignments(0).attempt_id()});
  ASSERT_EQ(r3.assignments_size(), 1);
  ASSERT_EQ(r3.assignments(0).kind(), mrpb::MAP);
  mrpb::TaskReport again = Done(r3.assignments(0));
  again.add_malformed_records()->set_path("/a");
  Beat(w, 8, {again}, {r2.assignments(0).attempt_id()});
  auto status = tracker_->GetStatus(submitted.job_id());
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->malformed_records_size(), 1);
}

// Four workers heartbeat at once (one of them restarts midway and registers
// again, losing what it ran and held), the output thread commits, the
// liveness check runs, and two clients submit, poll and kill jobs: every job
// ends as its client saw it, with each task counted once.
TEST_F(JobTrackerTest, ConcurrentWorkersAndClientsAgreeOnTheEnd) {
  options_.heartbeat_interval_ms = 20;  // idle long-polls end soon
  tracker_ = std::make_unique<JobTracker>(options_, plugins_.get(), nullptr);
  constexpr int kWorkers = 4;
  constexpr int kJobs = 4;
  absl::Mutex mu;
  std::vector<std::string> failures;  // guarded by mu
  auto fail = [&](std::string what) {
    absl::MutexLock lock(&mu);
    failures.push_back(std::move(what));
  };
  std::atomic<bool> stop{false};
  std::atomic<bool> restarted{false};

  auto submit = [&](const std::string& out) {
    mrpb::SubmitJobRequest req;
    req.mutable_spec()->set_app("wordcount");
    req.mutable_spec()->add_inputs(root_ + "/in/*.txt");
    req.mutable_spec()->set_output_dir(root_ + "/" + out);
    req.mutable_spec()->set_split_size(6);  // 2 maps
    req.mutable_spec()->set_num_reduces(2);
    return tracker_->Submit(req);
  };

  // A worker: an attempt runs for one heartbeat, and ends by the next: a
  // map succeeds; a reduce asks to commit and, granted, stages its file.
  auto worker = [&](int k) {
    const std::string address = absl::StrCat("127.0.0.1:", 1000 + k);
    mrpb::RegisterWorkerRequest reg;
    reg.set_address(address);
    reg.set_slots(2);
    std::string id = tracker_->Register(reg).worker_id();
    std::vector<mrpb::TaskAssignment> running;
    std::vector<mrpb::TaskReport> reports;
    bool held_map_output = false;
    while (!stop.load()) {
      if (k == 0 && held_map_output && !restarted.exchange(true)) {
        // Restarted: a new worker at the same address, running nothing,
        // holding nothing.
        id = tracker_->Register(reg).worker_id();
        running.clear();
        reports.clear();
      }
      mrpb::HeartbeatRequest req;
      req.set_worker_id(id);
      req.set_free_slots(2 - running.size());
      for (const auto& r : reports) {
        *req.add_reports() = r;
        held_map_output |= r.kind() == mrpb::MAP &&
                           r.state() == mrpb::ATTEMPT_SUCCEEDED;
      }
      for (const auto& a : running) req.add_running_attempts(a.attempt_id());
      reports.clear();
      mrpb::HeartbeatResponse resp = tracker_->Heartbeat(req);
      if (resp.status() != mrpb::HeartbeatResponse::OK) {
        fail(absl::StrCat("worker ", k, " (", id, ") unknown to the master"));
        return;
      }
      const std::set<uint64_t> kills(resp.kill_attempts().begin(),
                                     resp.kill_attempts().end());
      for (const mrpb::TaskAssignment& a : running) {
        if (kills.count(a.attempt_id()) > 0) {
          mrpb::TaskReport r = Done(a);
          r.set_state(mrpb::ATTEMPT_FAILED);
          r.set_error("killed by the worker");
          r.clear_counters();
          reports.push_back(r);
          continue;
        }
        if (a.kind() == mrpb::REDUCE) {
          mrpb::CommitTaskRequest c;
          c.set_worker_id(id);
          c.set_job_id(a.job_id());
          c.set_task_index(a.task_index());
          c.set_attempt_id(a.attempt_id());
          if (tracker_->Commit(c).decision() != mrpb::CommitTaskResponse::COMMIT) {
            mrpb::TaskReport r = Done(a);
            r.set_state(mrpb::ATTEMPT_FAILED);
            r.set_error("commit refused");
            r.clear_counters();
            reports.push_back(r);
            continue;
          }
          const OutputLayout layout(a.spec().output_dir(), a.job_id());
          if (absl::Status s = WriteFileAtomically(
                  layout.StagedPartFile(a.task_index()),
                  absl::StrCat("part of ", a.job_id(), "\n"));
              !s.ok()) {
            // Killed between the grant and the rename: the staging
            // directory is gone, and the attempt fails. No other job ends
            // while its reduces run.
            if (!absl::EndsWith(a.spec().output_dir(), "/out-killed")) {
              fail(absl::StrCat("staging a granted reduce: ", s.ToString()));
            }
            mrpb::TaskReport r = Done(a);
            r.set_state(mrpb::ATTEMPT_FAILED);
            r.set_error(std::string(s.message()));
            r.clear_counters();
            reports.push_back(r);
            continue;
          }
        }
        reports.push_back(Done(a));
      }
      running.assign(resp.assignments().begin(), resp.assignments().end());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // pacing
    }
  };
  std::vector<std::thread> threads;
  for (int k = 0; k < kWorkers; ++k) threads.emplace_back(worker, k);
  std::thread output([&] {
    while (!stop.load()) tracker_->RunOutputWork(absl::Milliseconds(5));
  });
  std::thread liveness([&] {
    while (!stop.load()) {
      tracker_->CheckWorkerLiveness();  // the clock stands: nobody dies
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });

  // The second client: submits a job and kills it at once.
  mrpb::SubmitJobResponse killed_job;
  mrpb::KillJobResponse kill_response;
  std::thread killer([&] {
    killed_job = submit("out-killed");
    if (killed_job.error() != mrpb::SubmitJobResponse::OK) return;
    kill_response = tracker_->Kill(killed_job.job_id());
  });

  // The first client: submits, then polls until every job has ended; what
  // it sees never goes backwards.
  std::vector<std::string> jobs;
  for (int j = 0; j < kJobs; ++j) {
    auto r = submit(absl::StrCat("out-", j));
    ASSERT_EQ(r.error(), mrpb::SubmitJobResponse::OK) << r.message();
    EXPECT_EQ(r.num_maps(), 2u);
    jobs.push_back(r.job_id());
  }
  killer.join();
  ASSERT_EQ(killed_job.error(), mrpb::SubmitJobResponse::OK) << killed_job.message();
  jobs.push_back(killed_job.job_id());
  std::map<std::string, mrpb::JobStatus> last;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    bool all_ended = true;
    for (const std::string& job : jobs) {
      std::optional<mrpb::JobStatus> st = tracker_->GetStatus(job);
      if (!st.has_value()) {
        fail("no status of " + job);
        continue;
      }
      auto prev = last.find(job);
      if (prev != last.end()) {
        // (A map done may be undone: its output is lost with the worker
        // that restarted. A committed reduce stays done.)
        if (st->reduces_done() < prev->second.reduces_done()) {
          fail(absl::StrCat(job, ": ", st->reduces_done(),
                            " reduces done after ", prev->second.reduces_done()));
        }
        if (prev->second.state() != mrpb::JOB_RUNNING &&
            st->state() != prev->second.state()) {
          fail(job + ": changed state after it ended");
        }
      }
      last[job] = *st;
      all_ended &= st->state() != mrpb::JOB_RUNNING;
    }
    if (tracker_->ListJobs().size() != jobs.size()) fail("ListJobs lost a job");
    if (all_ended) break;
    if (std::chrono::steady_clock::now() > deadline) {
      fail("the jobs did not end within 60 s");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // pacing
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  output.join();
  liveness.join();
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(failures.empty())
        << failures.size() << " failures, the first: " << failures.front();
  }

  for (int j = 0; j < kJobs; ++j) {
    const mrpb::JobStatus& st = last[jobs[j]];
    EXPECT_EQ(st.state(), mrpb::JOB_SUCCEEDED) << jobs[j] << ": " << st.error();
    EXPECT_EQ(st.maps_done(), 2u);
    EXPECT_EQ(st.reduces_done(), 2u);
    EXPECT_EQ(st.maps_running() + st.reduces_running(), 0u);
    // Two maps and two reduces, each reporting 1 (see Done()), once.
    EXPECT_EQ(CountersFromProto(st.counters()).at("map input records"), 4)
        << jobs[j];
    const std::string out = absl::StrCat(root_, "/out-", j);
    EXPECT_TRUE(PathExists(out + "/_SUCCESS"));
    for (int p = 0; p < 2; ++p) {
      auto part = ReadFileToString(out + "/" + OutputLayout::PartFileName(p));
      ASSERT_TRUE(part.ok()) << part.status();
      EXPECT_EQ(*part, "part of " + jobs[j] + "\n");
    }
    EXPECT_FALSE(PathExists(OutputLayout(out, jobs[j]).staging_dir()));
  }
  // The killed job: killed if the kill came first, else it had succeeded.
  const mrpb::JobStatus& k = last[killed_job.job_id()];
  const OutputLayout killed_layout(root_ + "/out-killed", killed_job.job_id());
  EXPECT_FALSE(PathExists(killed_layout.staging_dir()));
  if (kill_response.error() == mrpb::KillJobResponse::OK) {
    EXPECT_EQ(k.state(), mrpb::JOB_KILLED);
    EXPECT_EQ(k.error(), "killed by the user");
    EXPECT_FALSE(PathExists(root_ + "/out-killed"));
  } else {
    EXPECT_EQ(kill_response.error(), mrpb::KillJobResponse::ALREADY_FINISHED);
    EXPECT_EQ(k.state(), mrpb::JOB_SUCCEEDED);
  }
  std::cout << "worker 0 " << (restarted ? "restarted" : "did not restart")
            << "; the killed job " << mrpb::JobState_Name(k.state())
            << std::endl;
  // Four live workers: the restarted one replaced its old self.
  std::set<std::string> addresses;
  for (const auto& w : tracker_->ListWorkers()) addresses.insert(w.address());
  EXPECT_EQ(addresses.size(), static_cast<size_t>(kWorkers));
  EXPECT_EQ(tracker_->ListWorkers().size(), static_cast<size_t>(kWorkers));
}

// A tracker restored from a store holding `job` and `tasks` (of job-000001).
std::unique_ptr<JobTracker> RestoreFrom(const std::string& dir,
                                        const MasterOptions& options,
                                        PluginStore* plugins,
                                        std::unique_ptr<MasterStore>* store,
                                        const mrstate::JobRecord& job,
                                        std::vector<mrstate::TaskRecord> tasks) {
  auto opened = MasterStore::Open(dir);
  EXPECT_TRUE(opened.ok()) << opened.status();
  *store = std::move(*opened);
  EXPECT_TRUE((*store)->PutJob(job).ok());
  for (const auto& t : tasks) EXPECT_TRUE((*store)->PutTask(job.job_id(), t).ok());
  auto tracker = std::make_unique<JobTracker>(options, plugins, store->get());
  EXPECT_TRUE(tracker->Restore().ok());
  return tracker;
}

mrstate::JobRecord StoredJob(const std::string& root, mrstate::JobState state) {
  mrstate::JobRecord r;
  r.set_job_id("job-000001");
  r.set_state(state);
  r.mutable_spec()->set_app("wordcount");
  r.mutable_spec()->set_output_dir(root + "/out");
  r.mutable_spec()->set_num_reduces(1);
  r.add_input_files(root + "/in/a.txt");
  mrstate::FileChunk* c = r.add_splits()->add_chunks();
  c->set_path(root + "/in/a.txt");
  c->set_length(8);
  r.add_splits()->add_chunks()->set_path(root + "/in/b.txt");
  return r;
}

// Found by tests/fuzz/master_state_fuzzer: a restored finish time far in
// the past made `now - finish` overflow (undefined; in practice the job
// stayed in the working set forever).
TEST_F(JobTrackerTest, ARestoredJobFinishedAtAnyTimeRetires) {
  mrstate::JobRecord job = StoredJob(root_, mrstate::FAILED);
  job.set_finish_time_ms(std::numeric_limits<int64_t>::min());
  std::unique_ptr<MasterStore> store;
  auto tracker = RestoreFrom(root_ + "/db", options_, plugins_.get(), &store,
                             job, {});
  EXPECT_TRUE(tracker->ListJobs().empty());
  std::optional<mrpb::JobStatus> status = tracker->GetStatus("job-000001");
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->retired());
  EXPECT_EQ(status->state(), mrpb::JOB_FAILED);
}

// Found by tests/fuzz/master_state_fuzzer: counters of restored tasks
// (or of workers' reports) that overflow int64 were undefined behaviour
// (UBSan: signed integer overflow); they add modulo 2^64.
TEST_F(JobTrackerTest, RestoredCountersThatOverflowWrap) {
  std::vector<mrstate::TaskRecord> tasks(2);
  for (uint32_t i = 0; i < 2; ++i) {
    tasks[i].set_kind(mrstate::MAP);
    tasks[i].set_index(i);
    for (int twice = 0; twice < 2; ++twice) {
      mrstate::Counter* c = tasks[i].add_counters();
      c->set_name("map input records");
      c->set_value(std::numeric_limits<int64_t>::max());
    }
  }
  std::unique_ptr<MasterStore> store;
  auto tracker = RestoreFrom(root_ + "/db", options_, plugins_.get(), &store,
                             StoredJob(root_, mrstate::RUNNING), tasks);
  std::optional<mrpb::JobStatus> status = tracker->GetStatus("job-000001");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->maps_done(), 2u);
  // 4 * (2^63 - 1) modulo 2^64, as int64: -4.
  EXPECT_EQ(CountersFromProto(status->counters())["map input records"], -4);
}

// A worker's path policy refused the task (TaskReport.permanent): no
// other attempt can do better, so the job fails at its first such report.
TEST_F(JobTrackerTest, APermanentFailureFailsTheJobAtOnce) {
  const std::string w = RegisterWorker("127.0.0.1:1", 1);
  auto submitted = Submit(100, 1);
  auto r = Beat(w, 1);
  ASSERT_EQ(r.assignments_size(), 1);
  mrpb::TaskReport refused = Done(r.assignments(0));
  refused.set_state(mrpb::ATTEMPT_FAILED);
  refused.set_error("worker w1 refuses the task: input x is outside");
  refused.set_permanent(true);
  Beat(w, 0, {refused});
  auto status = tracker_->GetStatus(submitted.job_id());
  EXPECT_EQ(status->state(), mrpb::JOB_FAILED);
  EXPECT_EQ(status->error(),
            "map task 0 failed 1 times; last error: worker w1 refuses the "
            "task: input x is outside");
  EXPECT_EQ(Beat(w, 1).assignments_size(), 0);
}

// Every attempt of a job carries the job's shuffle secret: 32 random
// bytes, one per job, never in what clients see.
TEST_F(JobTrackerTest, EveryAssignmentCarriesItsJobsSecret) {
  const std::string w = RegisterWorker("127.0.0.1:1", 8);
  ASSERT_EQ(Submit(/*split_size=*/6, /*reduces=*/2).error(),
            mrpb::SubmitJobResponse::OK);
  mrpb::SubmitJobRequest other;
  other.mutable_spec()->set_app("wordcount");
  other.mutable_spec()->add_inputs(root_ + "/in/b.txt");
  other.mutable_spec()->set_output_dir(root_ + "/out2");
  ASSERT_EQ(tracker_->Submit(other).error(), mrpb::SubmitJobResponse::OK);
  std::map<std::string, std::set<std::string>> secrets;  // by job
  std::vector<mrpb::TaskReport> done;
  for (int beat = 0; beat < 4; ++beat) {
    auto r = Beat(w, 8, done);
    done.clear();
    for (const auto& a : r.assignments()) {
      secrets[a.job_id()].insert(a.shuffle_secret());
      if (a.kind() == mrpb::MAP) done.push_back(Done(a));
    }
  }
  ASSERT_EQ(secrets.size(), 2u);
  std::set<std::string> all;
  for (const auto& [job, s] : secrets) {
    ASSERT_EQ(s.size(), 1u) << job << ": one secret for all its tasks";
    EXPECT_EQ(s.begin()->size(), 32u) << job;
    all.insert(*s.begin());
    const std::string status = tracker_->GetStatus(job)->SerializeAsString();
    EXPECT_EQ(status.find(*s.begin()), std::string::npos) << job;
  }
  EXPECT_EQ(all.size(), 2u) << "two jobs, two secrets";
}

// A restarted master hands out the secret the job's record holds (the map
// outputs on its workers were stored under it); a record from before
// secrets gets one, kept at once.
TEST_F(JobTrackerTest, ARestoredJobKeepsItsSecret) {
  const std::string kept(32, 'k');
  for (const bool legacy : {false, true}) {
    SCOPED_TRACE(legacy ? "a record without a secret" : "a record with one");
    mrstate::JobRecord job = StoredJob(root_, mrstate::RUNNING);
    if (!legacy) job.set_shuffle_secret(kept);
    const std::string dir = root_ + (legacy ? "/db-legacy" : "/db");
    std::unique_ptr<MasterStore> store;
    tracker_ = RestoreFrom(dir, options_, plugins_.get(), &store, job, {});
    const std::string w = RegisterWorker("127.0.0.1:1", 4);
    auto r = Beat(w, 4);
    ASSERT_EQ(r.assignments_size(), 2);
    const std::string secret = r.assignments(0).shuffle_secret();
    EXPECT_EQ(r.assignments(1).shuffle_secret(), secret);
    EXPECT_EQ(secret.size(), 32u);
    if (!legacy) EXPECT_EQ(secret, kept);
    tracker_.reset();
    store.reset();
    auto reopened = MasterStore::Open(dir);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    auto state = (*reopened)->Load();
    ASSERT_TRUE(state.ok()) << state.status();
    ASSERT_EQ(state->jobs.size(), 1u);
    EXPECT_EQ(state->jobs[0].shuffle_secret(), secret);
  }
}

// The master's --allowed_*_roots: a submission whose output or inputs
// resolve elsewhere is refused, PERMISSION_DENIED naming the path, and
// nothing is created for it.
TEST_F(JobTrackerTest, RefusesPathsOutsideTheAllowedRoots) {
  ASSERT_TRUE(MakeDirs(root_ + "/outs").ok());
  ASSERT_TRUE(MakeDirs(root_ + "/elsewhere").ok());
  auto policy = PathPolicy::Create({root_ + "/in"}, {root_ + "/outs"});
  ASSERT_TRUE(policy.ok()) << policy.status();
  options_.path_policy = *policy;
  tracker_ = std::make_unique<JobTracker>(options_, plugins_.get(), nullptr);
  auto submit = [&](const std::string& input, const std::string& output) {
    mrpb::SubmitJobRequest req;
    req.mutable_spec()->set_app("wordcount");
    req.mutable_spec()->add_inputs(input);
    req.mutable_spec()->set_output_dir(output);
    return tracker_->Submit(req);
  };
  const std::string real_root = *ResolvePath(root_);
  auto r = submit(root_ + "/in/*.txt", root_ + "/outs/../elsewhere/x");
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::PERMISSION_DENIED);
  EXPECT_EQ(r.message(),
            absl::StrCat("output ", root_, "/outs/../elsewhere/x resolves to ",
                         real_root, "/elsewhere/x, outside the allowed output "
                         "roots ", real_root, "/outs (--allowed_output_roots)"));
  r = submit(root_ + "/in/*.txt", root_ + "/outs");
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(r.message(), "is an allowed output root itself"))
      << r.message();
  r = submit(root_ + "/elsewhere/*.txt", root_ + "/outs/x");
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::PERMISSION_DENIED);
  EXPECT_EQ(r.message(),
            absl::StrCat("the glob ", root_, "/elsewhere/*.txt lists ", root_,
                         "/elsewhere: input ", root_, "/elsewhere ",
                         real_root == root_
                             ? std::string("is")
                             : absl::StrCat("resolves to ", real_root,
                                            "/elsewhere,"),
                         " outside the allowed input roots ", real_root,
                         "/in (--allowed_input_roots)"));
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/elsewhere"));
  EXPECT_FALSE(PathExists(root_ + "/outs/x"));
  EXPECT_TRUE(tracker_->ListJobs().empty());
  // Inside the roots: accepted.
  r = submit(root_ + "/in/*.txt", root_ + "/outs/x");
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::OK) << r.message();
}

}  // namespace
}  // namespace mr
