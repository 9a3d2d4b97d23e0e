// mr-worker: parses flags and runs a Worker until SIGTERM or SIGINT. Started
// with --run_task=SPEC, it is instead the child process of one task attempt.
#include <signal.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/daemon.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/path_policy.h"
#include "common/tls_flags.h"
#include "worker/internal/task_child.h"
#include "worker/worker.h"

ABSL_FLAG(std::string, master, "", "host:port of the master.");
// Defaults come from WorkerOptions, where each is documented.
ABSL_FLAG(std::string, bind_host, mr::WorkerOptions().bind_host,
          "Address the shuffle service listens on.");
ABSL_FLAG(int, port, mr::WorkerOptions().port,
          "Shuffle service port; 0 lets the OS pick.");
ABSL_FLAG(std::string, advertise_host, "",
          "Host peers use to reach this worker (default: --bind_host; "
          "required when --bind_host is a wildcard such as 0.0.0.0).");
ABSL_FLAG(int, health_port, mr::WorkerOptions().health_port,
          "A plaintext port serving only the gRPC health service "
          "(grpc.health.v1), for probes that cannot speak TLS; 0: none.");
ABSL_FLAG(int64_t, drain_timeout_ms, mr::WorkerOptions().drain_timeout_ms,
          "On SIGTERM, how long the worker may finish its attempts and serve "
          "map output still needed before it hands back the rest and exits "
          "(keep it below the orchestrator's grace period). SIGINT stops at "
          "once.");
ABSL_FLAG(std::string, data_dir, "",
          "The worker's directory: shuffle store, plugins, task scratch.");
ABSL_FLAG(std::string, address_file, "",
          "Once serving, write host:port here (atomically).");
ABSL_FLAG(uint32_t, slots, mr::WorkerOptions().slots,
          "Concurrent task attempts (0: number of cores).");
ABSL_FLAG(uint32_t, fetch_parallelism, mr::WorkerOptions().fetch_parallelism,
          "Concurrent shuffle fetches per reduce attempt.");
ABSL_FLAG(int64_t, task_memory_mb, mr::WorkerOptions().task_memory_mb,
          "Memory limit of each task process in MiB (RLIMIT_DATA: heap, "
          "stacks, private writable mappings). 0: the machine's (or the "
          "cgroup's) memory divided by --slots; negative: no limit.");
ABSL_FLAG(int, shuffle_max_open_files,
          mr::WorkerOptions().shuffle_max_open_files,
          "Files the shuffle store's RocksDB keeps open at most.");
ABSL_FLAG(int, inject_corrupt_shuffle_batches, 0,
          "Test only: flip a byte in the first N shuffle batches sent.");
ABSL_FLAG(int, inject_corrupt_stored_outputs, 0,
          "Test only: corrupt a stored block of the first N map outputs.");
ABSL_FLAG(std::string, allowed_input_roots, "",
          "Comma-separated directories tasks may read (checked again here, "
          "whatever the master allowed; '..' and symbolic links resolved). "
          "Each must exist. Default: any path.");
ABSL_FLAG(std::string, allowed_output_roots, "",
          "Comma-separated directories tasks may write (their job's output "
          "and its staging directory beside it). A task whose paths lie "
          "elsewhere fails its job. Each must exist. Default: any path.");
ABSL_FLAG(std::string, run_task, "",
          "Internal: run the task attempt described by this TaskSpec file.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "mr-worker --master=HOST:PORT --data_dir=DIR [--port=N] [--slots=N]");
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_run_task).empty()) {
    return mr::RunTaskChild(absl::GetFlag(FLAGS_run_task));
  }

  const sigset_t stop_signals = mr::BlockStopSignals();

  mr::WorkerOptions options;
  options.master_address = absl::GetFlag(FLAGS_master);
  options.bind_host = absl::GetFlag(FLAGS_bind_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.advertise_host = absl::GetFlag(FLAGS_advertise_host);
  options.health_port = absl::GetFlag(FLAGS_health_port);
  options.drain_timeout_ms = absl::GetFlag(FLAGS_drain_timeout_ms);
  options.tls = mr::TlsFilesFromFlags();
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.slots = absl::GetFlag(FLAGS_slots);
  options.fetch_parallelism = absl::GetFlag(FLAGS_fetch_parallelism);
  options.task_memory_mb = absl::GetFlag(FLAGS_task_memory_mb);
  options.shuffle_max_open_files = absl::GetFlag(FLAGS_shuffle_max_open_files);
  options.inject_corrupt_shuffle_batches =
      absl::GetFlag(FLAGS_inject_corrupt_shuffle_batches);
  options.inject_corrupt_stored_outputs =
      absl::GetFlag(FLAGS_inject_corrupt_stored_outputs);
  if (options.master_address.empty() || options.data_dir.empty()) {
    fprintf(stderr, "mr-worker: --master and --data_dir are required\n");
    return 2;
  }
  absl::StatusOr<mr::PathPolicy> policy =
      mr::PathPolicy::FromFlags(absl::GetFlag(FLAGS_allowed_input_roots),
                                absl::GetFlag(FLAGS_allowed_output_roots));
  if (!policy.ok()) {
    fprintf(stderr, "mr-worker: %s\n",
            std::string(policy.status().message()).c_str());
    return 2;
  }
  options.path_policy = *std::move(policy);
  MR_LOG(INFO) << "tasks' paths: " << options.path_policy.Describe();

  mr::Worker worker(options);
  absl::Status s = worker.Init();
  if (s.ok()) s = worker.Start();
  if (s.ok()) {
    s = mr::WriteAddressFile(absl::GetFlag(FLAGS_address_file), worker.address());
  }
  if (!s.ok()) {
    MR_LOG(ERROR) << "mr-worker failed to start: " << s;
    return 1;
  }
  const int sig = mr::WaitForStopSignal(stop_signals);
  if (sig == SIGTERM) {
    MR_LOG(INFO) << "SIGTERM: draining, then shutting down";
    worker.Drain();
  } else {
    MR_LOG(INFO) << "signal " << sig << ": shutting down";
  }
  worker.Shutdown();
  return 0;
}
