#include "apps/internal/streaming_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace mr {
namespace apps {
namespace internal {
namespace {

// The longest stdout line a child may print (a line is a record).
constexpr size_t kMaxLineBytes = 64 << 20;


constexpr size_t kReadBytes = 64 << 10;
// Larger pipes: fewer wake-ups of either side. The default limit for an
// unprivileged process (/proc/sys/fs/pipe-max-size) is 1 MiB.
constexpr int kPipeBytes = 1 << 20;

absl::Status Errno(const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Our environment with `vars` set over it, as "NAME=value" strings.
std::vector<std::string> ChildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& vars) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [n, v] : vars) replaced = replaced || n == name;
    if (!replaced) env.emplace_back(entry);
  }
  for (const auto& [n, v] : vars) env.push_back(absl::StrCat(n, "=", v));
  return env;
}

// Starts /bin/sh -c options.command with the three fds as its stdin,
// stdout and stderr (every other fd closed), SIGPIPE at its default and no
// signal blocked. Returns posix_spawn's error number (0: started).
int SpawnShell(const StreamingProcess::Options& options, int in, int out,
               int err, pid_t* pid) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err, STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  if (!options.dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.dir.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  const std::vector<std::string> env = ChildEnvironment(options.env);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const char* argv[] = {"sh", "-c", options.command.c_str(), nullptr};
  const int rc = posix_spawn(pid, "/bin/sh", &actions, &attr,
                             const_cast<char* const*>(argv), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return rc;
}

}  // namespace

std::string StreamingProcess::Exit::Describe() const {
  if (signaled) {
    return absl::StrCat("was killed by signal ", signal, " (",
                        strsignal(signal), ")");
  }
  std::string s = absl::StrCat("exited with status ", code);
  // What /bin/sh says with these (POSIX 2.8.2).
  if (code == 127) absl::StrAppend(&s, " (command not found)");
  if (code == 126) absl::StrAppend(&s, " (command not executable)");
  return s;
}

StreamingProcess::StreamingProcess(Options options)
    : options_(std::move(options)), read_buf_(new char[kReadBytes]) {}

StreamingProcess::~StreamingProcess() {
  CloseFd(&in_fd_);
  CloseFd(&out_fd_);
  CloseFd(&err_fd_);
  if (!reaped_) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

absl::Status StreamingProcess::Start() {
  signal(SIGPIPE, SIG_IGN);
  // [0]: the child's end, [1]: ours (reversed for stdin).
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return Errno("pipe2");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return Errno("pipe2");
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
    return Errno("pipe2");
  }
  fcntl(in[1], F_SETPIPE_SZ, kPipeBytes);  // best effort
  fcntl(out[1], F_SETPIPE_SZ, kPipeBytes);

  const int rc = SpawnShell(options_, in[0], out[1], err[1], &pid_);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  in_fd_ = in[1];
  out_fd_ = out[0];
  err_fd_ = err[0];
  if (rc != 0) {
    pid_ = -1;
    CloseFd(&in_fd_);
    CloseFd(&out_fd_);
    CloseFd(&err_fd_);
    return absl::InternalError(absl::StrCat(
        "cannot start /bin/sh -c '", options_.command, "'",
        options_.dir.empty() ? "" : absl::StrCat(" in ", options_.dir), ": ",
        strerror(rc)));
  }
  reaped_ = false;
  for (int fd : {in_fd_, out_fd_, err_fd_}) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  return absl::OkStatus();
}

absl::Status StreamingProcess::Write(std::string_view data, LineSink sink) {
  if (in_fd_ < 0) {
    return absl::FailedPreconditionError("the child closed its stdin");
  }
  queue_.append(data.data(), data.size());
  if (queue_.size() - queue_pos_ < options_.write_batch_bytes) {
    return absl::OkStatus();
  }
  if (absl::Status s = Pump(/*finishing=*/false, sink); !s.ok()) return s;
  if (stdin_closed_early_) {
    return absl::FailedPreconditionError("the child closed its stdin");
  }
  return absl::OkStatus();
}

absl::StatusOr<StreamingProcess::Exit> StreamingProcess::Finish(LineSink sink) {
  if (absl::Status s = Pump(/*finishing=*/true, sink); !s.ok()) return s;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return Errno("waitpid");
  }
  reaped_ = true;
  Exit exit;
  if (WIFSIGNALED(status)) {
    exit.signaled = true;
    exit.signal = WTERMSIG(status);
  } else {
    exit.code = WEXITSTATUS(status);
  }
  return exit;
}

void StreamingProcess::CloseStdin() {
  CloseFd(&in_fd_);
  queue_.clear();
  queue_pos_ = 0;
}

absl::Status StreamingProcess::Pump(bool finishing, LineSink sink) {
  while (true) {
    const bool queued = in_fd_ >= 0 && queue_pos_ < queue_.size();
    if (finishing && !queued) CloseStdin();
    if (!finishing && !queued) return absl::OkStatus();
    if (finishing && in_fd_ < 0 && out_fd_ < 0 && err_fd_ < 0) {
      return absl::OkStatus();
    }
    struct pollfd fds[3];
    int n = 0;
    int in_at = -1, out_at = -1, err_at = -1;
    if (in_fd_ >= 0) {
      in_at = n;
      fds[n++] = {in_fd_, POLLOUT, 0};
    }
    if (out_fd_ >= 0) {
      out_at = n;
      fds[n++] = {out_fd_, POLLIN, 0};
    }
    if (err_fd_ >= 0) {
      err_at = n;
      fds[n++] = {err_fd_, POLLIN, 0};
    }
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      return Errno("poll");
    }
    // POLLHUP / POLLERR too: the read or write then reports EOF or EPIPE.
    if (out_at >= 0 && fds[out_at].revents != 0) {
      if (absl::Status s = ReadStdout(sink); !s.ok()) return s;
    }
    if (err_at >= 0 && fds[err_at].revents != 0) {
      if (absl::Status s = ReadStderr(); !s.ok()) return s;
    }
    if (in_at >= 0 && fds[in_at].revents != 0) {
      if (absl::Status s = WriteSome(); !s.ok()) return s;
    }
  }
}

absl::Status StreamingProcess::WriteSome() {
  const ssize_t n =
      write(in_fd_, queue_.data() + queue_pos_, queue_.size() - queue_pos_);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return absl::OkStatus();
    if (errno == EPIPE) {
      stdin_closed_early_ = true;
      CloseStdin();
      return absl::OkStatus();
    }
    return Errno("writing to the child's stdin");
  }
  queue_pos_ += static_cast<size_t>(n);
  if (queue_pos_ == queue_.size()) {
    queue_.clear();  // keeps its capacity
    queue_pos_ = 0;
  }
  return absl::OkStatus();
}

void StreamingProcess::DeliverLines(const char* p, size_t n, LineSink sink) {
  const char* const end = p + n;
  while (p < end) {
    const char* nl = static_cast<const char*>(memchr(p, '\n', end - p));
    if (nl == nullptr) {
      partial_.append(p, end - p);
      return;
    }
    if (partial_.empty()) {
      sink(std::string_view(p, nl - p));
    } else {
      partial_.append(p, nl - p);
      sink(partial_);
      partial_.clear();
    }
    p = nl + 1;
  }
}

absl::Status StreamingProcess::ReadStdout(LineSink sink) {
  const ssize_t n = read(out_fd_, read_buf_.get(), kReadBytes);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return absl::OkStatus();
    return Errno("reading the child's stdout");
  }
  if (n == 0) {
    CloseFd(&out_fd_);
    if (!partial_.empty()) {
      std::string last;
      last.swap(partial_);
      sink(last);
    }
    return absl::OkStatus();
  }
  DeliverLines(read_buf_.get(), static_cast<size_t>(n), sink);
  if (partial_.size() > kMaxLineBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the child printed a line longer than ", kMaxLineBytes,
        " bytes (is its output binary?)"));
  }
  return absl::OkStatus();
}

absl::Status StreamingProcess::ReadStderr() {
  const ssize_t n = read(err_fd_, read_buf_.get(), kReadBytes);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return absl::OkStatus();
    return Errno("reading the child's stderr");
  }
  if (n == 0) {
    CloseFd(&err_fd_);
    return absl::OkStatus();
  }
  const char* p = read_buf_.get();
  if (options_.stderr_copy_fd >= 0) {
    // Best effort: the task log is no reason to fail the task.
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = write(options_.stderr_copy_fd, p + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      done += w;
    }
  }
  const size_t keep = options_.stderr_tail_bytes;
  if (static_cast<size_t>(n) >= keep) {
    stderr_tail_.assign(p + n - keep, keep);
  } else {
    stderr_tail_.append(p, static_cast<size_t>(n));
    if (stderr_tail_.size() > keep) {
      stderr_tail_.erase(0, stderr_tail_.size() - keep);
    }
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace apps
}  // namespace mr
