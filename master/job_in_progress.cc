#include "master/job_in_progress.h"

#include "absl/strings/str_cat.h"

namespace mr {
namespace {

constexpr uint32_t kDefaultMaxAttempts = 4;

const char* KindName(mrpb::TaskKind kind) {
  return kind == mrpb::MAP ? "map" : "reduce";
}

}  // namespace

JobInProgress::JobInProgress(std::string id, mrpb::JobSpec spec,
         std::vector<std::string> input_files,
         std::vector<mrpb::InputSplit> splits, int64_t submit_wall_ms)
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
}

uint32_t JobInProgress::max_attempts() const {
  return spec_.max_task_attempts() > 0 ? spec_.max_task_attempts()
                                       : kDefaultMaxAttempts;
}

Task* JobInProgress::NextTask(const std::string& worker_id, size_t live_workers) {
  if (!running()) return nullptr;
  std::vector<Task>& tasks = AllMapsDone() ? reduces_ : maps_;
  Task* fallback = nullptr;
  for (Task& task : tasks) {
    if (task.state != Task::State::kPending) continue;
    if (task.failed_on.count(worker_id) == 0) return &task;
    // Failed here before: only if every live worker has failed it too.
    if (task.failed_on.size() >= live_workers && fallback == nullptr) {
      fallback = &task;
    }
  }
  return fallback;
}

void JobInProgress::StartAttempt(Task* task, uint64_t attempt_id,
                       const std::string& worker_id, int64_t now_ms) {
  task->state = Task::State::kRunning;
  task->attempt_id = attempt_id;
  task->worker_id = worker_id;
  task->start_ms = now_ms;
  task->committing_attempt = 0;
}

Task* JobInProgress::FindRunning(mrpb::TaskKind kind, uint32_t index,
                       uint64_t attempt_id) {
  std::vector<Task>& tasks = kind == mrpb::MAP ? maps_ : reduces_;
  if (index >= tasks.size()) return nullptr;
  Task* task = &tasks[index];
  if (task->state != Task::State::kRunning || task->attempt_id != attempt_id) {
    return nullptr;
  }
  return task;
}

void JobInProgress::AttemptSucceeded(
    Task* task, const std::string& worker_address,
    const google::protobuf::Map<std::string, int64_t>& counters) {
  for (const auto& [name, value] : counters) counters_[name] += value;
  task->state = Task::State::kDone;
  task->done_attempt = task->attempt_id;
  task->done_worker_id = task->worker_id;
  task->done_worker_address = worker_address;
  task->attempt_id = 0;
}

bool JobInProgress::AttemptFailed(Task* task, const std::string& error) {
  task->failures++;
  task->last_error = error;
  task->failed_on.insert(task->worker_id);
  task->state = Task::State::kPending;
  task->attempt_id = 0;
  task->committing_attempt = 0;
  return task->failures < max_attempts();
}

std::vector<uint64_t> JobInProgress::WorkerLost(const std::string& worker_id) {
  std::vector<uint64_t> lost;
  if (!running()) return lost;
  const bool reduces_pending = !AllReducesDone();
  for (std::vector<Task>* tasks : {&maps_, &reduces_}) {
    for (Task& task : *tasks) {
      if (task.state == Task::State::kRunning && task.worker_id == worker_id) {
        lost.push_back(task.attempt_id);
        task.state = Task::State::kPending;
        task.attempt_id = 0;
        task.committing_attempt = 0;
      } else if (task.kind == mrpb::MAP && task.state == Task::State::kDone &&
                 task.done_worker_id == worker_id && reduces_pending) {
        // Its output lived on the lost worker; reduces still need it.
        task.state = Task::State::kPending;
        task.done_attempt = 0;
      }
    }
  }
  return lost;
}

std::vector<std::pair<uint64_t, std::string>> JobInProgress::RunningAttempts() const {
  std::vector<std::pair<uint64_t, std::string>> out;
  for (const std::vector<Task>* tasks : {&maps_, &reduces_}) {
    for (const Task& task : *tasks) {
      if (task.state == Task::State::kRunning) {
        out.emplace_back(task.attempt_id, task.worker_id);
      }
    }
  }
  return out;
}

bool JobInProgress::AllMapsDone() const {
  for (const Task& t : maps_) {
    if (t.state != Task::State::kDone) return false;
  }
  return true;
}

bool JobInProgress::AllReducesDone() const {
  for (const Task& t : reduces_) {
    if (t.state != Task::State::kDone) return false;
  }
  return true;
}

void JobInProgress::Finish(mrpb::JobState state, const std::string& error,
                 int64_t wall_ms) {
  state_ = state;
  error_ = error;
  finish_wall_ms_ = wall_ms;
}

std::vector<mrpb::MapOutputLocation> JobInProgress::MapOutputs() const {
  std::vector<mrpb::MapOutputLocation> out;
  for (const Task& t : maps_) {
    mrpb::MapOutputLocation loc;
    loc.set_map_index(t.index);
    loc.set_attempt_id(t.done_attempt);
    loc.set_worker_address(t.done_worker_address);
    out.push_back(std::move(loc));
  }
  return out;
}

std::string JobInProgress::FailureMessage(const Task& task) const {
  return absl::StrCat(KindName(task.kind), " task ", task.index, " failed ",
                      task.failures, " times; last error: ", task.last_error);
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
  for (const auto& [name, value] : counters_) (*s.mutable_counters())[name] = value;
  s.set_error(error_);
  s.set_submit_time_ms(submit_wall_ms_);
  s.set_finish_time_ms(finish_wall_ms_);
  for (const std::string& f : input_files_) s.add_input_files(f);
  return s;
}

}  // namespace mr
