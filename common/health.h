// Health of the daemons, through the standard gRPC health protocol
// (grpc.health.v1), served by gRPC's built-in DefaultHealthCheckService on
// every server of the process once EnableHealthService() ran. Orchestrators
// probe it: Kubernetes' native gRPC probes speak only plaintext, so a daemon
// with TLS also serves it alone on a plaintext probe port (HealthPort).
//
// "" (the whole daemon) is SERVING while the daemon takes work, NOT_SERVING
// once it is shutting down or draining.
#ifndef MR_COMMON_HEALTH_H_
#define MR_COMMON_HEALTH_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mr {

// Makes every gRPC server this process builds afterwards serve
// grpc.health.v1. Call before building the first.
void EnableHealthService();

// Sets the overall ("") health of `server`. Null: no-op.
void SetServing(grpc::Server* server, bool serving);

// A plaintext port that serves only grpc.health.v1 (no data, no jobs: safe
// to leave open to the kubelet). Our own implementation of the protocol's
// Check (Watch is UNIMPLEMENTED there): gRPC's built-in one cannot be a
// server's only service.
// Thread-safety: Start/Shutdown from the owner; SetServing from any thread.
class HealthPort {
 public:
  HealthPort();
  ~HealthPort();

  // port 0: the OS picks. Starts SERVING.
  absl::Status Start(const std::string& host, int port);
  int port() const { return port_; }
  void SetServing(bool serving);
  void Shutdown();

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// Asks the daemon at `address` for its overall health: true when SERVING,
// false when NOT_SERVING; an error when it cannot be asked.
absl::StatusOr<bool> CheckHealth(
    const std::string& address,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::Duration timeout);

}  // namespace mr

#endif  // MR_COMMON_HEALTH_H_
