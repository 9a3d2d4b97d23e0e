// The workers the master knows: who each is, when it last heartbeat, and
// what to tell it on its next heartbeat (attempts to kill, finished jobs
// whose map output it may drop). Judges liveness against the master's own
// progress: silence that falls in a stall of the master is not the workers'.
//
// Thread-safety: none of its own. JobTracker owns it and calls it only with
// JobTracker::mu_ held.
#ifndef MR_MASTER_WORKER_REGISTRY_H_
#define MR_MASTER_WORKER_REGISTRY_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "proto/client.pb.h"
#include "proto/worker.pb.h"

namespace mr {

struct WorkerState {
  std::string id;
  std::string address;
  std::string hostname;
  int64_t pid = 0;
  uint32_t slots = 0;
  uint32_t running = 0;
  int64_t last_heartbeat_ms = 0;  // monotonic
  uint64_t beats = 0;             // heartbeats received
  // For its next heartbeat response.
  std::vector<uint64_t> pending_kills;
  std::set<std::string> pending_finished_jobs;
};

class WorkerRegistry {
 public:
  // A worker silent for longer than `heartbeat_timeout_ms` is dead; workers
  // heartbeat at least every `heartbeat_interval_ms`. The master's progress
  // is counted from `now_ms` (a stall before the first CheckSilent() counts).
  WorkerRegistry(int64_t heartbeat_interval_ms, int64_t heartbeat_timeout_ms,
                 int64_t now_ms);

  // Registers a worker under `id`, heard from at `now_ms`.
  WorkerState* Add(const std::string& id,
                   const mrpb::RegisterWorkerRequest& request, int64_t now_ms);
  // nullptr when there is no such worker (never known, or removed).
  WorkerState* Find(const std::string& id);
  void Remove(const std::string& id);

  // A heartbeat from `worker` at `now_ms`.
  void Heard(WorkerState* worker, int64_t now_ms);

  // Ids of the workers registered at `address`.
  std::vector<std::string> AtAddress(const std::string& address) const;
  std::vector<std::string> Ids() const;

  // How often CheckSilent() is meant to be called.
  int64_t CheckPeriodMs() const;
  // The workers silent past the timeout at `now_ms`. A gap since the last
  // call longer than StallThresholdMs() means the master itself stalled:
  // *stalled_ms is set to the gap (else 0), and every worker gets a full
  // timeout from `now_ms`.
  std::vector<std::string> CheckSilent(int64_t now_ms, int64_t* stalled_ms);
  // When the master last resumed from a stall (0: never).
  int64_t resumed_ms() const { return resumed_ms_; }

  // Queues `job_id` for every worker's next heartbeat: drop its map output.
  void JobFinished(const std::string& job_id);
  // Queues `attempt_id` for `worker_id`'s next heartbeat, if it is known.
  void KillOnNextBeat(const std::string& worker_id, uint64_t attempt_id);

  std::vector<mrpb::WorkerInfo> List(int64_t now_ms) const;

 private:
  int64_t StallThresholdMs() const;

  const int64_t heartbeat_interval_ms_;
  const int64_t heartbeat_timeout_ms_;
  std::map<std::string, WorkerState> workers_;
  int64_t last_check_ms_;
  int64_t resumed_ms_ = 0;
};

}  // namespace mr

#endif  // MR_MASTER_WORKER_REGISTRY_H_
