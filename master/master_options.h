// Settings of a master. Flags exist only in master_main.cc.
#ifndef MR_MASTER_MASTER_OPTIONS_H_
#define MR_MASTER_MASTER_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
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

  // Default: Clock::Real().
  Clock* clock = nullptr;

  // Default: none; plugins are then refused.
  PluginValidator plugin_validator;

  // Test-only: "before_swap" or "after_swap" makes the master SIGKILL itself
  // at that point of every job commit (common/staged_directory.h), to test
  // that a restarted master finishes the commit. Default: "" (never).
  std::string inject_crash_in_commit;
};

}  // namespace mr

#endif  // MR_MASTER_MASTER_OPTIONS_H_
