// A child process that a streaming job (apps/streaming.h) feeds records
// through its stdin and reads key/value lines from through its stdout: the
// command runs as `/bin/sh -c COMMAND`, with three pipes that the calling
// thread drives alone, non-blocking, with poll(2).
//
// Why one thread and poll: the job API calls a Job, and lets it Emit(), from
// one thread only, so the lines the child prints must be handed out on the
// thread that feeds it. Writing while reading avoids the classic deadlock
// (the child blocks writing a full stdout pipe while we block writing its
// full stdin pipe): every wait is a poll on stdin-writable,
// stdout-readable and stderr-readable together.
//
// Batching: Write() only queues bytes; the queue goes to the pipe (and the
// child's output is read) once it holds Options::write_batch_bytes, so a
// record costs a memcpy, not a syscall. The pipes are enlarged to 1 MiB
// when the system allows it.
//
// stderr: copied as it arrives to Options::stderr_copy_fd (the task log),
// and its last Options::stderr_tail_bytes bytes are kept for the failure
// message (StderrTail()).
//
// SIGPIPE: Start() sets SIGPIPE to SIG_IGN in this whole process, so that
// writing to a child that stopped reading returns EPIPE instead of killing
// us (pipes have no MSG_NOSIGNAL). A task child runs one job only, so this
// is harmless there; the child itself gets the default disposition back.
//
// The child stays in our process group (a task kill, which signals the
// task's group, takes it along) and inherits our resource limits (the
// task's memory limit is per process: the child has its own of that size).
// File descriptors other than its three pipes are closed in it.
//
// Thread-safety: not thread-safe; one thread owns an instance.
#ifndef MR_APPS_INTERNAL_STREAMING_PROCESS_H_
#define MR_APPS_INTERNAL_STREAMING_PROCESS_H_

#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mr {
namespace apps {
namespace internal {

class StreamingProcess {
 public:
  struct Options {
    // Run as /bin/sh -c command.
    std::string command;
    // The child's working directory. Default: "", ours.
    std::string dir;
    // Variables set in the child's environment, over ours (NAME, value).
    std::vector<std::pair<std::string, std::string>> env;
    // How many of the last stderr bytes StderrTail() keeps. Default: 2 KiB.
    size_t stderr_tail_bytes = 2048;
    // Where the child's stderr is copied as it arrives; -1: nowhere.
    // Default: our stderr.
    int stderr_copy_fd = STDERR_FILENO;
    // Bytes Write() queues before it sends them. Default: 64 KiB.
    size_t write_batch_bytes = 64 << 10;
  };

  // How the child ended.
  struct Exit {
    bool signaled = false;
    int code = 0;    // exit status, when !signaled
    int signal = 0;  // terminating signal, when signaled
    bool ok() const { return !signaled && code == 0; }
    // "exited with status 3", "exited with status 127 (command not found)",
    // "was killed by signal 9 (Killed)".
    std::string Describe() const;
  };

  // Gets each line of the child's stdout, without its '\n' (a last line
  // without one too); the view is valid during the call only. A sink may
  // use other StreamingProcess instances, but not the one calling it.
  using LineSink = absl::FunctionRef<void(std::string_view line)>;

  explicit StreamingProcess(Options options);
  // SIGKILLs and reaps a child still running.
  ~StreamingProcess();
  StreamingProcess(const StreamingProcess&) = delete;
  StreamingProcess& operator=(const StreamingProcess&) = delete;

  // Starts the child. Internal when a pipe cannot be made or posix_spawn
  // fails (e.g. Options::dir does not exist); a command that cannot be
  // found is no error here: the shell exits 127 (see Finish()).
  // REQUIRES: called once.
  absl::Status Start();

  // Queues `data` for the child's stdin. Once write_batch_bytes are queued,
  // writes them all, handing the child's stdout lines to `sink` meanwhile.
  // FailedPrecondition when the child no longer reads its stdin (EPIPE;
  // stdin_closed_early() is then true and later writes are dropped): call
  // Finish() for its exit status.
  // REQUIRES: Start() succeeded, Finish() not called.
  absl::Status Write(std::string_view data, LineSink sink);

  // Sends what is queued, closes the child's stdin, hands the rest of its
  // stdout to `sink` up to EOF, and waits for the child to exit. Internal
  // only when poll, read or waitpid fail.
  // REQUIRES: Start() succeeded; called once.
  absl::StatusOr<Exit> Finish(LineSink sink);

  // The child closed its stdin (or ended) while we still had input for it.
  bool stdin_closed_early() const { return stdin_closed_early_; }

  // The last stderr_tail_bytes bytes of the child's stderr.
  const std::string& stderr_tail() const { return stderr_tail_; }

  pid_t pid() const { return pid_; }

 private:
  // Polls until the queue is written (!finishing) or until stdout and
  // stderr reach EOF (finishing: stdin is closed once the queue is
  // written).
  absl::Status Pump(bool finishing, LineSink sink);
  // One write of the queue; on EPIPE, closes stdin and drops the queue.
  absl::Status WriteSome();
  // One read of stdout (lines to sink) / stderr; closes the fd at EOF.
  absl::Status ReadStdout(LineSink sink);
  absl::Status ReadStderr();
  void DeliverLines(const char* p, size_t n, LineSink sink);
  void CloseStdin();

  const Options options_;
  pid_t pid_ = -1;
  bool reaped_ = true;
  int in_fd_ = -1;   // our end of the child's stdin
  int out_fd_ = -1;  // our end of the child's stdout
  int err_fd_ = -1;  // our end of the child's stderr
  bool stdin_closed_early_ = false;

  std::string queue_;       // bytes for stdin not yet written
  size_t queue_pos_ = 0;    // queue_[0, queue_pos_) has been written
  std::unique_ptr<char[]> read_buf_;
  std::string partial_;     // a stdout line split across reads
  std::string stderr_tail_;
};

}  // namespace internal
}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_INTERNAL_STREAMING_PROCESS_H_
