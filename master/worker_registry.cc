#include "master/worker_registry.h"

#include <algorithm>

namespace mr {

WorkerRegistry::WorkerRegistry(int64_t heartbeat_interval_ms,
                               int64_t heartbeat_timeout_ms, int64_t now_ms)
    : heartbeat_interval_ms_(heartbeat_interval_ms),
      heartbeat_timeout_ms_(heartbeat_timeout_ms),
      last_check_ms_(now_ms) {}

WorkerState* WorkerRegistry::Add(const std::string& id,
                                 const mrpb::RegisterWorkerRequest& request,
                                 int64_t now_ms) {
  WorkerState& w = workers_[id];
  w = WorkerState();
  w.id = id;
  w.address = request.address();
  w.hostname = request.hostname();
  w.pid = request.pid();
  w.slots = request.slots();
  w.last_heartbeat_ms = now_ms;
  return &w;
}

WorkerState* WorkerRegistry::Find(const std::string& id) {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : &it->second;
}

void WorkerRegistry::Remove(const std::string& id) { workers_.erase(id); }

void WorkerRegistry::Heard(WorkerState* worker, int64_t now_ms) {
  worker->last_heartbeat_ms = now_ms;
  ++worker->beats;
}

std::vector<std::string> WorkerRegistry::AtAddress(
    const std::string& address) const {
  std::vector<std::string> ids;
  for (const auto& [id, w] : workers_) {
    if (w.address == address) ids.push_back(id);
  }
  return ids;
}

std::vector<std::string> WorkerRegistry::Ids() const {
  std::vector<std::string> ids;
  ids.reserve(workers_.size());
  for (const auto& [id, w] : workers_) ids.push_back(id);
  return ids;
}

int64_t WorkerRegistry::CheckPeriodMs() const {
  return std::max<int64_t>(50, heartbeat_timeout_ms_ / 10);
}

int64_t WorkerRegistry::StallThresholdMs() const {
  // A shorter stall cannot push a worker's silence past the timeout, since
  // workers heartbeat at least every heartbeat_interval_ms_.
  return std::max(2 * CheckPeriodMs(),
                  (heartbeat_timeout_ms_ - heartbeat_interval_ms_) / 2);
}

std::vector<std::string> WorkerRegistry::CheckSilent(int64_t now_ms,
                                                     int64_t* stalled_ms) {
  *stalled_ms = 0;
  if (now_ms - last_check_ms_ > StallThresholdMs()) {
    *stalled_ms = now_ms - last_check_ms_;
    resumed_ms_ = now_ms;
  }
  last_check_ms_ = now_ms;
  std::vector<std::string> silent;
  for (const auto& [id, w] : workers_) {
    const int64_t heard = std::max(w.last_heartbeat_ms, resumed_ms_);
    if (now_ms - heard > heartbeat_timeout_ms_) silent.push_back(id);
  }
  return silent;
}

void WorkerRegistry::JobFinished(const std::string& job_id) {
  for (auto& [id, w] : workers_) w.pending_finished_jobs.insert(job_id);
}

void WorkerRegistry::KillOnNextBeat(const std::string& worker_id,
                                    uint64_t attempt_id) {
  if (WorkerState* w = Find(worker_id)) w->pending_kills.push_back(attempt_id);
}

std::vector<mrpb::WorkerInfo> WorkerRegistry::List(int64_t now_ms) const {
  std::vector<mrpb::WorkerInfo> out;
  for (const auto& [id, w] : workers_) {
    mrpb::WorkerInfo info;
    info.set_worker_id(id);
    info.set_address(w.address);
    info.set_slots(w.slots);
    info.set_running_tasks(w.running);
    info.set_last_heartbeat_ms_ago(now_ms - w.last_heartbeat_ms);
    info.set_hostname(w.hostname);
    info.set_pid(w.pid);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace mr
