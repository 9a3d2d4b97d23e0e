// Settings of a master. Flags exist only in master_main.cc.
#ifndef MR_MASTER_MASTER_OPTIONS_H_
#define MR_MASTER_MASTER_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/path_policy.h"
#include "common/tls.h"
#include "master/client_auth.h"
#include "proto/job.pb.h"

namespace mr {

// Checks, outside the master's address space, that a plugin loads and
// accepts the job's parameters, and returns the job's traits
// (Job::Traits()). FailedPrecondition when it does not load (or has no job
// factory), InvalidArgument when Setup() refuses the parameters; the
// message says why.
using PluginValidator = std::function<absl::StatusOr<mrpb::JobTraits>(
    const std::string& plugin_path, const mrpb::JobSpec& spec)>;

struct MasterOptions {
  // Address the RPC server binds. Default: 127.0.0.1, port 0 (the OS picks;
  // Master::address() tells which).
  std::string bind_host = "127.0.0.1";
  int port = 0;

  // A second, plaintext port that serves only the gRPC health service, for
  // probes that cannot speak TLS (common/health.h). Default: 0 (none).
  int health_port = 0;

  // The cluster's certificates (common/tls.h): with them, clients reach the
  // master over TLS and only holders of a certificate the cluster's CA
  // signed may use the worker RPCs. Default: none (plaintext).
  TlsFiles tls;

  // Where the master keeps its state (plugins). Required.
  std::string state_dir;

  // How often workers heartbeat, and how long a silent worker lives.
  // Default: 1000 ms and 5000 ms.
  int64_t heartbeat_interval_ms = 1000;
  int64_t heartbeat_timeout_ms = 5000;

  // A finished job leaves the scheduler's working set this long after it
  // ended: heartbeats no longer look at it, and `mrctl list` shows it only
  // with --all (`mrctl status` still finds it). It stays in the state store.
  // Default: 10 minutes.
  int64_t job_retention_ms = 10 * 60 * 1000;

  // Where pipeline runs stage their data (master/pipeline/pipeline_runner.h):
  // a directory every worker can read and write. Default: "" (pipelines
  // are refused).
  std::string pipeline_staging_dir;

  // The directories jobs may read and write (common/path_policy.h), from
  // --allowed_input_roots and --allowed_output_roots: a submission whose
  // inputs or output lie elsewhere is refused (PERMISSION_DENIED), and so
  // is a pipeline's file load outside the output roots. Default: no
  // restriction.
  PathPolicy path_policy;

  // Default: Clock::Real().
  Clock* clock = nullptr;

  // Default: none; plugins are then refused.
  PluginValidator plugin_validator;

  // Who the clients are: the tokens of --tokens_file (master/client_auth.h),
  // loaded by master_main.cc. Default: null: every caller is an admin named
  // "anonymous" (the local demo).
  std::shared_ptr<const ClientAuthenticator> client_auth;

  // The roles that may submit jobs that run code of their own on the
  // workers: a plugin (native code) or a streaming job (shell commands),
  // also within a pipeline. Default: admin.
  std::vector<ClientRole> plugin_roles = {ClientRole::kAdmin};

  // Test-only: "before_swap" or "after_swap" makes the master SIGKILL itself
  // at that point of every job commit (common/staged_directory.h), to test
  // that a restarted master finishes the commit. Default: "" (never).
  std::string inject_crash_in_commit;
};

}  // namespace mr

#endif  // MR_MASTER_MASTER_OPTIONS_H_
