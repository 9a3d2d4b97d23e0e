// Mrctl runs one parsed `mrctl` command against a master and writes what the
// user sees; mrctl_main.cc only parses the command line and wires the
// streams. Output formats are in job_report.h and progress_printer.h.
//
// Exit codes (returned by Run):
//   0  success
//   1  submit --wait: the job failed or was killed
//   2  usage error, or the master refused (submission refused, no such job,
//      nothing to kill); one line "mrctl: <reason>" on stderr
//   3  the master is unreachable ("mrctl: cannot reach master at HOST:PORT:
//      <detail>"), or answered the RPC with a transport error
//   4  the master refused the caller: UNAUTHENTICATED ("mrctl: master
//      HOST:PORT did not accept the token: missing bearer token (...)") or
//      PERMISSION_DENIED ("mrctl: master HOST:PORT denied this: role
//      'submit' (bob) may not ...")
//
// Thread-compatible: one Run at a time.
#ifndef MR_CLIENT_INTERNAL_MRCTL_H_
#define MR_CLIENT_INTERNAL_MRCTL_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/internal/command_line.h"
#include "client/master_client.h"
#include "common/clock.h"

namespace mr {
namespace client_internal {

constexpr int kExitOk = 0;
constexpr int kExitJobFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;
constexpr int kExitDenied = 4;

struct MrctlOptions {
  // How often submit --wait polls the job.
  // Default: 100 ms.
  absl::Duration poll_interval = absl::Milliseconds(100);
  // Whether stderr is a terminal (a live progress bar) or not (plain lines).
  // Default: false.
  bool err_is_tty = false;
  // For elapsed times of running jobs. Default: the real clock.
  Clock* clock = nullptr;
  // Whether the client uses TLS and sends a token: an unreachable master or
  // a refused call then gets a hint about --tls_ca / --token_file.
  // Default: false.
  bool tls = false;
  bool has_token = false;
};

class Mrctl {
 public:
  // `client`, `out` (stdout) and `err` (stderr) must outlive this; `client`
  // may be null for a command that needs no master (pipeline check).
  Mrctl(MasterClient* client, std::ostream* out, std::ostream* err,
        MrctlOptions options = {});

  // Runs `cl` (not kHelp) and returns the process exit code.
  int Run(const CommandLine& cl);

 private:
  int Submit(const CommandLine& cl);
  int Status(const CommandLine& cl);
  int List(const CommandLine& cl);
  int Kill(const CommandLine& cl);
  int Workers(const CommandLine& cl);
  int PipelineCheck(const CommandLine& cl);
  int PipelineRun(const CommandLine& cl);
  int PipelineStatus(const CommandLine& cl);
  int PipelineList(const CommandLine& cl);

  // Prints a failed call's status to stderr; returns the exit code.
  int Fail(const absl::Status& status);
  // Prints "mrctl: <reason>" to stderr; returns kExitUsage.
  int Refuse(const std::string& reason);

  MasterClient* const client_;
  std::ostream* const out_;
  std::ostream* const err_;
  const MrctlOptions options_;
  Clock* const clock_;
};

}  // namespace client_internal
}  // namespace mr

#endif  // MR_CLIENT_INTERNAL_MRCTL_H_
