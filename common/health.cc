#include "common/health.h"

#include <atomic>

#include <grpcpp/ext/health_check_service_server_builder_option.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/time/clock.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "proto/health.grpc.pb.h"

namespace mr {

void EnableHealthService() { grpc::EnableDefaultHealthCheckService(true); }

void SetServing(grpc::Server* server, bool serving) {
  if (server == nullptr) return;
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  if (health != nullptr) health->SetServingStatus(serving);
}

class HealthPort::Service final : public grpc::health::v1::Health::Service {
 public:
  using Response = grpc::health::v1::HealthCheckResponse;

  void SetServing(bool serving) { serving_ = serving; }

  grpc::Status Check(grpc::ServerContext*,
                     const grpc::health::v1::HealthCheckRequest* request,
                     Response* response) override {
    if (!request->service().empty()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "only the daemon's overall health (\"\") is served");
    }
    response->set_status(Status());
    return grpc::Status::OK;
  }

  // Watch is left unimplemented (UNIMPLEMENTED): a stream would hold one
  // of this unauthenticated port's threads for as long as a caller likes,
  // and probes (the kubelet's) only Check.

 private:
  Response::ServingStatus Status() const {
    return serving_ ? Response::SERVING : Response::NOT_SERVING;
  }

  std::atomic<bool> serving_{true};
};

HealthPort::HealthPort() : service_(std::make_unique<Service>()) {}

HealthPort::~HealthPort() { Shutdown(); }

void HealthPort::SetServing(bool serving) { service_->SetServing(serving); }

absl::Status HealthPort::Start(const std::string& host, int port) {
  grpc::ServerBuilder builder;
  // Ours, not gRPC's default service (a server needs a service of its own).
  builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(
      nullptr));
  builder.AddListeningPort(absl::StrCat(host, ":", port),
                           grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    port_ = 0;
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, " (--health_port)"));
  }
  return absl::OkStatus();
}

void HealthPort::Shutdown() {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(500));
  server_.reset();
}

absl::StatusOr<bool> CheckHealth(
    const std::string& address,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::Duration timeout) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, credentials));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status s = stub->Check(&context, request, &response);
  if (!s.ok()) {
    const absl::Status status = FromGrpcStatus(s);
    return absl::Status(status.code(), absl::StrCat("health check of ", address,
                                                    ": ", status.message()));
  }
  return response.status() ==
         grpc::health::v1::HealthCheckResponse::SERVING;
}

}  // namespace mr
