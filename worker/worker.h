// The worker daemon: its shuffle store and service, the task runner, and the
// heartbeater that links them to the master.
//
// Lifecycle: Init() -> Start() -> ... -> Shutdown() (also from the
// destructor).
#ifndef MR_WORKER_WORKER_H_
#define MR_WORKER_WORKER_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "common/health.h"
#include "common/orphan_reaper.h"
#include "proto/worker.grpc.pb.h"
#include "worker/heartbeater.h"
#include "worker/shuffle_service.h"
#include "worker/shuffle_store.h"
#include "worker/task_runner.h"
#include "worker/worker_options.h"

namespace mr {

class Worker {
 public:
  explicit Worker(WorkerOptions options);
  ~Worker();

  // Checks the options (resolving their defaults; a wildcard address is not
  // advertised), loads the TLS files and opens a fresh shuffle store. As PID 1 (a container's init), also starts reaping orphans.
  absl::Status Init();
  // Serves shuffle data and starts heartbeating. REQUIRES: Init() succeeded.
  absl::Status Start();
  // The graceful stop (SIGTERM): the worker reports itself not serving and
  // takes no new attempts; it lets running attempts finish and keeps serving
  // the map output that running jobs still fetch, for up to
  // drain_timeout_ms; then kills what is left and tells the master it
  // leaves (the master re-runs those attempts at once). Call Shutdown()
  // after. REQUIRES: Start() succeeded.
  void Drain();
  // Stops heartbeating, kills running attempts, stops serving.
  void Shutdown();

  // host:port peers fetch from. REQUIRES: Start() succeeded.
  const std::string& address() const { return address_; }
  // The plaintext health port (0: none). REQUIRES: Start() succeeded.
  int health_port() const { return health_port_.port(); }

  // The options in effect (defaults resolved). REQUIRES: Init() succeeded.
  const WorkerOptions& options() const { return options_; }

 private:
  WorkerOptions options_;
  std::unique_ptr<OrphanReaper> reaper_;  // only as PID 1
  std::unique_ptr<ShuffleStore> store_;
  std::unique_ptr<ShuffleService> shuffle_service_;
  std::unique_ptr<grpc::Server> server_;
  HealthPort health_port_;
  std::unique_ptr<mrpb::MasterWorkerService::Stub> master_;
  std::unique_ptr<TaskRunner> runner_;
  std::unique_ptr<Heartbeater> heartbeater_;
  std::string address_;
  bool shut_down_ = false;
};

}  // namespace mr

#endif  // MR_WORKER_WORKER_H_
