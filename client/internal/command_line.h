// The parsed `mrctl` command line, and its parser.
//
//   mrctl [--master HOST:PORT] [--tls_ca FILE] [--token_file FILE]
//         <command> [flags]
//
// The parser is hand-rolled because `--input` takes every following argument
// up to the next one starting with "--" (so a shell-expanded glob lands
// whole), which no flag library does. It is pure: the environment's master
// and the cwd come in as arguments.
#ifndef MR_CLIENT_INTERNAL_COMMAND_LINE_H_
#define MR_CLIENT_INTERNAL_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/client.pb.h"

namespace mr {
namespace client_internal {

enum class Command {
  kHelp, kSubmit, kStatus, kList, kKill, kWorkers, kPipelineCheck,
  kPipelineRun, kPipelineStatus, kPipelineList
};

struct CommandLine {
  Command command = Command::kHelp;
  // "HOST:PORT"; empty only for kHelp.
  std::string master;
  // --tls_ca FILE: the CA that signed the master's certificate (the channel
  // then uses TLS); --token_file FILE: the file holding the bearer token.
  // Absolute; empty when not given (mrctl_main.cc then reads $MR_TLS_CA,
  // $MR_TOKEN_FILE and $MR_TOKEN: client/internal/credentials.h).
  std::string tls_ca;
  std::string token_file;

  // submit: name, app, inputs (absolute), output_dir (absolute),
  // num_reduces, split_size, params, overwrite, max_task_attempts,
  // max_skipped_records, disable_speculation, sort_buffer_bytes,
  // merge_factor, max_record_bytes (0 where not given: the master's
  // defaults, common/job_limits.h).
  // plugin_name stays empty (MasterClient::Submit sets it from plugin_path).
  mrpb::JobSpec spec;
  std::string plugin_path;  // absolute; empty with --app
  std::vector<std::string> side_files;  // --file, absolute
  bool wait = false;
  // Empty: MasterClient::Submit makes a random one.
  std::string request_id;

  // submit, status, list, workers.
  bool json = false;

  // list: also jobs retired from the scheduler's working set.
  bool all = false;

  // status, kill.
  std::string job_id;

  // pipeline check, pipeline run: the pipeline file, absolute.
  std::string pipeline_file;
  // pipeline run: the logical date (--date YYYY-MM-DD; the master checks
  // it is a calendar date). `wait` and `json` apply too.
  std::string date;
  // pipeline status.
  std::string run_id;
};

// Parses `args` (argv without argv[0]). `env_master` is $MR_MASTER (null or
// empty when unset), used when no --master is given. Relative inputs,
// output dir and plugin path are made absolute against `cwd`.
//
// Global flags, anywhere on the line: --master HOST:PORT, --tls_ca FILE and
// --token_file FILE (also --tls-ca, --token-file), each also as
// --flag=VALUE. `help`, --help or -h anywhere gives kHelp.
// Value flags also take the --flag=value form. `pipeline check FILE` needs
// no master.
//
// Errors are InvalidArgument whose message is the one-line reason, without
// the "mrctl: " prefix, e.g. "--reduces must be a positive integer, got
// 'abc'", "unknown flag --x for submit", "--param needs KEY=VALUE, got 'k'".
// REQUIRES: args is not empty (no arguments is the caller's usage case).
absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args, const char* env_master,
    const std::string& cwd);

// The usage text `mrctl help` prints, ending in a newline.
const char* UsageText();

}  // namespace client_internal
}  // namespace mr

#endif  // MR_CLIENT_INTERNAL_COMMAND_LINE_H_
