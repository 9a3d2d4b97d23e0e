// The master daemon: the RPC server, the job tracker, and the thread that
// declares silent workers dead.
//
// Lifecycle: Init() -> Start() -> ... -> Shutdown() (also from the
// destructor). Thread-safety: Shutdown() may be called from any thread once.
#ifndef MR_MASTER_MASTER_H_
#define MR_MASTER_MASTER_H_

#include <memory>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "common/health.h"
#include "common/tls.h"
#include "master/job_tracker.h"
#include "master/master_options.h"
#include "master/master_service.h"
#include "master/master_store.h"
#include "master/pipeline/pipeline_runner.h"
#include "master/plugin_store.h"

namespace mr {

class Master {
 public:
  explicit Master(MasterOptions options);
  ~Master();

  // Opens the state directory and restores the jobs recorded there.
  absl::Status Init();
  // Binds and serves. REQUIRES: Init() succeeded.
  absl::Status Start();
  void Shutdown();
  // Blocks until Shutdown().
  void Wait();

  // host:port the server listens on. REQUIRES: Start() succeeded.
  const std::string& address() const { return address_; }
  // The plaintext health port (0: none). REQUIRES: Start() succeeded.
  int health_port() const { return health_port_.port(); }

 private:
  void LivenessLoop();

  const MasterOptions options_;
  PluginStore plugins_;
  std::unique_ptr<MasterStore> store_;
  std::unique_ptr<JobTracker> tracker_;
  std::unique_ptr<PipelineRunner> pipelines_;
  std::unique_ptr<MasterWorkerService> worker_service_;
  std::unique_ptr<MasterClientService> client_service_;
  TlsConfig tls_;
  std::unique_ptr<grpc::Server> server_;
  HealthPort health_port_;
  std::string address_;
  absl::Notification stop_;
  std::thread liveness_thread_;
  std::thread output_thread_;  // JobTracker::RunOutputWork()
};

}  // namespace mr

#endif  // MR_MASTER_MASTER_H_
