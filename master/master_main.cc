// mr-master: parses flags and runs a Master until SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/daemon.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/subprocess.h"
#include "master/master.h"
#include "master/plugin_validator.h"

// Defaults come from MasterOptions, where each is documented.
ABSL_FLAG(std::string, bind_host, mr::MasterOptions().bind_host,
          "Address to listen on.");
ABSL_FLAG(int, port, mr::MasterOptions().port,
          "Port to listen on; 0 lets the OS pick.");
ABSL_FLAG(std::string, address_file, "",
          "Once serving, write host:port here (atomically).");
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
ABSL_FLAG(std::string, inject_crash_in_commit, "",
          "Test-only: before_swap or after_swap: the master SIGKILLs itself "
          "at that point of every job commit.");
ABSL_FLAG(std::string, validate_plugin, "",
          "Internal: check that this plugin loads, then exit.");
ABSL_FLAG(std::string, validate_spec, "",
          "Internal: the JobSpec file for --validate_plugin.");

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
