// JobTracker, part 2: the worker protocol: registration, heartbeats (task
// reports in, task assignments out), reduce commits, fetch failures, and
// the liveness of workers.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "common/names.h"
#include "common/proto_maps.h"
#include "master/job_tracker.h"

namespace mr {
namespace {

// While jobs run, workers with free slots come back this soon for work.
constexpr uint32_t kBusyHeartbeatMs = 100;
// How long the heartbeat of a worker that runs nothing waits for work.
constexpr int64_t kIdleLongPollMs = 500;

}  // namespace

std::string JobTracker::CheckSample(const JobInProgress& job,
                                    const mrpb::TaskReport& report) {
  if (!job.spec().total_order()) return {};
  const uint32_t reduces = job.spec().num_reduces();
  if (static_cast<uint32_t>(report.partition_bounds_size()) + 1 != reduces) {
    return absl::StrCat("the sample gave ", report.partition_bounds_size(),
                        " partition bounds for ", reduces, " reduces");
  }
  return {};
}

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
      ProcessReport(worker, report);
    }
    if (request.leaving()) {
      // Drained (SIGTERM): forget it now, as a dead worker; what it still
      // ran or held is re-queued without waiting for a heartbeat timeout.
      RemoveWorker(worker->id, "it drained and left the cluster");
      response.set_status(mrpb::HeartbeatResponse::OK);
      return response;
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

    // A draining worker takes nothing new; it finishes what it runs.
    const uint32_t free_slots = request.draining() ? 0 : request.free_slots();
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
    map_slots = request.draining()
                    ? 0
                    : static_cast<uint32_t>(std::max<int64_t>(0, room));
    AssignTasks(worker, free_slots, map_slots, &response);
    if (response.assignments_size() == 0 && request.running_attempts_size() == 0 &&
        free_slots > 0) {
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
      AssignTasks(worker, free_slots, 0, &response);
    }

    bool busy = false;
    for (const auto& [id, job] : jobs_) busy |= job->running();
    response.set_next_heartbeat_ms(busy ? kBusyHeartbeatMs
                                        : options_.heartbeat_interval_ms);
    response.set_status(mrpb::HeartbeatResponse::OK);
  }
  return response;
}

void JobTracker::ProcessReport(WorkerState* worker,
                               const mrpb::TaskReport& report) {
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
    if (job->Commits(*task) && task->committing_attempt != attempt) {
      job->AttemptFailed(task, attempt, "reported success without commit approval");
      return;
    }
    if (task->kind == mrpb::SAMPLE) {
      if (std::string why = CheckSample(*job, report); !why.empty()) {
        MR_LOG(WARNING) << job->id() << " sample attempt " << attempt << ": "
                        << why;
        if (!job->AttemptFailed(task, attempt, why)) {
          EndJob(job, mrpb::JOB_FAILED, job->FailureMessage(*task));
        }
        return;
      }
      job->SetSample(report.plan(),
                     std::vector<std::string>(report.partition_bounds().begin(),
                                              report.partition_bounds().end()));
      MR_LOG(INFO) << job->id() << " sampled its input: "
                   << report.partition_bounds_size() << " partition bounds, a "
                   << report.plan().size() << "-byte plan";
    }
    if (task->kind == mrpb::MAP) {
      job->SetPartitionSizes(task, std::vector<mrpb::PartitionSize>(
                                       report.partition_sizes().begin(),
                                       report.partition_sizes().end()));
    }
    const CounterMap counters = CountersFromProto(report.counters());
    for (const RunningAttempt& loser :
         job->AttemptSucceeded(task, attempt, worker->address,
                               clock_->MonotonicMs(), counters)) {
      KillAttempt(loser.id, loser.worker_id);
    }
    if (task->kind == mrpb::MAP) {
      // Kept in the job's record, so that they survive a master restart.
      if (job->NoteMalformedRecords(report.malformed_records())) Persist(*job);
    }
    if (task->kind == mrpb::SAMPLE) {
      Persist(*job);  // the job's record holds what the sample found
    } else {
      PersistTask(*job, *task, counters);
    }
    if (job->Commits(*task) && job->ReadyToCommit() &&
        committing_jobs_.insert(job->id()).second) {
      commit_queue_.push_back(job->id());  // RunOutputWork() commits it
    }
    return;
  }
  if (job->Commits(*task) && task->committing_attempt != 0 &&
      task->committing_attempt != attempt) {
    job->AttemptAbandoned(task, attempt);  // lost the commit to another
    return;
  }
  MR_LOG(WARNING) << job->id() << " " << mrpb::TaskKind_Name(task->kind) << " "
                  << task->index << " attempt " << attempt << " failed on "
                  << worker->id << ": " << EscapeName(report.error());
  if (report.permanent()) {
    // The worker's path policy refused the task: no retry can succeed.
    job->AttemptFailed(task, attempt, report.error(), /*blame_worker=*/false);
    EndJob(job, mrpb::JOB_FAILED, job->FailureMessage(*task));
    return;
  }
  if (report.has_crashed_on() && !report.crashed_on().path().empty()) {
    bool limit_exceeded = false;
    if (job->RecordCrashed(task, report.crashed_on(), &limit_exceeded)) {
      MR_LOG(WARNING) << job->id() << " will skip the record at "
                      << EscapeName(report.crashed_on().path()) << ":"
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
      a->set_num_maps(job->num_maps());
      a->set_shuffle_secret(job->shuffle_secret());
      if (task->kind == mrpb::SAMPLE) {
        // It samples every split: their chunks, one after another.
        for (uint32_t m = 0; m < job->num_maps(); ++m) {
          for (const auto& c : job->split(m).chunks()) {
            *a->mutable_split()->add_chunks() = c;
          }
        }
      } else {
        a->set_plan(job->plan());
        for (const std::string& b : job->partition_bounds()) {
          a->add_partition_bounds(b);
        }
        if (task->kind == mrpb::MAP) {
          *a->mutable_split() = job->split(task->index);
        } else {
          for (const auto& loc : job->MapOutputs()) *a->add_map_outputs() = loc;
        }
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
  // Workers from before map-only jobs send no kind: theirs are reduces.
  const mrpb::TaskKind kind =
      request.kind() == mrpb::MAP ? mrpb::MAP : mrpb::REDUCE;
  Task* task = it->second->FindRunning(kind, request.task_index(),
                                       request.attempt_id());
  if (task == nullptr || !it->second->Commits(*task)) {
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
                    << " (" << EscapeName(request.error())
                    << "): re-running the map";
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

}  // namespace mr
