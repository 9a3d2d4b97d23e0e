#include "master/job_tracker.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "apps/job_registry.h"
#include "common/file_util.h"
#include "common/job_limits.h"
#include "common/logging.h"
#include "master/input_splitter.h"

namespace mr {
namespace {

constexpr uint32_t kDefaultReduces = 4;
constexpr uint32_t kMaxReduces = 100000;
constexpr uint64_t kDefaultSplitSize = 64ull << 20;
// While jobs run, workers with free slots come back this soon for work.
constexpr uint32_t kBusyHeartbeatMs = 100;
// How long the heartbeat of a worker that runs nothing waits for work.
constexpr int64_t kIdleLongPollMs = 500;

std::string SuccessMarker(const std::string& output_dir) {
  return output_dir + "/_SUCCESS";
}

std::string TemporaryDir(const std::string& output_dir) {
  return output_dir + "/_temporary";
}

// Makes `dir` ready for a new job's output: exists, with no _temporary, and
// when `overwrite`, without an earlier job's result.
absl::Status PrepareOutputDir(const std::string& dir, bool overwrite) {
  if (absl::Status s = MakeDirs(dir); !s.ok()) return s;
  if (absl::Status s = RemoveAll(TemporaryDir(dir)); !s.ok()) return s;
  if (!overwrite) return absl::OkStatus();
  if (absl::Status s = RemoveAll(SuccessMarker(dir)); !s.ok()) return s;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "part-r-")) {
      if (absl::Status s = RemoveAll(entry.path().string()); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

// Attempt ids are reserved in the store this many at a time.
constexpr uint64_t kAttemptIdBlock = 1000;

JobTracker::JobTracker(const MasterOptions& options, PluginStore* plugins,
                       MasterStore* store)
    : options_(options),
      clock_(options.clock ? options.clock : Clock::Real()),
      plugins_(plugins),
      store_(store) {
  absl::MutexLock lock(&mu_);
  start_ms_ = clock_->MonotonicMs();
}

absl::Status JobTracker::Restore() {
  if (store_ == nullptr) return absl::OkStatus();
  auto state = store_->Load();
  if (!state.ok()) return state.status();
  std::vector<std::string> to_commit;
  {
    absl::MutexLock lock(&mu_);
    next_job_seq_ = std::max<uint64_t>(1, state->ids.next_job_seq());
    next_attempt_id_ = std::max<uint64_t>(1, state->ids.attempt_id_limit());
    attempt_id_limit_ = next_attempt_id_;
    next_worker_seq_ = std::max<uint64_t>(1, state->ids.next_worker_seq());
    for (const mrpb::JobRecord& r : state->jobs) {
      std::vector<std::string> files(r.input_files().begin(),
                                     r.input_files().end());
      std::vector<mrpb::InputSplit> splits(r.splits().begin(), r.splits().end());
      auto job = std::make_unique<JobInProgress>(
          r.job_id(), r.spec(), std::move(files), std::move(splits),
          r.submit_time_ms());
      for (const mrpb::TaskRecord& t : state->tasks[r.job_id()]) {
        const std::map<std::string, int64_t> counters(t.counters().begin(),
                                                      t.counters().end());
        if (t.kind() == mrpb::MAP && t.index() < job->num_maps()) {
          job->RestoreMapDone(t.index(), t.attempt_id(), counters);
        } else if (t.kind() == mrpb::REDUCE &&
                   t.index() < job->spec().num_reduces()) {
          job->RestoreReduceDone(t.index(), counters);
        }
      }
      if (r.state() != mrpb::JOB_RUNNING) {
        job->Finish(r.state(), r.error(), r.finish_time_ms());
      } else if (job->AllReducesDone()) {
        to_commit.push_back(r.job_id());  // died while committing
        committing_jobs_.insert(r.job_id());
      } else {
        relocation_pending_ = true;
      }
      MR_LOG(INFO) << "restored " << r.job_id() << " ("
                   << mrpb::JobState_Name(r.state()) << ")";
      job_order_.push_back(r.job_id());
      jobs_[r.job_id()] = std::move(job);
    }
    start_ms_ = clock_->MonotonicMs();
  }
  for (const std::string& id : to_commit) CommitJob(id);
  return absl::OkStatus();
}

void JobTracker::PersistIds() {
  if (store_ == nullptr) return;
  mrpb::MasterIds ids;
  ids.set_next_job_seq(next_job_seq_);
  ids.set_attempt_id_limit(attempt_id_limit_);
  ids.set_next_worker_seq(next_worker_seq_);
  if (absl::Status s = store_->PutIds(ids); !s.ok()) MR_LOG(ERROR) << s;
}

void JobTracker::Persist(const JobInProgress& job) {
  if (store_ == nullptr) return;
  PersistIds();
  if (absl::Status s = store_->PutJob(job.Record()); !s.ok()) {
    MR_LOG(ERROR) << job.id() << ": " << s;
  }
}

void JobTracker::PersistTask(
    const JobInProgress& job, const Task& task,
    const google::protobuf::Map<std::string, int64_t>& counters) {
  if (store_ == nullptr) return;
  mrpb::TaskRecord r;
  r.set_kind(task.kind);
  r.set_index(task.index);
  r.set_attempt_id(task.done_attempt);
  *r.mutable_counters() = counters;
  if (absl::Status s = store_->PutTask(job.id(), r); !s.ok()) {
    MR_LOG(ERROR) << job.id() << ": " << s;
  }
}

uint64_t JobTracker::NextAttemptId() {
  if (next_attempt_id_ >= attempt_id_limit_) {
    attempt_id_limit_ = next_attempt_id_ + kAttemptIdBlock;
    PersistIds();
  }
  return next_attempt_id_++;
}

// ------------------------------------------------------------------ clients

mrpb::SubmitJobResponse::Error JobTracker::ValidateSpec(
    mrpb::JobSpec* spec, const std::string& plugin, std::string* message) {
  using R = mrpb::SubmitJobResponse;
  if (spec->output_dir().empty() || spec->output_dir()[0] != '/') {
    *message = "the output directory must be an absolute path";
    return R::INVALID_SPEC;
  }
  if (spec->inputs().empty()) {
    *message = "no input given";
    return R::INVALID_SPEC;
  }
  if (spec->num_reduces() == 0) spec->set_num_reduces(kDefaultReduces);
  if (spec->num_reduces() > kMaxReduces) {
    *message = absl::StrCat("at most ", kMaxReduces, " reduces");
    return R::INVALID_SPEC;
  }
  if (spec->split_size() == 0) spec->set_split_size(kDefaultSplitSize);
  if (spec->sort_buffer_bytes() == 0) {
    spec->set_sort_buffer_bytes(kDefaultSortBufferBytes);
  }
  if (spec->sort_buffer_bytes() < kMinSortBufferBytes) {
    *message = absl::StrCat("the sort buffer must be at least ",
                            kMinSortBufferBytes, " bytes (1 MiB), got ",
                            spec->sort_buffer_bytes());
    return R::INVALID_SPEC;
  }
  if (spec->merge_factor() == 0) spec->set_merge_factor(kDefaultMergeFactor);
  if (spec->merge_factor() < kMinMergeFactor ||
      spec->merge_factor() > kMaxMergeFactor) {
    *message = absl::StrCat("the merge factor must be between ",
                            kMinMergeFactor, " and ", kMaxMergeFactor,
                            ", got ", spec->merge_factor());
    return R::INVALID_SPEC;
  }
  if (spec->max_record_bytes() == 0) {
    spec->set_max_record_bytes(kDefaultMaxRecordBytes);
  }
  if (spec->max_record_bytes() > kMaxMaxRecordBytes) {
    *message = absl::StrCat("the record size limit must be at most ",
                            kMaxMaxRecordBytes, " bytes (1 GiB), got ",
                            spec->max_record_bytes());
    return R::INVALID_SPEC;
  }
  const std::map<std::string, std::string> params(spec->params().begin(),
                                                  spec->params().end());
  const bool has_plugin = !spec->plugin_name().empty() || !plugin.empty();
  if (has_plugin == !spec->app().empty()) {
    *message = "give exactly one of an app and a plugin";
    return R::INVALID_SPEC;
  }
  if (!has_plugin) {
    auto loaded = LoadBuiltinJob(spec->app());
    if (!loaded.ok()) {
      *message = std::string(loaded.status().message());
      return R::UNKNOWN_APP;
    }
    const std::string refusal = (*loaded)->job()->Setup(params);
    if (!refusal.empty()) {
      *message = refusal;
      return R::BAD_PARAMS;
    }
    return R::OK;
  }
  if (plugin.empty()) {
    *message = absl::StrCat("plugin ", spec->plugin_name(), " is empty");
    return R::BAD_PLUGIN;
  }
  auto hash = plugins_->Put(plugin);
  if (!hash.ok()) {
    *message = std::string(hash.status().message());
    return R::BAD_PLUGIN;
  }
  spec->set_plugin_hash(*hash);
  if (!options_.plugin_validator) {
    *message = "this master does not accept plugins";
    return R::BAD_PLUGIN;
  }
  absl::Status valid =
      options_.plugin_validator(plugins_->PathOf(*hash), *spec);
  if (!valid.ok()) {
    *message = absl::StrCat("plugin ", spec->plugin_name(), ": ",
                            valid.message());
    return absl::IsInvalidArgument(valid) ? R::BAD_PARAMS : R::BAD_PLUGIN;
  }
  return R::OK;
}

mrpb::SubmitJobResponse JobTracker::Submit(
    const mrpb::SubmitJobRequest& request) {
  using R = mrpb::SubmitJobResponse;
  mrpb::SubmitJobResponse response;
  mrpb::JobSpec spec = request.spec();
  std::string message;
  R::Error error = ValidateSpec(&spec, request.plugin(), &message);
  if (error != R::OK) {
    response.set_error(error);
    response.set_message(message);
    MR_LOG(INFO) << "refused submission: " << R::Error_Name(error) << ": "
                 << message;
    return response;
  }

  std::vector<std::string> patterns(spec.inputs().begin(), spec.inputs().end());
  auto files = ExpandInputs(patterns);
  if (!files.ok()) {
    response.set_error(R::NO_INPUT);
    response.set_message(std::string(files.status().message()));
    return response;
  }
  std::vector<InputFile> inputs;
  for (const std::string& path : *files) {
    auto size = FileSize(path);
    if (!size.ok()) {
      response.set_error(R::NO_INPUT);
      response.set_message(std::string(size.status().message()));
      return response;
    }
    inputs.push_back({path, *size});
  }
  std::vector<mrpb::InputSplit> splits =
      ComputeSplits(inputs, spec.split_size());

  absl::MutexLock lock(&mu_);
  for (const auto& [id, job] : jobs_) {
    if (job->running() && job->spec().output_dir() == spec.output_dir()) {
      response.set_error(R::OUTPUT_IN_USE);
      response.set_message(absl::StrCat("running job ", id, " writes to ",
                                        spec.output_dir()));
      return response;
    }
  }
  if (PathExists(SuccessMarker(spec.output_dir())) && !spec.overwrite()) {
    response.set_error(R::OUTPUT_EXISTS);
    response.set_message(absl::StrCat(
        spec.output_dir(),
        " already holds a committed result (_SUCCESS); use --overwrite to "
        "replace it"));
    return response;
  }
  if (absl::Status s = PrepareOutputDir(spec.output_dir(), spec.overwrite());
      !s.ok()) {
    response.set_error(R::INVALID_SPEC);
    response.set_message(absl::StrCat("output directory: ", s.message()));
    return response;
  }

  const std::string id = absl::StrFormat("job-%06d", next_job_seq_++);
  const uint32_t num_maps = splits.size();
  jobs_[id] = std::make_unique<JobInProgress>(id, spec, std::move(*files),
                                    std::move(splits), clock_->WallMs());
  job_order_.push_back(id);
  ++work_epoch_;
  Persist(*jobs_[id]);
  MR_LOG(INFO) << "accepted " << id << ": "
               << (spec.app().empty() ? spec.plugin_name() : spec.app())
               << ", " << num_maps << " maps, " << spec.num_reduces()
               << " reduces, output " << spec.output_dir();
  response.set_error(R::OK);
  response.set_job_id(id);
  response.set_num_maps(num_maps);
  return response;
}

std::optional<mrpb::JobStatus> JobTracker::GetStatus(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second->Status();
}

std::vector<mrpb::JobStatus> JobTracker::ListJobs() {
  absl::MutexLock lock(&mu_);
  std::vector<mrpb::JobStatus> out;
  for (const std::string& id : job_order_) out.push_back(jobs_[id]->Status());
  return out;
}

mrpb::KillJobResponse JobTracker::Kill(const std::string& job_id) {
  mrpb::KillJobResponse response;
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    response.set_error(mrpb::KillJobResponse::NOT_FOUND);
    response.set_message(absl::StrCat("no job ", job_id));
    return response;
  }
  JobInProgress* job = it->second.get();
  if (!job->running() || committing_jobs_.count(job_id) > 0) {
    response.set_error(mrpb::KillJobResponse::ALREADY_FINISHED);
    response.set_message(absl::StrCat(job_id, " has already finished"));
    return response;
  }
  EndJob(job, mrpb::JOB_KILLED, "killed by the user");
  response.set_error(mrpb::KillJobResponse::OK);
  return response;
}

std::vector<mrpb::WorkerInfo> JobTracker::ListWorkers() {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_->MonotonicMs();
  std::vector<mrpb::WorkerInfo> out;
  for (const auto& [id, w] : workers_) {
    mrpb::WorkerInfo info;
    info.set_worker_id(id);
    info.set_address(w.address);
    info.set_slots(w.slots);
    info.set_running_tasks(w.running);
    info.set_last_heartbeat_ms_ago(now - w.last_heartbeat_ms);
    info.set_hostname(w.hostname);
    info.set_pid(w.pid);
    out.push_back(std::move(info));
  }
  return out;
}

// ------------------------------------------------------------------ workers

mrpb::RegisterWorkerResponse JobTracker::Register(
    const mrpb::RegisterWorkerRequest& request) {
  absl::MutexLock lock(&mu_);
  // A worker that restarted on the same address is a new worker; whatever
  // the old one held is gone.
  std::vector<std::string> stale;
  for (const auto& [id, w] : workers_) {
    if (w.address == request.address()) stale.push_back(id);
  }
  for (const std::string& id : stale) RemoveWorker(id, "re-registered");

  WorkerState w;
  w.id = absl::StrFormat("w%04d", next_worker_seq_++);
  PersistIds();
  w.address = request.address();
  w.hostname = request.hostname();
  w.pid = request.pid();
  w.slots = request.slots();
  w.last_heartbeat_ms = clock_->MonotonicMs();
  MR_LOG(INFO) << "registered worker " << w.id << " at " << w.address << " ("
               << w.slots << " slots, pid " << w.pid << ", holding "
               << request.held_outputs_size() << " map outputs)";
  // Outputs held from before a master restart serve their maps again.
  for (const mrpb::HeldMapOutput& held : request.held_outputs()) {
    auto job = jobs_.find(held.job_id());
    if (job == jobs_.end() || !job->second->running()) {
      w.pending_finished_jobs.insert(held.job_id());
      continue;
    }
    if (held.map_index() >= job->second->num_maps()) continue;
    Task* map = job->second->map(held.map_index());
    if (map->state == Task::State::kDone &&
        map->done_attempt == held.attempt_id() &&
        map->done_worker_address.empty()) {
      job->second->RelocateMapOutput(held.map_index(), w.id, w.address);
      ++work_epoch_;
    }
  }
  mrpb::RegisterWorkerResponse response;
  response.set_worker_id(w.id);
  response.set_heartbeat_interval_ms(options_.heartbeat_interval_ms);
  workers_[w.id] = std::move(w);
  return response;
}

mrpb::HeartbeatResponse JobTracker::Heartbeat(
    const mrpb::HeartbeatRequest& request) {
  mrpb::HeartbeatResponse response;
  std::vector<std::string> to_commit;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(request.worker_id());
    if (it == workers_.end()) {
      response.set_status(mrpb::HeartbeatResponse::UNKNOWN_WORKER);
      return response;
    }
    WorkerState* worker = &it->second;
    worker->last_heartbeat_ms = clock_->MonotonicMs();
    worker->running = request.running_attempts_size();
    ++worker->beats;
    DropLostAssignments(worker, request);
    for (const mrpb::TaskReport& report : request.reports()) {
      ProcessReport(worker, report, &to_commit);
    }
    // Attempts the worker runs that the master no longer wants.
    for (uint64_t attempt : request.running_attempts()) {
      auto a = live_attempts_.find(attempt);
      if (a == live_attempts_.end() || a->second.worker_id != worker->id) {
        worker->pending_kills.push_back(attempt);
      }
    }
    const std::set<uint64_t> kills(worker->pending_kills.begin(),
                                   worker->pending_kills.end());
    for (uint64_t attempt : kills) response.add_kill_attempts(attempt);
    worker->pending_kills.clear();
    for (const std::string& job_id : worker->pending_finished_jobs) {
      response.add_finished_jobs(job_id);
    }
    worker->pending_finished_jobs.clear();

    uint32_t map_slots = 0;
    for (auto w = waiting_reduces_.begin(); w != waiting_reduces_.end();) {
      auto job = jobs_.find(w->second.job_id);
      if (live_attempts_.count(w->first) == 0 || job == jobs_.end() ||
          !job->second->running() || job->second->AllMapsDone()) {
        w = waiting_reduces_.erase(w);  // no longer waiting
        continue;
      }
      map_slots += w->second.worker_id == worker->id;
      ++w;
    }
    // In all, the worker may run its slots plus one map per waiting reduce.
    const int64_t room = static_cast<int64_t>(worker->slots) + map_slots -
                         request.running_attempts_size() - request.free_slots();
    map_slots = static_cast<uint32_t>(std::max<int64_t>(0, room));
    AssignTasks(worker, request.free_slots(), map_slots, &response);
    if (response.assignments_size() == 0 && request.running_attempts_size() == 0 &&
        request.free_slots() > 0 && to_commit.empty()) {
      const uint64_t epoch = work_epoch_;
      auto changed = [this, epoch]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return work_epoch_ != epoch;
      };
      mu_.AwaitWithTimeout(
          absl::Condition(&changed),
          absl::Milliseconds(std::min(kIdleLongPollMs,
                                      options_.heartbeat_interval_ms)));
      // The worker may have been declared dead meanwhile.
      it = workers_.find(request.worker_id());
      if (it == workers_.end()) {
        response.set_status(mrpb::HeartbeatResponse::UNKNOWN_WORKER);
        return response;
      }
      AssignTasks(&it->second, request.free_slots(), 0, &response);
    }

    bool busy = false;
    for (const auto& [id, job] : jobs_) busy |= job->running();
    response.set_next_heartbeat_ms(busy ? kBusyHeartbeatMs
                                        : options_.heartbeat_interval_ms);
    response.set_status(mrpb::HeartbeatResponse::OK);
  }
  for (const std::string& job_id : to_commit) CommitJob(job_id);
  return response;
}

void JobTracker::ProcessReport(WorkerState* worker,
                               const mrpb::TaskReport& report,
                               std::vector<std::string>* to_commit) {
  auto it = jobs_.find(report.job_id());
  if (it == jobs_.end()) return;
  JobInProgress* job = it->second.get();
  Task* task =
      job->FindRunning(report.kind(), report.task_index(), report.attempt_id());
  if (task == nullptr) {
    // A stale attempt (killed, superseded, or from before a worker was
    // declared dead): its outcome counts for nothing.
    return;
  }
  live_attempts_.erase(report.attempt_id());
  ++work_epoch_;
  const uint64_t attempt = report.attempt_id();
  if (committing_jobs_.count(job->id()) > 0) {
    // Every reduce has committed: maps re-run meanwhile are moot.
    job->AttemptAbandoned(task, attempt);
    return;
  }
  if (report.state() == mrpb::ATTEMPT_SUCCEEDED) {
    if (task->kind == mrpb::REDUCE && task->committing_attempt != attempt) {
      job->AttemptFailed(task, attempt, "reported success without commit approval");
      return;
    }
    for (const RunningAttempt& loser :
         job->AttemptSucceeded(task, attempt, worker->address,
                               clock_->MonotonicMs(), report.counters())) {
      KillAttempt(loser.id, loser.worker_id);
    }
    if (task->kind == mrpb::MAP) {
      job->NoteMalformedRecords(report.malformed_records());
    }
    PersistTask(*job, *task, report.counters());
    if (task->kind == mrpb::REDUCE && job->AllReducesDone() &&
        committing_jobs_.insert(job->id()).second) {
      to_commit->push_back(job->id());
    }
    return;
  }
  if (task->kind == mrpb::REDUCE && task->committing_attempt != 0 &&
      task->committing_attempt != attempt) {
    job->AttemptAbandoned(task, attempt);  // lost the commit to another
    return;
  }
  MR_LOG(WARNING) << job->id() << " " << mrpb::TaskKind_Name(task->kind) << " "
                  << task->index << " attempt " << attempt << " failed on "
                  << worker->id << ": " << report.error();
  if (report.has_crashed_on() && !report.crashed_on().path().empty()) {
    bool limit_exceeded = false;
    if (job->RecordCrashed(task, report.crashed_on(), &limit_exceeded)) {
      MR_LOG(WARNING) << job->id() << " will skip the record at "
                      << report.crashed_on().path() << ":"
                      << report.crashed_on().offset();
      job->AttemptAbandoned(task, attempt);
      return;
    }
    if (limit_exceeded) {
      EndJob(job, mrpb::JOB_FAILED,
             absl::StrCat("more than ", job->spec().max_skipped_records(),
                          " records crash the job's code; the last, at ",
                          report.crashed_on().path(), ":",
                          report.crashed_on().offset(), ": ", report.error()));
      return;
    }
  }
  const bool record_crash =
      report.has_crashed_on() && !report.crashed_on().path().empty();
  if (!job->AttemptFailed(task, attempt, report.error(), !record_crash)) {
    EndJob(job, mrpb::JOB_FAILED, job->FailureMessage(*task));
  }
}

void JobTracker::DropLostAssignments(WorkerState* worker,
                                     const mrpb::HeartbeatRequest& request) {
  std::set<uint64_t> known(request.running_attempts().begin(),
                           request.running_attempts().end());
  for (const mrpb::TaskReport& r : request.reports()) known.insert(r.attempt_id());
  std::vector<uint64_t> lost;
  for (const auto& [id, ref] : live_attempts_) {
    // Handed out in an earlier response, yet the worker neither runs it
    // nor reports it: that response never arrived.
    if (ref.worker_id == worker->id && ref.assigned_in_beat < worker->beats &&
        known.count(id) == 0) {
      lost.push_back(id);
    }
  }
  for (uint64_t id : lost) {
    const AttemptRef ref = live_attempts_[id];
    live_attempts_.erase(id);
    ++work_epoch_;
    auto job = jobs_.find(ref.job_id);
    if (job == jobs_.end()) continue;
    if (Task* t = job->second->FindRunning(ref.kind, ref.task_index, id)) {
      MR_LOG(WARNING) << ref.job_id << " attempt " << id << " never reached "
                      << worker->id << "; running the task again";
      job->second->AttemptAbandoned(t, id);
    }
  }
}

void JobTracker::KillAttempt(uint64_t attempt_id, const std::string& worker_id) {
  live_attempts_.erase(attempt_id);
  auto w = workers_.find(worker_id);
  if (w != workers_.end()) w->second.pending_kills.push_back(attempt_id);
}

void JobTracker::AssignTasks(WorkerState* worker, uint32_t free_slots,
                             uint32_t map_slots,
                             mrpb::HeartbeatResponse* response) {
  const int64_t now = clock_->MonotonicMs();
  const std::vector<std::string> live = LiveWorkers();
  for (const std::string& job_id : job_order_) {
    JobInProgress* job = jobs_[job_id].get();
    while (free_slots + map_slots > 0) {
      if (committing_jobs_.count(job_id) > 0) break;
      Task* task = job->NextTask(worker->id, live, now);
      if (task == nullptr) break;
      if (free_slots == 0 && task->kind != mrpb::MAP) break;
      const uint64_t attempt = NextAttemptId();
      job->StartAttempt(task, attempt, worker->id, now);
      live_attempts_[attempt] = {job_id, worker->id, task->kind, task->index,
                                 worker->beats};
      mrpb::TaskAssignment* a = response->add_assignments();
      a->set_job_id(job_id);
      a->set_kind(task->kind);
      a->set_task_index(task->index);
      a->set_attempt_id(attempt);
      *a->mutable_spec() = job->spec();
      if (task->running.size() > 1) {
        MR_LOG(INFO) << job_id << " backup attempt " << attempt << " of "
                     << mrpb::TaskKind_Name(task->kind) << " " << task->index
                     << " on " << worker->id;
      }
      for (const auto& r : task->skip) *a->add_skip_records() = r;
      if (task->kind == mrpb::MAP) {
        *a->mutable_split() = job->split(task->index);
      } else {
        for (const auto& loc : job->MapOutputs()) *a->add_map_outputs() = loc;
      }
      if (free_slots > 0 && !(task->kind == mrpb::MAP && map_slots > 0)) {
        --free_slots;
      } else {
        --map_slots;
      }
    }
    if (free_slots + map_slots == 0) break;
  }
}

mrpb::CommitTaskResponse JobTracker::Commit(
    const mrpb::CommitTaskRequest& request) {
  mrpb::CommitTaskResponse response;
  response.set_decision(mrpb::CommitTaskResponse::ABORT);
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(request.job_id());
  if (it == jobs_.end() || !it->second->running()) {
    response.set_reason("the job is no longer running");
    return response;
  }
  Task* task = it->second->FindRunning(mrpb::REDUCE, request.task_index(),
                                       request.attempt_id());
  if (task == nullptr) {
    response.set_reason("this attempt is no longer the task's current one");
    return response;
  }
  if (task->committing_attempt != 0 &&
      task->committing_attempt != request.attempt_id()) {
    response.set_reason("another attempt is committing this task");
    return response;
  }
  task->committing_attempt = request.attempt_id();
  response.set_decision(mrpb::CommitTaskResponse::COMMIT);
  return response;
}

void JobTracker::ReportFetchFailure(
    const mrpb::ReportFetchFailureRequest& request) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(request.job_id());
  if (it == jobs_.end()) return;
  const mrpb::MapOutputLocation& loc = request.location();
  auto reducer = live_attempts_.find(request.reduce_attempt_id());
  if (reducer == live_attempts_.end()) return;  // a stale reducer's word
  waiting_reduces_[request.reduce_attempt_id()] = reducer->second;
  if (it->second->MapOutputLost(loc.map_index(), loc.attempt_id())) {
    MR_LOG(WARNING) << request.job_id() << " reduce " << request.reduce_index()
                    << " cannot fetch map " << loc.map_index() << " attempt "
                    << loc.attempt_id() << " from " << loc.worker_address()
                    << " (" << request.error() << "): re-running the map";
    ++work_epoch_;
  }
}

mrpb::GetMapOutputsResponse JobTracker::GetMapOutputs(
    const mrpb::GetMapOutputsRequest& request) {
  mrpb::GetMapOutputsResponse response;
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(request.job_id());
  if (it == jobs_.end()) return response;
  JobInProgress* job = it->second.get();
  response.set_attempt_current(
      job->FindRunning(mrpb::REDUCE, request.reduce_index(),
                       request.reduce_attempt_id()) != nullptr);
  for (auto& loc : job->MapOutputs()) *response.add_map_outputs() = loc;
  return response;
}

void JobTracker::CheckWorkerLiveness() {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_->MonotonicMs();
  std::vector<std::string> dead;
  for (const auto& [id, w] : workers_) {
    if (now - w.last_heartbeat_ms > options_.heartbeat_timeout_ms) {
      dead.push_back(id);
    }
  }
  for (const std::string& id : dead) {
    RemoveWorker(id, absl::StrCat("no heartbeat for ",
                                  options_.heartbeat_timeout_ms, " ms"));
  }
  if (relocation_pending_ && now - start_ms_ > options_.heartbeat_timeout_ms) {
    relocation_pending_ = false;
    for (auto& [job_id, job] : jobs_) {
      if (!job->running()) continue;
      if (int n = job->RequeueUnlocatedMaps(); n > 0) {
        MR_LOG(INFO) << job_id << ": no worker holds " << n
                     << " map outputs from before the restart; re-running them";
        ++work_epoch_;
      }
    }
  }
}

void JobTracker::RemoveWorker(const std::string& worker_id,
                              const std::string& why) {
  MR_LOG(WARNING) << "worker " << worker_id << " declared dead: " << why;
  workers_.erase(worker_id);
  ++work_epoch_;
  for (const auto& [job_id, job] : jobs_) {
    for (uint64_t attempt : job->WorkerLost(worker_id)) {
      live_attempts_.erase(attempt);
    }
  }
}

void JobTracker::EndJob(JobInProgress* job, mrpb::JobState state,
                        const std::string& error) {
  for (const auto& [attempt, worker_id] : job->RunningAttempts()) {
    KillAttempt(attempt, worker_id);
  }
  job->Finish(state, error, clock_->WallMs());
  Persist(*job);
  for (auto& [id, w] : workers_) w.pending_finished_jobs.insert(job->id());
  // Late attempts may still write under _temporary; workers remove their
  // own attempt directories when told to kill them.
  absl::Status s = RemoveAll(TemporaryDir(job->spec().output_dir()));
  if (!s.ok()) MR_LOG(WARNING) << job->id() << ": " << s;
  MR_LOG(INFO) << job->id() << " " << mrpb::JobState_Name(state)
               << (error.empty() ? "" : ": ") << error;
}

void JobTracker::CommitJob(const std::string& job_id) {
  std::string output_dir;
  {
    absl::MutexLock lock(&mu_);
    output_dir = jobs_[job_id]->spec().output_dir();
  }
  absl::Status s = RemoveAll(TemporaryDir(output_dir));
  if (s.ok()) s = WriteFileAtomically(SuccessMarker(output_dir), "");
  absl::MutexLock lock(&mu_);
  committing_jobs_.erase(job_id);
  JobInProgress* job = jobs_[job_id].get();
  if (!job->running()) return;
  if (!s.ok()) {
    EndJob(job, mrpb::JOB_FAILED,
           absl::StrCat("job commit failed: ", s.message()));
    return;
  }
  for (const RunningAttempt& a : job->SettleMaps()) KillAttempt(a.id, a.worker_id);
  job->Finish(mrpb::JOB_SUCCEEDED, "", clock_->WallMs());
  Persist(*job);
  for (auto& [id, w] : workers_) w.pending_finished_jobs.insert(job_id);
  MR_LOG(INFO) << job_id << " succeeded; output in " << output_dir;
}

}  // namespace mr
