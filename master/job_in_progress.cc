#include "master/job_in_progress.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "master/state_codec.h"
#include "common/job_limits.h"
#include "mr/mapreduce.h"

namespace mr {
namespace {

// Failures of one job's tasks on one worker after which the job's tasks go
// to other workers.
constexpr uint32_t kWorkerFailuresToBlacklist = 3;
// A running attempt becomes a straggler once it has run this long, and twice
// as long as the median finished task of its phase.
constexpr int64_t kMinBackupAgeMs = 1000;

const char* KindName(mrpb::TaskKind kind) {
  switch (kind) {
    case mrpb::MAP: return "map";
    case mrpb::SAMPLE: return "sample";
    default: return "reduce";
  }
}

std::string RecordKey(const mrpb::RecordLocation& r) {
  return absl::StrCat(r.path(), std::string(1, '\0'), r.offset());
}

}  // namespace

bool Task::HasAttempt(uint64_t attempt_id) const {
  for (const RunningAttempt& a : running) {
    if (a.id == attempt_id) return true;
  }
  return false;
}

JobInProgress::JobInProgress(std::string id, mrpb::JobSpec spec,
                             std::vector<std::string> input_files,
                             std::vector<mrpb::InputSplit> splits,
                             int64_t submit_wall_ms)
    : id_(std::move(id)),
      spec_(std::move(spec)),
      input_files_(std::move(input_files)),
      splits_(std::move(splits)),
      submit_wall_ms_(submit_wall_ms) {
  maps_.resize(splits_.size());
  for (uint32_t i = 0; i < maps_.size(); ++i) {
    maps_[i].kind = mrpb::MAP;
    maps_[i].index = i;
  }
  reduces_.resize(spec_.num_reduces());
  for (uint32_t i = 0; i < reduces_.size(); ++i) {
    reduces_[i].kind = mrpb::REDUCE;
    reduces_[i].index = i;
  }
  if (spec_.total_order() || spec_.traits().plans()) {
    samples_.resize(1);
    samples_[0].kind = mrpb::SAMPLE;
  }
}

void JobInProgress::SetSample(std::string plan,
                              std::vector<std::string> bounds) {
  sampled_ = true;
  plan_ = std::move(plan);
  bounds_ = std::move(bounds);
  if (!samples_.empty()) samples_[0].state = Task::State::kDone;
}

bool JobInProgress::ReadyToCommit() const {
  if (!spec_.map_only()) return AllReducesDone();
  for (const Task& t : maps_) {
    if (t.state != Task::State::kDone) return false;
  }
  return true;
}

uint32_t JobInProgress::max_attempts() const {
  return spec_.max_task_attempts() > 0 ? spec_.max_task_attempts()
                                       : kDefaultMaxTaskAttempts;
}

bool JobInProgress::Blacklisted(
    const std::string& worker_id,
    const std::vector<std::string>& live_workers) const {
  auto failing = [this](const std::string& id) {
    auto it = worker_failures_.find(id);
    return it != worker_failures_.end() &&
           it->second >= kWorkerFailuresToBlacklist;
  };
  if (!failing(worker_id)) return false;
  // Kept off only while some live worker is not.
  for (const std::string& id : live_workers) {
    if (!failing(id)) return true;
  }
  return false;
}

Task* JobInProgress::NextTask(const std::string& worker_id,
                              const std::vector<std::string>& live_workers,
                              int64_t now_ms) {
  if (!running() || Blacklisted(worker_id, live_workers)) return nullptr;
  std::vector<Task>& tasks = needs_sample() && !sampled_ ? samples_
                             : AllMapsDone()             ? reduces_
                                                         : maps_;
  bool pending = false;
  for (Task& task : tasks) {
    if (task.state != Task::State::kPending) continue;
    pending = true;
    if (task.failed_on.count(worker_id) == 0) return &task;
    // Failed here before: here only if no other live worker that takes this
    // job's tasks has not failed it.
    bool elsewhere = false;
    for (const std::string& id : live_workers) {
      elsewhere |= id != worker_id && task.failed_on.count(id) == 0 &&
                   !Blacklisted(id, live_workers);
    }
    if (!elsewhere) return &task;
  }
  if (pending) return nullptr;
  return spec_.disable_speculation() ? nullptr : Backup(tasks, worker_id, now_ms);
}

Task* JobInProgress::Backup(std::vector<Task>& tasks,
                            const std::string& worker_id, int64_t now_ms) {
  std::vector<int64_t> durations;
  for (const Task& t : tasks) {
    if (t.state == Task::State::kDone) durations.push_back(t.duration_ms);
  }
  if (durations.empty()) return nullptr;  // nothing to compare against
  std::nth_element(durations.begin(), durations.begin() + durations.size() / 2,
                   durations.end());
  const int64_t threshold =
      std::max(kMinBackupAgeMs, 2 * durations[durations.size() / 2]);
  Task* slowest = nullptr;
  int64_t slowest_age = 0;
  for (Task& t : tasks) {
    if (t.state != Task::State::kRunning || t.running.size() != 1) continue;
    const RunningAttempt& a = t.running[0];
    const int64_t age = now_ms - a.start_ms;
    if (a.worker_id == worker_id || age < threshold) continue;
    if (t.committing_attempt != 0) continue;
    if (age > slowest_age) {
      slowest = &t;
      slowest_age = age;
    }
  }
  return slowest;
}

void JobInProgress::StartAttempt(Task* task, uint64_t attempt_id,
                                 const std::string& worker_id, int64_t now_ms) {
  task->state = Task::State::kRunning;
  task->running.push_back({attempt_id, worker_id, now_ms});
}

Task* JobInProgress::FindRunning(mrpb::TaskKind kind, uint32_t index,
                                 uint64_t attempt_id) {
  std::vector<Task>& tasks = kind == mrpb::MAP      ? maps_
                             : kind == mrpb::SAMPLE ? samples_
                                                    : reduces_;
  if (index >= tasks.size()) return nullptr;
  Task* task = &tasks[index];
  if (task->state != Task::State::kRunning || !task->HasAttempt(attempt_id)) {
    return nullptr;
  }
  return task;
}

std::vector<RunningAttempt> JobInProgress::AttemptSucceeded(
    Task* task, uint64_t attempt_id, const std::string& worker_address,
    int64_t now_ms,
    const CounterMap& counters) {
  // A task that ran again (its output was lost) replaces what it counted.
  SetTaskCounters(task, counters);
  std::vector<RunningAttempt> losers;
  for (const RunningAttempt& a : task->running) {
    if (a.id == attempt_id) {
      task->done_worker_id = a.worker_id;
      task->duration_ms = now_ms - a.start_ms;
    } else {
      losers.push_back(a);
    }
  }
  task->state = Task::State::kDone;
  task->done_attempt = attempt_id;
  task->done_worker_address = worker_address;
  task->running.clear();
  return losers;
}

void JobInProgress::SetPartitionSizes(
    Task* task, std::vector<mrpb::PartitionSize> sizes) {
  if (partition_totals_.size() < reduces_.size()) {
    partition_totals_.resize(reduces_.size());
  }
  auto add = [this](const std::vector<mrpb::PartitionSize>& v, int sign) {
    for (size_t p = 0; p < v.size() && p < partition_totals_.size(); ++p) {
      partition_totals_[p].first += sign * v[p].records();
      partition_totals_[p].second += sign * v[p].bytes();
    }
  };
  add(task->partition_sizes, -1);
  task->partition_sizes = std::move(sizes);
  add(task->partition_sizes, +1);
}

void JobInProgress::SetTaskCounters(Task* task,
                                    std::map<std::string, int64_t> counters) {
  std::map<std::string, int64_t> old = std::move(task->done_counters);
  task->done_counters = std::move(counters);
  for (const auto& [name, value] : old) {
    if (IsMaxCounter(name)) {
      // The old value may have been the largest: look at every task again.
      counters_[name] = MaxOverTasks(name);
    } else {
      counters_[name] = SubtractCounter(counters_[name], value);
    }
  }
  for (const auto& [name, value] : task->done_counters) {
    if (!IsMaxCounter(name)) {
      counters_[name] = AddCounter(counters_[name], value);
    } else if (auto it = counters_.find(name); it == counters_.end()) {
      counters_[name] = value;
    } else {
      it->second = std::max(it->second, value);
    }
  }
}

int64_t JobInProgress::MaxOverTasks(const std::string& name) const {
  int64_t max = 0;
  bool any = false;
  for (const std::vector<Task>* tasks : {&samples_, &maps_, &reduces_}) {
    for (const Task& t : *tasks) {
      auto it = t.done_counters.find(name);
      if (it == t.done_counters.end()) continue;
      max = any ? std::max(max, it->second) : it->second;
      any = true;
    }
  }
  return max;
}

void JobInProgress::Requeue(Task* task) {
  // Its counters stay until another attempt replaces them: if every reduce
  // commits first, the first attempt's output was all the job needed.
  task->state = Task::State::kPending;
  task->done_attempt = 0;
  task->done_worker_address.clear();
}

void JobInProgress::Drop(Task* task, uint64_t attempt_id) {
  task->running.erase(
      std::remove_if(task->running.begin(), task->running.end(),
                     [&](const RunningAttempt& a) { return a.id == attempt_id; }),
      task->running.end());
  if (task->committing_attempt == attempt_id) task->committing_attempt = 0;
  if (task->running.empty() && task->state == Task::State::kRunning) {
    task->state = Task::State::kPending;
  }
}

bool JobInProgress::AttemptFailed(Task* task, uint64_t attempt_id,
                                  const std::string& error, bool blame_worker) {
  for (const RunningAttempt& a : task->running) {
    if (a.id == attempt_id && blame_worker) {
      task->failed_on.insert(a.worker_id);
      ++worker_failures_[a.worker_id];
    }
  }
  Drop(task, attempt_id);
  task->failures++;
  task->last_error = error;
  return task->failures < max_attempts();
}

void JobInProgress::AttemptAbandoned(Task* task, uint64_t attempt_id) {
  Drop(task, attempt_id);
}

bool JobInProgress::RecordCrashed(Task* task,
                                  const mrpb::RecordLocation& record,
                                  bool* limit_exceeded) {
  *limit_exceeded = false;
  for (const mrpb::RecordLocation& r : task->skip) {
    // An attempt that started before the record was listed crashed on it.
    if (r.path() == record.path() && r.offset() == record.offset()) return true;
  }
  if (++task->crashes[RecordKey(record)] < 2 || spec_.max_skipped_records() == 0) {
    return false;
  }
  if (skipped_.size() >= spec_.max_skipped_records()) {
    *limit_exceeded = true;
    return false;
  }
  task->skip.push_back(record);
  skipped_.push_back(record);
  return true;
}

bool JobInProgress::NoteMalformedRecords(
    const google::protobuf::RepeatedPtrField<mrpb::RecordLocation>& records) {
  bool added = false;
  for (const mrpb::RecordLocation& r : records) {
    if (malformed_.size() >= kMaxReportedMalformedRecords) break;
    const bool known = std::any_of(
        malformed_.begin(), malformed_.end(), [&](const mrpb::RecordLocation& m) {
          return m.path() == r.path() && m.offset() == r.offset();
        });
    if (!known) {
      malformed_.push_back(r);
      added = true;
    }
  }
  return added;
}

std::vector<uint64_t> JobInProgress::WorkerLost(const std::string& worker_id) {
  std::vector<uint64_t> lost;
  if (!running()) return lost;
  // A map-only job's maps are committed output, not shuffle data.
  const bool reduces_pending = !spec_.map_only() && !AllReducesDone();
  for (std::vector<Task>* tasks : {&samples_, &maps_, &reduces_}) {
    for (Task& task : *tasks) {
      std::vector<uint64_t> here;
      for (const RunningAttempt& a : task.running) {
        if (a.worker_id == worker_id) here.push_back(a.id);
      }
      for (uint64_t id : here) {
        Drop(&task, id);
        lost.push_back(id);
      }
      if (task.kind == mrpb::MAP && task.state == Task::State::kDone &&
          task.done_worker_id == worker_id && reduces_pending) {
        // Its output lived on the lost worker; reduces still need it.
        Requeue(&task);
      }
    }
  }
  return lost;
}

bool JobInProgress::MapOutputLost(uint32_t map_index, uint64_t attempt_id) {
  if (!running() || map_index >= maps_.size()) return false;
  Task& task = maps_[map_index];
  if (task.state != Task::State::kDone || task.done_attempt != attempt_id) {
    return false;
  }
  Requeue(&task);
  return true;
}

void JobInProgress::RelocateMapOutput(uint32_t map_index,
                                      const std::string& worker_id,
                                      const std::string& address) {
  Task& task = maps_[map_index];
  task.done_worker_id = worker_id;
  task.done_worker_address = address;
}

std::vector<std::pair<uint64_t, std::string>> JobInProgress::RunningAttempts()
    const {
  std::vector<std::pair<uint64_t, std::string>> out;
  for (const std::vector<Task>* tasks : {&samples_, &maps_, &reduces_}) {
    for (const Task& task : *tasks) {
      for (const RunningAttempt& a : task.running) {
        out.emplace_back(a.id, a.worker_id);
      }
    }
  }
  return out;
}

bool JobInProgress::AllMapsDone() const {
  for (const Task& t : maps_) {
    if (t.state != Task::State::kDone ||
        (t.done_worker_address.empty() && !spec_.map_only())) {
      return false;
    }
  }
  return true;
}

int JobInProgress::RequeueUnlocatedMaps() {
  int n = 0;
  if (spec_.map_only()) return 0;  // committed output, held by no worker
  for (Task& t : maps_) {
    if (t.state == Task::State::kDone && t.done_worker_address.empty()) {
      Requeue(&t);
      ++n;
    }
  }
  return n;
}

std::vector<RunningAttempt> JobInProgress::SettleMaps() {
  std::vector<RunningAttempt> running;
  for (Task& t : maps_) {
    if (t.state == Task::State::kDone) continue;
    for (const RunningAttempt& a : t.running) running.push_back(a);
    t.running.clear();
    t.state = Task::State::kDone;
  }
  return running;
}

mrstate::JobRecord JobInProgress::Record() const {
  mrstate::JobRecord r;
  r.set_job_id(id_);
  *r.mutable_spec() = ToStored(spec_);
  for (const auto& f : input_files_) r.add_input_files(f);
  for (const auto& s : splits_) *r.add_splits() = ToStored(s);
  r.set_submit_time_ms(submit_wall_ms_);
  r.set_state(ToStored(state_));
  r.set_error(error_);
  r.set_finish_time_ms(finish_wall_ms_);
  r.set_request_id(request_id_);
  r.set_owner(owner_);
  r.set_shuffle_secret(shuffle_secret_);
  for (const mrpb::RecordLocation& m : malformed_) {
    mrstate::RecordLocation* stored = r.add_malformed_records();
    stored->set_path(m.path());
    stored->set_offset(m.offset());
    stored->set_reason(m.reason());
  }
  r.set_sampled(sampled_);
  r.set_plan(plan_);
  for (const std::string& b : bounds_) r.add_partition_bounds(b);
  return r;
}

bool JobInProgress::AllReducesDone() const {
  for (const Task& t : reduces_) {
    if (t.state != Task::State::kDone) return false;
  }
  return true;
}

void JobInProgress::Finish(mrpb::JobState state, const std::string& error,
                           int64_t wall_ms) {
  for (std::vector<Task>* tasks : {&samples_, &maps_, &reduces_}) {
    for (Task& t : *tasks) {
      if (t.state != Task::State::kRunning) continue;
      t.running.clear();
      t.committing_attempt = 0;
      t.state = Task::State::kPending;
    }
  }
  state_ = state;
  error_ = error;
  finish_wall_ms_ = wall_ms;
}

std::vector<mrpb::MapOutputLocation> JobInProgress::MapOutputs() const {
  std::vector<mrpb::MapOutputLocation> out;
  for (const Task& t : maps_) {
    mrpb::MapOutputLocation loc;
    loc.set_map_index(t.index);
    if (t.state == Task::State::kDone && !t.done_worker_address.empty()) {
      loc.set_attempt_id(t.done_attempt);
      loc.set_worker_address(t.done_worker_address);
    }
    out.push_back(std::move(loc));
  }
  return out;
}

std::string JobInProgress::FailureMessage(const Task& task) const {
  return absl::StrCat(KindName(task.kind), " task ", task.index, " failed ",
                      task.failures, " times; last error: ", task.last_error);
}

void JobInProgress::RestoreMapDone(
    uint32_t index, uint64_t attempt_id,
    const std::map<std::string, int64_t>& counters,
    std::vector<mrpb::PartitionSize> partition_sizes) {
  Task& t = maps_[index];
  t.state = Task::State::kDone;
  t.done_attempt = attempt_id;
  SetPartitionSizes(&t, std::move(partition_sizes));
  SetTaskCounters(&t, counters);
}

void JobInProgress::RestoreReduceDone(
    uint32_t index, const std::map<std::string, int64_t>& counters) {
  reduces_[index].state = Task::State::kDone;
  SetTaskCounters(&reduces_[index], counters);
}

mrpb::JobStatus JobInProgress::Status() const {
  mrpb::JobStatus s;
  s.set_job_id(id_);
  *s.mutable_spec() = spec_;
  s.set_state(state_);
  s.set_maps_total(maps_.size());
  s.set_reduces_total(reduces_.size());
  uint32_t maps_done = 0, maps_running = 0, reduces_done = 0,
           reduces_running = 0;
  for (const Task& t : maps_) {
    maps_done += t.state == Task::State::kDone;
    maps_running += t.state == Task::State::kRunning;
  }
  for (const Task& t : reduces_) {
    reduces_done += t.state == Task::State::kDone;
    reduces_running += t.state == Task::State::kRunning;
  }
  s.set_maps_done(maps_done);
  s.set_maps_running(maps_running);
  s.set_reduces_done(reduces_done);
  s.set_reduces_running(reduces_running);
  CountersToProto(counters_, s.mutable_counters());
  s.set_error(error_);
  s.set_submit_time_ms(submit_wall_ms_);
  s.set_finish_time_ms(finish_wall_ms_);
  for (const std::string& f : input_files_) s.add_input_files(f);
  for (const auto& r : skipped_) *s.add_skipped_records() = r;
  for (const auto& r : malformed_) *s.add_malformed_records() = r;
  for (const auto& [records, bytes] : partition_totals_) {
    mrpb::PartitionSize* p = s.add_partitions();
    p->set_records(records);
    p->set_bytes(bytes);
  }
  s.set_sampled(sampled_);
  s.set_owner(owner_);
  return s;
}

}  // namespace mr
