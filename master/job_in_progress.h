// One job's task table on the master: its sample task (jobs that sort
// totally or plan: it runs before the maps), its map and reduce tasks, their
// attempts, and the job's counters.
//
// A task may have more than one attempt running: a backup of a straggler
// (Google MapReduce paper, section 3.6). The first attempt to succeed wins;
// the others are killed. Only one reduce attempt is ever allowed to commit.
//
// Thread-safety: none of its own. JobTracker owns every JobInProgress and
// calls it only with JobTracker::mu_ held.
#ifndef MR_MASTER_JOB_IN_PROGRESS_H_
#define MR_MASTER_JOB_IN_PROGRESS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/proto_maps.h"

#include "proto/client.pb.h"
#include "proto/state.pb.h"
#include "proto/worker.pb.h"

namespace mr {

struct RunningAttempt {
  uint64_t id = 0;
  std::string worker_id;
  int64_t start_ms = 0;
};

struct Task {
  enum class State { kPending, kRunning, kDone };

  mrpb::TaskKind kind = mrpb::MAP;
  uint32_t index = 0;
  State state = State::kPending;
  std::vector<RunningAttempt> running;  // non-empty iff kRunning
  int64_t duration_ms = 0;              // of the attempt that finished it

  uint32_t failures = 0;
  std::string last_error;
  std::set<std::string> failed_on;  // workers where an attempt failed

  // Reduces, and maps of a map-only job: the attempt the master told to
  // commit (0 when none yet).
  uint64_t committing_attempt = 0;

  // Maps, once done: whose output the reduces fetch.
  uint64_t done_attempt = 0;
  std::string done_worker_id;
  std::string done_worker_address;

  // What the finishing attempt counted; replaced in the job's counters by
  // what a later attempt counts if the task must run again (see
  // JobInProgress::counters_ for how tasks' counters combine).
  std::map<std::string, int64_t> done_counters;

  // Maps, once done: their output per reduce partition (the latest
  // attempt's; see JobInProgress::SetPartitionSizes()).
  std::vector<mrpb::PartitionSize> partition_sizes;

  // Maps: crashes per input record ("path\0offset"), and records to skip.
  std::map<std::string, uint32_t> crashes;
  std::vector<mrpb::RecordLocation> skip;

  bool HasAttempt(uint64_t attempt_id) const;
};

class JobInProgress {
 public:
  JobInProgress(std::string id, mrpb::JobSpec spec,
                std::vector<std::string> input_files,
                std::vector<mrpb::InputSplit> splits, int64_t submit_wall_ms);

  const std::string& id() const { return id_; }
  const mrpb::JobSpec& spec() const { return spec_; }
  // The client's id of the submission that created the job ("" if none).
  const std::string& request_id() const { return request_id_; }
  void set_request_id(std::string id) { request_id_ = std::move(id); }
  // Who submitted it (JobStatus.owner); "" if not recorded.
  const std::string& owner() const { return owner_; }
  void set_owner(std::string owner) { owner_ = std::move(owner); }
  // The job's shuffle secret (common/shuffle_secret.h), which every
  // assignment carries; kept in the job's record. Never logged.
  const std::string& shuffle_secret() const { return shuffle_secret_; }
  void set_shuffle_secret(std::string s) { shuffle_secret_ = std::move(s); }
  mrpb::JobState state() const { return state_; }
  int64_t submit_wall_ms() const { return submit_wall_ms_; }
  bool running() const { return state_ == mrpb::JOB_RUNNING; }
  int64_t finish_wall_ms() const { return finish_wall_ms_; }
  const mrpb::InputSplit& split(uint32_t map_index) const {
    return splits_[map_index];
  }
  uint32_t num_maps() const { return maps_.size(); }
  Task* map(uint32_t index) { return &maps_[index]; }
  Task* reduce(uint32_t index) { return &reduces_[index]; }

  // Whether a sample task runs before the maps (--total-order, or a job
  // that plans), and whether it has finished: then its findings are plan()
  // and partition_bounds().
  bool needs_sample() const { return !samples_.empty(); }
  bool sampled() const { return sampled_; }
  const std::string& plan() const { return plan_; }
  const std::vector<std::string>& partition_bounds() const { return bounds_; }
  // Records what the sample task found.
  void SetSample(std::string plan, std::vector<std::string> bounds);
  // Makes `sizes` the map's output per partition, replacing what an
  // earlier attempt of it counted in the job's totals (Status().partitions:
  // over every map that finished, each by its latest attempt).
  void SetPartitionSizes(Task* map, std::vector<mrpb::PartitionSize> sizes);

  // Whether the task's attempts ask the master before they commit output:
  // reduces, and the maps of a map-only job.
  bool Commits(const Task& task) const {
    return task.kind == mrpb::REDUCE ||
           (task.kind == mrpb::MAP && spec_.map_only());
  }
  // Every task whose output is the job's output is done: the job commits.
  bool ReadyToCommit() const;

  // A task for `worker_id` to run: the sample task first, then a pending
  // map, or once every map is done, a pending reduce; failing those, near
  // the end of a phase, a backup of a straggler running elsewhere. A task that failed on this worker goes
  // elsewhere while some live worker has not failed it; a worker on which
  // this job's tasks keep failing gets none while others remain. nullptr
  // when there is nothing.
  Task* NextTask(const std::string& worker_id,
                 const std::vector<std::string>& live_workers, int64_t now_ms);

  void StartAttempt(Task* task, uint64_t attempt_id,
                    const std::string& worker_id, int64_t now_ms);

  // The task that has `attempt_id` running, or nullptr (a stale, killed or
  // unknown attempt).
  Task* FindRunning(mrpb::TaskKind kind, uint32_t index, uint64_t attempt_id);

  // Records a successful attempt: adds its counters, marks the task done.
  // Returns the task's other running attempts (to kill).
  std::vector<RunningAttempt> AttemptSucceeded(
      Task* task, uint64_t attempt_id, const std::string& worker_address,
      int64_t now_ms,
      const CounterMap& counters);

  // Records a failed attempt. Returns false when the task has now failed
  // max_task_attempts times and the job must fail; true otherwise. A
  // failure that says nothing about the worker (the job's code crashed on a
  // record) does not count towards keeping the job's tasks off it.
  bool AttemptFailed(Task* task, uint64_t attempt_id, const std::string& error,
                     bool blame_worker = true);

  // Removes an attempt that lost to another (a backup race, a refused
  // commit) without counting it as a failure.
  void AttemptAbandoned(Task* task, uint64_t attempt_id);

  // A map attempt crashed on `record`. Returns true when the record is now
  // to be skipped (its second crash, and the job allows skipping), in which
  // case the failure does not count against the task's attempts; sets
  // *limit_exceeded when skipping it would pass max_skipped_records.
  bool RecordCrashed(Task* task, const mrpb::RecordLocation& record,
                     bool* limit_exceeded);

  // A map attempt succeeded having refused these input records as
  // malformed: the job keeps the first kMaxReportedMalformedRecords distinct
  // ones (a map that runs again reports its records again), in the order
  // reported. Returns whether any was new.
  bool NoteMalformedRecords(
      const google::protobuf::RepeatedPtrField<mrpb::RecordLocation>& records);

  // `worker_id` is gone: its running attempts are dropped, and its finished
  // maps go back to pending while some reduce still needs them. Returns the
  // ids of the attempts that were running there.
  std::vector<uint64_t> WorkerLost(const std::string& worker_id);

  // The output of map `map_index` attempt `attempt_id` cannot be fetched:
  // the map runs again. False when that is not the map's current output.
  bool MapOutputLost(uint32_t map_index, uint64_t attempt_id);

  // A done map's output, held by a re-registered worker (after a master
  // restart) at `worker_id`/`address`.
  void RelocateMapOutput(uint32_t map_index, const std::string& worker_id,
                         const std::string& address);

  // The running attempts, with the worker each runs on.
  std::vector<std::pair<uint64_t, std::string>> RunningAttempts() const;

  // Every map is done and its output located (a map-only job's: committed).
  bool AllMapsDone() const;
  bool AllReducesDone() const;

  // Ends the job (SUCCEEDED, FAILED or KILLED). Its running attempts are
  // dropped (the caller kills them): their reports count for nothing.
  void Finish(mrpb::JobState state, const std::string& error, int64_t wall_ms);

  std::vector<mrpb::MapOutputLocation> MapOutputs() const;

  mrpb::JobStatus Status() const;

  // Why the job failed: the task and its last error.
  std::string FailureMessage(const Task& task) const;

  // Every reduce committed: maps re-queued after their output was lost
  // (whose first output the reduces had already fetched) are done after
  // all. Returns their running attempts, to kill.
  std::vector<RunningAttempt> SettleMaps();

  // What the master store keeps of the job.
  mrstate::JobRecord Record() const;

  // Maps done before a master restart whose output no worker has reported
  // holding: they run again. Returns how many.
  int RequeueUnlocatedMaps();

  // Restores state recorded before a master restart. A restored map has no
  // location until a worker reports holding its output.
  void RestoreMapDone(uint32_t index, uint64_t attempt_id,
                      const std::map<std::string, int64_t>& counters,
                      std::vector<mrpb::PartitionSize> partition_sizes);
  void RestoreReduceDone(uint32_t index,
                         const std::map<std::string, int64_t>& counters);

 private:
  uint32_t max_attempts() const;
  Task* Backup(std::vector<Task>& tasks, const std::string& worker_id,
               int64_t now_ms);
  bool Blacklisted(const std::string& worker_id,
                   const std::vector<std::string>& live_workers) const;
  void Drop(Task* task, uint64_t attempt_id);
  // A done map whose output is gone goes back to pending.
  void Requeue(Task* task);
  // Makes `counters` the task's done_counters, updating the job's.
  void SetTaskCounters(Task* task, std::map<std::string, int64_t> counters);
  // The largest value of counter `name` over every task's done_counters.
  int64_t MaxOverTasks(const std::string& name) const;

  const std::string id_;
  const mrpb::JobSpec spec_;
  const std::vector<std::string> input_files_;
  const std::vector<mrpb::InputSplit> splits_;
  const int64_t submit_wall_ms_;

  std::string request_id_;
  std::string owner_;
  std::string shuffle_secret_;
  mrpb::JobState state_ = mrpb::JOB_RUNNING;
  std::string error_;
  int64_t finish_wall_ms_ = 0;
  // Over every map's partition_sizes: (records, bytes) per reduce partition.
  std::vector<std::pair<uint64_t, uint64_t>> partition_totals_;
  std::vector<Task> samples_;  // the sample task, when the job needs one
  std::vector<Task> maps_;
  std::vector<Task> reduces_;
  bool sampled_ = false;
  std::string plan_;
  std::vector<std::string> bounds_;
  // The job's counters: over every task's done_counters, the sum, or for a
  // counter whose name starts with "max " (IsMaxCounter(), mr/mapreduce.h)
  // the maximum.
  std::map<std::string, int64_t> counters_;
  std::map<std::string, uint32_t> worker_failures_;
  std::vector<mrpb::RecordLocation> skipped_;
  std::vector<mrpb::RecordLocation> malformed_;
};

}  // namespace mr

#endif  // MR_MASTER_JOB_IN_PROGRESS_H_
