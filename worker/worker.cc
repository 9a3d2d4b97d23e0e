#include "worker/worker.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/sanitizers.h"
#include "common/status_macros.h"
#include "common/subprocess.h"
#include "common/tls.h"

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

// An address that means "every interface": peers cannot dial it.
bool IsWildcardHost(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]" ||
         host == "*";
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
  if (options_.advertise_host.empty()) {
    if (IsWildcardHost(options_.bind_host)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--bind_host=", options_.bind_host,
          " listens on every interface, which is no address peers can "
          "reach: give --advertise_host (this worker's DNS name or IP, e.g. "
          "its StatefulSet pod name)"));
    }
    options_.advertise_host = options_.bind_host;
  }
  if (IsWildcardHost(options_.advertise_host)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--advertise_host=", options_.advertise_host,
                     " is a wildcard address; peers cannot reach it"));
  }
  if (options_.drain_timeout_ms < 0) {
    return absl::InvalidArgumentError("--drain_timeout_ms must be >= 0");
  }
  {
    // Every channel of this process (to the master; a task child's to its
    // peers) presents the worker's certificate.
    absl::StatusOr<TlsConfig> tls =
        TlsConfig::Load(options_.tls, /*need_identity=*/true);
    if (!tls.ok()) return tls.status();
    SetClusterTls(*std::move(tls));
  }
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
  EnableHealthService();
  grpc::ServerBuilder builder;
  int port = 0;
  // With TLS, only daemons holding the cluster's certificate fetch shuffle
  // data (reduce attempts present the worker's).
  builder.AddListeningPort(
      absl::StrCat(options_.bind_host, ":", options_.port),
      ClusterTls().ServerCredentials(ClientCertPolicy::kRequire), &port);
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
  if (options_.health_port != 0) {
    RETURN_IF_ERROR(
        health_port_.Start(options_.bind_host, options_.health_port));
  }

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  master_ = mrpb::MasterWorkerService::NewStub(
      NewClusterChannel(options_.master_address, args));
  runner_ = std::make_unique<TaskRunner>(options_, store_.get(), master_.get(),
                                         [this] { heartbeater_->Wake(); });
  heartbeater_ = std::make_unique<Heartbeater>(options_, address_, master_.get(),
                                               runner_.get(), store_.get());
  heartbeater_->Start();
  MR_LOG(INFO) << "worker serving shuffle data on " << address_ << " ("
               << ClusterTls().Describe() << ") with " << options_.slots
               << " slots; master " << options_.master_address
               << "; task memory limit "
               << (options_.task_memory_mb > 0
                       ? absl::StrCat(options_.task_memory_mb, " MiB")
                       : std::string("none"));
  WarnIfPlaintext(ClusterTls(), "the worker");
  return absl::OkStatus();
}

void Worker::Drain() {
  if (shut_down_ || server_ == nullptr) return;
  const absl::Duration timeout = absl::Milliseconds(options_.drain_timeout_ms);
  const absl::Time deadline = absl::Now() + timeout;
  SetServing(server_.get(), false);
  health_port_.SetServing(false);
  heartbeater_->SetDraining();
  MR_LOG(INFO) << "draining: taking no new attempts; finishing "
               << runner_->RunningAttempts().size()
               << " and serving held map output for up to "
               << absl::FormatDuration(timeout);
  // Held map output matters only while the master can say when its job is
  // done (it then drops it); with the master gone, waiting is pointless.
  auto done = [this] {
    return runner_->RunningAttempts().empty() &&
           (store_->HeldOutputs().empty() || !heartbeater_->connected());
  };
  while (!done() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const size_t running = runner_->RunningAttempts().size();
  const size_t held = store_->HeldOutputs().size();
  // Reports of attempts that ended go with the last heartbeat; those of the
  // attempts killed now do not (they did not fail: the master re-runs them,
  // uncounted, when the worker leaves).
  heartbeater_->Stop();
  std::vector<mrpb::TaskReport> reports = runner_->TakeReports();
  runner_->KillAll();
  runner_->WaitIdle();
  for (mrpb::TaskReport& r : runner_->TakeReports()) {
    // One that ended before the kill reached it (a reduce that committed,
    // say) counts; the killed ones do not.
    if (r.state() == mrpb::ATTEMPT_SUCCEEDED) reports.push_back(std::move(r));
  }
  if (running > 0 || held > 0) {
    MR_LOG(WARNING) << "drain timeout: handing back " << running
                    << " running attempts and " << held
                    << " held map outputs to the master";
  } else {
    MR_LOG(INFO) << "drained: no attempt runs, no map output is needed";
  }
  heartbeater_->Leave(std::move(reports));
}

void Worker::Shutdown() {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  SetServing(server_.get(), false);
  heartbeater_->Stop();
  runner_->KillAll();
  runner_->WaitIdle();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  health_port_.Shutdown();
}

}  // namespace mr
