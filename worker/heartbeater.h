// The worker's link to the master: registers, then heartbeats on the
// interval the master asks for (sooner when an attempt ends), delivering
// attempt reports and free slots, and carrying out what the response says:
// start attempts, kill attempts, drop finished jobs' map output. A master
// that no longer knows the worker gets a fresh registration; the attempts the
// worker was running are killed, since the master has re-queued them.
//
// Thread-safety: Start()/Stop() from the owner; Wake() from any thread.
#ifndef MR_WORKER_HEARTBEATER_H_
#define MR_WORKER_HEARTBEATER_H_

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "proto/worker.grpc.pb.h"
#include "worker/shuffle_store.h"
#include "worker/task_runner.h"
#include "worker/worker_options.h"

namespace mr {

class Heartbeater {
 public:
  // All pointers must outlive the heartbeater. `address` is the advertised
  // host:port of this worker's shuffle service.
  Heartbeater(const WorkerOptions& options, std::string address,
              mrpb::MasterWorkerService::StubInterface* master, TaskRunner* runner,
              ShuffleStore* store);
  ~Heartbeater();

  void Start();
  void Stop();
  // Heartbeat now (an attempt ended).
  void Wake();

  // From now on, heartbeats offer no free slots and tell the master the
  // worker drains: it assigns nothing more.
  void SetDraining();
  // False once the last 3 heartbeats failed to reach the master.
  bool connected() const;
  // Stops the loop and sends one last heartbeat, saying the worker leaves,
  // with `reports` (attempts that ended and were not reported yet). Best
  // effort: a master that cannot be reached declares the worker dead later.
  void Leave(std::vector<mrpb::TaskReport> reports);

 private:
  void Loop();
  bool Register();
  // One heartbeat; returns how long to wait before the next.
  int64_t Beat();
  void SleepMs(int64_t ms);

  const WorkerOptions options_;
  const std::string address_;
  mrpb::MasterWorkerService::StubInterface* const master_;
  TaskRunner* const runner_;
  ShuffleStore* const store_;

  std::string worker_id_;  // used only by the loop thread
  int64_t interval_ms_ = 1000;
  int failures_ = 0;

  std::atomic<bool> draining_{false};
  std::atomic<int> failed_beats_{0};  // in a row

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace mr

#endif  // MR_WORKER_HEARTBEATER_H_
