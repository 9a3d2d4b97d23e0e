// The throwaway PostgreSQL server the ETL tests use (tests/postgres_server.h):
// a real server, reached with libpqxx.
#include "tests/postgres_server.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <filesystem>
#include <pqxx/pqxx>

namespace mr {
namespace {

TEST(PostgresServerTest, StartsAcceptsSqlAndStopsLeavingNothing) {
  PostgresServer server;
  absl::Status started = server.Start();
  ASSERT_TRUE(started.ok()) << started;
  const std::string dir = server.dir();
  const std::string dsn = server.dsn();
  EXPECT_TRUE(std::filesystem::exists(dir + "/data/PG_VERSION"));
  {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    tx.exec0("CREATE TABLE t (dt date, n bigint, PRIMARY KEY (dt, n))");
    tx.exec0("INSERT INTO t SELECT DATE '2026-11-01', g FROM generate_series(1, 1000) g");
    tx.commit();
    pqxx::work read(c);
    EXPECT_EQ(read.exec1("SELECT sum(n) FROM t")[0].as<int64_t>(), 500500);
    EXPECT_EQ(read.exec1("SHOW server_version")[0].as<std::string>().substr(0, 3), "15.");
  }
  ASSERT_TRUE(server.Stop().ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_NE(PQping(dsn.c_str()), PQPING_OK);
  EXPECT_TRUE(server.Stop().ok());  // idempotent
}

}  // namespace
}  // namespace mr
