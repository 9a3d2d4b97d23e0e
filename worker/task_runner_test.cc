#include "worker/task_runner.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/file_util.h"
#include "common/output_layout.h"
#include "common/path_policy.h"
#include "common/proto_maps.h"
#include "common/record_block.h"
#include "worker/internal/task_progress.h"
#include "worker/shuffle_store.h"
#include "worker/shuffle_test_util.h"

namespace mr {
namespace {

// The build's bin/ (mr-worker runs the task children): $MR_BIN_DIR, else
// the one CMake compiled in.
std::string BinDir() {
  const char* v = getenv("MR_BIN_DIR");
  return v != nullptr && *v != '\0' ? v : MR_DEFAULT_BIN_DIR;
}

// The master's side of the worker protocol, as far as the runner uses it:
// CommitTask, granted to even task indices and refused to odd ones.
class FakeMaster final : public mrpb::MasterWorkerService::Service {
 public:
  FakeMaster() {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    stub_ = mrpb::MasterWorkerService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~FakeMaster() override { server_->Shutdown(); }

  mrpb::MasterWorkerService::StubInterface* stub() { return stub_.get(); }

  std::vector<mrpb::CommitTaskRequest> commits() {
    absl::MutexLock lock(&mu_);
    return commits_;
  }

  grpc::Status CommitTask(grpc::ServerContext*,
                          const mrpb::CommitTaskRequest* request,
                          mrpb::CommitTaskResponse* response) override {
    absl::MutexLock lock(&mu_);
    commits_.push_back(*request);
    if (request->task_index() % 2 == 0) {
      response->set_decision(mrpb::CommitTaskResponse::COMMIT);
    } else {
      response->set_decision(mrpb::CommitTaskResponse::ABORT);
      response->set_reason("another attempt won");
    }
    return grpc::Status::OK;
  }

 private:
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<mrpb::MasterWorkerService::Stub> stub_;
  absl::Mutex mu_;
  std::vector<mrpb::CommitTaskRequest> commits_ ABSL_GUARDED_BY(mu_);
};

class TaskRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (std::filesystem::temp_directory_path() /
             absl::StrCat("task_runner_test_", getpid()))
                .string();
    RemoveAll(root_).IgnoreError();
    ASSERT_TRUE(MakeDirs(root_ + "/in").ok());
    auto resolved = ResolvePath(root_);
    ASSERT_TRUE(resolved.ok()) << resolved.status();
    root_ = *resolved;
    auto store = ShuffleStore::Open(root_ + "/data/shuffle");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    options_.data_dir = root_ + "/data";
    options_.task_executable = BinDir() + "/mr-worker";
    options_.task_memory_mb = -1;  // no limit (sanitizers reserve much)
    options_.master_address = "127.0.0.1:1";  // maps never call it
    ASSERT_TRUE(PathExists(options_.task_executable))
        << options_.task_executable << " is missing: build mr-worker";
  }
  void TearDown() override {
    store_.reset();
    RemoveAll(root_).IgnoreError();
  }

  // Writes `words` distinct words (letters only, as word count splits
  // them), 5 to a line, as input file `name`; returns them.
  std::vector<std::string> WriteWords(const std::string& name,
                                      const std::string& prefix, int words) {
    std::vector<std::string> out;
    std::string text;
    for (int i = 0; i < words; ++i) {
      std::string w = prefix;
      for (int n = i, d = 0; d < 3; ++d, n /= 26) w += static_cast<char>('a' + n % 26);
      out.push_back(w);
      text += w;
      text += (i % 5 == 4 || i == words - 1) ? "\n" : " ";
    }
    EXPECT_TRUE(WriteFileAtomically(root_ + "/in/" + name, text).ok());
    return out;
  }

  mrpb::TaskAssignment MapAssignment(const std::string& job, uint32_t index,
                                     uint64_t attempt, const std::string& app,
                                     const std::string& input) {
    mrpb::TaskAssignment a;
    a.set_job_id(job);
    a.set_kind(mrpb::MAP);
    a.set_task_index(index);
    a.set_attempt_id(attempt);
    a.mutable_spec()->set_app(app);
    a.mutable_spec()->set_num_reduces(2);
    a.mutable_spec()->set_output_dir(root_ + "/out-" + job);
    mrpb::FileChunk* chunk = a.mutable_split()->add_chunks();
    chunk->set_path(root_ + "/in/" + input);
    chunk->set_offset(0);
    auto text = ReadFileToString(chunk->path());
    EXPECT_TRUE(text.ok()) << text.status();
    chunk->set_length(text.ok() ? text->size() : 0);
    return a;
  }

  static void AddParam(mrpb::TaskAssignment* a, const std::string& key,
                       const std::string& value) {
    mrpb::Param* p = a->mutable_spec()->add_params();
    p->set_key(key);
    p->set_value(value);
  }

  // The records of a partition of a map output in the store, as
  // "key=value"; the store's error when it is not there.
  absl::StatusOr<std::vector<std::string>> StoredRecords(const std::string& job,
                                                         uint32_t map,
                                                         uint64_t attempt,
                                                         uint32_t partition) {
    return StoredPartitionRecords(store_.get(), job, map, attempt, partition);
  }

  std::string root_;
  WorkerOptions options_;
  std::unique_ptr<ShuffleStore> store_;
};

// Ten attempts at once, of four kinds: maps that succeed (their output goes
// to the shuffle store), maps of a map-only job (their part file commits
// when the master grants it), a map whose child crashes, and maps that hang
// until killed. Meanwhile other threads kill the hanging ones, set the
// worker id, and poll RunningAttempts(), running_count() and the reports
// (taking them, and giving some back as a failed heartbeat does).
TEST_F(TaskRunnerTest, ConcurrentAttemptsEachEndWithOneReport) {
  constexpr int kWords = 60;
  FakeMaster master;
  std::atomic<int> on_report_calls{0};
  TaskRunner runner(options_, store_.get(), master.stub(),
                    [&on_report_calls] { ++on_report_calls; });
  runner.set_worker_id("w0007");

  // Succeeding maps: attempts 11..14 of job-m, map i reading in-i.txt.
  std::map<uint64_t, std::vector<std::string>> words;  // by attempt
  std::vector<mrpb::TaskAssignment> assignments;
  for (uint32_t i = 0; i < 4; ++i) {
    const std::string input = absl::StrCat("in-", i, ".txt");
    words[11 + i] = WriteWords(input, std::string("m") + static_cast<char>('a' + i), kWords);
    assignments.push_back(MapAssignment("job-m", i, 11 + i, "wordcount", input));
  }
  // Hanging maps: attempts 21..23 of job-h.
  ASSERT_TRUE(WriteFileAtomically(root_ + "/in/hang.txt", "hang here\n").ok());
  for (uint32_t i = 0; i < 3; ++i) {
    assignments.push_back(MapAssignment("job-h", i, 21 + i, "crash", "hang.txt"));
    AddParam(&assignments.back(), "hang", "1");
  }
  // A map whose child exits at its first record: attempt 31 of job-c.
  assignments.push_back(MapAssignment("job-c", 0, 31, "crash", "hang.txt"));
  AddParam(&assignments.back(), "crash_probability", "1");
  AddParam(&assignments.back(), "sleep_probability", "0");
  // Map-only maps: attempt 41 (task 0, granted) and 42 (task 1, refused).
  const OutputLayout only_layout(root_ + "/out-job-o", "job-o",
                                 OutputLayout::Parts::kMap);
  ASSERT_TRUE(only_layout.Prepare().ok());
  for (uint32_t i = 0; i < 2; ++i) {
    const std::string input = absl::StrCat("only-", i, ".txt");
    words[41 + i] = WriteWords(input, std::string("o") + static_cast<char>('a' + i), kWords);
    assignments.push_back(MapAssignment("job-o", i, 41 + i, "wordcount", input));
    assignments.back().mutable_spec()->set_map_only(true);
  }
  ASSERT_FALSE(HasFailure());
  std::set<uint64_t> started;
  for (const auto& a : assignments) started.insert(a.attempt_id());
  ASSERT_EQ(started.size(), 10u);

  absl::Mutex mu;
  std::vector<std::string> failures;  // guarded by mu
  auto fail = [&](std::string what) {
    absl::MutexLock lock(&mu);
    failures.push_back(std::move(what));
  };
  std::atomic<bool> stop{false};

  // Start them from two threads at once.
  std::thread starter([&] {
    for (size_t i = 0; i < assignments.size(); i += 2) runner.Start(assignments[i]);
  });
  for (size_t i = 1; i < assignments.size(); i += 2) runner.Start(assignments[i]);
  starter.join();

  // Attempt 21 is killed at once (perhaps before its child starts); 22 and
  // 23 once their child is in the job's code, hanging.
  std::thread early_killer([&] { runner.Kill(21); });
  std::thread killer([&] {
    for (uint64_t id : {22, 23}) {
      const std::string progress =
          absl::StrCat(options_.data_dir, "/tasks/attempt-", id, "/progress");
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (true) {
        auto p = ReadTaskProgress(progress);
        if (p.ok() && p->in_user_code == 1) break;
        if (std::chrono::steady_clock::now() > deadline) {
          fail(absl::StrCat("attempt ", id, " never reached the job's code"));
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      runner.Kill(id);
    }
  });
  std::thread id_setter([&] {
    while (!stop.load()) {
      runner.set_worker_id("w0007");
      std::this_thread::yield();
    }
  });
  // Like the heartbeater: takes reports, gives every third batch back.
  std::vector<mrpb::TaskReport> taken;  // observer's, read after join
  std::thread observer([&] {
    int round = 0;
    while (!stop.load()) {
      for (uint64_t id : runner.RunningAttempts()) {
        if (started.count(id) == 0) fail(absl::StrCat("runs unknown attempt ", id));
      }
      if (runner.running_count() > started.size()) fail("runs too many");
      runner.Kill(9999);  // not running: nothing happens
      std::vector<mrpb::TaskReport> reports = runner.TakeReports();
      // An attempt that reported no longer runs.
      const std::vector<uint64_t> running = runner.RunningAttempts();
      for (const auto& r : reports) {
        if (std::count(running.begin(), running.end(), r.attempt_id()) > 0) {
          fail(absl::StrCat("attempt ", r.attempt_id(), " runs after its report"));
        }
      }
      if (++round % 3 == 0) {
        runner.ReturnReports(std::move(reports));
      } else {
        for (auto& r : reports) taken.push_back(std::move(r));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });

  early_killer.join();
  killer.join();
  runner.WaitIdle();
  stop = true;
  observer.join();
  id_setter.join();
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(failures.empty())
        << failures.size() << " failures, the first: " << failures.front();
  }

  // Nothing runs; every attempt left exactly one report.
  EXPECT_TRUE(runner.RunningAttempts().empty());
  EXPECT_EQ(runner.running_count(), 0u);
  EXPECT_EQ(on_report_calls.load(), 10);
  for (auto& r : runner.TakeReports()) taken.push_back(std::move(r));
  EXPECT_TRUE(runner.TakeReports().empty());
  std::map<uint64_t, mrpb::TaskReport> by_attempt;
  for (const auto& r : taken) {
    EXPECT_TRUE(by_attempt.emplace(r.attempt_id(), r).second)
        << "two reports of attempt " << r.attempt_id();
  }
  std::set<uint64_t> reported;
  for (const auto& [id, r] : by_attempt) reported.insert(id);
  ASSERT_EQ(reported, started);
  for (const auto& [id, r] : by_attempt) EXPECT_EQ(r.kind(), mrpb::MAP);

  // The succeeding maps: their output is in the store, every word once.
  for (uint32_t i = 0; i < 4; ++i) {
    const uint64_t id = 11 + i;
    const mrpb::TaskReport& r = by_attempt[id];
    ASSERT_EQ(r.state(), mrpb::ATTEMPT_SUCCEEDED) << "attempt " << id << ": " << r.error();
    EXPECT_EQ(r.job_id(), "job-m");
    EXPECT_EQ(r.task_index(), i);
    const CounterMap counters = CountersFromProto(r.counters());
    EXPECT_EQ(counters.at("map input records"), kWords / 5);
    EXPECT_EQ(counters.at("map output records"), kWords);
    EXPECT_GT(counters.at("max map task memory bytes"), 0);
    ASSERT_EQ(r.partition_sizes_size(), 2);
    std::vector<std::string> all;
    for (uint32_t p = 0; p < 2; ++p) {
      auto got = StoredRecords("job-m", i, id, p);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->size(), r.partition_sizes(p).records())
          << "attempt " << id << " partition " << p;
      all.insert(all.end(), got->begin(), got->end());
    }
    std::vector<std::string> want;
    for (const std::string& w : words[id]) want.push_back(w + "=1");
    std::sort(all.begin(), all.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(all, want) << "attempt " << id;
  }
  std::set<std::tuple<std::string, uint32_t, uint64_t>> held, want_held;
  for (const auto& h : store_->HeldOutputs()) {
    held.insert({h.job_id(), h.map_index(), h.attempt_id()});
  }
  for (uint32_t i = 0; i < 4; ++i) want_held.insert({"job-m", i, 11 + i});
  EXPECT_EQ(held, want_held);  // nothing of the failed or map-only attempts

  // The hanging maps: killed.
  const std::string& early = by_attempt[21].error();
  EXPECT_EQ(by_attempt[21].state(), mrpb::ATTEMPT_FAILED);
  EXPECT_TRUE(early == "killed by the worker" || early == "killed before it started")
      << early;
  for (uint64_t id : {22, 23}) {
    EXPECT_EQ(by_attempt[id].state(), mrpb::ATTEMPT_FAILED);
    EXPECT_EQ(by_attempt[id].error(), "killed by the worker");
    EXPECT_EQ(by_attempt[id].counters_size(), 0);
  }

  // The crashing map: failed, saying how its process ended.
  EXPECT_EQ(by_attempt[31].state(), mrpb::ATTEMPT_FAILED);
  EXPECT_TRUE(absl::StartsWith(by_attempt[31].error(), "task process exit code 1"))
      << by_attempt[31].error();
  EXPECT_FALSE(by_attempt[31].has_crashed_on());  // no per-record progress

  // The map-only maps: the master was asked once each, under the worker's
  // id; the granted one's part file is staged, the refused one's is gone.
  std::map<uint64_t, mrpb::CommitTaskRequest> commits;
  for (const auto& c : master.commits()) {
    EXPECT_TRUE(commits.emplace(c.attempt_id(), c).second) << c.attempt_id();
  }
  ASSERT_EQ(commits.size(), 2u);
  for (uint64_t id : {41, 42}) {
    EXPECT_EQ(commits[id].worker_id(), "w0007");
    EXPECT_EQ(commits[id].job_id(), "job-o");
    EXPECT_EQ(commits[id].task_index(), id - 41);
    EXPECT_EQ(commits[id].kind(), mrpb::MAP);
  }
  EXPECT_EQ(by_attempt[41].state(), mrpb::ATTEMPT_SUCCEEDED) << by_attempt[41].error();
  EXPECT_EQ(by_attempt[42].state(), mrpb::ATTEMPT_FAILED);
  EXPECT_EQ(by_attempt[42].error(), "commit refused: another attempt won");
  auto part = ReadFileToString(only_layout.StagedPartFile(0));
  ASSERT_TRUE(part.ok()) << part.status();
  std::vector<std::string> lines = absl::StrSplit(*part, '\n', absl::SkipEmpty());
  std::vector<std::string> want_lines;
  for (const std::string& w : words[41]) want_lines.push_back(w + " 1");
  std::sort(lines.begin(), lines.end());
  std::sort(want_lines.begin(), want_lines.end());
  EXPECT_EQ(lines, want_lines);
  EXPECT_EQ(part->back(), '\n');
  EXPECT_FALSE(PathExists(only_layout.StagedPartFile(1)));
  EXPECT_FALSE(PathExists(only_layout.AttemptDir(41)));
  EXPECT_FALSE(PathExists(only_layout.AttemptDir(42)));

  // No attempt left its scratch directory.
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(options_.data_dir + "/tasks")) {
    left.push_back(e.path().filename().string());
  }
  EXPECT_TRUE(left.empty()) << left.size() << " left, e.g. " << left.front();
}

// The worker's own --allowed_*_roots, whatever the master allowed: a task
// whose input or output lies outside (plainly, or through a symbolic link
// in a root) fails as permanent before anything is read or written, and
// the master is never asked to commit it; a task inside runs as usual.
TEST_F(TaskRunnerTest, PathPolicyRefusesTasksBeforeTouchingTheirPaths) {
  for (const char* d : {"/outs", "/outside"}) {
    ASSERT_TRUE(MakeDirs(root_ + d).ok());
  }
  ASSERT_EQ(symlink((root_ + "/outside").c_str(),
                    (root_ + "/outs/escape").c_str()),
            0);
  ASSERT_TRUE(WriteFileAtomically(root_ + "/secret.txt", "secret words\n").ok());
  auto policy = PathPolicy::Create({root_ + "/in"}, {root_ + "/outs"});
  ASSERT_TRUE(policy.ok()) << policy.status();
  options_.path_policy = *policy;
  FakeMaster master;
  TaskRunner runner(options_, store_.get(), master.stub(), [] {});
  runner.set_worker_id("w0009");

  WriteWords("words.txt", "p", 20);
  // Map-only maps (task 0: the fake master grants their commit), writing
  // inside the root, outside it, and through the link out of it. Each
  // output's staging directory is prepared, as a master without roots
  // would have.
  const std::vector<std::pair<uint64_t, std::string>> outputs = {
      {51, root_ + "/outs/good"},
      {52, root_ + "/outside/job"},
      {53, root_ + "/outs/escape/job"}};
  std::map<uint64_t, OutputLayout> layouts;
  for (const auto& [id, out] : outputs) {
    const std::string job = absl::StrCat("job-", id);
    layouts.emplace(id, OutputLayout(out, job, OutputLayout::Parts::kMap));
    ASSERT_TRUE(layouts.at(id).Prepare().ok()) << out;
    mrpb::TaskAssignment a = MapAssignment(job, 0, id, "wordcount", "words.txt");
    a.mutable_spec()->set_output_dir(out);
    a.mutable_spec()->set_map_only(true);
    runner.Start(a);
  }
  // A map reading a file outside the input root.
  mrpb::TaskAssignment reads_outside =
      MapAssignment("job-54", 0, 54, "wordcount", "words.txt");
  reads_outside.mutable_split()->mutable_chunks(0)->set_path(root_ + "/secret.txt");
  runner.Start(reads_outside);
  runner.WaitIdle();

  std::map<uint64_t, mrpb::TaskReport> by_attempt;
  for (auto& r : runner.TakeReports()) by_attempt[r.attempt_id()] = r;
  ASSERT_EQ(by_attempt.size(), 4u);
  EXPECT_EQ(by_attempt[51].state(), mrpb::ATTEMPT_SUCCEEDED)
      << by_attempt[51].error();
  EXPECT_FALSE(by_attempt[51].permanent());
  EXPECT_TRUE(PathExists(layouts.at(51).StagedPartFile(0)));

  const std::string roots = absl::StrCat(
      "the allowed output roots ", root_, "/outs (--allowed_output_roots)");
  const std::map<uint64_t, std::string> want = {
      {52, absl::StrCat("worker w0009 refuses the task: output ", root_,
                        "/outside/job is outside ", roots)},
      {53, absl::StrCat("worker w0009 refuses the task: output ", root_,
                        "/outs/escape/job resolves to ", root_,
                        "/outside/job, outside ", roots)},
      {54, absl::StrCat("worker w0009 refuses the task: input ", root_,
                        "/secret.txt is outside the allowed input roots ",
                        root_, "/in (--allowed_input_roots)")}};
  for (const auto& [id, error] : want) {
    const mrpb::TaskReport& r = by_attempt[id];
    EXPECT_EQ(r.state(), mrpb::ATTEMPT_FAILED) << id;
    EXPECT_TRUE(r.permanent()) << id;
    EXPECT_EQ(r.error(), error) << id;
    EXPECT_EQ(r.counters_size(), 0) << id;
  }
  // Nothing was written where the refused tasks would have: their staging
  // directories hold only the empty _temporary the master made.
  for (uint64_t id : {52, 53}) {
    const OutputLayout& layout = layouts.at(id);
    EXPECT_FALSE(PathExists(layout.AttemptDir(id))) << id;
    EXPECT_FALSE(PathExists(layout.StagedPartFile(0))) << id;
    EXPECT_TRUE(std::filesystem::is_empty(layout.temporary_dir())) << id;
  }
  EXPECT_FALSE(PathExists(root_ + "/outside/job/part-m-00000"));
  // Only the allowed map-only map asked to commit; the refused map left no
  // shuffle output.
  const std::vector<mrpb::CommitTaskRequest> commits = master.commits();
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[0].attempt_id(), 51u);
  EXPECT_EQ(StoredRecords("job-54", 0, 54, 0).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mr
