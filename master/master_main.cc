// mr-master: parses flags and runs a Master until SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "common/daemon.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/path_policy.h"
#include "common/subprocess.h"
#include "common/tls_flags.h"
#include "master/client_auth.h"
#include "master/master.h"
#include "master/plugin_validator.h"

// Defaults come from MasterOptions, where each is documented.
ABSL_FLAG(std::string, bind_host, mr::MasterOptions().bind_host,
          "Address to listen on.");
ABSL_FLAG(int, port, mr::MasterOptions().port,
          "Port to listen on; 0 lets the OS pick.");
ABSL_FLAG(std::string, address_file, "",
          "Once serving, write host:port here (atomically).");
ABSL_FLAG(int, health_port, mr::MasterOptions().health_port,
          "A plaintext port serving only the gRPC health service "
          "(grpc.health.v1), for probes that cannot speak TLS; 0: none.");
ABSL_FLAG(std::string, state_dir, "", "Directory for the master's state.");
ABSL_FLAG(int64_t, heartbeat_interval_ms,
          mr::MasterOptions().heartbeat_interval_ms,
          "How often workers heartbeat when idle.");
ABSL_FLAG(int64_t, heartbeat_timeout_ms,
          mr::MasterOptions().heartbeat_timeout_ms,
          "A worker silent this long is declared dead.");
ABSL_FLAG(int64_t, job_retention_ms, mr::MasterOptions().job_retention_ms,
          "A finished job leaves the scheduler's working set this long after "
          "it ended (still shown by `mrctl list --all` and `mrctl status`).");
ABSL_FLAG(std::string, pipeline_staging_dir, "",
          "Where pipeline runs stage their data between steps: a directory "
          "every worker can read and write (a shared volume when workers run "
          "on other hosts). Default: STATE_DIR/pipeline-staging.");
ABSL_FLAG(std::string, allowed_input_roots, "",
          "Comma-separated directories jobs may read: a submission with an "
          "input elsewhere (after resolving '..' and symbolic links) is "
          "refused with PERMISSION_DENIED. Each must exist. Default: any "
          "path.");
ABSL_FLAG(std::string, allowed_output_roots, "",
          "Comma-separated directories jobs may write: a submission whose "
          "output lies elsewhere, or is a root itself, is refused with "
          "PERMISSION_DENIED. Each must exist. With either roots flag, an "
          "explicit --pipeline_staging_dir must lie inside the roots; the "
          "default one (under --state_dir) then disables pipelines. "
          "Default: any path.");
ABSL_FLAG(std::string, tokens_file, "",
          "Clients' bearer tokens, one a line: TOKEN ROLE NAME (ROLE is submit "
          "or admin; '#' comments). Every client RPC then needs one "
          "(master/client_auth.h). Default: none: every caller is an admin "
          "named 'anonymous' (a local demo only).");
ABSL_FLAG(std::string, plugin_roles, "admin",
          "Comma-separated roles (submit, admin) that may submit jobs running "
          "code of their own on the workers: plugins (native code) and "
          "streaming jobs (shell commands), also as pipeline steps. Empty: "
          "nobody.");
ABSL_FLAG(std::string, inject_crash_in_commit, "",
          "Test-only: before_swap or after_swap: the master SIGKILLs itself "
          "at that point of every job commit.");
ABSL_FLAG(std::string, validate_plugin, "",
          "Internal: check that this plugin loads, then exit.");
ABSL_FLAG(std::string, validate_spec, "",
          "Internal: the JobSpec file for --validate_plugin.");

namespace {

// Sets options->path_policy from the roots flags; false (having said why)
// when they are wrong. A pipeline's jobs write its staging directory and
// the next step's jobs read it, so it must lie inside both kinds of roots:
// given explicitly, it must; the default one (under the state directory)
// is dropped instead, which turns pipelines off with a warning.
bool SetPathPolicy(bool staging_given, mr::MasterOptions* options) {
  absl::StatusOr<mr::PathPolicy> policy =
      mr::PathPolicy::FromFlags(absl::GetFlag(FLAGS_allowed_input_roots),
                                absl::GetFlag(FLAGS_allowed_output_roots));
  if (!policy.ok()) {
    fprintf(stderr, "mr-master: %s\n",
            std::string(policy.status().message()).c_str());
    return false;
  }
  options->path_policy = *policy;
  if (!policy->restricts_inputs() && !policy->restricts_outputs()) {
    MR_LOG(WARNING) << "no --allowed_input_roots or --allowed_output_roots: "
                    << "jobs may read and write any path the master and its "
                    << "workers can";
    return true;
  }
  MR_LOG(INFO) << "jobs' paths: " << policy->Describe();
  const std::string& staging = options->pipeline_staging_dir;
  if (staging.empty()) return true;
  absl::Status s = policy->CheckOutput(staging);
  if (s.ok()) s = policy->CheckInput(staging);
  if (s.ok()) return true;
  if (staging_given) {
    fprintf(stderr, "mr-master: --pipeline_staging_dir: %s\n",
            std::string(s.message()).c_str());
    return false;
  }
  MR_LOG(WARNING) << "pipelines are off: their default staging directory "
                  << staging << " is not inside the allowed roots; give a "
                  << "--pipeline_staging_dir inside them (" << s.message()
                  << ")";
  options->pipeline_staging_dir.clear();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "mr-master --state_dir=DIR [--port=N] [--address_file=FILE]");
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_validate_plugin).empty()) {
    return mr::RunPluginValidation(absl::GetFlag(FLAGS_validate_plugin),
                                   absl::GetFlag(FLAGS_validate_spec));
  }

  const sigset_t stop_signals = mr::BlockStopSignals();

  mr::MasterOptions options;
  options.bind_host = absl::GetFlag(FLAGS_bind_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.health_port = absl::GetFlag(FLAGS_health_port);
  options.tls = mr::TlsFilesFromFlags();
  options.state_dir = absl::GetFlag(FLAGS_state_dir);
  options.heartbeat_interval_ms = absl::GetFlag(FLAGS_heartbeat_interval_ms);
  options.heartbeat_timeout_ms = absl::GetFlag(FLAGS_heartbeat_timeout_ms);
  options.job_retention_ms = absl::GetFlag(FLAGS_job_retention_ms);
  options.pipeline_staging_dir = absl::GetFlag(FLAGS_pipeline_staging_dir);
  if (options.pipeline_staging_dir.empty() && !options.state_dir.empty()) {
    options.pipeline_staging_dir = options.state_dir + "/pipeline-staging";
  }
  options.inject_crash_in_commit = absl::GetFlag(FLAGS_inject_crash_in_commit);
  if (!options.inject_crash_in_commit.empty() &&
      options.inject_crash_in_commit != "before_swap" &&
      options.inject_crash_in_commit != "after_swap") {
    fprintf(stderr,
            "mr-master: --inject_crash_in_commit is before_swap or after_swap\n");
    return 2;
  }
  if (options.state_dir.empty()) {
    fprintf(stderr, "mr-master: --state_dir is required\n");
    return 2;
  }
  if (options.heartbeat_interval_ms <= 0 ||
      options.heartbeat_timeout_ms <= options.heartbeat_interval_ms) {
    fprintf(stderr,
            "mr-master: need 0 < --heartbeat_interval_ms < "
            "--heartbeat_timeout_ms\n");
    return 2;
  }
  if (options.job_retention_ms < 0) {
    fprintf(stderr, "mr-master: --job_retention_ms must be >= 0\n");
    return 2;
  }
  if (!SetPathPolicy(!absl::GetFlag(FLAGS_pipeline_staging_dir).empty(),
                     &options)) {
    return 2;
  }
  absl::StatusOr<std::vector<mr::ClientRole>> plugin_roles =
      mr::ParseClientRoles(absl::GetFlag(FLAGS_plugin_roles));
  if (!plugin_roles.ok()) {
    fprintf(stderr, "mr-master: --plugin_roles: %s\n",
            std::string(plugin_roles.status().message()).c_str());
    return 2;
  }
  options.plugin_roles = std::move(*plugin_roles);
  const std::string tokens_file = absl::GetFlag(FLAGS_tokens_file);
  if (tokens_file.empty()) {
    MR_LOG(WARNING)
        << "*** no --tokens_file: clients are NOT authenticated. Any process "
        << "that reaches the master's port is an admin named 'anonymous' and "
        << "may run any code on every worker. Fine for a local demo; give "
        << "--tokens_file anywhere else. ***";
  } else {
    const bool loopback = absl::StartsWith(options.bind_host, "127.") ||
                          options.bind_host == "::1" ||
                          options.bind_host == "localhost";
    if (options.tls.ca_file.empty() && !loopback) {
      // Tokens would cross the network in the clear, and without the
      // cluster's certificates anyone could call the worker RPCs (register,
      // take tasks and their shuffle secrets) around them.
      fprintf(stderr,
              "mr-master: --tokens_file needs TLS (--tls_ca, --tls_cert, "
              "--tls_key) when the master listens beyond loopback "
              "(--bind_host=%s)\n",
              options.bind_host.c_str());
      return 2;
    }
    absl::StatusOr<mr::ClientAuthenticator> auth =
        mr::ClientAuthenticator::LoadFile(tokens_file);
    if (!auth.ok()) {
      fprintf(stderr, "mr-master: --tokens_file: %s\n",
              std::string(auth.status().message()).c_str());
      return 2;
    }
    MR_LOG(INFO) << "clients authenticate with bearer tokens: "
                 << auth->size() << " in " << tokens_file;
    options.client_auth =
        std::make_shared<const mr::ClientAuthenticator>(std::move(*auth));
  }
  const std::string self = mr::SelfExecutable();
  const std::string scratch = options.state_dir + "/tmp";
  options.plugin_validator = [self, scratch](const std::string& plugin,
                                             const mrpb::JobSpec& spec) {
    return mr::ValidatePluginInChild(self, scratch, plugin, spec);
  };

  mr::Master master(options);
  absl::Status s = master.Init();
  if (s.ok()) s = mr::MakeDirs(scratch);
  if (s.ok()) s = master.Start();
  if (s.ok()) {
    s = mr::WriteAddressFile(absl::GetFlag(FLAGS_address_file), master.address());
  }
  if (!s.ok()) {
    MR_LOG(ERROR) << "mr-master failed to start: " << s;
    return 1;
  }

  const int sig = mr::WaitForStopSignal(stop_signals);
  MR_LOG(INFO) << "signal " << sig << ": shutting down";
  master.Shutdown();
  return 0;
}
