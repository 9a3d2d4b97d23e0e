#include "worker/worker.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/subprocess.h"

namespace mr {

Worker::Worker(WorkerOptions options) : options_(std::move(options)) {}

Worker::~Worker() { Shutdown(); }

absl::Status Worker::Init() {
  if (options_.master_address.empty()) {
    return absl::InvalidArgumentError("the worker needs the master's address");
  }
  if (options_.data_dir.empty()) {
    return absl::InvalidArgumentError("the worker needs a data directory");
  }
  if (options_.slots == 0) {
    options_.slots = std::max(1u, std::thread::hardware_concurrency());
  }
  if (options_.advertise_host.empty()) options_.advertise_host = options_.bind_host;
  if (options_.task_executable.empty()) options_.task_executable = SelfExecutable();
  if (options_.fetch_parallelism == 0) options_.fetch_parallelism = 1;
  // Scratch of attempts from an earlier life of this worker is garbage.
  RETURN_IF_ERROR(RemoveAll(options_.data_dir + "/tasks"));
  RETURN_IF_ERROR(MakeDirs(options_.data_dir + "/tasks"),
                  "creating the data directory");
  ASSIGN_OR_RETURN(store_, ShuffleStore::Open(options_.data_dir + "/shuffle"));
  return absl::OkStatus();
}

absl::Status Worker::Start() {
  shuffle_service_ = std::make_unique<ShuffleService>(
      store_.get(), options_.inject_corrupt_shuffle_batches);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::StrCat(options_.bind_host, ":", options_.port),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(shuffle_service_.get());
  // Reducers ping every 2 s to notice a peer that stopped answering.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options_.bind_host, ":", options_.port));
  }
  address_ = absl::StrCat(options_.advertise_host, ":", port);

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  master_ = mrpb::MasterWorkerService::NewStub(grpc::CreateCustomChannel(
      options_.master_address, grpc::InsecureChannelCredentials(), args));
  runner_ = std::make_unique<TaskRunner>(options_, store_.get(), master_.get(),
                                         [this] { heartbeater_->Wake(); });
  heartbeater_ = std::make_unique<Heartbeater>(options_, address_, master_.get(),
                                               runner_.get(), store_.get());
  heartbeater_->Start();
  MR_LOG(INFO) << "worker serving shuffle data on " << address_ << " with "
               << options_.slots << " slots; master " << options_.master_address;
  return absl::OkStatus();
}

void Worker::Shutdown() {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  heartbeater_->Stop();
  runner_->KillAll();
  runner_->WaitIdle();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

}  // namespace mr
