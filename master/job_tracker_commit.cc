// JobTracker, part 3: ending jobs, and committing a job's output
// (common/output_layout.h): the staged output replaces the old one in one
// step, or, for a job that failed or was killed, is removed.
#include <signal.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/names.h"
#include "common/output_layout.h"
#include "common/status_macros.h"
#include "master/job_tracker.h"

namespace mr {

void JobTracker::EndJob(JobInProgress* job, mrpb::JobState state,
                        const std::string& error) {
  for (const auto& [attempt, worker_id] : job->RunningAttempts()) {
    KillAttempt(attempt, worker_id);
  }
  FinishJob(job, state, error);
  // Removed once the caller has released mu_. Late attempts cannot recreate
  // it (OutputLayout::CreateAttemptDir()); workers remove their own attempt
  // directories when told to kill them.
  ended_staging_.emplace_back(job->spec().output_dir(), job->id());
  MR_LOG(INFO) << job->id() << " " << mrpb::JobState_Name(state)
               << (error.empty() ? "" : ": ") << EscapeName(error);
}

void JobTracker::FinishJob(JobInProgress* job, mrpb::JobState state,
                           const std::string& error) {
  job->Finish(state, error, clock_->WallMs());
  Persist(*job);
  claims_.Remove(job->id());
  workers_.JobFinished(job->id());
}

void JobTracker::RunOutputWork(absl::Duration max_wait) {
  std::vector<std::string> commits;
  {
    absl::MutexLock lock(&mu_);
    auto pending = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !commit_queue_.empty() || !ended_staging_.empty();
    };
    mu_.AwaitWithTimeout(absl::Condition(&pending), max_wait);
    commits.swap(commit_queue_);
  }
  for (const std::string& job_id : commits) CommitJob(job_id);
  RemoveEndedStaging();
}

void JobTracker::RemoveEndedStaging() {
  // The jobs' ends must be on disk first: a master restarted after the
  // removal must not take them for running jobs that lost their staging.
  if (!FlushWrites().ok()) {
    absl::SleepFor(absl::Seconds(1));  // the store is failing: try later
    return;
  }
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
  const absl::Status recorded = FlushWrites();
  std::string output_dir, token;
  uint32_t num_parts = 0;
  OutputLayout::Parts parts = OutputLayout::Parts::kReduce;
  OutputLayout::CommitOptions options;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) {
      committing_jobs_.erase(job_id);
      return;
    }
    const JobInProgress& job = *it->second;
    output_dir = job.spec().output_dir();
    if (job.spec().map_only()) {
      num_parts = job.num_maps();
      parts = OutputLayout::Parts::kMap;
    } else {
      num_parts = job.spec().num_reduces();
    }
    options.overwrite = job.spec().overwrite();
    token = OutputLayout(output_dir, job_id).CommitToken(job.submit_wall_ms());
  }
  if (!options_.inject_crash_in_commit.empty()) {
    options.inject = [this](StagedDirectory::Point p) { return InjectCrash(p); };
  }
  // The paths were allowed at submission; a link swapped in since must not
  // carry the rename out of the roots.
  const OutputLayout layout(output_dir, job_id, parts);
  absl::Status allowed = options_.path_policy.CheckOutputDir(output_dir);
  if (allowed.ok()) {
    allowed = options_.path_policy.CheckOutput(layout.staging_dir());
  }
  if (!allowed.ok()) MR_LOG(WARNING) << job_id << ": commit refused: " << allowed;
  // A master killed in here calls it again from Restore(): Commit() finishes
  // whatever step it was at.
  absl::Status s =
      !recorded.ok()
          ? Prepend(recorded, "the master cannot record the reduces' commits")
          : !allowed.ok() ? allowed
                          : layout.Commit(num_parts, token, options);
  {
    absl::MutexLock lock(&mu_);
    committing_jobs_.erase(job_id);
    // A committing job is neither retired nor removed (RetireFinishedJobs).
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || !it->second->running()) return;
    JobInProgress* job = it->second.get();
    if (!s.ok()) {
      // Nothing was replaced: the staged output goes, the old one stays.
      EndJob(job, mrpb::JOB_FAILED,
             absl::StrCat("job commit failed: ", s.message()));
    } else {
      for (const RunningAttempt& a : job->SettleMaps()) {
        KillAttempt(a.id, a.worker_id);
      }
      FinishJob(job, mrpb::JOB_SUCCEEDED, "");
      MR_LOG(INFO) << job_id << " succeeded; output in "
                   << EscapeName(output_dir);
    }
  }
  RemoveEndedStaging();
}

}  // namespace mr
