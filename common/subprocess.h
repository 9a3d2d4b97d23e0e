// A child process started with posix_spawn (safe from a multi-threaded
// process such as a gRPC server, unlike a bare fork()).
//
// The child leads a process group of its own (its pgid is its pid), so that
// what it starts in turn can be stopped with it: Kill() signals the whole
// group, and once the child has ended, whatever is left of its group is
// SIGKILLed before the child is reaped (the unreaped child keeps its pid, so
// the group id can never name someone else's group at that point). A
// descendant that leaves the group (setsid, setpgid) escapes this.
//
// Orphans: a process that runs as PID 1 of a pid namespace (or as a child
// subreaper) inherits the orphaned descendants of its children and must
// reap them. ReapOrphans() does that without ever taking the exit status of
// a child a Subprocess started; in such a process, start children only with
// Subprocess.
//
// Thread-safety: one thread owns a Subprocess (Start, Wait, WaitFor);
// Kill() may be called from another thread while Wait() blocks.
#ifndef MR_COMMON_SUBPROCESS_H_
#define MR_COMMON_SUBPROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace mr {

class Subprocess {
 public:
  // How a child ended.
  struct Exit {
    bool signaled = false;
    int code = 0;    // exit code, when !signaled
    int signal = 0;  // terminating signal, when signaled
    // The child's peak resident set size (rusage ru_maxrss), or that of its
    // largest descendant it waited for, whichever is larger.
    int64_t max_rss_bytes = 0;
    std::string Describe() const;  // "exit code 3", "killed by signal 11 (...)"
  };

  Subprocess() = default;
  ~Subprocess();  // kills (SIGKILL) and reaps a child still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Starts argv[0] (a path) with argv, in a new process group. stdout and
  // stderr go to `output_path` (appended; created if missing), or are
  // inherited when it is empty.
  absl::Status Start(const std::vector<std::string>& argv,
                     const std::string& output_path) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits for the child to end, kills what is left of its process group,
  // and reaps the child.
  absl::StatusOr<Exit> Wait() ABSL_LOCKS_EXCLUDED(mu_);

  // Like Wait(), for up to `timeout_ms`; DeadlineExceeded if still running.
  absl::StatusOr<Exit> WaitFor(int64_t timeout_ms) ABSL_LOCKS_EXCLUDED(mu_);

  // Sends `sig` to the child's process group (no-op once it has been
  // reaped).
  void Kill(int sig) ABSL_LOCKS_EXCLUDED(mu_);

  // -1 before Start().
  pid_t pid() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The child has ended (it is a zombie): kills its group, reaps it.
  absl::StatusOr<Exit> Reap() ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  pid_t pid_ ABSL_GUARDED_BY(mu_) = -1;
  bool reaped_ ABSL_GUARDED_BY(mu_) = true;
};

// Reaps every child of this process that has ended and was not started by a
// Subprocess (those are left to their Wait()). Returns how many it reaped.
// Cheap when there is none: one waitid(2). waitid reports ended children one
// at a time, so an ended Subprocess child that no thread is waiting for
// hides the children after it until its Wait(): call Wait() promptly.
int ReapOrphans();

// The absolute path of the running executable (/proc/self/exe).
std::string SelfExecutable();

}  // namespace mr

#endif  // MR_COMMON_SUBPROCESS_H_
