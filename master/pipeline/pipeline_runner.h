// The master's pipeline runner (issue #8): runs a pipeline file for one
// logical date, a DAG of steps, to the end.
//
// A run's life. `mrctl pipeline run FILE --date D` sends the file's text;
// Run() checks it (ParsePipeline), records the run in the state store and
// returns its id. The runner's thread then advances every running run, a
// few times a second:
//   - a step whose dependencies all succeeded starts (independent steps run
//     at once); one whose dependency failed or was skipped is skipped;
//   - extract from files resolves the step's glob ({{dt}} replaced): the
//     files are the step's data, read in place by the next step;
//   - validate and transform steps run their jobs (apps/pipeline/plan.h)
//     on the cluster, one after the other, each writing a staged table under
//     the run's staging area: STAGING/<pipeline>/<dt>/<run id>/<step>/;
//   - extract from PostgreSQL and the loads run in the master, each on a
//     thread of its own (master/pipeline/postgres_load.h,
//     postgres_extract.h, file_load.h);
//   - a failed try is retried after retry_delay, doubled at every try, up to
//     `retries` times; a try of jobs running longer than `timeout` is killed
//     and counts as failed (a try running in the master is not cut short:
//     PostgreSQL's own statement_timeout, in the DSN's options, bounds it).
//     Errors that no retry can mend (a quality gate, a pipeline that does
//     not compile to jobs) fail the step at once.
// A validate step ends with its quality gate: per rule the failing rows
// (from the job's counters) and a few samples (from its dead-letter files),
// the table rules (row_count against the last successful run's count,
// freshness against the end of the logical date), then error_if (default
// "> 0": any failing row stops the run) and warn_if. Above error_if the
// step fails, so no load step runs and every target stays as it was.
//
// Durability. The run (mrpb::PipelineRun) is written to the master's store
// at every change; a master killed mid-run resumes it: a step whose jobs
// were running keeps watching them (the job tracker resumes jobs, and a job
// is submitted with a request id made of the run, step, try and job index,
// so submitting it again after a crash returns the same job); a step that
// ran in the master (an extract or a load) runs again, which is safe since
// each is idempotent (the loads replace what the same date or run loaded).
//
// A new run of the same pipeline and date is refused while one runs; once
// it succeeds, the staging areas of that date's earlier runs are removed.
//
// Thread-safety: thread-safe.
#ifndef MR_MASTER_PIPELINE_PIPELINE_RUNNER_H_
#define MR_MASTER_PIPELINE_PIPELINE_RUNNER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/path_policy.h"
#include "common/pipeline_spec.h"
#include "master/job_tracker.h"
#include "master/master_store.h"
#include "proto/client.pb.h"

namespace mr {

struct PipelineRunnerOptions {
  // Where runs stage their data: a directory every worker can read and
  // write (on several hosts, a shared volume). Empty: pipelines are refused.
  std::string staging_dir;
  // Where file loads may write (the master's --allowed_output_roots, see
  // common/path_policy.h); a pipeline's jobs are checked by the job
  // tracker. Default: no restriction.
  PathPolicy path_policy;
  // Reduces of each step's jobs (0: the engine's default).
  uint32_t num_reduces = 0;
  // How often running runs advance. Default: 200 ms.
  int64_t poll_ms = 200;
  Clock* clock = nullptr;  // default: Clock::Real()
};

class PipelineRunner {
 public:
  // `tracker` and `store` (may be null: nothing kept) must outlive this.
  PipelineRunner(PipelineRunnerOptions options, JobTracker* tracker,
                 MasterStore* store);
  ~PipelineRunner();  // Stop()

  // Loads the stored runs; running ones resume once Start() is called.
  absl::Status Restore();
  void Start();
  // Stops the thread and waits for steps running in the master (a load
  // blocked in PostgreSQL holds the master's shutdown until it ends).
  void Stop();

  // `owner` names the caller (master/client_auth.h): the run's owner, and
  // of every job it submits. "" records none (tests).
  mrpb::RunPipelineResponse Run(const mrpb::RunPipelineRequest& request,
                                const std::string& owner = "");
  std::optional<mrpb::PipelineRun> Get(const std::string& run_id);
  std::vector<mrpb::PipelineRun> List();  // in run order

  // Advances every running run once (the thread's loop body; tests call it).
  void AdvanceAll() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Active;  // a running run: its parsed spec, its native steps

  // The outcome of a step that ran in the master.
  struct NativeResult {
    absl::Status status;
    uint64_t rows = 0;
    std::string summary;
  };

  void Loop();
  void Advance(Active* active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Step i of the run: starts it, or looks at its running try.
  void StartTry(Active* active, int i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WatchJobs(Active* active, int i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Submits job k of step i's current try (again, after a restart).
  absl::Status SubmitJob(Active* active, int i, size_t k)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The jobs step i runs (validate, transform), planned afresh.
  absl::StatusOr<std::vector<mrpb::JobSpec>> PlanJobs(const Active& active, int i)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartNative(Active* active, int i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs in its own thread: an extract from PostgreSQL, or a load.
  NativeResult RunNative(const mrpb::PipelineRun& run, const PipelineSpec& spec,
                         const PipelineStep& step) ABSL_LOCKS_EXCLUDED(mu_);
  // A validate step's jobs are done: computes its rules and gate.
  absl::Status FinishValidate(Active* active, int i, const mrpb::JobStatus& job)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The try failed: retry later, or fail the step (`permanent`: at once).
  void FailTry(Active* active, int i, const std::string& error, bool permanent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SucceedStep(Active* active, int i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishRun(Active* active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Persist(const mrpb::PipelineRun& run) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string StepDir(const mrpb::PipelineRun& run, const std::string& step) const;

  const PipelineRunnerOptions options_;
  Clock* const clock_;
  JobTracker* const tracker_;
  MasterStore* const store_;

  absl::Mutex mu_;
  std::map<std::string, mrpb::PipelineRun> runs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Active>> active_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> requests_ ABSL_GUARDED_BY(mu_);  // id -> run
  uint64_t next_run_seq_ ABSL_GUARDED_BY(mu_) = 1;
  // Threads of steps running in the master, with their slot: joined once
  // their slot says done (the thread then no longer needs mu_), or by Stop().
  std::vector<std::pair<std::thread, std::shared_ptr<const bool>>> native_threads_
      ABSL_GUARDED_BY(mu_);

  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace mr

#endif  // MR_MASTER_PIPELINE_PIPELINE_RUNNER_H_
