#include "tests/postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <libpq-fe.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/reference.h"

namespace mr {
namespace {

constexpr char kBinDir[] = "/usr/lib/postgresql/15/bin";

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

}  // namespace

PostgresServer::~PostgresServer() { Stop().IgnoreError(); }

std::vector<std::string> PostgresServer::AsServerUser(
    std::vector<std::string> argv) const {
  if (geteuid() != 0) return argv;
  argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  return argv;
}

std::string PostgresServer::dsn() const {
  return absl::StrCat("host=127.0.0.1 port=", port_,
                      " user=postgres dbname=postgres connect_timeout=10");
}

absl::Status PostgresServer::Start() {
  namespace fs = std::filesystem;
  if (!fs::exists(absl::StrCat(kBinDir, "/initdb"))) {
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgreSQL 15 is not installed (no ", kBinDir,
        "/initdb): run deploy/install_deps.sh (Debian package postgresql-15)"));
  }
  char tmpl[] = "/tmp/mr-pg.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  dir_ = tmpl;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError(
          "running as root, and there is no 'postgres' OS user to run "
          "PostgreSQL as: run deploy/install_deps.sh (Debian package "
          "postgresql-15 creates it)");
    }
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return absl::InternalError(absl::StrCat("chown ", dir_, ": ", std::strerror(errno)));
    }
  }
  const std::string data = dir_ + "/data";
  const std::string initdb_log = dir_ + "/initdb.log";
  {
    Subprocess initdb;
    absl::Status s = initdb.Start(
        AsServerUser({absl::StrCat(kBinDir, "/initdb"), "-D", data, "-U", "postgres",
                      "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"}),
        initdb_log);
    if (!s.ok()) return s;
    absl::StatusOr<Subprocess::Exit> exit = initdb.WaitFor(120000);
    if (!exit.ok()) return exit.status();
    if (exit->signaled || exit->code != 0) {
      return absl::InternalError(absl::StrCat("initdb failed (", exit->Describe(),
                                              "):\n", Tail(initdb_log)));
    }
  }
  absl::StatusOr<int> port = test::ReserveLoopbackPort();
  if (!port.ok()) return port.status();
  port_ = *port;
  const std::string log = dir_ + "/postgres.log";
  server_ = std::make_unique<Subprocess>();
  if (absl::Status s = server_->Start(
          AsServerUser({absl::StrCat(kBinDir, "/postgres"), "-D", data, "-p",
                        std::to_string(port_), "-k", dir_, "-c",
                        "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                        "full_page_writes=off", "-c", "synchronous_commit=off"}),
          log);
      !s.ok()) {
    return s;
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (PQping(dsn().c_str()) != PQPING_OK) {
    absl::StatusOr<Subprocess::Exit> exit = server_->WaitFor(0);
    if (exit.ok()) {
      return absl::InternalError(absl::StrCat("postgres exited at start (",
                                              exit->Describe(), "):\n", Tail(log)));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "postgres did not accept connections on port ", port_, " in 60 s:\n", Tail(log)));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::OkStatus();
}

absl::Status PostgresServer::Stop() {
  absl::Status status;
  if (server_ != nullptr) {
    // SIGINT: PostgreSQL's fast shutdown (aborts transactions, exits).
    server_->Kill(SIGINT);
    absl::StatusOr<Subprocess::Exit> exit = server_->WaitFor(30000);
    if (!exit.ok()) {
      server_->Kill(SIGKILL);
      server_->Wait().IgnoreError();
      status = absl::DeadlineExceededError("postgres did not stop in 30 s: killed");
    }
    server_.reset();
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    if (ec && status.ok()) {
      status = absl::InternalError(absl::StrCat("removing ", dir_, ": ", ec.message()));
    }
    dir_.clear();
  }
  return status;
}

}  // namespace mr
