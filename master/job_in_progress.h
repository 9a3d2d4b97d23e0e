// One job's task table on the master: its map and reduce tasks, their
// attempts, and the job's counters.
//
// Thread-safety: none of its own. JobTracker owns every JobInProgress and calls it only
// with JobTracker::mu_ held.
#ifndef MR_MASTER_JOB_IN_PROGRESS_H_
#define MR_MASTER_JOB_IN_PROGRESS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "proto/mr.pb.h"

namespace mr {

struct Task {
  enum class State { kPending, kRunning, kDone };

  mrpb::TaskKind kind = mrpb::MAP;
  uint32_t index = 0;
  State state = State::kPending;

  // The running attempt (0 when none) and where it runs.
  uint64_t attempt_id = 0;
  std::string worker_id;
  int64_t start_ms = 0;

  uint32_t failures = 0;
  std::string last_error;
  std::set<std::string> failed_on;  // workers where an attempt failed

  // Reduces: the attempt the master told to commit (0 when none yet).
  uint64_t committing_attempt = 0;

  // Maps, once done: whose output the reduces fetch.
  uint64_t done_attempt = 0;
  std::string done_worker_id;
  std::string done_worker_address;
};

class JobInProgress {
 public:
  JobInProgress(std::string id, mrpb::JobSpec spec, std::vector<std::string> input_files,
      std::vector<mrpb::InputSplit> splits, int64_t submit_wall_ms);

  const std::string& id() const { return id_; }
  const mrpb::JobSpec& spec() const { return spec_; }
  mrpb::JobState state() const { return state_; }
  bool running() const { return state_ == mrpb::JOB_RUNNING; }
  const mrpb::InputSplit& split(uint32_t map_index) const {
    return splits_[map_index];
  }

  // A pending task for `worker_id`: a map, or once every map is done, a
  // reduce. A task that already failed on this worker goes elsewhere while
  // other live workers have not failed it. nullptr when there is none.
  Task* NextTask(const std::string& worker_id, size_t live_workers);

  void StartAttempt(Task* task, uint64_t attempt_id,
                    const std::string& worker_id, int64_t now_ms);

  // The task whose running attempt is `attempt_id`, or nullptr (a stale,
  // killed or unknown attempt).
  Task* FindRunning(mrpb::TaskKind kind, uint32_t index, uint64_t attempt_id);

  // Records a successful attempt: adds its counters, marks the task done.
  void AttemptSucceeded(Task* task, const std::string& worker_address,
                        const google::protobuf::Map<std::string, int64_t>& counters);

  // Records a failed attempt. Returns false when the task has now failed
  // max_task_attempts times and the job must fail; true when it will retry.
  bool AttemptFailed(Task* task, const std::string& error);

  // `worker_id` is gone: its running attempts go back to pending, and so do
  // its finished maps while some reduce still needs them. Returns the ids of
  // the attempts that were running there.
  std::vector<uint64_t> WorkerLost(const std::string& worker_id);

  // The running attempts, with the worker each runs on.
  std::vector<std::pair<uint64_t, std::string>> RunningAttempts() const;

  bool AllMapsDone() const;
  bool AllReducesDone() const;

  // Ends the job (SUCCEEDED, FAILED or KILLED).
  void Finish(mrpb::JobState state, const std::string& error, int64_t wall_ms);

  std::vector<mrpb::MapOutputLocation> MapOutputs() const;

  mrpb::JobStatus Status() const;

  // Why the job failed: the task and its last error.
  std::string FailureMessage(const Task& task) const;

 private:
  uint32_t max_attempts() const;

  const std::string id_;
  const mrpb::JobSpec spec_;
  const std::vector<std::string> input_files_;
  const std::vector<mrpb::InputSplit> splits_;
  const int64_t submit_wall_ms_;

  mrpb::JobState state_ = mrpb::JOB_RUNNING;
  std::string error_;
  int64_t finish_wall_ms_ = 0;
  std::vector<Task> maps_;
  std::vector<Task> reduces_;
  std::map<std::string, int64_t> counters_;
};

}  // namespace mr

#endif  // MR_MASTER_JOB_IN_PROGRESS_H_
