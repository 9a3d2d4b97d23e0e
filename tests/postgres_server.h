// A throwaway PostgreSQL 15 server for tests (Debian's postgresql-15,
// installed by deploy/install_deps.sh): initdb in a fresh temporary
// directory, postgres on 127.0.0.1 and a port reserved for it, with its
// socket in that directory; run as the `postgres` OS user when the tests run
// as root (PostgreSQL refuses root). Stop() (or the destructor) stops the
// server and removes the directory.
//
// A machine without PostgreSQL fails Start() with a message saying what is
// missing and how to install it: tests never skip for lack of it.
#ifndef MR_TESTS_POSTGRES_SERVER_H_
#define MR_TESTS_POSTGRES_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/subprocess.h"

namespace mr {

class PostgresServer {
 public:
  PostgresServer() = default;
  ~PostgresServer();  // Stop()
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // initdb (trust authentication for local connections), start, and wait
  // until it accepts connections (at most 60 s).
  absl::Status Start();

  // Stops the server (fast shutdown, then SIGKILL after 30 s) and removes
  // its directory. Idempotent.
  absl::Status Stop();

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // A libpq connection string for the superuser `postgres`, database
  // `postgres`.
  std::string dsn() const;

 private:
  // argv run as the postgres user when we are root.
  std::vector<std::string> AsServerUser(std::vector<std::string> argv) const;

  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> server_;
};

}  // namespace mr

#endif  // MR_TESTS_POSTGRES_SERVER_H_
