// A real cluster for multi-process tests: one mr-master and N mr-worker
// processes on loopback, each started from build/bin with port 0, modelled on
// Kudu's ExternalMiniCluster.
//
//   ExternalMiniClusterOptions opts;
//   opts.num_workers = 3;
//   ExternalMiniCluster cluster(opts);
//   ASSERT_OK(cluster.Start());
//   auto r = cluster.RunMrctl({"submit", "--app", "wordcount", ...});
//   cluster.worker(1)->Pause();   // SIGSTOP: looks hung to the master
//
// Layout under root_dir():
//   master/            the master's --state_dir
//   master.addr        its --address_file
//   worker-<i>/        worker i's --data_dir (i = 0 .. num_workers-1)
//   worker-<i>.addr    its --address_file
//   logs/master.log, logs/worker-<i>.log   stdout+stderr (appended across
//                                          restarts)
//
// Every daemon is started with PR_SET_PDEATHSIG(SIGKILL), so a test binary
// that crashes or is killed by ctest's timeout leaves no daemon behind. The
// destructor kills (SIGKILL) and reaps every daemon still running, and when
// the current gtest test has failed, prints the tail of every daemon's log.
//
// Thread-safety: not thread-safe; use from the test's thread.
#ifndef MR_TESTS_EXTERNAL_MINI_CLUSTER_H_
#define MR_TESTS_EXTERNAL_MINI_CLUSTER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/master_client.h"
#include "proto/client.pb.h"

namespace mr {
namespace test {

struct ExternalMiniClusterOptions {
  // Default: 2.
  int num_workers = 2;
  // --slots of each worker. Default: 2.
  int slots_per_worker = 2;
  // Appended to the master's and every worker's command line. Default: none.
  std::vector<std::string> extra_master_flags;
  std::vector<std::string> extra_worker_flags;
  // Passed to the master. Default: 1000 / 5000 (the daemons' own defaults).
  int heartbeat_interval_ms = 1000;
  int heartbeat_timeout_ms = 5000;
  // Where mr-master, mr-worker and mrctl are. Default: BinDir()
  // (tests/reference.h): $MR_BIN_DIR, else the build's bin/.
  std::string bin_dir;
  // Default: a fresh directory under $TMPDIR (or /tmp), removed by the
  // destructor unless $MR_KEEP_TEST_DIRS is set. A directory given here is
  // created if needed and never removed.
  std::string root_dir;
  // How long Start() and Restart() wait for an address file, and Start()
  // for the workers to register. Default: 30 s.
  absl::Duration start_timeout = absl::Seconds(30);
  // Run the master as `PREFIX... mr-master FLAGS...`, e.g. {"setpriv",
  // "--reuid=65534", "--regid=65534", "--clear-groups"} to run it as another
  // user, or {"unshare", "--pid", "--fork", "--mount-proc", "--kill-child"}
  // to make it PID 1 of a pid namespace of its own. PREFIX[0] is looked up
  // on PATH; ExternalDaemon::pid() is then that command's (see
  // ExternalDaemon). A prefix that changes the user clears PR_SET_PDEATHSIG:
  // such a daemon outlives a test binary that crashes (the destructor still
  // kills it). Default: none.
  std::vector<std::string> master_command_prefix;
  // The same for every worker. Default: none.
  std::vector<std::string> worker_command_prefix;
  // Worker i runs under worker_command_prefixes[i], when there is one,
  // instead of worker_command_prefix: e.g. {"ip", "netns", "exec", "NS_i"}
  // to put each worker in a network namespace of its own. Default: none.
  std::vector<std::vector<std::string>> worker_command_prefixes;
  // The master's --bind_host (and so the host of master_address()).
  // Default: 127.0.0.1.
  std::string master_host = "127.0.0.1";
  // Worker i binds to and advertises (--bind_host, --advertise_host)
  // worker_hosts[i], when there is one. Default: none (127.0.0.1, not
  // advertised separately).
  std::vector<std::string> worker_hosts;
  // Run mrctl as `PREFIX... mrctl ...`, e.g. {"ip", "netns", "exec", "NS"}.
  // When set, the test process never connects to the master itself:
  // ListWorkers() and GetJobStatus() (and so Start(), WaitForWorkerCount(),
  // WaitForJob()) run `mrctl workers --json` and `mrctl status JOB --json`
  // that way, for a master that the test's own network namespace cannot
  // reach, and client() returns null. Default: none (direct RPCs).
  std::vector<std::string> mrctl_command_prefix;
  // Passed to every mrctl run after --master, e.g. {"--tls_ca=FILE"}.
  // Default: none.
  std::vector<std::string> extra_mrctl_flags;
  // The cluster's own client (client(), and so Start(), ListWorkers(),
  // GetJobStatus()) sends this bearer token and, with a CA file, uses TLS,
  // for a master started with --tokens_file / --tls_ca (mrctl runs take
  // theirs from extra_mrctl_flags or the test's arguments). Default: none
  // (plaintext, no token).
  std::string client_token;
  std::string client_tls_ca;
  // Start() makes a development CA and certificate under root_dir()/tls
  // (MakeDevCertificates(), for 127.0.0.1, master_host and worker_hosts),
  // starts every daemon with --tls_ca/--tls_cert/--tls_key, passes
  // --tls_ca to every mrctl run and gives client() the CA (unless
  // client_tls_ca is set). Default: false (plaintext).
  bool tls = false;
  // When >= 0, Start() chowns the root directory and the daemons'
  // directories to this user and group, for daemons run as that user
  // through a command prefix. Default: -1 (left as created).
  int daemon_uid = -1;
  int daemon_gid = -1;
};

// One daemon process. Created by ExternalMiniCluster; the flags are fixed at
// construction (set_flags() changes them), so Restart() runs the same command
// line (see Restart()).
//
// The daemon leads a process group of its own, and every signal (Kill,
// Shutdown, Pause, Resume) goes to that group. With a command prefix, the
// process started is the prefix's command (pid() is its pid), and the daemon
// runs as it or under it in the same group, so the signals reach both; a
// command that forks (`unshare --fork`) must exit when the daemon does, with
// its status.
class ExternalDaemon {
 public:
  // `command_prefix`: see ExternalMiniClusterOptions::master_command_prefix.
  ExternalDaemon(std::string name, std::string binary,
                 std::vector<std::string> args, std::string address_file,
                 std::string log_path, absl::Duration start_timeout,
                 std::vector<std::string> command_prefix = {});
  ~ExternalDaemon();  // SIGKILLs and reaps the process if still running
  ExternalDaemon(const ExternalDaemon&) = delete;
  ExternalDaemon& operator=(const ExternalDaemon&) = delete;

  // Spawns the process and waits until it writes its address file.
  // FailedPrecondition if already running; Internal (with the log's tail)
  // if the process exits first; DeadlineExceeded after the start timeout.
  absl::Status Start();

  // SIGKILL, then reap. OK when it is not running.
  absl::Status Kill();

  // SIGTERM (SIGCONT first if paused), wait up to `timeout`, then SIGKILL.
  // OK only if the process exited by itself with status 0; otherwise
  // Internal naming how it ended (the process is gone either way).
  absl::Status Shutdown(absl::Duration timeout = absl::Seconds(10));

  // SIGSTOP / SIGCONT. FailedPrecondition when not running.
  absl::Status Pause();
  absl::Status Resume();

  // Starts the stopped (killed or shut down) process again with the same
  // flags and data directory. Since the first start chose its port with
  // --port 0, a restart passes the port the daemon had (so the workers'
  // --master and the map output locations the master holds stay valid).
  // Kills the process first if it is still running.
  absl::Status Restart();

  // The flags (after the binary) the next Start() or Restart() passes, e.g.
  // to restart a daemon without a fault injection flag it crashed on.
  const std::vector<std::string>& flags() const { return args_; }
  void set_flags(std::vector<std::string> flags) { args_ = std::move(flags); }

  // Whether the process is alive (a paused process is). Reaps it if it has
  // exited.
  bool IsRunning();
  bool IsPaused() const { return paused_; }

  // The last exit status from waitpid() (as in WIFEXITED etc.), or -1 if the
  // process has not ended since the last start.
  int last_wait_status() const { return wait_status_; }

  // -1 when not running.
  pid_t pid() const { return pid_; }
  // "host:port" as the daemon wrote it to its address file; empty before the
  // first successful Start().
  const std::string& address() const { return address_; }
  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }

  // The last `lines` lines of the log, for failure messages.
  std::string LogTail(int lines = 30) const;

 private:
  // Waits up to `timeout` for the process to end; true when it has (and
  // was reaped).
  bool WaitForExit(absl::Duration timeout);
  absl::Status Spawn(const std::vector<std::string>& args);

  const std::string name_;
  const std::string binary_;
  std::vector<std::string> args_;
  const std::vector<std::string> command_prefix_;
  const std::string address_file_;
  const std::string log_path_;
  const absl::Duration start_timeout_;

  pid_t pid_ = -1;
  bool paused_ = false;
  int wait_status_ = -1;
  std::string address_;
};

// Makes a development CA and one daemon certificate in `dir` with
// deploy/tls/make_dev_certs.sh (ca.crt, ca.key, daemon.crt, daemon.key), the
// certificate valid for localhost, 127.0.0.1 and `sans` (hosts or IPs).
absl::Status MakeDevCertificates(const std::string& dir,
                                 const std::vector<std::string>& sans);

// What an mrctl run gave.
struct CommandResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] is the executable path) with stdin from /dev/null,
// capturing stdout and stderr. DeadlineExceeded (after SIGKILLing it) when it
// runs longer than `timeout`. Internal when it cannot be started.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout);

// Parses the JSON of a JobStatus, as `mrctl status --json` and
// `mrctl submit --wait --json` print it. InvalidArgument (quoting the text)
// when it does not parse.
absl::StatusOr<mrpb::JobStatus> ParseJobStatusJson(const std::string& json);

// The same for the JSON of a ListWorkersResponse (`mrctl workers --json`).
absl::StatusOr<mrpb::ListWorkersResponse> ParseListWorkersJson(
    const std::string& json);

// The value of the job's counter `name`; -1 when it has none.
int64_t JobCounter(const mrpb::JobStatus& status, const std::string& name);

// One per-attempt line a worker logs:
//   task job-000001 MAP 3 attempt 7 started at 1700000000123
//   task job-000001 MAP 3 attempt 7 finished at 1700000000456 ok
struct TaskLogEvent {
  std::string job_id;
  std::string kind;  // "MAP" or "REDUCE"
  uint32_t task_index = 0;
  uint64_t attempt_id = 0;
  bool started = false;  // false: a "finished" line
  int64_t wall_ms = 0;
  std::string outcome;   // the word after the time on a "finished" line
};

// Every task line in a log text, in the order they appear.
std::vector<TaskLogEvent> ParseTaskLogEvents(const std::string& log_text);

// Waits until every task attempt `worker` has logged as started has also
// logged as finished (polling its log every 20 ms). DeadlineExceeded, naming
// the attempts still running, after `timeout`.
absl::Status WaitForAttemptsToEnd(const ExternalDaemon& worker,
                                  absl::Duration timeout = absl::Seconds(60));
// A process of this machine, as /proc shows it.
struct ProcessInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';               // R, S, D, Z, T...
  std::vector<std::string> argv;  // empty for a zombie
};

// Every process /proc lists (those that vanish while it is read are left
// out).
std::vector<ProcessInfo> ListProcesses();

// The processes whose argv is exactly `argv`, zombies excluded.
std::vector<ProcessInfo> FindProcesses(const std::vector<std::string>& argv);

class ExternalMiniCluster {
 public:
  explicit ExternalMiniCluster(ExternalMiniClusterOptions options = {});
  ~ExternalMiniCluster();
  ExternalMiniCluster(const ExternalMiniCluster&) = delete;
  ExternalMiniCluster& operator=(const ExternalMiniCluster&) = delete;

  // Creates the root directory, starts the master, then the workers, then
  // waits until the master lists num_workers workers.
  // REQUIRES: called once.
  absl::Status Start();

  // REQUIRES: Start() was called. Never null.
  ExternalDaemon* master() const { return master_.get(); }
  // REQUIRES: 0 <= i < num_workers().
  ExternalDaemon* worker(int i) const { return workers_.at(i).get(); }
  int num_workers() const { return static_cast<int>(workers_.size()); }

  // "host:port" of the master.
  const std::string& master_address() const { return master_->address(); }
  const std::string& root_dir() const { return root_dir_; }
  const std::string& bin_dir() const { return options_.bin_dir; }
  // A fresh, empty directory ROOT/<name> for a test's inputs or outputs
  // (not created: an output directory must not exist before a job).
  std::string PathUnderRoot(const std::string& name) const;

  // Polls the master every 50 ms until it lists exactly `n` workers.
  // DeadlineExceeded (naming the last count) after `timeout`.
  absl::Status WaitForWorkerCount(int n,
                                  absl::Duration timeout = absl::Seconds(30));

  // A client of the master's current address (5 s RPC deadline); null
  // before Start(), and with a mrctl_command_prefix.
  MasterClient* client();

  // Direct RPCs to the master (5 s deadline each), or mrctl runs (see
  // ExternalMiniClusterOptions::mrctl_command_prefix).
  absl::StatusOr<mrpb::ListWorkersResponse> ListWorkers();
  // NotFound when the master does not know `job_id`.
  absl::StatusOr<mrpb::JobStatus> GetJobStatus(const std::string& job_id);

  // Runs `mrctl --master ADDR args...`. See RunCommand() for the errors.
  absl::StatusOr<CommandResult> RunMrctl(
      const std::vector<std::string>& args,
      absl::Duration timeout = absl::Seconds(240));

  // Runs `mrctl submit args...` (without --wait) and returns the job id it
  // prints on its first stdout line. Internal, quoting mrctl's output, when
  // it exits non-zero.
  absl::StatusOr<std::string> SubmitJob(const std::vector<std::string>& args);

  // Runs `mrctl submit args... --wait --json` and returns the job's final
  // status as mrctl printed it. Internal, quoting mrctl's output and the
  // daemons' log tails, when mrctl exits with another code than
  // `expected_exit` or prints no status.
  absl::StatusOr<mrpb::JobStatus> SubmitAndWait(std::vector<std::string> args,
                                                int expected_exit = 0);

  // Polls GetJobStatus every `poll` until the job leaves JOB_RUNNING;
  // returns its final status. DeadlineExceeded after `timeout`.
  absl::StatusOr<mrpb::JobStatus> WaitForJob(
      const std::string& job_id, absl::Duration timeout = absl::Seconds(240),
      absl::Duration poll = absl::Milliseconds(50));

  // The tails of all daemon logs, one section per daemon.
  std::string LogTails(int lines = 30) const;

 private:
  ExternalMiniClusterOptions options_;
  std::string root_dir_;
  bool remove_root_ = false;
  std::unique_ptr<ExternalDaemon> master_;
  std::vector<std::unique_ptr<ExternalDaemon>> workers_;
  std::unique_ptr<MasterClient> client_;  // of the master's current address
};

}  // namespace test
}  // namespace mr

#endif  // MR_TESTS_EXTERNAL_MINI_CLUSTER_H_
