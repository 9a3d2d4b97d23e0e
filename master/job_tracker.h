// The master's state and decisions: which workers are alive, which jobs run,
// which task attempt runs where, and which attempt may commit.
//
// Workers pull work: each heartbeat reports the attempts that ended and the
// free slots, and the response hands out task attempts. The heartbeat of a
// worker running nothing is held (up to kIdleLongPollMs) until work appears,
// so a new job starts without waiting out the heartbeat interval. The
// response also carries task attempts (maps first; a
// job's reduces once all its maps are done), attempts to kill, and finished
// jobs whose map output the worker may drop.
//
// Outputs (common/output_layout.h): a job builds its output in a staging
// directory beside the output, prepared at submission; the job commit
// replaces the output with it in one atomic step, and a job that fails or is
// killed only loses its staging directory. Submission refuses paths that
// collide with the job's own or a running job's (master/path_claims.h).
//
// The tracker coordinates; each responsibility has its own piece:
// submissions are checked by JobValidator (master/job_validator.h), workers
// and their liveness are kept by WorkerRegistry (master/worker_registry.h),
// each job's task table is a JobInProgress, and the output layout is
// OutputLayout's. Its own code is split the same way: job_tracker.cc
// (state, persistence, the client API), job_tracker_workers.cc (the worker
// protocol and scheduling), job_tracker_commit.cc (ending jobs, committing
// their output).
//
// Thread-safety: thread-safe; every public method takes mu_. No file I/O
// happens under mu_: state records are gathered under it and written after
// (FlushWrites); a job's output (preparing it, the job commit, removing the
// staging directory of an ended job) is handled without it.
#ifndef MR_MASTER_JOB_TRACKER_H_
#define MR_MASTER_JOB_TRACKER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/staged_directory.h"
#include "master/job_in_progress.h"
#include "master/job_validator.h"
#include "master/master_options.h"
#include "master/master_store.h"
#include "master/path_claims.h"
#include "master/plugin_store.h"
#include "master/worker_registry.h"
#include "proto/client.pb.h"
#include "proto/worker.pb.h"

namespace mr {

class JobTracker {
 public:
  // `plugins` and `store` must outlive the tracker; `store` may be null
  // (nothing is then kept across restarts).
  JobTracker(const MasterOptions& options, PluginStore* plugins,
             MasterStore* store);

  // Loads what the store holds: jobs, finished tasks, id counters. Running
  // jobs resume; their finished maps are located as workers re-register and
  // report what they hold, and re-run when none does within the heartbeat
  // timeout. Call once, before serving.
  absl::Status Restore();

  // The options the tracker was made with.
  const MasterOptions& options() const { return options_; }

  // ---- clients
  // `owner` names the caller (master/client_auth.h): the job's owner, shown
  // in its status and allowed to kill it. "" records none (tests).
  mrpb::SubmitJobResponse Submit(const mrpb::SubmitJobRequest& request,
                                 const std::string& owner = "");
  std::optional<mrpb::JobStatus> GetStatus(const std::string& job_id);
  // The jobs in the working set; with `all`, retired ones too. In
  // submission order.
  std::vector<mrpb::JobStatus> ListJobs(bool all = false);
  mrpb::KillJobResponse Kill(const std::string& job_id);
  std::vector<mrpb::WorkerInfo> ListWorkers();

  // ---- workers
  mrpb::RegisterWorkerResponse Register(const mrpb::RegisterWorkerRequest& r);
  mrpb::HeartbeatResponse Heartbeat(const mrpb::HeartbeatRequest& request);
  mrpb::CommitTaskResponse Commit(const mrpb::CommitTaskRequest& request);
  // A reducer could not fetch a map output: that map runs again.
  void ReportFetchFailure(const mrpb::ReportFetchFailureRequest& request);
  mrpb::GetMapOutputsResponse GetMapOutputs(
      const mrpb::GetMapOutputsRequest& request);

  // Declares dead every worker silent for longer than the heartbeat timeout
  // and re-queues its work; retires jobs finished for longer than the
  // retention period. Called every LivenessPeriodMs() by the master. A gap
  // between two calls longer than a stall threshold means the master itself
  // stalled: workers then get a full timeout from now.
  void CheckWorkerLiveness();

  // The file work of ending jobs, off the RPC handlers: commits the jobs
  // whose reduces have all committed (their output replaces the old one),
  // then removes the staging directories of ended jobs. Waits up to
  // `max_wait` for work to appear. Called in a loop by the master's output
  // thread (and by tests, with a zero wait).
  void RunOutputWork(absl::Duration max_wait) ABSL_LOCKS_EXCLUDED(mu_);
  int64_t LivenessPeriodMs() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Where a running attempt lives.
  struct AttemptRef {
    std::string job_id;
    std::string worker_id;
    mrpb::TaskKind kind = mrpb::MAP;
    uint32_t task_index = 0;
    // The worker's heartbeat count when the attempt was handed out: an
    // attempt its worker neither runs nor reports in a later heartbeat was
    // lost with a response.
    uint64_t assigned_in_beat = 0;
  };

  // A submission whose request id created a job before: fills `response`
  // with that job and returns true.
  bool DuplicateSubmission(const std::string& request_id,
                           mrpb::SubmitJobResponse* response)
      ABSL_LOCKS_EXCLUDED(mu_);
  bool DuplicateSubmissionLocked(const std::string& request_id,
                                 mrpb::SubmitJobResponse* response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);


  // Why a successful sample task's findings cannot be used ("" when they
  // can).
  static std::string CheckSample(const JobInProgress& job,
                                 const mrpb::TaskReport& report);
  void ProcessReport(WorkerState* worker, const mrpb::TaskReport& report)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops attempts handed to `worker` in a response it never got.
  void DropLostAssignments(WorkerState* worker,
                           const mrpb::HeartbeatRequest& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets a running attempt and tells its worker to kill it.
  void KillAttempt(uint64_t attempt_id, const std::string& worker_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands out up to `free_slots` attempts, plus up to `map_slots` more that
  // may only be maps (see waiting_reduces_).
  void AssignTasks(WorkerState* worker, uint32_t free_slots, uint32_t map_slots,
                   mrpb::HeartbeatResponse* response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends a job that failed or was killed: kills its attempts, tells workers
  // to drop its map output, releases its paths, and queues its staging
  // directory for RemoveEndedStaging().
  void EndJob(JobInProgress* job, mrpb::JobState state, const std::string& error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What every job's end does, failed or not: its state recorded, its paths
  // freed, workers told to drop its map output.
  void FinishJob(JobInProgress* job, mrpb::JobState state,
                 const std::string& error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the staging directories EndJob() queued. Every public method
  // that may end a job calls it once it has released mu_.
  void RemoveEndedStaging() ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveWorker(const std::string& worker_id, const std::string& why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves jobs finished longer than job_retention_ms ago out of the working
  // set (jobs_, job_order_) into retired_.
  void RetireFinishedJobs() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Retire(const std::string& job_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const mrpb::JobStatus* FindRetired(const std::string& job_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<std::string> LiveWorkers() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return workers_.Ids();
  }
  // Records in the store: the records join pending_writes_, which the
  // public method that made them writes once it has released mu_ (see
  // WriteOnReturn). Failures are logged: the master runs on, and what was
  // not recorded is recomputed after a restart.
  void Persist(const JobInProgress& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PersistIds() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PersistTask(const JobInProgress& job, const Task& task,
                   const CounterMap& counters)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t NextAttemptId() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes pending_writes_ to the store, without mu_ held.
  // Errors are logged, and returned for callers that must not go on without
  // the records (the job commit, a submission).
  absl::Status FlushWrites() ABSL_LOCKS_EXCLUDED(mu_, store_mu_);
  // Declared before a method's MutexLock: flushes once the lock is gone.
  struct WriteOnReturn {
    JobTracker* const tracker;
    ~WriteOnReturn() { tracker->FlushWrites().IgnoreError(); }
  };

  // Commits the job's output (OutputLayout::Commit()), then marks the job
  // succeeded, or failed when the output could not be replaced.
  void CommitJob(const std::string& job_id) ABSL_LOCKS_EXCLUDED(mu_);
  // options_.inject_crash_in_commit: SIGKILLs the master at that point.
  absl::Status InjectCrash(StagedDirectory::Point point) const;

  const MasterOptions options_;
  Clock* const clock_;
  PluginStore* const plugins_;
  MasterStore* const store_;
  const JobValidator validator_;

  // Lock order: store_mu_ before mu_. store_mu_ only orders the writes of
  // FlushWrites; nothing else waits on it.
  absl::Mutex store_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex mu_;
  MasterStore::Batch pending_writes_ ABSL_GUARDED_BY(mu_);
  uint64_t next_job_seq_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_worker_seq_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_attempt_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t attempt_id_limit_ ABSL_GUARDED_BY(mu_) = 1;  // reserved in store
  // When this master started: restored map outputs that no worker reports
  // within the heartbeat timeout of it are recomputed.
  int64_t start_ms_ ABSL_GUARDED_BY(mu_) = 0;
  bool relocation_pending_ ABSL_GUARDED_BY(mu_) = false;
  // The working set: running jobs, and finished ones within retention.
  std::map<std::string, std::unique_ptr<JobInProgress>> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> job_order_ ABSL_GUARDED_BY(mu_);  // submission order
  // Finished jobs past retention: their final status only.
  std::map<std::string, mrpb::JobStatus> retired_ ABSL_GUARDED_BY(mu_);

  WorkerRegistry workers_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, AttemptRef> live_attempts_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> committing_jobs_ ABSL_GUARDED_BY(mu_);
  // Of committing_jobs_, those RunOutputWork() has yet to commit.
  std::vector<std::string> commit_queue_ ABSL_GUARDED_BY(mu_);
  // The client's request id of each submission -> the job it created.
  std::map<std::string, std::string> requests_ ABSL_GUARDED_BY(mu_);
  // The paths of running jobs (committing ones included).
  PathClaims claims_ ABSL_GUARDED_BY(mu_);
  // (output directory, job id) of ended jobs whose staging directory is
  // still to be removed.
  std::vector<std::pair<std::string, std::string>> ended_staging_
      ABSL_GUARDED_BY(mu_);
  // Reduce attempts waiting for a lost map output to be recomputed, by
  // attempt id, with their worker and job. Their slots do not count against
  // map work: otherwise reduces holding every slot would wait forever for
  // maps that cannot be scheduled.
  std::map<uint64_t, AttemptRef> waiting_reduces_ ABSL_GUARDED_BY(mu_);
  // Bumped whenever work may have become assignable (a submission, an
  // attempt's end, a lost worker): wakes idle workers' long-polls.
  uint64_t work_epoch_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mr

#endif  // MR_MASTER_JOB_TRACKER_H_
