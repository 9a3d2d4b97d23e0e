#include "worker/task_runner.h"

#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/output_layout.h"
#include "common/proto_maps.h"
#include "common/status_macros.h"
#include "worker/internal/task_progress.h"
#include "worker/internal/reduce_task.h"
#include "worker/internal/task_child.h"

namespace mr {
namespace {

constexpr size_t kLogTail = 1500;       // of a crashed child's, in its error
constexpr size_t kCopiedOutput = 64 << 10;  // of any child's, into the log

std::string Tail(const std::string& path, size_t limit = kLogTail) {
  std::string text = ReadFileToString(path).value_or("");
  if (text.size() > limit) text = "..." + text.substr(text.size() - limit);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// The attempt's peak memory, as counters the master combines by maximum
// (their names start with "max ", see include/mr/mapreduce.h).
void AddPeakMemoryCounters(mrpb::TaskKind kind, int64_t bytes,
                           mrpb::TaskReport* report) {
  CounterMap counters = CountersFromProto(report->counters());
  counters["max task memory bytes"] = bytes;
  if (kind != mrpb::SAMPLE) {
    counters[kind == mrpb::MAP ? "max map task memory bytes"
                               : "max reduce task memory bytes"] = bytes;
  }
  CountersToProto(counters, report->mutable_counters());
}

std::string Describe(const mrpb::TaskAssignment& a) {
  return absl::StrFormat("task %s %s %d attempt %d", a.job_id(),
                         mrpb::TaskKind_Name(a.kind()), a.task_index(),
                         a.attempt_id());
}

}  // namespace

TaskRunner::TaskRunner(const WorkerOptions& options, ShuffleStore* store,
                       mrpb::MasterWorkerService::StubInterface* master,
                       std::function<void()> on_report)
    : options_(options), store_(store), master_(master),
      on_report_(std::move(on_report)),
      corrupt_outputs_(options.inject_corrupt_stored_outputs) {}

TaskRunner::~TaskRunner() {
  KillAll();
  WaitIdle();
}

void TaskRunner::set_worker_id(const std::string& id) {
  absl::MutexLock lock(&mu_);
  worker_id_ = id;
}

void TaskRunner::Start(const mrpb::TaskAssignment& assignment) {
  auto attempt = std::make_shared<Attempt>();
  attempt->assignment = assignment;
  {
    absl::MutexLock lock(&mu_);
    running_[assignment.attempt_id()] = attempt;
    ++threads_;
  }
  std::thread([this, attempt] { Run(attempt); }).detach();
}

void TaskRunner::Kill(uint64_t attempt_id) {
  absl::MutexLock lock(&mu_);
  auto it = running_.find(attempt_id);
  if (it == running_.end()) return;
  it->second->killed = true;
  it->second->child.Kill(SIGKILL);
}

void TaskRunner::KillAll() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, attempt] : running_) {
    attempt->killed = true;
    attempt->child.Kill(SIGKILL);
  }
}

void TaskRunner::WaitIdle() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* threads) { return *threads == 0; }, &threads_));
}

std::vector<uint64_t> TaskRunner::RunningAttempts() {
  absl::MutexLock lock(&mu_);
  std::vector<uint64_t> out;
  for (const auto& [id, attempt] : running_) out.push_back(id);
  return out;
}

size_t TaskRunner::running_count() {
  absl::MutexLock lock(&mu_);
  return running_.size();
}

std::vector<mrpb::TaskReport> TaskRunner::TakeReports() {
  absl::MutexLock lock(&mu_);
  std::vector<mrpb::TaskReport> out;
  out.swap(reports_);
  return out;
}

void TaskRunner::ReturnReports(std::vector<mrpb::TaskReport> reports) {
  absl::MutexLock lock(&mu_);
  for (auto& r : reports) reports_.push_back(std::move(r));
}

void TaskRunner::Run(std::shared_ptr<Attempt> attempt) {
  const mrpb::TaskAssignment& a = attempt->assignment;
  mrpb::TaskReport report;
  report.set_job_id(a.job_id());
  report.set_kind(a.kind());
  report.set_task_index(a.task_index());
  report.set_attempt_id(a.attempt_id());
  report.set_start_time_ms(Clock::Real()->WallMs());
  MR_LOG(INFO) << Describe(a) << " started at " << report.start_time_ms();

  absl::Status s = Execute(attempt.get(), &report);
  report.set_finish_time_ms(Clock::Real()->WallMs());
  report.set_state(s.ok() ? mrpb::ATTEMPT_SUCCEEDED : mrpb::ATTEMPT_FAILED);
  if (!s.ok()) report.set_error(std::string(s.message()));
  MR_LOG(INFO) << Describe(a) << " finished at " << report.finish_time_ms()
               << (s.ok() ? " ok" : " failed: ") << (s.ok() ? "" : s.message());
  {
    absl::MutexLock lock(&mu_);
    running_.erase(a.attempt_id());
    reports_.push_back(std::move(report));
  }
  on_report_();
  absl::MutexLock lock(&mu_);
  --threads_;
}

absl::Status TaskRunner::Execute(Attempt* attempt, mrpb::TaskReport* report) {
  const mrpb::TaskAssignment& a = attempt->assignment;
  // Before anything reads the split or writes the output: nothing of a
  // refused task is touched, not even to clean up.
  if (absl::Status s = CheckPaths(a); !s.ok()) return Refuse(a, s, report);
  const std::string scratch =
      absl::StrCat(options_.data_dir, "/tasks/attempt-", a.attempt_id());
  RETURN_IF_ERROR(MakeDirs(scratch), "creating the task's scratch directory");
  // Whichever way the attempt ends, its scratch directory goes.
  auto remove_scratch = absl::MakeCleanup([&scratch] {
    if (absl::Status s = RemoveAll(scratch); !s.ok()) {
      MR_LOG(WARNING) << "cannot remove " << scratch << ": " << s;
    }
  });

  mrpb::TaskSpec spec;
  *spec.mutable_assignment() = a;
  spec.set_scratch_dir(scratch);
  spec.set_result_path(scratch + "/result.pb");
  spec.set_fetch_parallelism(options_.fetch_parallelism);
  spec.set_master_address(options_.master_address);
  spec.set_tls_ca_file(options_.tls.ca_file);
  spec.set_tls_cert_file(options_.tls.cert_file);
  spec.set_tls_key_file(options_.tls.key_file);
  spec.set_progress_path(scratch + "/progress");
  spec.set_worker_pid(getpid());
  if (options_.task_memory_mb > 0) {
    spec.set_memory_limit_bytes(static_cast<uint64_t>(options_.task_memory_mb)
                                << 20);
  }
  RETURN_IF_ERROR(CreateTaskProgressFile(spec.progress_path()));
  if (a.spec().app().empty()) {
    ASSIGN_OR_RETURN(std::string plugin, PluginPath(a.spec()),
                     "fetching the job's plugin");
    spec.set_plugin_path(plugin);
  }
  if (a.spec().side_files_size() > 0) {
    const std::string files_dir = scratch + "/files";
    RETURN_IF_ERROR(MakeDirs(files_dir));
    for (const mrpb::SideFile& f : a.spec().side_files()) {
      absl::StatusOr<std::string> fetched = SideFilePath(f);
      if (!fetched.ok()) {
        return Prepend(fetched.status(),
                       absl::StrCat("fetching the job's side file ", f.name()));
      }
      const std::string& blob = *fetched;
      // A copy, not a link: a task that writes its side file must not
      // change the worker's cached copy, which later tasks share.
      const std::string copy = absl::StrCat(files_dir, "/", f.name());
      if (absl::Status s = CopyFile(blob, copy, f.executable() ? 0755 : 0644);
          !s.ok()) {
        return s;
      }
    }
    spec.set_files_dir(files_dir);
  }
  const std::string spec_path = scratch + "/spec.pb";
  const std::string log_path = scratch + "/task.log";
  RETURN_IF_ERROR(WriteProtoFile(spec_path, spec));

  {
    absl::MutexLock lock(&mu_);
    if (attempt->killed) return absl::AbortedError("killed before it started");
    RETURN_IF_ERROR(attempt->child.Start(
        {options_.task_executable, "--run_task=" + spec_path}, log_path));
  }
  absl::StatusOr<Subprocess::Exit> exit = attempt->child.Wait();
  // What the child logged (fetch retries, the job's own messages) goes into
  // the worker's log, which outlives the attempt's scratch directory.
  if (std::string output = Tail(log_path, kCopiedOutput); !output.empty()) {
    MR_LOG(INFO) << Describe(a) << " output:\n" << output;
  }
  bool killed;
  {
    absl::MutexLock lock(&mu_);
    killed = attempt->killed;
  }

  absl::Status outcome;
  mrpb::TaskResult result;
  if (killed) {
    outcome = absl::AbortedError("killed by the worker");
  } else if (!exit.ok()) {
    outcome = exit.status();
  } else if (!exit->signaled && exit->code == kTaskExitMemoryLimit &&
             spec.memory_limit_bytes() > 0) {
    outcome = absl::ResourceExhaustedError(
        absl::StrCat("task exceeded its memory limit of ",
                     spec.memory_limit_bytes() >> 20, " MiB"));
  } else if (absl::Status r = ReadProtoFile(spec.result_path(), &result);
             !r.ok() || exit->signaled || exit->code > kTaskExitFailed) {
    const std::string tail = Tail(log_path);
    outcome = absl::InternalError(
        absl::StrCat("task process ", exit->Describe(),
                     tail.empty() ? "" : "; its last output: ", tail));
    // Did the job's own code kill it, and on which record?
    auto progress = ReadTaskProgress(spec.progress_path());
    if (progress.ok() && progress->in_user_code && progress->precise) {
      mrpb::RecordLocation* at = report->mutable_crashed_on();
      if (a.kind() == mrpb::REDUCE) {
        at->set_path(ReducePartitionName(a.task_index()));
        at->set_offset(progress->offset);
        at->set_key(std::string(progress->key,
                                std::min<size_t>(progress->key_size,
                                                 TaskProgress::kMaxKey)));
        outcome = absl::InternalError(absl::StrCat(
            outcome.message(), " while reducing key group ", at->offset(),
            " of ", at->path(), " (key '", at->key(), "')"));
      } else if (progress->chunk <
                 static_cast<uint32_t>(a.split().chunks_size())) {
        at->set_path(a.split().chunks(progress->chunk).path());
        at->set_offset(progress->offset);
        outcome = absl::InternalError(absl::StrCat(
            outcome.message(), " while mapping the record at ", at->path(),
            ":", at->offset()));
      } else {
        report->clear_crashed_on();
      }
    }
  } else if (!result.ok()) {
    outcome = absl::InternalError(result.error());
  } else if (a.kind() == mrpb::SAMPLE) {
    outcome = absl::OkStatus();  // its findings travel in the report
  } else if (a.kind() == mrpb::MAP && !a.spec().map_only()) {
    std::vector<std::string> files(result.sst_files().begin(),
                                   result.sst_files().end());
    outcome = store_->IngestMapOutput(a.job_id(), a.task_index(),
                                      a.attempt_id(), a.shuffle_secret(),
                                      files);
    if (outcome.ok() && corrupt_outputs_.load() > 0) {
      auto corrupted = store_->CorruptForTest(a.job_id(), a.task_index(),
                                              a.attempt_id());
      if (corrupted.ok() && *corrupted && corrupt_outputs_.fetch_sub(1) > 0) {
        MR_LOG(WARNING) << Describe(a) << ": injected corruption into its "
                        << "stored output";
      }
    }
  } else {
    outcome = CommitOutput(a, report);  // a reduce's, or a map-only job's map's
  }
  if (outcome.ok()) {
    *report->mutable_counters() = result.counters();
    *report->mutable_malformed_records() = result.malformed_records();
    *report->mutable_partition_sizes() = result.partition_sizes();
    report->set_plan(result.plan());
    *report->mutable_partition_bounds() = result.partition_bounds();
    AddPeakMemoryCounters(a.kind(), exit->max_rss_bytes, report);
  } else if (WritesOutput(a) && !report->permanent()) {
    RemoveAttemptOutput(a);
  }
  return outcome;
}

absl::Status TaskRunner::CheckPaths(const mrpb::TaskAssignment& a) const {
  const PathPolicy& policy = options_.path_policy;
  std::set<std::string> inputs;  // a sample task's split names every chunk
  for (const mrpb::FileChunk& c : a.split().chunks()) inputs.insert(c.path());
  for (const std::string& path : inputs) RETURN_IF_ERROR(policy.CheckInput(path));
  if (WritesOutput(a)) {
    const OutputLayout layout = Layout(a);
    RETURN_IF_ERROR(policy.CheckOutputDir(layout.output_dir()));
    // Resolved through the staging and _temporary directories, which a
    // link could replace.
    RETURN_IF_ERROR(policy.CheckOutput(layout.AttemptDir(a.attempt_id())));
  }
  return absl::OkStatus();
}

absl::Status TaskRunner::Refuse(const mrpb::TaskAssignment& a,
                                const absl::Status& why,
                                mrpb::TaskReport* report) {
  std::string worker_id;
  {
    absl::MutexLock lock(&mu_);
    worker_id = worker_id_;
  }
  if (!absl::IsPermissionDenied(why)) {
    // The paths could not be checked now (an I/O error): an ordinary
    // failure, tried again like any other.
    MR_LOG(WARNING) << Describe(a) << ": " << why.message();
    return absl::UnavailableError(absl::StrCat(
        "worker ", worker_id, " cannot check the task's paths: ",
        why.message()));
  }
  MR_LOG(WARNING) << Describe(a) << " refused by the path policy: "
                  << why.message();
  report->set_permanent(true);
  return absl::PermissionDeniedError(absl::StrCat(
      "worker ", worker_id, " refuses the task: ", why.message()));
}

absl::Status TaskRunner::CommitOutput(const mrpb::TaskAssignment& a,
                                      mrpb::TaskReport* report) {
  mrpb::CommitTaskRequest request;
  {
    absl::MutexLock lock(&mu_);
    request.set_worker_id(worker_id_);
  }
  request.set_job_id(a.job_id());
  request.set_task_index(a.task_index());
  request.set_attempt_id(a.attempt_id());
  request.set_kind(a.kind());
  mrpb::CommitTaskResponse response;
  grpc::Status rpc;
  for (int tries = 0; tries < 5; ++tries) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    rpc = master_->CommitTask(&ctx, request, &response);
    if (rpc.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500 << tries));
  }
  RETURN_IF_ERROR(FromGrpcStatus(rpc), "asking the master to commit");
  if (response.decision() != mrpb::CommitTaskResponse::COMMIT) {
    return absl::AbortedError(
        absl::StrCat("commit refused: ", response.reason()));
  }
  // Again right before the renames: the directories may have changed
  // while the task ran.
  if (absl::Status s = CheckPaths(a); !s.ok()) return Refuse(a, s, report);
  return Layout(a).CommitAttempt(a.attempt_id(), a.task_index());
}

void TaskRunner::RemoveAttemptOutput(const mrpb::TaskAssignment& a) {
  const OutputLayout layout = Layout(a);
  // A removal that a link would carry out of the roots is not done.
  if (absl::Status s =
          options_.path_policy.CheckOutput(layout.AttemptDir(a.attempt_id()));
      !s.ok()) {
    MR_LOG(WARNING) << Describe(a) << ": not removing its output: "
                    << s.message();
    return;
  }
  layout.RemoveAttempt(a.attempt_id());
}

bool TaskRunner::WritesOutput(const mrpb::TaskAssignment& a) {
  return a.kind() == mrpb::REDUCE ||
         (a.kind() == mrpb::MAP && a.spec().map_only());
}

OutputLayout TaskRunner::Layout(const mrpb::TaskAssignment& a) {
  return OutputLayout(a.spec().output_dir(), a.job_id(),
                      a.kind() == mrpb::MAP ? OutputLayout::Parts::kMap
                                            : OutputLayout::Parts::kReduce);
}

absl::StatusOr<std::string> TaskRunner::PluginPath(const mrpb::JobSpec& spec) {
  return FetchBlob(spec.plugin_hash(), "plugins", ".so", 0644);
}

absl::StatusOr<std::string> TaskRunner::SideFilePath(const mrpb::SideFile& f) {
  // Executable or not, the two are different files: a hard link shares the
  // mode of its inode.
  return FetchBlob(f.hash(), "files", f.executable() ? ".x" : "",
                   f.executable() ? 0755 : 0644);
}

absl::StatusOr<std::string> TaskRunner::FetchBlob(const std::string& hash,
                                                  const std::string& dir,
                                                  const std::string& suffix,
                                                  mode_t mode) {
  if (hash.empty() || hash.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("bad content hash '", hash, "'"));
  }
  const std::string path =
      absl::StrCat(options_.data_dir, "/", dir, "/", hash, suffix);
  if (PathExists(path)) return path;  // installed whole, by rename
  absl::MutexLock lock(&plugin_mu_);
  if (PathExists(path)) return path;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  mrpb::GetPluginRequest request;
  request.set_plugin_hash(hash);
  mrpb::GetPluginResponse response;
  RETURN_IF_ERROR(FromGrpcStatus(master_->GetPlugin(&ctx, request, &response)));
  if (!response.found()) {
    return absl::NotFoundError(absl::StrCat("the master has no file ", hash));
  }
  RETURN_IF_ERROR(MakeDirs(absl::StrCat(options_.data_dir, "/", dir)));
  const std::string tmp = path + ".tmp";
  RETURN_IF_ERROR(WriteFileAtomically(tmp, response.plugin()));
  if (chmod(tmp.c_str(), mode) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot install ", path, ": ", strerror(errno)));
  }
  return path;
}

}  // namespace mr
