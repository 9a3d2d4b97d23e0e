#include "common/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace mr {

std::string Subprocess::Exit::Describe() const {
  if (signaled) {
    return absl::StrCat("killed by signal ", signal, " (", strsignal(signal),
                        ")");
  }
  return absl::StrCat("exit code ", code);
}

Subprocess::~Subprocess() {
  if (!reaped_) {
    Kill(SIGKILL);
    (void)Wait();
  }
}

absl::Status Subprocess::Start(const std::vector<std::string>& argv,
                               const std::string& output_path) {
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
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  const int rc =
      posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("cannot start ", argv[0], ": ", strerror(rc)));
  }
  pid_ = pid;
  reaped_ = false;
  return absl::OkStatus();
}

namespace {

Subprocess::Exit FromWaitStatus(int status) {
  Subprocess::Exit exit;
  if (WIFSIGNALED(status)) {
    exit.signaled = true;
    exit.signal = WTERMSIG(status);
  } else {
    exit.code = WEXITSTATUS(status);
  }
  return exit;
}

}  // namespace

absl::StatusOr<Subprocess::Exit> Subprocess::Wait() {
  if (reaped_) return absl::FailedPreconditionError("no child to wait for");
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
    }
  }
  reaped_ = true;
  return FromWaitStatus(status);
}

absl::StatusOr<Subprocess::Exit> Subprocess::WaitFor(int64_t timeout_ms) {
  if (reaped_) return absl::FailedPreconditionError("no child to wait for");
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return FromWaitStatus(status);
    }
    if (r < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("child ", pid_.load(), " still running after ",
                       timeout_ms, " ms"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Subprocess::Kill(int sig) {
  if (!reaped_ && pid_ > 0) kill(pid_, sig);
}

std::string SelfExecutable() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  return std::string(buf, n);
}

}  // namespace mr
