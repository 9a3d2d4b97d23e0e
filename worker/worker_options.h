// Settings of a worker. Flags exist only in worker_main.cc.
#ifndef MR_WORKER_WORKER_OPTIONS_H_
#define MR_WORKER_WORKER_OPTIONS_H_

#include <cstdint>
#include <string>

#include "common/path_policy.h"
#include "common/tls.h"

namespace mr {

struct WorkerOptions {
  // host:port of the master. Required.
  std::string master_address;

  // Where the shuffle service listens, and the host peers reach it at.
  // Default: 127.0.0.1, port 0 (the OS picks), advertised as bind_host.
  // A wildcard bind_host (0.0.0.0, ::) needs an advertise_host: a worker
  // refuses to advertise an address its peers cannot dial.
  std::string bind_host = "127.0.0.1";
  int port = 0;
  std::string advertise_host;

  // A second, plaintext port that serves only the gRPC health service
  // (grpc.health.v1), for probes that cannot speak TLS (Kubernetes'). The
  // health service is on the main port as well. Default: 0 (none).
  int health_port = 0;

  // The cluster's certificates (common/tls.h). Default: none (plaintext).
  TlsFiles tls;

  // On SIGTERM (Drain()): how long the worker may finish its attempts and
  // serve the map output that running jobs still need before it hands back
  // what is left and exits. Keep it below the orchestrator's grace period
  // (Kubernetes: terminationGracePeriodSeconds). Default: 20 s.
  int64_t drain_timeout_ms = 20000;

  // The worker's own directory: its shuffle store, plugins and task scratch.
  // Required.
  std::string data_dir;

  // The directories tasks may read and write (common/path_policy.h), from
  // --allowed_input_roots and --allowed_output_roots. Checked again here,
  // whatever the master allowed: before an attempt starts (its split's
  // files; a reduce's or map-only map's output, staging and attempt
  // directories) and before its commit renames. A refusal fails the
  // attempt as permanent (TaskReport.permanent): the job fails. Default:
  // no restriction.
  PathPolicy path_policy;

  // Task attempts run at once. Default: 0 = the number of cores.
  uint32_t slots = 0;

  // Concurrent fetches of one reduce attempt. Default: 4.
  uint32_t fetch_parallelism = 4;

  // The memory limit of each task child, in MiB: RLIMIT_DATA, which counts
  // its heap, thread stacks and other private writable mappings (not shared
  // libraries, nor address space only reserved; a word count reduce child
  // with its threads uses ~70 MiB of it). A task that exceeds it fails
  // with "task exceeded its memory limit of N MiB". Negative: no limit.
  // Default: 0 = the memory of the machine (or of the worker's cgroup, when
  // it has a lower limit) divided by `slots`: the task children together
  // then cannot take more than there is, and one task alone gets its fair
  // share without any tuning.
  int64_t task_memory_mb = 0;

  // RocksDB's max_open_files for the shuffle store: SST files it keeps open
  // (each map attempt adds one per spilled run; the rest are opened on
  // demand). Keeps the worker well under a typical 1024-descriptor limit,
  // next to its gRPC connections. Default: 256.
  int shuffle_max_open_files = 256;

  // Test-only fault injection. Flip a byte in the first N shuffle batches
  // this worker sends (corruption in transit), or in one stored block of
  // each of the first N map outputs it ingests (a corrupt run on disk).
  // Default: 0.
  int inject_corrupt_shuffle_batches = 0;
  int inject_corrupt_stored_outputs = 0;

  // The binary a task child runs (started with --run_task=SPEC).
  // Default: this process's own executable.
  std::string task_executable;
};

}  // namespace mr

#endif  // MR_WORKER_WORKER_OPTIONS_H_
