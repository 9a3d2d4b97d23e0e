#include "master/job_tracker.h"

#include <signal.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "apps/job_registry.h"
#include "common/file_util.h"
#include "common/job_limits.h"
#include "common/logging.h"
#include "common/names.h"
#include "common/proto_maps.h"
#include "common/output_layout.h"
#include "common/status_macros.h"
#include "master/input_splitter.h"
#include "master/state_codec.h"

namespace mr {
namespace {

// While jobs run, workers with free slots come back this soon for work.
constexpr uint32_t kBusyHeartbeatMs = 100;
// How long the heartbeat of a worker that runs nothing waits for work.
constexpr int64_t kIdleLongPollMs = 500;

}  // namespace

// Attempt ids are reserved in the store this many at a time.
constexpr uint64_t kAttemptIdBlock = 1000;
// When the stored id counters are unreadable, attempt and worker ids restart
// this far past the largest one the records name.
constexpr uint64_t kLostIdsGap = 1000000;

namespace {

CounterMap CountersFromStored(
    const google::protobuf::RepeatedPtrField<mrstate::Counter>& counters) {
  CounterMap out;
  for (const mrstate::Counter& c : counters) out[c.name()] += c.value();
  return out;
}

}  // namespace

JobTracker::JobTracker(const MasterOptions& options, PluginStore* plugins,
                       MasterStore* store)
    : options_(options),
      clock_(options.clock ? options.clock : Clock::Real()),
      plugins_(plugins),
      store_(store),
      validator_(options_, plugins),
      workers_(options.heartbeat_interval_ms, options.heartbeat_timeout_ms,
               clock_->MonotonicMs()) {
  absl::MutexLock lock(&mu_);
  start_ms_ = clock_->MonotonicMs();
}

absl::Status JobTracker::Restore() {
  WriteOnReturn write_on_return{this};
  if (store_ == nullptr) return absl::OkStatus();
  auto state = store_->Load();
  if (!state.ok()) return state.status();
  // Running jobs hold their paths again; resolving them is I/O, done before
  // taking the lock.
  std::map<std::string, PathClaims::Paths> running_paths;
  for (const mrstate::JobRecord& r : state->jobs) {
    if (r.state() != mrstate::RUNNING) continue;
    std::vector<std::string> files(r.input_files().begin(),
                                   r.input_files().end());
    absl::StatusOr<PathClaims::Paths> paths =
        JobValidator::ResolveJobPaths(r.spec().output_dir(), files, {});
    if (!paths.ok()) {
      MR_LOG(WARNING) << r.job_id() << ": " << paths.status()
                      << "; comparing its paths as they are spelled";
      paths = PathClaims::Paths();
      paths->output = r.spec().output_dir();
      paths->inputs = files;
    }
    paths->staging = OutputLayout(r.spec().output_dir(), r.job_id()).staging_dir();
    running_paths[r.job_id()] = std::move(*paths);
  }
  std::vector<std::string> to_commit;
  {
    absl::MutexLock lock(&mu_);
    next_job_seq_ = std::max<uint64_t>(1, state->ids.next_job_seq());
    next_attempt_id_ = std::max<uint64_t>(1, state->ids.attempt_id_limit());
    next_worker_seq_ = std::max<uint64_t>(1, state->ids.next_worker_seq());
    const bool ids_lost =
        !state->has_ids && (!state->jobs.empty() || !state->tasks.empty() ||
                            !state->quarantined.empty());
    if (ids_lost) {
      // The counters are lost: start past anything the records name, and
      // far past any attempt or worker id that may have been handed out.
      uint64_t max_attempt = 0;
      for (const auto& [job_id, tasks] : state->tasks) {
        for (const auto& t : tasks) max_attempt = std::max(max_attempt, t.attempt_id());
      }
      for (const mrstate::JobRecord& r : state->jobs) {
        uint64_t seq = 0;
        if (absl::SimpleAtoi(absl::StripPrefix(r.job_id(), "job-"), &seq)) {
          next_job_seq_ = std::max(next_job_seq_, seq + 1);
        }
      }
      next_attempt_id_ = max_attempt + kLostIdsGap;
      next_worker_seq_ = kLostIdsGap;
      MR_LOG(ERROR) << "the master's id counters are lost; continuing from job "
                    << next_job_seq_ << ", attempt " << next_attempt_id_;
    }
    attempt_id_limit_ = next_attempt_id_;
    for (const mrstate::JobRecord& r : state->jobs) {
      const mrpb::JobState job_state = FromStored(r.state());
      if (job_state == mrpb::JOB_STATE_UNSPECIFIED || r.splits_size() == 0) {
        MR_LOG(ERROR) << "master state job/" << EscapeName(r.job_id())
                      << " has no state or no input; left out";
        continue;
      }
      std::vector<std::string> files(r.input_files().begin(),
                                     r.input_files().end());
      std::vector<mrpb::InputSplit> splits;
      for (const auto& split : r.splits()) splits.push_back(FromStored(split));
      auto job = std::make_unique<JobInProgress>(
          r.job_id(), FromStored(r.spec()), std::move(files),
          std::move(splits), r.submit_time_ms());
      job->set_request_id(r.request_id());
      for (const mrstate::TaskRecord& t : state->tasks[r.job_id()]) {
        const CounterMap counters = CountersFromStored(t.counters());
        if (t.kind() == mrstate::MAP && t.index() < job->num_maps()) {
          job->RestoreMapDone(t.index(), t.attempt_id(), counters);
        } else if (t.kind() == mrstate::REDUCE &&
                   t.index() < job->spec().num_reduces()) {
          job->RestoreReduceDone(t.index(), counters);
        }
      }
      if (!r.request_id().empty()) requests_[r.request_id()] = r.job_id();
      if (job_state != mrpb::JOB_RUNNING) {
        job->Finish(job_state, r.error(), r.finish_time_ms());
        // Killed before it removed its staging directory, if it had one.
        ended_staging_.emplace_back(r.spec().output_dir(), r.job_id());
      } else if (job->AllReducesDone()) {
        to_commit.push_back(r.job_id());  // died while committing
        committing_jobs_.insert(r.job_id());
      } else {
        relocation_pending_ = true;
      }
      if (job->running()) {
        claims_.Add(r.job_id(), std::move(running_paths[r.job_id()]));
      }
      MR_LOG(INFO) << "restored " << r.job_id() << " ("
                   << mrpb::JobState_Name(job_state) << ")";
      job_order_.push_back(r.job_id());
      jobs_[r.job_id()] = std::move(job);
    }
    start_ms_ = clock_->MonotonicMs();
    RetireFinishedJobs();
  }
  for (const std::string& id : to_commit) CommitJob(id);
  RemoveEndedStaging();
  return absl::OkStatus();
}

void JobTracker::PersistIds() {
  if (store_ == nullptr) return;
  mrstate::MasterIds ids;
  ids.set_next_job_seq(next_job_seq_);
  ids.set_attempt_id_limit(attempt_id_limit_);
  ids.set_next_worker_seq(next_worker_seq_);
  pending_writes_.PutIds(ids);
}

void JobTracker::Persist(const JobInProgress& job) {
  if (store_ == nullptr) return;
  PersistIds();
  pending_writes_.PutJob(job.Record());
}

void JobTracker::PersistTask(
    const JobInProgress& job, const Task& task,
    const CounterMap& counters) {
  if (store_ == nullptr) return;
  mrstate::TaskRecord r;
  r.set_kind(ToStored(task.kind));
  r.set_index(task.index);
  r.set_attempt_id(task.done_attempt);
  for (const auto& [name, value] : counters) {
    mrstate::Counter* c = r.add_counters();
    c->set_name(name);
    c->set_value(value);
  }
  pending_writes_.PutTask(job.id(), r);
}

void JobTracker::FlushWrites() {
  if (store_ == nullptr) return;
  // store_mu_ first: batches taken in order from mu_ are written in order.
  absl::MutexLock store_lock(&store_mu_);
  MasterStore::Batch batch;
  {
    absl::MutexLock lock(&mu_);
    if (pending_writes_.empty()) return;
    std::swap(batch, pending_writes_);
  }
  if (absl::Status s = store_->Write(&batch); !s.ok()) {
    MR_LOG(ERROR) << s << " (what was not recorded is recomputed after a "
                  << "restart)";
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

mrpb::SubmitJobResponse JobTracker::Submit(
    const mrpb::SubmitJobRequest& request) {
  WriteOnReturn write_on_return{this};
  using R = mrpb::SubmitJobResponse;
  mrpb::SubmitJobResponse response;
  if (DuplicateSubmission(request.request_id(), &response)) return response;
  auto refuse = [&response](R::Error error, const std::string& message) {
    response.set_error(error);
    response.set_message(message);
    MR_LOG(INFO) << "refused submission: " << R::Error_Name(error) << ": "
                 << message;
    return response;
  };
  auto checked_or = validator_.Check(request);
  if (auto* refusal = std::get_if<JobValidator::Refusal>(&checked_or)) {
    return refuse(refusal->error, refusal->message);
  }
  JobValidator::Checked& checked = std::get<JobValidator::Checked>(checked_or);
  mrpb::JobSpec& spec = checked.spec;
  const std::string& output = spec.output_dir();
  std::optional<PathClaims::Paths> paths = std::move(checked.paths);
  std::string message;

  // Claim the paths and the id under the lock; look at the output and
  // prepare it without.
  std::string id;
  const std::string& request_id = request.request_id();
  {
    absl::MutexLock lock(&mu_);
    // A retry may have raced the first request here.
    if (DuplicateSubmissionLocked(request_id, &response)) return response;
    id = absl::StrFormat("job-%06d", next_job_seq_);
    paths->staging = OutputLayout(output, id).staging_dir();
    if (PathClaims::Conflict c = claims_.Check(*paths); !c.ok()) {
      return refuse(c.kind == PathClaims::Conflict::Kind::kOutputInUse
                        ? R::OUTPUT_IN_USE
                        : R::PATHS_OVERLAP,
                    checked.Named(c.message));
    }
    ++next_job_seq_;
    PersistIds();
    claims_.Add(id, std::move(*paths));
    // Reserved now, so that a concurrent retry finds this job.
    if (!request_id.empty()) requests_[request_id] = id;
  }
  R::Error output_error = R::OK;
  if (absl::Status s = OutputLayout::CheckTarget(output, spec.overwrite());
      !s.ok()) {
    output_error = absl::IsAlreadyExists(s) ? R::OUTPUT_EXISTS : R::INVALID_SPEC;
    message = checked.Named(std::string(s.message()));
  } else if (absl::Status s = OutputLayout(output, id).Prepare(); !s.ok()) {
    output_error = R::INVALID_SPEC;
    message = absl::StrCat("output directory: ", s.message());
  }
  if (output_error != R::OK) {
    absl::MutexLock lock(&mu_);
    claims_.Remove(id);
    if (!request_id.empty()) requests_.erase(request_id);
    return refuse(output_error, message);
  }

  absl::MutexLock lock(&mu_);
  const uint32_t num_maps = checked.splits.size();
  jobs_[id] = std::make_unique<JobInProgress>(id, spec, std::move(checked.files),
                                    std::move(checked.splits), clock_->WallMs());
  jobs_[id]->set_request_id(request_id);
  job_order_.push_back(id);
  ++work_epoch_;
  Persist(*jobs_[id]);
  MR_LOG(INFO) << "accepted " << id << ": "
               << (spec.app().empty() ? spec.plugin_name() : spec.app())
               << ", " << num_maps << " maps, " << spec.num_reduces()
               << " reduces, output " << spec.output_dir()
               << (spec.overwrite() ? " (overwrite)" : "");
  response.set_error(R::OK);
  response.set_job_id(id);
  response.set_num_maps(num_maps);
  return response;
}

bool JobTracker::DuplicateSubmission(const std::string& request_id,
                                     mrpb::SubmitJobResponse* response) {
  absl::MutexLock lock(&mu_);
  return DuplicateSubmissionLocked(request_id, response);
}

bool JobTracker::DuplicateSubmissionLocked(const std::string& request_id,
                                           mrpb::SubmitJobResponse* response) {
  if (request_id.empty()) return false;
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return false;
  auto job = jobs_.find(it->second);
  const mrpb::JobStatus* retired = FindRetired(it->second);
  response->set_error(mrpb::SubmitJobResponse::OK);
  response->set_job_id(it->second);
  response->set_num_maps(job != jobs_.end() ? job->second->num_maps()
                         : retired != nullptr ? retired->maps_total()
                                              : 0);
  response->set_duplicate(true);
  MR_LOG(INFO) << "request " << EscapeName(request_id) << " retried: it created "
               << it->second;
  return true;
}

std::optional<mrpb::JobStatus> JobTracker::GetStatus(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  if (it != jobs_.end()) return it->second->Status();
  if (const mrpb::JobStatus* retired = FindRetired(job_id)) return *retired;
  return std::nullopt;
}

std::vector<mrpb::JobStatus> JobTracker::ListJobs(bool all) {
  absl::MutexLock lock(&mu_);
  std::vector<mrpb::JobStatus> out;
  if (all) {
    for (const auto& [id, status] : retired_) out.push_back(status);
  }
  for (const std::string& id : job_order_) out.push_back(jobs_[id]->Status());
  // In submission order: job ids grow with it, and the shorter id is older.
  std::sort(out.begin(), out.end(),
            [](const mrpb::JobStatus& a, const mrpb::JobStatus& b) {
              return std::make_pair(a.job_id().size(), a.job_id()) <
                     std::make_pair(b.job_id().size(), b.job_id());
            });
  return out;
}

mrpb::KillJobResponse JobTracker::Kill(const std::string& job_id) {
  WriteOnReturn write_on_return{this};
  mrpb::KillJobResponse response;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() && FindRetired(job_id) != nullptr) {
      response.set_error(mrpb::KillJobResponse::ALREADY_FINISHED);
      response.set_message(absl::StrCat(job_id, " has already finished"));
      return response;
    }
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
  }
  RemoveEndedStaging();
  response.set_error(mrpb::KillJobResponse::OK);
  return response;
}

std::vector<mrpb::WorkerInfo> JobTracker::ListWorkers() {
  absl::MutexLock lock(&mu_);
  return workers_.List(clock_->MonotonicMs());
}

// ------------------------------------------------------------------ workers

mrpb::RegisterWorkerResponse JobTracker::Register(
    const mrpb::RegisterWorkerRequest& request) {
  WriteOnReturn write_on_return{this};
  absl::MutexLock lock(&mu_);
  // A worker that restarted on the same address is a new worker; whatever
  // the old one held is gone.
  for (const std::string& id : workers_.AtAddress(request.address())) {
    RemoveWorker(id, "re-registered");
  }
  WorkerState& w = *workers_.Add(absl::StrFormat("w%04d", next_worker_seq_++),
                                 request, clock_->MonotonicMs());
  PersistIds();
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
  return response;
}

mrpb::HeartbeatResponse JobTracker::Heartbeat(
    const mrpb::HeartbeatRequest& request) {
  WriteOnReturn write_on_return{this};
  mrpb::HeartbeatResponse response;
  std::vector<std::string> to_commit;
  {
    absl::MutexLock lock(&mu_);
    WorkerState* worker = workers_.Find(request.worker_id());
    if (worker == nullptr) {
      response.set_status(mrpb::HeartbeatResponse::UNKNOWN_WORKER);
      return response;
    }
    workers_.Heard(worker, clock_->MonotonicMs());
    worker->running = request.running_attempts_size();
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
        request.free_slots() > 0 && to_commit.empty() &&
        ended_staging_.empty()) {
      const uint64_t epoch = work_epoch_;
      auto changed = [this, epoch]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return work_epoch_ != epoch;
      };
      mu_.AwaitWithTimeout(
          absl::Condition(&changed),
          absl::Milliseconds(std::min(kIdleLongPollMs,
                                      options_.heartbeat_interval_ms)));
      // The worker may have been declared dead meanwhile.
      worker = workers_.Find(request.worker_id());
      if (worker == nullptr) {
        response.set_status(mrpb::HeartbeatResponse::UNKNOWN_WORKER);
        return response;
      }
      AssignTasks(worker, request.free_slots(), 0, &response);
    }

    bool busy = false;
    for (const auto& [id, job] : jobs_) busy |= job->running();
    response.set_next_heartbeat_ms(busy ? kBusyHeartbeatMs
                                        : options_.heartbeat_interval_ms);
    response.set_status(mrpb::HeartbeatResponse::OK);
  }
  for (const std::string& job_id : to_commit) CommitJob(job_id);
  RemoveEndedStaging();
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
    const CounterMap counters = CountersFromProto(report.counters());
    for (const RunningAttempt& loser :
         job->AttemptSucceeded(task, attempt, worker->address,
                               clock_->MonotonicMs(), counters)) {
      KillAttempt(loser.id, loser.worker_id);
    }
    if (task->kind == mrpb::MAP) {
      job->NoteMalformedRecords(report.malformed_records());
    }
    PersistTask(*job, *task, counters);
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
  workers_.KillOnNextBeat(worker_id, attempt_id);
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
  WriteOnReturn write_on_return{this};
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_->MonotonicMs();
  int64_t stalled_ms = 0;
  const std::vector<std::string> dead = workers_.CheckSilent(now, &stalled_ms);
  if (stalled_ms > 0) {
    MR_LOG(WARNING) << "the master made no progress for " << stalled_ms
                    << " ms; workers get " << options_.heartbeat_timeout_ms
                    << " ms from now to heartbeat before any is declared dead";
  }
  for (const std::string& id : dead) {
    RemoveWorker(id, absl::StrCat("no heartbeat for ",
                                  options_.heartbeat_timeout_ms, " ms"));
  }
  RetireFinishedJobs();
  if (relocation_pending_ &&
      now - std::max(start_ms_, workers_.resumed_ms()) >
          options_.heartbeat_timeout_ms) {
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

int64_t JobTracker::LivenessPeriodMs() {
  absl::MutexLock lock(&mu_);
  return workers_.CheckPeriodMs();
}

void JobTracker::RetireFinishedJobs() {
  const int64_t now_wall = clock_->WallMs();
  std::vector<std::string> keep;
  keep.reserve(job_order_.size());
  for (const std::string& id : job_order_) {
    const JobInProgress& job = *jobs_[id];
    if (job.running() || committing_jobs_.count(id) > 0 ||
        now_wall - job.finish_wall_ms() < options_.job_retention_ms) {
      keep.push_back(id);
      continue;
    }
    Retire(id);
  }
  job_order_.swap(keep);
}

void JobTracker::Retire(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  mrpb::JobStatus status = it->second->Status();
  status.set_retired(true);
  retired_[job_id] = std::move(status);
  jobs_.erase(it);
}

const mrpb::JobStatus* JobTracker::FindRetired(const std::string& job_id) const {
  auto it = retired_.find(job_id);
  return it == retired_.end() ? nullptr : &it->second;
}

void JobTracker::RemoveWorker(const std::string& worker_id,
                              const std::string& why) {
  MR_LOG(WARNING) << "worker " << worker_id << " declared dead: " << why;
  workers_.Remove(worker_id);
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
  workers_.JobFinished(job->id());
  claims_.Remove(job->id());
  // Removed once the caller has released mu_. Late attempts cannot recreate
  // it (OutputLayout::CreateAttemptDir()); workers remove their own attempt
  // directories when told to kill them.
  ended_staging_.emplace_back(job->spec().output_dir(), job->id());
  MR_LOG(INFO) << job->id() << " " << mrpb::JobState_Name(state)
               << (error.empty() ? "" : ": ") << error;
}

void JobTracker::RemoveEndedStaging() {
  std::vector<std::pair<std::string, std::string>> ended;
  {
    absl::MutexLock lock(&mu_);
    ended.swap(ended_staging_);
  }
  for (const auto& [output_dir, job_id] : ended) {
    if (absl::Status s = OutputLayout(output_dir, job_id).Abort(); !s.ok()) {
      MR_LOG(WARNING) << job_id << ": " << s;
    }
  }
}

absl::Status JobTracker::InjectCrash(StagedDirectory::Point point) const {
  const char* name =
      point == StagedDirectory::Point::kBeforeSwap ? "before_swap" : "after_swap";
  if (options_.inject_crash_in_commit == name) {
    MR_LOG(WARNING) << "injected crash in a job commit, " << name;
    kill(getpid(), SIGKILL);
  }
  return absl::OkStatus();
}

void JobTracker::CommitJob(const std::string& job_id) {
  WriteOnReturn write_on_return{this};
  // Every reduce's commit must be on disk before the output moves: a master
  // restarted mid-commit resumes the commit, it does not run reduces again.
  FlushWrites();
  std::string output_dir, token;
  uint32_t num_parts = 0;
  OutputLayout::CommitOptions options;
  {
    absl::MutexLock lock(&mu_);
    const JobInProgress& job = *jobs_[job_id];
    output_dir = job.spec().output_dir();
    num_parts = job.spec().num_reduces();
    options.overwrite = job.spec().overwrite();
    token = OutputLayout(output_dir, job_id).CommitToken(job.submit_wall_ms());
  }
  if (!options_.inject_crash_in_commit.empty()) {
    options.inject = [this](StagedDirectory::Point p) { return InjectCrash(p); };
  }
  // A master killed in here calls it again from Restore(): Commit() finishes
  // whatever step it was at.
  absl::Status s =
      OutputLayout(output_dir, job_id).Commit(num_parts, token, options);
  {
    absl::MutexLock lock(&mu_);
    committing_jobs_.erase(job_id);
    JobInProgress* job = jobs_[job_id].get();
    if (!job->running()) return;
    if (!s.ok()) {
      // Nothing was replaced: the staged output goes, the old one stays.
      EndJob(job, mrpb::JOB_FAILED,
             absl::StrCat("job commit failed: ", s.message()));
    } else {
      for (const RunningAttempt& a : job->SettleMaps()) {
        KillAttempt(a.id, a.worker_id);
      }
      job->Finish(mrpb::JOB_SUCCEEDED, "", clock_->WallMs());
      Persist(*job);
      claims_.Remove(job_id);
      workers_.JobFinished(job_id);
      MR_LOG(INFO) << job_id << " succeeded; output in " << output_dir;
    }
  }
  RemoveEndedStaging();
}

}  // namespace mr
