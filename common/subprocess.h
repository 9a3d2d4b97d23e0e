// A child process started with posix_spawn (safe from a multi-threaded
// process such as a gRPC server, unlike a bare fork()).
//
// Thread-safety: one thread owns a Subprocess; Kill() may be called from
// another thread while Wait() blocks.
#ifndef MR_COMMON_SUBPROCESS_H_
#define MR_COMMON_SUBPROCESS_H_

#include <sys/types.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mr {

class Subprocess {
 public:
  // How a child ended.
  struct Exit {
    bool signaled = false;
    int code = 0;    // exit code, when !signaled
    int signal = 0;  // terminating signal, when signaled
    std::string Describe() const;  // "exit code 3", "killed by signal 11 (...)"
  };

  Subprocess() = default;
  ~Subprocess();  // kills (SIGKILL) and reaps a child still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Starts argv[0] (a path) with argv. stdout and stderr go to `output_path`
  // (appended; created if missing), or are inherited when it is empty.
  absl::Status Start(const std::vector<std::string>& argv,
                     const std::string& output_path);

  // Waits for the child to end.
  absl::StatusOr<Exit> Wait();

  // Waits up to `timeout_ms`; DeadlineExceeded if still running.
  absl::StatusOr<Exit> WaitFor(int64_t timeout_ms);

  // Sends `sig` to the child (no-op once it has been reaped).
  void Kill(int sig);

  pid_t pid() const { return pid_; }

 private:
  std::atomic<pid_t> pid_{-1};
  std::atomic<bool> reaped_{true};
};

// The absolute path of the running executable (/proc/self/exe).
std::string SelfExecutable();

}  // namespace mr

#endif  // MR_COMMON_SUBPROCESS_H_
