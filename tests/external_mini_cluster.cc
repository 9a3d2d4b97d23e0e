#include "tests/external_mini_cluster.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/master_client.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "tests/reference.h"
#include "common/status_macros.h"

namespace mr {
namespace test {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(20);
constexpr absl::Duration kRpcDeadline = absl::Seconds(5);

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("wait status ", status);
}

// `name` itself when it holds a '/', else the first executable of that name
// on $PATH.
absl::StatusOr<std::string> FindOnPath(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) == 0) return name;
    return absl::NotFoundError(
        absl::StrCat("cannot execute ", name, ": ", strerror(errno)));
  }
  const std::string path = EnvOr("PATH", "/usr/local/bin:/usr/bin:/bin");
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    if (dir.empty()) continue;
    std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(
      absl::StrCat("no executable '", name, "' on PATH (", path, ")"));
}

// The NULL-terminated argv for execv, pointing into `args`.
std::vector<char*> MakeArgv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

// In the child between fork() and exec(): only async-signal-safe calls.
[[noreturn]] void ExecChild(const char* path, char* const* argv, int stdout_fd,
                            int stderr_fd, pid_t parent) {
  // Die with the test binary, so nothing outlives a crashed test.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  // Not in the parent's process group: a terminal's Ctrl-C reaches the test
  // binary, whose death then takes the daemons down via PDEATHSIG.
  setpgid(0, 0);
  const int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    if (devnull != STDIN_FILENO) close(devnull);
  }
  if (dup2(stdout_fd, STDOUT_FILENO) < 0 || dup2(stderr_fd, STDERR_FILENO) < 0) {
    _exit(127);
  }
  // Start with the default signal dispositions and an empty mask (the test
  // binary may block signals in its threads).
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  execv(path, argv);
  _exit(127);
}

}  // namespace

// ---------------------------------------------------------------- ExternalDaemon

ExternalDaemon::ExternalDaemon(std::string name, std::string binary,
                               std::vector<std::string> args,
                               std::string address_file, std::string log_path,
                               absl::Duration start_timeout,
                               std::vector<std::string> command_prefix)
    : name_(std::move(name)),
      binary_(std::move(binary)),
      args_(std::move(args)),
      command_prefix_(std::move(command_prefix)),
      address_file_(std::move(address_file)),
      log_path_(std::move(log_path)),
      start_timeout_(start_timeout) {}

ExternalDaemon::~ExternalDaemon() { (void)Kill(); }

absl::Status ExternalDaemon::Spawn(const std::vector<std::string>& args) {
  if (access(binary_.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(name_, ": cannot execute ", binary_, ": ", strerror(errno)));
  }
  const int log_fd =
      open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", log_path_, ": ", strerror(errno)));
  }
  std::vector<std::string> full = command_prefix_;
  if (!full.empty()) {
    absl::StatusOr<std::string> path = FindOnPath(full[0]);
    if (!path.ok()) {
      close(log_fd);
      return absl::FailedPreconditionError(
          absl::StrCat(name_, ": cannot run its command prefix: ", path.status().message()));
    }
    full[0] = *path;
  }
  full.push_back(binary_);
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv = MakeArgv(full);
  const std::string header =
      absl::StrCat("==== test: starting ", absl::StrJoin(full, " "), "\n");
  ssize_t unused = write(log_fd, header.data(), header.size());
  (void)unused;
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(err)));
  }
  if (pid == 0) ExecChild(full[0].c_str(), argv.data(), log_fd, log_fd, parent);
  // The child does the same: whichever runs first, the group exists before
  // this process signals it.
  setpgid(pid, pid);
  close(log_fd);
  pid_ = pid;
  paused_ = false;
  wait_status_ = -1;
  return absl::OkStatus();
}

absl::Status ExternalDaemon::Start() {
  if (IsRunning()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name_, " is already running as pid ", pid_));
  }
  std::vector<std::string> args = args_;
  if (!address_.empty()) {
    // A restart: keep the port the first start was given by the OS.
    const size_t colon = address_.rfind(':');
    const std::string port = address_.substr(colon + 1);
    for (std::string& a : args) {
      if (a == "--port=0") a = absl::StrCat("--port=", port);
    }
  }
  if (unlink(address_file_.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(
        absl::StrCat("cannot remove ", address_file_, ": ", strerror(errno)));
  }
  RETURN_IF_ERROR(Spawn(args));

  const absl::Time deadline = absl::Now() + start_timeout_;
  while (true) {
    absl::StatusOr<std::string> text = ReadFileToString(address_file_);
    if (text.ok() && absl::EndsWith(*text, "\n")) {
      address_ = std::string(absl::StripAsciiWhitespace(*text));
      if (address_.find(':') == std::string::npos) {
        return absl::InternalError(absl::StrCat(
            name_, " wrote a malformed address file ", address_file_, ": '",
            *text, "'"));
      }
      return absl::OkStatus();
    }
    if (!IsRunning()) {
      return absl::InternalError(absl::StrCat(
          name_, " ", DescribeWaitStatus(wait_status_),
          " before writing ", address_file_, "; log tail:\n", LogTail()));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          name_, " (pid ", pid_, ") wrote no ", address_file_, " within ",
          absl::FormatDuration(start_timeout_), "; log tail:\n", LogTail()));
    }
    absl::SleepFor(kPollInterval);
  }
}

bool ExternalDaemon::IsRunning() {
  if (pid_ < 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) wait_status_ = status;
  // r < 0 (ECHILD): someone else reaped it; it is gone all the same.
  pid_ = -1;
  paused_ = false;
  return false;
}

bool ExternalDaemon::WaitForExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (IsRunning()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

absl::Status ExternalDaemon::Kill() {
  if (!IsRunning()) return absl::OkStatus();
  kill(-pid_, SIGKILL);  // a stopped process dies of SIGKILL too
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  wait_status_ = status;
  pid_ = -1;
  paused_ = false;
  return absl::OkStatus();
}

absl::Status ExternalDaemon::Shutdown(absl::Duration timeout) {
  if (!IsRunning()) return absl::OkStatus();
  if (paused_) {
    kill(-pid_, SIGCONT);
    paused_ = false;
  }
  kill(-pid_, SIGTERM);
  if (!WaitForExit(timeout)) {
    const pid_t pid = pid_;
    RETURN_IF_ERROR(Kill());
    return absl::InternalError(absl::StrCat(
        name_, " (pid ", pid, ") did not exit within ",
        absl::FormatDuration(timeout), " of SIGTERM; killed it; log tail:\n",
        LogTail()));
  }
  if (!WIFEXITED(wait_status_) || WEXITSTATUS(wait_status_) != 0) {
    return absl::InternalError(absl::StrCat(
        name_, " ", DescribeWaitStatus(wait_status_),
        " after SIGTERM; log tail:\n", LogTail()));
  }
  return absl::OkStatus();
}

absl::Status ExternalDaemon::Pause() {
  if (!IsRunning()) {
    return absl::FailedPreconditionError(absl::StrCat(name_, " is not running"));
  }
  if (kill(-pid_, SIGSTOP) != 0) {
    return absl::InternalError(absl::StrCat("SIGSTOP ", name_, ": ", strerror(errno)));
  }
  paused_ = true;
  return absl::OkStatus();
}

absl::Status ExternalDaemon::Resume() {
  if (!IsRunning()) {
    return absl::FailedPreconditionError(absl::StrCat(name_, " is not running"));
  }
  if (kill(-pid_, SIGCONT) != 0) {
    return absl::InternalError(absl::StrCat("SIGCONT ", name_, ": ", strerror(errno)));
  }
  paused_ = false;
  return absl::OkStatus();
}

absl::Status ExternalDaemon::Restart() {
  RETURN_IF_ERROR(Kill());
  return Start();
}

std::string ExternalDaemon::LogTail(int lines) const {
  absl::StatusOr<std::string> text = ReadFileToString(log_path_);
  if (!text.ok()) return absl::StrCat("(", text.status().ToString(), ")\n");
  std::vector<absl::string_view> all = absl::StrSplit(*text, '\n');
  if (!all.empty() && all.back().empty()) all.pop_back();
  const size_t from = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  std::string out;
  for (size_t i = from; i < all.size(); ++i) absl::StrAppend(&out, all[i], "\n");
  return out;
}

// ---------------------------------------------------------------- RunCommand

absl::Status MakeDevCertificates(const std::string& dir,
                                 const std::vector<std::string>& sans) {
  std::vector<std::string> argv = {
      absl::StrCat(SourceDir(), "/deploy/tls/make_dev_certs.sh"), dir};
  for (const std::string& san : sans) {
    argv.push_back("--san");
    argv.push_back(san);
  }
  absl::StatusOr<CommandResult> r = RunCommand(argv, absl::Seconds(60));
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat(argv[0], " exited with ",
                                            r->exit_code, ": ", r->err));
  }
  return absl::OkStatus();
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& args,
                                         absl::Duration timeout) {
  if (args.empty()) return absl::InvalidArgumentError("empty command");
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  std::vector<char*> argv = MakeArgv(args);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(err)));
  }
  if (pid == 0) ExecChild(argv[0], argv.data(), out_pipe[1], err_pipe[1], parent);
  close(out_pipe[1]);
  close(err_pipe[1]);

  CommandResult result;
  struct Stream {
    int fd;
    std::string* sink;
  } streams[2] = {{out_pipe[0], &result.out}, {err_pipe[0], &result.err}};
  const absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  int open_streams = 2;
  while (open_streams > 0) {
    pollfd fds[2];
    int n = 0;
    Stream* which[2];
    for (Stream& s : streams) {
      if (s.fd < 0) continue;
      fds[n] = {s.fd, POLLIN, 0};
      which[n++] = &s;
    }
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    const int r = poll(fds, n, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < n && r > 0; ++i) {
      if (fds[i].revents == 0) continue;
      char buf[8192];
      const ssize_t got = read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        which[i]->sink->append(buf, got);
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(which[i]->fd);
        which[i]->fd = -1;
        --open_streams;
      }
    }
  }
  for (Stream& s : streams) {
    if (s.fd >= 0) close(s.fd);
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(
        "'", absl::StrJoin(args, " "), "' ran longer than ",
        absl::FormatDuration(timeout), "; killed it. stdout:\n", result.out,
        "\nstderr:\n", result.err));
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
    if (result.exit_code == 127 && result.out.empty() && result.err.empty() &&
        access(args[0].c_str(), X_OK) != 0) {
      return absl::InternalError(absl::StrCat("cannot execute ", args[0]));
    }
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

// ---------------------------------------------------------------- task log lines

std::vector<TaskLogEvent> ParseTaskLogEvents(const std::string& log_text) {
  static const std::regex re(
      R"(task (\S+) (MAP|REDUCE) (\d+) attempt (\d+) (started|finished) at (\d+)(?: (\S+))?)");
  std::vector<TaskLogEvent> events;
  for (absl::string_view line : absl::StrSplit(log_text, '\n')) {
    if (!absl::StrContains(line, "task ")) continue;
    std::cmatch m;
    if (!std::regex_search(line.data(), line.data() + line.size(), m, re)) continue;
    TaskLogEvent e;
    e.job_id = m[1].str();
    e.kind = m[2].str();
    if (!absl::SimpleAtoi(m[3].str(), &e.task_index) ||
        !absl::SimpleAtoi(m[4].str(), &e.attempt_id) ||
        !absl::SimpleAtoi(m[6].str(), &e.wall_ms)) {
      continue;
    }
    e.started = m[5].str() == "started";
    if (m[7].matched) e.outcome = m[7].str();
    events.push_back(std::move(e));
  }
  return events;
}

// ---------------------------------------------------------------- processes

std::vector<ProcessInfo> ListProcesses() {
  std::vector<ProcessInfo> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (struct dirent* e = readdir(proc)) {
    ProcessInfo p;
    if (!absl::SimpleAtoi(e->d_name, &p.pid)) continue;
    const std::string dir = absl::StrCat("/proc/", e->d_name);
    absl::StatusOr<std::string> stat = ReadFileToString(dir + "/stat");
    if (!stat.ok()) continue;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const size_t close_paren = stat->rfind(')');
    if (close_paren == std::string::npos) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(absl::string_view(*stat).substr(close_paren + 1), ' ',
                       absl::SkipEmpty());
    if (fields.size() < 2 || fields[0].empty() ||
        !absl::SimpleAtoi(fields[1], &p.ppid)) {
      continue;
    }
    p.state = fields[0][0];
    absl::StatusOr<std::string> cmdline = ReadFileToString(dir + "/cmdline");
    if (cmdline.ok() && !cmdline->empty()) {
      std::string text = *cmdline;
      if (text.back() == '\0') text.pop_back();
      p.argv = absl::StrSplit(text, '\0');
    }
    out.push_back(std::move(p));
  }
  closedir(proc);
  return out;
}

std::vector<ProcessInfo> FindProcesses(const std::vector<std::string>& argv) {
  std::vector<ProcessInfo> out;
  for (ProcessInfo& p : ListProcesses()) {
    if (p.state != 'Z' && p.argv == argv) out.push_back(std::move(p));
  }
  return out;
}

// ---------------------------------------------------------------- ExternalMiniCluster

ExternalMiniCluster::ExternalMiniCluster(ExternalMiniClusterOptions options)
    : options_(std::move(options)) {
  if (options_.bin_dir.empty()) options_.bin_dir = BinDir();
}

absl::Status WaitForAttemptsToEnd(const ExternalDaemon& worker,
                                  absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::set<uint64_t> running;
    for (const TaskLogEvent& e : ParseTaskLogEvents(
             ReadFileToString(worker.log_path()).value_or(""))) {
      if (e.started) {
        running.insert(e.attempt_id);
      } else {
        running.erase(e.attempt_id);
      }
    }
    if (running.empty()) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(worker.name(), " still runs attempts ",
                       absl::StrJoin(running, ", "), " after ",
                       absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

ExternalMiniCluster::~ExternalMiniCluster() {
  if (::testing::Test::HasFailure() && master_ != nullptr) {
    fprintf(stderr, "ExternalMiniCluster: the test failed; daemon logs:\n%s",
            LogTails(40).c_str());
  }
  // Workers first, so none of them logs a burst of "master unreachable".
  for (auto& w : workers_) (void)w->Kill();
  if (master_ != nullptr) (void)master_->Kill();
  workers_.clear();
  master_.reset();
  client_.reset();
  if (remove_root_ && getenv("MR_KEEP_TEST_DIRS") == nullptr) {
    (void)RemoveAll(root_dir_);
  } else if (!root_dir_.empty()) {
    fprintf(stderr, "ExternalMiniCluster: kept %s\n", root_dir_.c_str());
  }
}

std::string ExternalMiniCluster::PathUnderRoot(const std::string& name) const {
  return absl::StrCat(root_dir_, "/", name);
}

absl::Status ExternalMiniCluster::Start() {
  if (master_ != nullptr) return absl::FailedPreconditionError("already started");
  if (options_.bin_dir.empty()) {
    return absl::FailedPreconditionError(
        "no bin dir: set ExternalMiniClusterOptions::bin_dir or MR_BIN_DIR");
  }
  if (options_.root_dir.empty()) {
    std::string templ =
        absl::StrCat(EnvOr("TMPDIR", "/tmp"), "/mr-cluster.XXXXXX");
    if (mkdtemp(templ.data()) == nullptr) {
      return absl::InternalError(
          absl::StrCat("mkdtemp ", templ, ": ", strerror(errno)));
    }
    root_dir_ = AbsolutePath(templ);
    remove_root_ = true;
  } else {
    root_dir_ = AbsolutePath(options_.root_dir);
  }
  RETURN_IF_ERROR(MakeDirs(PathUnderRoot("logs")));
  fprintf(stderr, "ExternalMiniCluster: root %s\n", root_dir_.c_str());
  // Creates a daemon's directory, owned by the daemons' user if one is set.
  auto make_daemon_dir = [this](const std::string& dir) -> absl::Status {
    RETURN_IF_ERROR(MakeDirs(dir));
    if (options_.daemon_uid >= 0 &&
        chown(dir.c_str(), options_.daemon_uid, options_.daemon_gid) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot chown ", dir, " to ", options_.daemon_uid, ":",
          options_.daemon_gid, ": ", strerror(errno)));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(make_daemon_dir(root_dir_));
  if (options_.tls) {
    std::vector<std::string> sans = {options_.master_host};
    sans.insert(sans.end(), options_.worker_hosts.begin(),
                options_.worker_hosts.end());
    const std::string tls = PathUnderRoot("tls");
    RETURN_IF_ERROR(MakeDevCertificates(tls, sans));
    const std::vector<std::string> flags = {
        absl::StrCat("--tls_ca=", tls, "/ca.crt"),
        absl::StrCat("--tls_cert=", tls, "/daemon.crt"),
        absl::StrCat("--tls_key=", tls, "/daemon.key")};
    options_.extra_master_flags.insert(options_.extra_master_flags.end(),
                                       flags.begin(), flags.end());
    options_.extra_worker_flags.insert(options_.extra_worker_flags.end(),
                                       flags.begin(), flags.end());
    options_.extra_mrctl_flags.push_back(flags[0]);
    if (options_.client_tls_ca.empty()) {
      options_.client_tls_ca = tls + "/ca.crt";
    }
    if (options_.daemon_uid >= 0) {
      // The key is private to its owner: the daemons' user must read it.
      for (const char* f : {"", "/ca.crt", "/daemon.crt", "/daemon.key"}) {
        (void)chown((tls + f).c_str(), options_.daemon_uid,
                    options_.daemon_gid);
      }
    }
  }

  std::vector<std::string> master_args = {
      absl::StrCat("--state_dir=", PathUnderRoot("master")),
      absl::StrCat("--address_file=", PathUnderRoot("master.addr")),
      "--port=0",
      absl::StrCat("--bind_host=", options_.master_host),
      absl::StrCat("--heartbeat_interval_ms=", options_.heartbeat_interval_ms),
      absl::StrCat("--heartbeat_timeout_ms=", options_.heartbeat_timeout_ms),
  };
  master_args.insert(master_args.end(), options_.extra_master_flags.begin(),
                     options_.extra_master_flags.end());
  RETURN_IF_ERROR(make_daemon_dir(PathUnderRoot("master")));
  master_ = std::make_unique<ExternalDaemon>(
      "master", absl::StrCat(options_.bin_dir, "/mr-master"), master_args,
      PathUnderRoot("master.addr"), PathUnderRoot("logs/master.log"),
      options_.start_timeout, options_.master_command_prefix);
  RETURN_IF_ERROR(master_->Start());

  for (int i = 0; i < options_.num_workers; ++i) {
    const std::string name = absl::StrCat("worker-", i);
    const bool own_host = static_cast<size_t>(i) < options_.worker_hosts.size();
    const std::string host = own_host ? options_.worker_hosts[i] : "127.0.0.1";
    std::vector<std::string> args = {
        absl::StrCat("--master=", master_->address()),
        absl::StrCat("--data_dir=", PathUnderRoot(name)),
        absl::StrCat("--address_file=", PathUnderRoot(name + ".addr")),
        "--port=0",
        absl::StrCat("--bind_host=", host),
        absl::StrCat("--slots=", options_.slots_per_worker),
    };
    if (own_host) args.push_back(absl::StrCat("--advertise_host=", host));
    args.insert(args.end(), options_.extra_worker_flags.begin(),
                options_.extra_worker_flags.end());
    RETURN_IF_ERROR(make_daemon_dir(PathUnderRoot(name)));
    workers_.push_back(std::make_unique<ExternalDaemon>(
        name, absl::StrCat(options_.bin_dir, "/mr-worker"), args,
        PathUnderRoot(name + ".addr"), PathUnderRoot("logs/" + name + ".log"),
        options_.start_timeout,
        static_cast<size_t>(i) < options_.worker_command_prefixes.size()
            ? options_.worker_command_prefixes[i]
            : options_.worker_command_prefix));
    RETURN_IF_ERROR(workers_.back()->Start());
  }
  return WaitForWorkerCount(options_.num_workers, options_.start_timeout);
}

absl::Status ExternalMiniCluster::WaitForWorkerCount(int n,
                                                     absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::OkStatus();
  int last_count = -1;
  while (true) {
    absl::StatusOr<mrpb::ListWorkersResponse> workers = ListWorkers();
    if (workers.ok()) {
      last_count = workers->workers_size();
      if (last_count == n) return absl::OkStatus();
    } else {
      last = workers.status();
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the master did not list ", n, " workers within ",
          absl::FormatDuration(timeout), " (last count ", last_count,
          ", last error: ", last.ToString(), ")\n", LogTails(15)));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

MasterClient* ExternalMiniCluster::client() {
  if (master_ == nullptr || !options_.mrctl_command_prefix.empty()) return nullptr;
  // A restarted master keeps its port, but rebuild the client if the
  // address ever changes.
  if (client_ == nullptr || client_->target() != master_->address()) {
    MasterClientOptions opts;
    opts.rpc_timeout = kRpcDeadline;
    opts.token = options_.client_token;
    TlsFiles tls;
    tls.ca_file = options_.client_tls_ca;
    absl::StatusOr<TlsConfig> config = TlsConfig::Load(tls, false);
    // A test's own CA file: a bad one is the test's bug; the client then
    // stays plaintext, and its RPCs to a TLS master fail.
    if (config.ok()) {
      opts.tls = *std::move(config);
    } else {
      fprintf(stderr, "ExternalMiniCluster: client_tls_ca: %s\n",
              config.status().ToString().c_str());
    }
    client_ = std::make_unique<MasterClient>(master_->address(), opts);
  }
  return client_.get();
}

absl::StatusOr<mrpb::ListWorkersResponse> ExternalMiniCluster::ListWorkers() {
  if (master_ == nullptr) return absl::FailedPreconditionError("not started");
  if (client() == nullptr) {  // through mrctl, from where it runs
    ASSIGN_OR_RETURN(CommandResult r,
                     RunMrctl({"workers", "--json"}, kRpcDeadline * 2));
    if (r.exit_code != 0) {
      return absl::UnavailableError(absl::StrCat(
          "mrctl workers exited with ", r.exit_code, ": ", r.err));
    }
    return ParseListWorkersJson(r.out);
  }
  return client()->ListWorkers();
}

absl::StatusOr<mrpb::JobStatus> ExternalMiniCluster::GetJobStatus(
    const std::string& job_id) {
  if (master_ == nullptr) return absl::FailedPreconditionError("not started");
  if (client() == nullptr) {  // through mrctl, from where it runs
    ASSIGN_OR_RETURN(CommandResult r,
                     RunMrctl({"status", job_id, "--json"}, kRpcDeadline * 2));
    // mrctl refuses an unknown job with its usage code (client/internal/mrctl.h).
    if (r.exit_code == 2 && absl::StrContains(r.err, "no job")) {
      return absl::NotFoundError(absl::StrCat("the master knows no job ", job_id));
    }
    if (r.exit_code != 0) {
      return absl::UnavailableError(absl::StrCat(
          "mrctl status ", job_id, " exited with ", r.exit_code, ": ", r.err));
    }
    return ParseJobStatusJson(r.out);
  }
  ASSIGN_OR_RETURN(mrpb::GetJobStatusResponse resp, client()->GetJobStatus(job_id));
  if (!resp.found()) {
    return absl::NotFoundError(absl::StrCat("the master knows no job ", job_id));
  }
  return resp.status();
}

absl::StatusOr<mrpb::JobStatus> ExternalMiniCluster::WaitForJob(
    const std::string& job_id, absl::Duration timeout, absl::Duration poll) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    ASSIGN_OR_RETURN(mrpb::JobStatus status, GetJobStatus(job_id));
    if (status.state() != mrpb::JOB_RUNNING &&
        status.state() != mrpb::JOB_STATE_UNSPECIFIED) {
      return status;
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          job_id, " still running after ", absl::FormatDuration(timeout),
          ": ", status.ShortDebugString()));
    }
    absl::SleepFor(poll);
  }
}

absl::StatusOr<CommandResult> ExternalMiniCluster::RunMrctl(
    const std::vector<std::string>& args, absl::Duration timeout) {
  if (master_ == nullptr) return absl::FailedPreconditionError("not started");
  std::vector<std::string> argv = options_.mrctl_command_prefix;
  if (!argv.empty()) {
    ASSIGN_OR_RETURN(argv[0], FindOnPath(argv[0]));  // RunCommand does not search
  }
  argv.insert(argv.end(), {absl::StrCat(options_.bin_dir, "/mrctl"), "--master",
                           master_->address()});
  argv.insert(argv.end(), options_.extra_mrctl_flags.begin(),
              options_.extra_mrctl_flags.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

absl::StatusOr<std::string> ExternalMiniCluster::SubmitJob(
    const std::vector<std::string>& args) {
  std::vector<std::string> full = {"submit"};
  full.insert(full.end(), args.begin(), args.end());
  ASSIGN_OR_RETURN(CommandResult r, RunMrctl(full));
  const std::string first = r.out.substr(0, r.out.find('\n'));
  if (r.exit_code != 0 || first.empty()) {
    return absl::InternalError(absl::StrCat(
        "mrctl ", absl::StrJoin(full, " "), " exited with ", r.exit_code,
        "; stdout:\n", r.out, "stderr:\n", r.err));
  }
  return std::string(absl::StripAsciiWhitespace(first));
}

absl::StatusOr<mrpb::JobStatus> ExternalMiniCluster::SubmitAndWait(
    std::vector<std::string> args, int expected_exit) {
  args.insert(args.begin(), "submit");
  args.push_back("--wait");
  args.push_back("--json");
  ASSIGN_OR_RETURN(CommandResult r, RunMrctl(args));
  absl::StatusOr<mrpb::JobStatus> status = ParseJobStatusJson(r.out);
  if (r.exit_code != expected_exit || !status.ok()) {
    return absl::InternalError(absl::StrCat(
        "mrctl ", absl::StrJoin(args, " "), " exited with ", r.exit_code,
        " (expected ", expected_exit, "); stdout:\n", r.out, "stderr:\n",
        r.err, LogTails()));
  }
  return status;
}

std::string ExternalMiniCluster::LogTails(int lines) const {
  std::string out;
  auto add = [&](const ExternalDaemon* d) {
    if (d == nullptr) return;
    absl::StrAppend(&out, "---- ", d->name(), " (", d->log_path(), ")\n",
                    d->LogTail(lines));
  };
  add(master_.get());
  for (const auto& w : workers_) add(w.get());
  return out;
}

}  // namespace test
}  // namespace mr
