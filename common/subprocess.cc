#include "common/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>
#include <thread>

#include "absl/base/const_init.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace mr {
namespace {

// The children that Subprocesses started and have not reaped yet: what
// ReapOrphans() must leave alone. Start() holds the mutex across spawning
// and inserting, so a child is never visible to ReapOrphans() unregistered.
// Lock order: Subprocess::mu_ before g_children_mu.
ABSL_CONST_INIT absl::Mutex g_children_mu(absl::kConstInit);
std::set<pid_t>& OurChildren() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_children_mu) {
  static auto* children = new std::set<pid_t>;
  return *children;
}

Subprocess::Exit FromWaitStatus(int status, const struct rusage& usage) {
  Subprocess::Exit exit;
  if (WIFSIGNALED(status)) {
    exit.signaled = true;
    exit.signal = WTERMSIG(status);
  } else {
    exit.code = WEXITSTATUS(status);
  }
  exit.max_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;  // KiB
  return exit;
}

}  // namespace

std::string Subprocess::Exit::Describe() const {
  if (signaled) {
    return absl::StrCat("killed by signal ", signal, " (", strsignal(signal),
                        ")");
  }
  return absl::StrCat("exit code ", code);
}

Subprocess::~Subprocess() {
  bool running;
  {
    absl::MutexLock lock(&mu_);
    running = !reaped_;
  }
  if (running) {
    Kill(SIGKILL);
    (void)Wait();
  }
}

pid_t Subprocess::pid() const {
  absl::MutexLock lock(&mu_);
  return pid_;
}

absl::Status Subprocess::Start(const std::vector<std::string>& argv,
                               const std::string& output_path) {
  absl::MutexLock lock(&mu_);
  if (!reaped_) {
    return absl::FailedPreconditionError(
        absl::StrCat("child ", pid_, " is still running"));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!output_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
                                     output_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);  // a new group, led by the child
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc;
  {
    absl::MutexLock registry(&g_children_mu);
    rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(),
                     environ);
    if (rc == 0) OurChildren().insert(pid);
  }
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("cannot start ", argv[0], ": ", strerror(rc)));
  }
  pid_ = pid;
  reaped_ = false;
  return absl::OkStatus();
}

absl::StatusOr<Subprocess::Exit> Subprocess::Reap() {
  absl::MutexLock lock(&mu_);
  if (reaped_) return absl::FailedPreconditionError("no child to wait for");
  // The child is a zombie, so pid_ still names its group: no other group
  // can have that id yet.
  kill(-pid_, SIGKILL);
  int status = 0;
  struct rusage usage;
  memset(&usage, 0, sizeof(usage));
  while (wait4(pid_, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("wait4: ", strerror(errno)));
    }
  }
  reaped_ = true;
  {
    absl::MutexLock registry(&g_children_mu);
    OurChildren().erase(pid_);
  }
  return FromWaitStatus(status, usage);
}

absl::StatusOr<Subprocess::Exit> Subprocess::Wait() {
  pid_t pid;
  {
    absl::MutexLock lock(&mu_);
    if (reaped_) return absl::FailedPreconditionError("no child to wait for");
    pid = pid_;
  }
  // WNOWAIT: wait for the end without reaping, so Reap() can still kill the
  // group by the child's pid.
  siginfo_t info;
  while (waitid(P_PID, pid, &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitid: ", strerror(errno)));
    }
  }
  return Reap();
}

absl::StatusOr<Subprocess::Exit> Subprocess::WaitFor(int64_t timeout_ms) {
  pid_t pid;
  {
    absl::MutexLock lock(&mu_);
    if (reaped_) return absl::FailedPreconditionError("no child to wait for");
    pid = pid_;
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
      if (info.si_pid == pid) return Reap();
    } else if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitid: ", strerror(errno)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "child ", pid, " still running after ", timeout_ms, " ms"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Subprocess::Kill(int sig) {
  absl::MutexLock lock(&mu_);
  if (!reaped_ && pid_ > 0) kill(-pid_, sig);
}

int ReapOrphans() {
  int reaped = 0;
  while (true) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: no children at all
    }
    if (info.si_pid == 0) break;  // none has ended
    absl::MutexLock registry(&g_children_mu);
    // waitid reports one ended child at a time, and would report this one
    // again: leave it to its Subprocess and look again on the next call.
    if (OurChildren().count(info.si_pid) > 0) break;
    if (waitpid(info.si_pid, nullptr, WNOHANG) != info.si_pid) break;
    ++reaped;
  }
  return reaped;
}

std::string SelfExecutable() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  return std::string(buf, n);
}

}  // namespace mr
