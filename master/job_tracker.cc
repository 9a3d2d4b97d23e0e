// JobTracker, part 1: restoring and persisting the master's state, and the
// client API (submission, status, kill, retirement). The worker protocol is
// in job_tracker_workers.cc, ending jobs and committing their output in
// job_tracker_commit.cc.
#include "master/job_tracker.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "apps/job_registry.h"
#include "common/file_util.h"
#include "common/job_limits.h"
#include "common/logging.h"
#include "common/names.h"
#include "common/proto_maps.h"
#include "common/output_layout.h"
#include "common/shuffle_secret.h"
#include "common/status_macros.h"
#include "master/input_splitter.h"
#include "master/state_codec.h"

namespace mr {
namespace {

// Attempt ids are reserved in the store this many at a time.
constexpr uint64_t kAttemptIdBlock = 1000;
// When the stored id counters are unreadable, attempt and worker ids restart
// this far past the largest one the records name.
constexpr uint64_t kLostIdsGap = 1000000;

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
      // Every job id any record names, readable or quarantined, is taken.
      auto take = [this](absl::string_view job_id) {
        uint64_t seq = 0;
        if (absl::SimpleAtoi(absl::StripPrefix(job_id, "job-"), &seq)) {
          next_job_seq_ = std::max(next_job_seq_, seq + 1);
        }
      };
      for (const mrstate::JobRecord& r : state->jobs) take(r.job_id());
      for (const auto& [job_id, tasks] : state->tasks) take(job_id);
      for (const std::string& key : state->quarantined) {
        // "job/<id>" or "task/<id>/<M|R><index>"
        const std::vector<absl::string_view> parts = absl::StrSplit(key, '/');
        if (parts.size() >= 2) take(parts[1]);
      }
      next_attempt_id_ = max_attempt + kLostIdsGap;
      next_worker_seq_ = kLostIdsGap;
      MR_LOG(ERROR) << "the master's id counters are lost; continuing from job "
                    << next_job_seq_ << ", attempt " << next_attempt_id_;
    }
    attempt_id_limit_ = next_attempt_id_;
    // Load() passed only records MasterStore::CheckJob() and CheckTask()
    // accept: each job has a state, splits, a reduce count in range; each
    // task is within its job.
    for (const mrstate::JobRecord& r : state->jobs) {
      const mrpb::JobState job_state = FromStored(r.state());
      std::vector<std::string> files(r.input_files().begin(),
                                     r.input_files().end());
      std::vector<mrpb::InputSplit> splits;
      for (const auto& split : r.splits()) splits.push_back(FromStored(split));
      auto job = std::make_unique<JobInProgress>(
          r.job_id(), FromStored(r.spec()), std::move(files),
          std::move(splits), r.submit_time_ms());
      job->set_request_id(r.request_id());
      job->set_owner(r.owner());
      job->set_shuffle_secret(r.shuffle_secret());
      google::protobuf::RepeatedPtrField<mrpb::RecordLocation> malformed;
      for (const mrstate::RecordLocation& m : r.malformed_records()) {
        mrpb::RecordLocation* loc = malformed.Add();
        loc->set_path(m.path());
        loc->set_offset(m.offset());
        loc->set_reason(m.reason());
      }
      job->NoteMalformedRecords(malformed);
      if (r.sampled()) {
        job->SetSample(r.plan(), std::vector<std::string>(
                                     r.partition_bounds().begin(),
                                     r.partition_bounds().end()));
      }
      for (const mrstate::TaskRecord& t : state->tasks[r.job_id()]) {
        const CounterMap counters = CountersFromProto(t.counters());
        if (t.kind() == mrstate::MAP && t.index() < job->num_maps()) {
          std::vector<mrpb::PartitionSize> sizes;
          for (const mrstate::PartitionSize& p : t.partition_sizes()) {
            sizes.emplace_back();
            sizes.back().set_records(p.records());
            sizes.back().set_bytes(p.bytes());
          }
          job->RestoreMapDone(t.index(), t.attempt_id(), counters,
                              std::move(sizes));
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
      } else if (job->ReadyToCommit()) {
        to_commit.push_back(r.job_id());  // died while committing
        committing_jobs_.insert(r.job_id());
      } else {
        relocation_pending_ = true;
      }
      if (job->running()) {
        claims_.Add(r.job_id(), std::move(running_paths[r.job_id()]));
        if (job->shuffle_secret().empty()) {
          // Recorded before jobs had shuffle secrets: it gets one now, kept
          // at once so that it stays the same across further restarts.
          job->set_shuffle_secret(NewShuffleSecret());
          Persist(*job);
        }
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
  CountersToProto(counters, r.mutable_counters());
  for (const mrpb::PartitionSize& p : task.partition_sizes) {
    mrstate::PartitionSize* stored = r.add_partition_sizes();
    stored->set_records(p.records());
    stored->set_bytes(p.bytes());
  }
  pending_writes_.PutTask(job.id(), r);
}

absl::Status JobTracker::FlushWrites() {
  if (store_ == nullptr) return absl::OkStatus();
  // store_mu_ first: batches taken in order from mu_ are written in order.
  absl::MutexLock store_lock(&store_mu_);
  MasterStore::Batch batch;
  {
    absl::MutexLock lock(&mu_);
    if (pending_writes_.empty()) return absl::OkStatus();
    std::swap(batch, pending_writes_);
  }
  absl::Status s = store_->Write(&batch);
  if (!s.ok()) {
    MR_LOG(ERROR) << s << "; kept for the next write";
    absl::MutexLock lock(&mu_);
    batch.Append(std::move(pending_writes_));
    pending_writes_ = std::move(batch);
  }
  return s;
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
    const mrpb::SubmitJobRequest& request, const std::string& owner) {
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

  const uint32_t num_maps = checked.splits.size();
  {
    absl::MutexLock lock(&mu_);
    jobs_[id] = std::make_unique<JobInProgress>(
        id, spec, std::move(checked.files), std::move(checked.splits),
        clock_->WallMs());
    jobs_[id]->set_request_id(request_id);
    jobs_[id]->set_owner(owner);
    jobs_[id]->set_shuffle_secret(NewShuffleSecret());
    job_order_.push_back(id);
    ++work_epoch_;
    Persist(*jobs_[id]);
    MR_LOG(INFO) << "accepted " << id << ": "
                 << EscapeName(spec.app().empty() ? spec.plugin_name()
                                                  : spec.app())
                 << ", " << num_maps << " maps, " << spec.num_reduces()
                 << " reduces, output " << EscapeName(spec.output_dir())
                 << (spec.overwrite() ? " (overwrite)" : "")
                 << (owner.empty() ? "" : ", owner ") << EscapeName(owner);
  }
  // A job the master cannot record would vanish in a restart: it fails now,
  // where the client sees it.
  if (absl::Status s = FlushWrites(); !s.ok()) {
    absl::MutexLock lock(&mu_);
    JobInProgress* job = jobs_[id].get();
    if (job->running()) {
      EndJob(job, mrpb::JOB_FAILED,
             absl::StrCat("the master cannot record the job: ", s.message()));
    }
  }
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
  // A first request still preparing its job holds the id: its outcome (the
  // job, or a refusal that frees the id) decides this one's.
  auto resolved = [this, &request_id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto r = requests_.find(request_id);
    return r == requests_.end() || jobs_.count(r->second) > 0 ||
           retired_.count(r->second) > 0;
  };
  mu_.Await(absl::Condition(&resolved));
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
  response.set_error(mrpb::KillJobResponse::OK);
  return response;
}

std::vector<mrpb::WorkerInfo> JobTracker::ListWorkers() {
  absl::MutexLock lock(&mu_);
  return workers_.List(clock_->MonotonicMs());
}

void JobTracker::RetireFinishedJobs() {
  const int64_t now_wall = clock_->WallMs();
  std::vector<std::string> keep;
  keep.reserve(job_order_.size());
  for (const std::string& id : job_order_) {
    const JobInProgress& job = *jobs_[id];
    // Compared so that no finish time (a restored one may be anything)
    // overflows.
    if (job.running() || committing_jobs_.count(id) > 0 ||
        job.finish_wall_ms() > now_wall - options_.job_retention_ms) {
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

}  // namespace mr
