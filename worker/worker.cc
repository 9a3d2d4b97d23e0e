#include "worker/worker.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/sanitizers.h"
#include "common/status_macros.h"
#include "common/subprocess.h"

namespace mr {
namespace {

// The memory this worker may use: the machine's, or its cgroup's limit
// (cgroup v2 memory.max) when lower, as in a container.
uint64_t AvailableMemoryBytes() {
  uint64_t bytes = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                   static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  // "0::/some/path" for the unified hierarchy.
  const std::string cgroup = ReadFileToString("/proc/self/cgroup").value_or("");
  const size_t at = cgroup.find("0::/");
  if (at != std::string::npos) {
    std::string path = cgroup.substr(at + 3);
    path = path.substr(0, path.find('\n'));
    const std::string max =
        ReadFileToString("/sys/fs/cgroup" + path + "/memory.max").value_or("");
    uint64_t limit = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(max), &limit) && limit > 0) {
      bytes = std::min(bytes, limit);
    }
  }
  return bytes;
}

}  // namespace

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
  if (kSanitizedBuild && options_.task_memory_mb >= 0) {
    // ASan and TSan reserve terabytes of address space for their shadow
    // memory, which RLIMIT_DATA counts: under any limit a sanitized task
    // child could not allocate at all.
    MR_LOG(WARNING) << "sanitized build: task memory is not limited";
    options_.task_memory_mb = -1;
  }
  if (options_.task_memory_mb == 0) {
    options_.task_memory_mb = std::max<int64_t>(
        1, static_cast<int64_t>(AvailableMemoryBytes() >> 20) / options_.slots);
  }
  if (getpid() == 1 && reaper_ == nullptr) {
    // A container's init inherits every orphan in it (a task's descendants
    // among them): reap them, or they pile up as zombies.
    reaper_ = std::make_unique<OrphanReaper>();
    MR_LOG(INFO) << "running as PID 1: reaping orphaned processes";
  }
  // Scratch of attempts from an earlier life of this worker is garbage.
  RETURN_IF_ERROR(RemoveAll(options_.data_dir + "/tasks"));
  RETURN_IF_ERROR(MakeDirs(options_.data_dir + "/tasks"),
                  "creating the data directory");
  ShuffleStoreOptions store_options;
  store_options.max_open_files = options_.shuffle_max_open_files;
  ASSIGN_OR_RETURN(store_, ShuffleStore::Open(options_.data_dir + "/shuffle",
                                              store_options));
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
               << options_.slots << " slots; master " << options_.master_address
               << "; task memory limit "
               << (options_.task_memory_mb > 0
                       ? absl::StrCat(options_.task_memory_mb, " MiB")
                       : std::string("none"));
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
