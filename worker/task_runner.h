// Runs task attempts, each in a child process of the worker (see
// worker/internal/task_child.h), one thread per attempt waiting on it. When
// the child is done, the runner finishes the attempt on the daemon's side:
// a map's sorted runs are ingested into the shuffle store; a reduce's part
// file is renamed into the output directory once the master says this
// attempt is the one to commit. Each finished attempt leaves a TaskReport
// for the next heartbeat.
//
// Thread-safety: thread-safe.
#ifndef MR_WORKER_TASK_RUNNER_H_
#define MR_WORKER_TASK_RUNNER_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/output_layout.h"
#include "common/subprocess.h"
#include "proto/worker.grpc.pb.h"
#include "worker/shuffle_store.h"
#include "worker/worker_options.h"

namespace mr {

class TaskRunner {
 public:
  // `store` and `master` must outlive the runner. `on_report` is called
  // (from an attempt's thread, no lock held) whenever a report is ready.
  TaskRunner(const WorkerOptions& options, ShuffleStore* store,
             mrpb::MasterWorkerService::StubInterface* master,
             std::function<void()> on_report);
  ~TaskRunner();

  void set_worker_id(const std::string& id) ABSL_LOCKS_EXCLUDED(mu_);

  // Starts the attempt on a thread of its own.
  void Start(const mrpb::TaskAssignment& assignment) ABSL_LOCKS_EXCLUDED(mu_);

  // Stops an attempt: kills its child; it commits nothing.
  void Kill(uint64_t attempt_id) ABSL_LOCKS_EXCLUDED(mu_);
  void KillAll() ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until every attempt thread has ended.
  void WaitIdle() ABSL_LOCKS_EXCLUDED(mu_);

  std::vector<uint64_t> RunningAttempts() ABSL_LOCKS_EXCLUDED(mu_);
  size_t running_count() ABSL_LOCKS_EXCLUDED(mu_);

  // Reports of attempts that ended since the last call.
  std::vector<mrpb::TaskReport> TakeReports() ABSL_LOCKS_EXCLUDED(mu_);
  // Gives back reports a failed heartbeat did not deliver.
  void ReturnReports(std::vector<mrpb::TaskReport> reports)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Attempt {
    mrpb::TaskAssignment assignment;
    Subprocess child;  // started and waited on by the attempt's thread
    bool killed = false;
  };

  void Run(std::shared_ptr<Attempt> attempt);
  // Runs the child and finishes the attempt; the returned status is the
  // attempt's outcome (OK = succeeded), counters set on success.
  absl::Status Execute(Attempt* attempt, mrpb::TaskReport* report);
  absl::StatusOr<std::string> PluginPath(const mrpb::JobSpec& spec);
  // A side file's content in the worker's cache (fetched from the master
  // once per content hash), with the file's mode.
  absl::StatusOr<std::string> SideFilePath(const mrpb::SideFile& f);
  // DATA_DIR/DIR/HASH+SUFFIX, fetched from the master when missing
  // (GetPlugin serves any stored content by hash).
  absl::StatusOr<std::string> FetchBlob(const std::string& hash,
                                        const std::string& dir,
                                        const std::string& suffix,
                                        mode_t mode);
  // Removes an attempt's uncommitted output directory.
  void RemoveAttemptOutput(const mrpb::TaskAssignment& a);
  // Asks the master whether the attempt (a reduce, or a map of a map-only
  // job) may commit, and if so moves its file into the job's staged output
  // (OutputLayout::CommitAttempt()), once CheckPaths() allows it again.
  absl::Status CommitOutput(const mrpb::TaskAssignment& a,
                            mrpb::TaskReport* report);
  // The attempt's paths against the worker's --allowed_*_roots
  // (WorkerOptions::path_policy): its split's files; the output, staging
  // and attempt directories of an attempt that writes output.
  absl::Status CheckPaths(const mrpb::TaskAssignment& a) const;
  // Logs a CheckPaths() refusal and marks the report permanent; returns
  // the attempt's error, naming this worker.
  absl::Status Refuse(const mrpb::TaskAssignment& a, const absl::Status& why,
                      mrpb::TaskReport* report) ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the attempt writes a part file of the job's output.
  static bool WritesOutput(const mrpb::TaskAssignment& a);
  static OutputLayout Layout(const mrpb::TaskAssignment& a);

  const WorkerOptions options_;
  ShuffleStore* const store_;
  mrpb::MasterWorkerService::StubInterface* const master_;
  const std::function<void()> on_report_;

  absl::Mutex mu_;
  std::string worker_id_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<Attempt>> running_ ABSL_GUARDED_BY(mu_);
  std::vector<mrpb::TaskReport> reports_ ABSL_GUARDED_BY(mu_);
  int threads_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int> corrupt_outputs_;  // test-only fault injection
  absl::Mutex plugin_mu_;  // serializes plugin downloads; never held with mu_
};

}  // namespace mr

#endif  // MR_WORKER_TASK_RUNNER_H_
