#include "master/master.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace mr {

Master::Master(MasterOptions options)
    : options_(std::move(options)),
      plugins_(options_.state_dir + "/plugins") {}

Master::~Master() { Shutdown(); }

absl::Status Master::Init() {
  if (options_.state_dir.empty()) {
    return absl::InvalidArgumentError("the master needs a state directory");
  }
  RETURN_IF_ERROR(MakeDirs(options_.state_dir), "creating the state directory");
  RETURN_IF_ERROR(plugins_.Init(), "creating the plugin store");
  ASSIGN_OR_RETURN(tls_, TlsConfig::Load(options_.tls, /*need_identity=*/true));
  ASSIGN_OR_RETURN(store_, MasterStore::Open(options_.state_dir + "/db"));
  tracker_ = std::make_unique<JobTracker>(options_, &plugins_, store_.get());
  RETURN_IF_ERROR(tracker_->Restore(), "restoring the master's state");
  PipelineRunnerOptions pipeline_options;
  pipeline_options.staging_dir = options_.pipeline_staging_dir;
  pipeline_options.path_policy = options_.path_policy;
  pipeline_options.clock = options_.clock;
  pipelines_ = std::make_unique<PipelineRunner>(pipeline_options, tracker_.get(),
                                                store_.get());
  RETURN_IF_ERROR(pipelines_->Restore(), "restoring the pipeline runs");
  worker_service_ =
      std::make_unique<MasterWorkerService>(tracker_.get(), &plugins_, &tls_);
  client_service_ =
      std::make_unique<MasterClientService>(tracker_.get(), pipelines_.get());
  return absl::OkStatus();
}

absl::Status Master::Start() {
  EnableHealthService();
  grpc::ServerBuilder builder;
  int port = 0;
  // Clients present no certificate (they hold a token); workers present the
  // cluster's, which MasterWorkerService requires.
  builder.AddListeningPort(
      absl::StrCat(options_.bind_host, ":", options_.port),
      tls_.ServerCredentials(ClientCertPolicy::kVerifyIfPresented), &port);
  builder.SetMaxReceiveMessageSize(256 << 20);
  builder.SetMaxSendMessageSize(256 << 20);
  builder.RegisterService(worker_service_.get());
  builder.RegisterService(client_service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options_.bind_host, ":", options_.port));
  }
  address_ = absl::StrCat(options_.bind_host, ":", port);
  if (options_.health_port != 0) {
    RETURN_IF_ERROR(
        health_port_.Start(options_.bind_host, options_.health_port));
  }
  liveness_thread_ = std::thread([this] { LivenessLoop(); });
  output_thread_ = std::thread([this] {
    while (!stop_.HasBeenNotified()) {
      tracker_->RunOutputWork(absl::Milliseconds(200));
    }
  });
  pipelines_->Start();
  MR_LOG(INFO) << "master serving on " << address_ << " (" << tls_.Describe()
               << ")"
               << (options_.health_port != 0
                       ? absl::StrCat("; health on port ", health_port_.port())
                       : std::string());
  WarnIfPlaintext(tls_, "the master");
  return absl::OkStatus();
}

void Master::LivenessLoop() {
  const absl::Duration period =
      absl::Milliseconds(tracker_->LivenessPeriodMs());
  while (!stop_.WaitForNotificationWithTimeout(period)) {
    tracker_->CheckWorkerLiveness();
  }
}

void Master::Shutdown() {
  if (server_ == nullptr || stop_.HasBeenNotified()) return;
  stop_.Notify();
  // The runner first: it is a client of the tracker.
  pipelines_->Stop();
  SetServing(server_.get(), false);
  health_port_.SetServing(false);
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (liveness_thread_.joinable()) liveness_thread_.join();
  if (output_thread_.joinable()) output_thread_.join();
  health_port_.Shutdown();
}

void Master::Wait() { stop_.WaitForNotification(); }

}  // namespace mr
