// The pipeline's loads (PostgreSQL and files) and its PostgreSQL extract,
// against a real PostgreSQL 15 (tests/postgres_server.h), one server for
// the whole suite.
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdlib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"
#include "common/names.h"
#include "master/pipeline/file_load.h"
#include "master/pipeline/postgres_extract.h"
#include "master/pipeline/postgres_load.h"
#include "tests/postgres_server.h"

namespace mr {
namespace pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kDt[] = "2026-11-01";

class LoadsTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new PostgresServer;
    start_ = new absl::Status(server_->Start());
  }

  static void TearDownTestSuite() {
    absl::Status stopped = server_->Stop();
    EXPECT_TRUE(stopped.ok()) << stopped;
    delete server_;
    delete start_;
  }

  void SetUp() override {
    ASSERT_TRUE(start_->ok()) << *start_;
    char tmpl[] = "/tmp/mr-loads-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    scratch_ = tmpl;
  }

  void TearDown() override {
    if (!scratch_.empty()) RemoveAll(scratch_).IgnoreError();
  }

  static std::string Dsn() { return server_->dsn(); }

  static void Exec(const std::string& sql) {
    pqxx::connection c(Dsn());
    pqxx::work tx(c);
    tx.exec0(sql);
    tx.commit();
  }

  // The rows of `sql`, each as its fields joined by '|', NULL for null.
  static std::vector<std::string> Rows(const std::string& sql) {
    pqxx::connection c(Dsn());
    pqxx::work tx(c);
    std::vector<std::string> rows;
    for (const pqxx::row& r : tx.exec(sql)) {
      std::vector<std::string> fields;
      for (const pqxx::field& f : r) fields.push_back(f.is_null() ? "NULL" : f.c_str());
      rows.push_back(absl::StrJoin(fields, "|"));
    }
    return rows;
  }

  // Writes a staged part file in the scratch directory.
  std::string Staged(const std::string& name, const std::string& contents) {
    const std::string path = absl::StrCat(scratch_, "/", name);
    absl::Status s = WriteFileAtomically(path, contents);
    EXPECT_TRUE(s.ok()) << s;
    return path;
  }

  PostgresLoad Load(const std::string& table, const std::string& mode,
                    std::vector<std::string> files) {
    PostgresLoad load;
    load.dsn = Dsn();
    load.table = table;
    load.mode = mode;
    load.partition_column = "dt";
    load.dt = kDt;
    load.run_id = "run-1";
    load.files = std::move(files);
    return load;
  }

  PostgresExtract Extract(const std::string& out) {
    PostgresExtract x;
    x.dsn = Dsn();
    x.out_dir = scratch_ + "/" + out;
    return x;
  }

  // Every file directly in `dir`, name -> contents; "<dir>" for a
  // directory.
  static std::map<std::string, std::string> ReadDir(const std::string& dir) {
    std::map<std::string, std::string> files;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return files;
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string path = absl::StrCat(dir, "/", name);
      absl::StatusOr<std::string> text = ReadFileToString(path);
      files[name] = text.ok() ? *text : "<dir>";
    }
    closedir(d);
    return files;
  }

  static PostgresServer* server_;
  static absl::Status* start_;
  std::string scratch_;
};

PostgresServer* LoadsTest::server_ = nullptr;
absl::Status* LoadsTest::start_ = nullptr;

// ---------------------------------------------------------------------------
// LoadIntoPostgres

TEST_F(LoadsTest, UpsertLoadsExactRowsIsIdempotentAndUpdatesChangedRows) {
  Exec("CREATE TABLE revenue (dt date, country text, amount numeric(12,2), "
       "orders bigint, mr_run_id text, PRIMARY KEY (dt, country))");
  PostgresLoad load = Load(
      "revenue", "upsert",
      {Staged("p0", "{\"dt\":\"2026-11-01\",\"country\":\"FR\",\"amount\":12.50,\"orders\":3}\n"
                    "{\"country\":\"DE\",\"amount\":0.10,\"orders\":1}\n"),
       Staged("p1", "{\"orders\":null,\"amount\":1000.00,\"country\":\"US\"}\n")});
  load.key = {"dt", "country"};
  const std::vector<std::string> expected = {
      "2026-11-01|DE|0.10|1|run-1", "2026-11-01|FR|12.50|3|run-1",
      "2026-11-01|US|1000.00|NULL|run-1"};
  const std::string dump =
      "SELECT dt, country, amount, orders, mr_run_id FROM revenue ORDER BY country";

  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(load);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows_staged, 3);
  EXPECT_EQ(stats->rows_inserted, 3);
  EXPECT_EQ(stats->rows_updated, 0);
  EXPECT_EQ(Rows(dump), expected);

  stats = LoadIntoPostgres(load);  // the same load again
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows_inserted, 0);
  EXPECT_EQ(stats->rows_updated, 3);
  EXPECT_EQ(Rows(dump), expected);

  load.run_id = "run-2";
  load.files = {Staged(
      "p2", "{\"dt\":\"2026-11-01\",\"country\":\"FR\",\"amount\":13,\"orders\":4}\n"
            "{\"dt\":\"2026-11-01\",\"country\":\"IT\",\"amount\":5.5,\"orders\":2}\n")};
  stats = LoadIntoPostgres(load);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows_inserted, 1);
  EXPECT_EQ(stats->rows_updated, 1);
  EXPECT_THAT(Rows(dump), ElementsAre("2026-11-01|DE|0.10|1|run-1",
                                      "2026-11-01|FR|13.00|4|run-2",
                                      "2026-11-01|IT|5.50|2|run-2",
                                      "2026-11-01|US|1000.00|NULL|run-1"));
}

TEST_F(LoadsTest, OverwritePartitionReplacesOnlyItsDate) {
  Exec("CREATE TABLE events (dt date, id bigint, name text, "
       "source text NOT NULL DEFAULT 'etl')");
  Exec("INSERT INTO events VALUES ('2026-10-31', 1, 'old-a', 'manual'), "
       "('2026-11-01', 9, 'stale', 'manual'), ('2026-11-02', 1, 'next', 'manual')");
  PostgresLoad load = Load(
      "events", "overwrite_partition",
      {Staged("p0", "{\"id\":1,\"name\":\"a\"}\n"
                    "{\"dt\":\"2026-11-01\",\"id\":2,\"name\":\"b\"}\n"
                    "{\"dt\":null,\"id\":3,\"name\":null}\n")});
  const std::string dump = "SELECT dt, id, name, source FROM events ORDER BY dt, id";
  const std::vector<std::string> expected = {
      "2026-10-31|1|old-a|manual", "2026-11-01|1|a|etl", "2026-11-01|2|b|etl",
      "2026-11-01|3|NULL|etl", "2026-11-02|1|next|manual"};

  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(load);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows_staged, 3);
  EXPECT_EQ(stats->rows_deleted, 1);
  EXPECT_EQ(stats->rows_inserted, 3);
  EXPECT_EQ(Rows(dump), expected);

  stats = LoadIntoPostgres(load);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows_deleted, 3);
  EXPECT_EQ(stats->rows_inserted, 3);
  EXPECT_EQ(Rows(dump), expected);

  // A row of another date would survive the next rerun's delete.
  PostgresLoad other = load;
  other.files = {Staged("p1", "{\"dt\":\"2026-11-01\",\"id\":5}\n"
                              "{\"dt\":\"2026-11-02\",\"id\":6}\n")};
  stats = LoadIntoPostgres(other);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(stats.status().message(),
            absl::StrCat(other.files[0], ":2: the row's dt is 2026-11-02, not the "
                         "run's date 2026-11-01: overwrite_partition only loads rows "
                         "of the date it replaces"));
  EXPECT_EQ(Rows(dump), expected);

  // No rows: the date's rows go, the others stay.
  PostgresLoad empty = load;
  empty.files = {Staged("empty", "")};
  stats = LoadIntoPostgres(empty);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows_staged, 0);
  EXPECT_EQ(stats->rows_deleted, 3);
  EXPECT_EQ(stats->rows_inserted, 0);
  EXPECT_THAT(Rows(dump),
              ElementsAre("2026-10-31|1|old-a|manual", "2026-11-02|1|next|manual"));
}

TEST_F(LoadsTest, AppendReplacesItsOwnRunAndAddsOtherRuns) {
  Exec("CREATE TABLE clicks (id bigint, url text, mr_run_id text)");
  PostgresLoad load = Load("clicks", "append",
                           {Staged("p0", "{\"id\":1,\"url\":\"/a\"}\n"),
                            Staged("p1", "{\"id\":2,\"url\":\"/b\"}\n")});
  const std::string dump = "SELECT mr_run_id, id, url FROM clicks ORDER BY mr_run_id, id";

  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(load);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows_inserted, 2);
  EXPECT_EQ(stats->rows_deleted, 0);
  stats = LoadIntoPostgres(load);  // a retry of the same run
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows_inserted, 2);
  EXPECT_EQ(stats->rows_deleted, 2);
  EXPECT_THAT(Rows(dump), ElementsAre("run-1|1|/a", "run-1|2|/b"));

  load.run_id = "run-2";
  load.files = {Staged("p2", "{\"id\":3,\"url\":\"/c\"}\n")};
  stats = LoadIntoPostgres(load);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows_deleted, 0);
  EXPECT_THAT(Rows(dump), ElementsAre("run-1|1|/a", "run-1|2|/b", "run-2|3|/c"));

  Exec("CREATE TABLE norun (id bigint)");
  stats = LoadIntoPostgres(Load("norun", "append", {Staged("p3", "{\"id\":1}\n")}));
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(stats.status().message()),
              StartsWith("append into norun needs a text column mr_run_id"));
}

// A loader killed at any point leaves the old rows or the new ones, never a
// mix, and a rerun finishes the job.
TEST_F(LoadsTest, KilledLoadLeavesOldOrNewRows) {
  Exec("CREATE TABLE killed (dt date, id bigint, pad text)");
  Exec("INSERT INTO killed SELECT '2026-11-01', g, 'old' FROM generate_series(1, 1000) g");
  std::vector<std::string> files;
  for (int f = 0; f < 4; ++f) {
    std::string rows;
    for (int i = 0; i < 25000; ++i) {
      absl::StrAppend(&rows, "{\"id\":", f * 25000 + i, ",\"pad\":\"new\"}\n");
    }
    files.push_back(Staged(absl::StrCat("p", f), rows));
  }
  const PostgresLoad load = Load("killed", "overwrite_partition", files);
  const std::string state = "SELECT count(*), min(pad), max(pad) FROM killed";
  const std::vector<std::string> old_rows = {"1000|old|old"};
  const std::vector<std::string> new_rows = {"100000|new|new"};
  int saw_old = 0;
  for (int delay_ms : {0, 2, 5, 10, 20, 40, 80, 160}) {
    Exec("DELETE FROM killed");
    Exec("INSERT INTO killed SELECT '2026-11-01', g, 'old' FROM generate_series(1, 1000) g");
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      _exit(LoadIntoPostgres(load).ok() ? 0 : 1);
    }
    usleep(delay_ms * 1000);
    kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    const std::vector<std::string> now = Rows(state);
    EXPECT_TRUE(now == old_rows || now == new_rows)
        << "after " << delay_ms << " ms: " << absl::StrJoin(now, ",");
    if (now == old_rows) ++saw_old;
  }
  EXPECT_GT(saw_old, 0);  // the early kills, at least, landed before the commit
  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(load);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(Rows(state), new_rows);
}

TEST_F(LoadsTest, SchemaQualifiedTableAndRefusedNames) {
  Exec("CREATE SCHEMA dw");
  Exec("CREATE TABLE dw.daily (dt date, n int)");
  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(
      Load("dw.daily", "overwrite_partition", {Staged("p0", "{\"n\":7}\n")}));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_THAT(Rows("SELECT dt, n FROM dw.daily"), ElementsAre("2026-11-01|7"));

  for (const char* bad : {"daily; DROP TABLE x", "a.b.c", "\"q\"", "", "1abc"}) {
    stats = LoadIntoPostgres(Load(bad, "append", {}));
    EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(stats.status().message()),
                HasSubstr("is not a table name we accept"))
        << bad;
  }
  stats = LoadIntoPostgres(Load("dw.daily", "merge", {}));
  EXPECT_EQ(stats.status().message(),
            "load mode 'merge' is not one of upsert, overwrite_partition, append");
}

TEST_F(LoadsTest, MissingTableNamesTableAndDatabaseNotPassword) {
  PostgresLoad load = Load("nope", "upsert", {Staged("p0", "{\"id\":1}\n")});
  load.key = {"id"};
  load.dsn = absl::StrCat(Dsn(), " password=hunter2");
  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(load);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(stats.status().message(),
            absl::StrCat("table nope does not exist in database postgres on "
                         "127.0.0.1:",
                         server_->port()));
}

TEST_F(LoadsTest, MalformedConnectionStringIsNotQuoted) {
  PostgresLoad load = Load("t", "append", {Staged("p0", "{\"id\":1}\n")});
  load.dsn = "hunter2-secret-not-a-dsn";
  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(load);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(stats.status().message()),
              ::testing::EndsWith(
                  ": the connection string is malformed (libpq's message is "
                  "withheld: it quotes the string)"));
  EXPECT_THAT(std::string(stats.status().message()),
              ::testing::Not(::testing::HasSubstr("hunter2")));
  PostgresExtract extract;
  extract.dsn = load.dsn;
  extract.table = "t";
  extract.out_dir = scratch_ + "/extract";
  absl::StatusOr<ExtractStats> got = ExtractFromPostgres(extract);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(got.status().message()),
              ::testing::Not(::testing::HasSubstr("hunter2")));
}

TEST_F(LoadsTest, UnknownColumnIsRefusedAndTargetUnchanged) {
  Exec("CREATE TABLE narrow (dt date, a int, b text)");
  Exec("INSERT INTO narrow VALUES ('2026-11-01', 1, 'kept')");
  PostgresLoad load =
      Load("narrow", "overwrite_partition",
           {Staged("p0", "{\"a\":2,\"b\":\"x\"}\n{\"a\":3,\"bogus\":true}\n")});
  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(load);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(stats.status().message(),
            absl::StrCat(load.files[0],
                         ":2: column 'bogus' is not in table narrow (its columns: "
                         "dt, a, b)"));
  EXPECT_THAT(Rows("SELECT dt, a, b FROM narrow"), ElementsAre("2026-11-01|1|kept"));
}

TEST_F(LoadsTest, UpsertNeedsUniqueKey) {
  Exec("CREATE TABLE nokey (id bigint, name text, UNIQUE (id, name))");
  PostgresLoad load = Load("nokey", "upsert", {Staged("p0", "{\"id\":1,\"name\":\"a\"}\n")});
  load.key = {"id"};
  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(load);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(stats.status().message()),
              StartsWith("upsert into nokey needs a unique index or constraint on "
                         "(id), and the table has none"));
  // The index on (id, name) matches the key (name, id).
  load.key = {"name", "id"};
  stats = LoadIntoPostgres(load);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows_inserted, 1);

  load.key = {"nosuch"};
  stats = LoadIntoPostgres(load);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(stats.status().message(), "upsert key column 'nosuch' is not a column of nokey");
}

TEST_F(LoadsTest, UpsertRefusesNullKeyAndDuplicateKeys) {
  Exec("CREATE TABLE keyed (id bigint PRIMARY KEY, v text)");
  PostgresLoad load = Load("keyed", "upsert",
                           {Staged("p0", "{\"id\":1,\"v\":\"a\"}\n{\"v\":\"b\"}\n")});
  load.key = {"id"};
  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(load);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(stats.status().message()),
              StartsWith(absl::StrCat(load.files[0],
                                      ":2: the key column 'id' is null or missing")));

  load.files = {Staged("p1", "{\"id\":1,\"v\":\"a\"}\n"),
                Staged("p2", "{\"id\":1,\"v\":\"b\"}\n")};
  stats = LoadIntoPostgres(load);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(stats.status().message()),
              StartsWith("upsert into keyed: two staged rows have the same key (id)"));
  EXPECT_TRUE(Rows("SELECT * FROM keyed").empty());
}

TEST_F(LoadsTest, MalformedLineIsDataLossAndTargetUnchanged) {
  Exec("CREATE TABLE steady (dt date, id bigint)");
  Exec("INSERT INTO steady VALUES ('2026-11-01', 100)");
  // The first file's rows are already COPYed when the second one fails.
  PostgresLoad load = Load("steady", "overwrite_partition",
                           {Staged("p0", "{\"id\":1}\n{\"id\":2}\n"),
                            Staged("p1", "{\"id\":3}\n\n{\"id\":4,}\n{\"id\":5}\n")});
  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(load);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(stats.status().message()),
              StartsWith(absl::StrCat(load.files[1], ":3: not a JSON object")));
  EXPECT_THAT(Rows("SELECT dt, id FROM steady"), ElementsAre("2026-11-01|100"));

  // A value PostgreSQL refuses is named by its file and line too.
  load.files = {Staged("p2", "{\"id\":1}\n"), Staged("p3", "\n{\"id\":2}\n{\"id\":\"abc\"}\n")};
  stats = LoadIntoPostgres(load);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(stats.status().message()),
              StartsWith(absl::StrCat(load.files[1],
                                      ":3: invalid input syntax for type bigint: \"abc\"")));
  EXPECT_THAT(Rows("SELECT dt, id FROM steady"), ElementsAre("2026-11-01|100"));
}

TEST_F(LoadsTest, AwkwardStringsSurviveExactly) {
  Exec("CREATE TABLE texts (id int PRIMARY KEY, s text, j jsonb)");
  const std::vector<std::string> strings = {
      "tab\there",     "new\nline\r\n",        "back\\slash\\",   "quote\"d 'single'",
      "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC",
      "\\N",           "\\.",                   "",                "  spaced  ",
      "\x01\x1f bell\x07"};
  std::string staged;
  for (size_t i = 0; i < strings.size(); ++i) {
    staged += absl::StrCat("{\"id\":", i, ",\"s\":", JsonString(strings[i]),
                           ",\"j\":{\"k\":[1,\"x\\ty\"]}}\n");
  }
  staged += "{\"id\":99,\"s\":null,\"j\":null}\n";
  PostgresLoad load = Load("texts", "upsert", {Staged("p0", staged)});
  load.key = {"id"};
  absl::StatusOr<LoadStats> stats = LoadIntoPostgres(load);
  ASSERT_TRUE(stats.ok()) << stats.status();

  pqxx::connection c(Dsn());
  pqxx::work tx(c);
  const pqxx::result r = tx.exec("SELECT id, s, j::text FROM texts ORDER BY id");
  ASSERT_EQ(r.size(), strings.size() + 1);
  for (size_t i = 0; i < strings.size(); ++i) {
    EXPECT_EQ(r[i][1].as<std::string>(), strings[i]) << i;
    EXPECT_EQ(r[i][2].as<std::string>(), "{\"k\": [1, \"x\\ty\"]}") << i;
  }
  EXPECT_TRUE(r[strings.size()][1].is_null());
  EXPECT_TRUE(r[strings.size()][2].is_null());
}

// ---------------------------------------------------------------------------
// LoadIntoFiles

TEST_F(LoadsTest, FilesOverwritePartitionJsonl) {
  const std::string root = scratch_ + "/warehouse";
  ASSERT_TRUE(MakeDirs(root + "/dt=2026-10-31").ok());
  ASSERT_TRUE(WriteFileAtomically(root + "/dt=2026-10-31/part-00000.jsonl", "old\n").ok());
  ASSERT_TRUE(MakeDirs(root + "/dt=2026-11-01").ok());
  ASSERT_TRUE(WriteFileAtomically(root + "/dt=2026-11-01/part-00007.jsonl", "stale\n").ok());

  FileLoad load;
  load.files = {Staged("p0", "{\"id\":1,\"s\":\"a\\tb\"}\n{\"dt\":\"2026-11-01\",\"id\":2}\n"),
                Staged("p1", "\n{\"id\":3, \"x\": [1, {}]}")};
  load.target_root = root;
  load.format = "jsonl";
  load.mode = "overwrite_partition";
  load.partition_column = "dt";
  load.dt = kDt;
  load.run_id = "run-1";
  const std::map<std::string, std::string> expected = {
      {"part-00000.jsonl", "{\"id\":1,\"s\":\"a\\tb\"}\n{\"dt\":\"2026-11-01\",\"id\":2}\n"},
      {"part-00001.jsonl", "{\"id\":3, \"x\": [1, {}]}\n"}};

  for (int run = 0; run < 2; ++run) {
    absl::StatusOr<FileLoadStats> stats = LoadIntoFiles(load);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->rows, 3);
    EXPECT_EQ(stats->partition_dir, root + "/dt=2026-11-01");
    EXPECT_THAT(stats->files, ElementsAre(root + "/dt=2026-11-01/part-00000.jsonl",
                                          root + "/dt=2026-11-01/part-00001.jsonl"));
    std::map<std::string, std::string> got = ReadDir(root + "/dt=2026-11-01");
    EXPECT_THAT(got["_SUCCESS"], StartsWith("loaded by run run-1 "));
    got.erase("_SUCCESS");
    EXPECT_EQ(got, expected) << "run " << run;
    EXPECT_EQ(ReadDir(root + "/dt=2026-10-31"),
              (std::map<std::string, std::string>{{"part-00000.jsonl", "old\n"}}));
    // Nothing else beside the partitions: no staging directory left.
    std::map<std::string, std::string> dirs = ReadDir(root);
    EXPECT_EQ(dirs, (std::map<std::string, std::string>{{"dt=2026-10-31", "<dir>"},
                                                          {"dt=2026-11-01", "<dir>"}}));
  }

  // A malformed line: DataLoss, and the partition keeps its last version.
  FileLoad bad = load;
  bad.files = {Staged("p2", "{\"id\":9}\n{\"id\":}\n")};
  absl::StatusOr<FileLoadStats> stats = LoadIntoFiles(bad);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(stats.status().message()),
              StartsWith(absl::StrCat(bad.files[0], ":2: not a JSON object")));
  std::map<std::string, std::string> got = ReadDir(root + "/dt=2026-11-01");
  got.erase("_SUCCESS");
  EXPECT_EQ(got, expected);
  EXPECT_EQ(ReadDir(root).size(), 2u);

  // Another date in a row would be filed under the wrong partition.
  bad.files = {Staged("p3", "{\"dt\":\"2026-11-02\",\"id\":9}\n")};
  stats = LoadIntoFiles(bad);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(stats.status().message(),
            absl::StrCat(bad.files[0], ":1: the row's dt is 2026-11-02, not the "
                                       "partition's date 2026-11-01"));

  bad.mode = "append";
  stats = LoadIntoFiles(bad);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(stats.status().message(),
            "a load into files supports only mode overwrite_partition, not 'append'");
}

TEST_F(LoadsTest, FilesCsvHasHeaderOfFirstRow) {
  FileLoad load;
  load.files = {Staged("p0", ""),
                Staged("p1", "{\"id\":1,\"name\":\"plain\",\"amount\":12.50,\"ok\":true}\n"
                             "{\"ok\":false,\"amount\":null,\"name\":\"a,b \\\"q\\\"\\nx\","
                             "\"id\":2}\n"
                             "{\"id\":3,\"name\":\"\",\"amount\":-1e3,\"ok\":null}\n")};
  load.target_root = scratch_ + "/csv";
  load.format = "csv";
  load.mode = "overwrite_partition";
  load.partition_column = "dt";
  load.dt = kDt;
  load.run_id = "run-1";
  absl::StatusOr<FileLoadStats> stats = LoadIntoFiles(load);
  ASSERT_TRUE(stats.ok()) << stats.status();
  std::map<std::string, std::string> got = ReadDir(load.target_root + "/dt=2026-11-01");
  got.erase("_SUCCESS");
  EXPECT_EQ(got, (std::map<std::string, std::string>{
                     {"part-00000.csv", "id,name,amount,ok\n"},
                     {"part-00001.csv", "id,name,amount,ok\n"
                                        "1,plain,12.50,true\n"
                                        "2,\"a,b \"\"q\"\"\nx\",,false\n"
                                        "3,\"\",-1e3,\n"}}));

  load.files = {Staged("p2", "{\"id\":1,\"name\":\"a\"}\n{\"id\":2}\n")};
  stats = LoadIntoFiles(load);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(stats.status().message(),
            absl::StrCat(load.files[0], ":2: the row's columns (id) are not the CSV "
                                        "header's (id, name), which the first row (",
                         load.files[0], ":1) set"));
}

// ---------------------------------------------------------------------------
// ExtractFromPostgres

TEST_F(LoadsTest, ExtractEveryTypeAsTypedJson) {
  Exec("CREATE TABLE typed (id int PRIMARY KEY, small smallint, big bigint, "
       "amount numeric(12,2), ratio double precision, name text, code varchar(5), "
       "flag boolean, day date, at timestamptz, local timestamp, id2 uuid)");
  Exec("INSERT INTO typed VALUES (1, -2, 9007199254740993, 12.50, 0.1, "
       "E'tab\\there \"q\" \\\\ \\u00e9\\nend', 'ab', true, '2026-11-01', "
       "'2026-11-01 14:34:56.789+02', '2026-11-01 01:02:03', "
       "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')");
  Exec("INSERT INTO typed (id) VALUES (2)");
  PostgresExtract x = Extract("typed");
  x.table = "typed";
  absl::StatusOr<ExtractStats> stats = ExtractFromPostgres(x);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows, 2);
  EXPECT_THAT(stats->columns, ElementsAre("id", "small", "big", "amount", "ratio", "name",
                                          "code", "flag", "day", "at", "local", "id2"));
  EXPECT_THAT(stats->files, ElementsAre(x.out_dir + "/part-m-00000"));
  std::map<std::string, std::string> got = ReadDir(x.out_dir);
  EXPECT_THAT(got["_SUCCESS"], StartsWith("extracted by pid "));
  got.erase("_SUCCESS");
  EXPECT_EQ(got,
            (std::map<std::string, std::string>{
                {"part-m-00000",
                 "{\"id\":1,\"small\":-2,\"big\":9007199254740993,\"amount\":12.50,"
                 "\"ratio\":0.1,\"name\":\"tab\\there \\\"q\\\" \\\\ \xC3\xA9\\nend\","
                 "\"code\":\"ab\",\"flag\":true,\"day\":\"2026-11-01\","
                 "\"at\":\"2026-11-01T12:34:56Z\",\"local\":\"2026-11-01T01:02:03Z\","
                 "\"id2\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"}\n"
                 "{\"id\":2,\"small\":null,\"big\":null,\"amount\":null,\"ratio\":null,"
                 "\"name\":null,\"code\":null,\"flag\":null,\"day\":null,\"at\":null,"
                 "\"local\":null,\"id2\":null}\n"}}));

  // A query, with a WHERE on a date ({{dt}} replaced by the caller).
  Exec("INSERT INTO typed (id, day, flag) VALUES (3, '2026-10-31', false), "
       "(4, '2026-11-01', false)");
  PostgresExtract q = Extract("query");
  q.query = "SELECT id, flag, day FROM typed WHERE day = DATE '2026-11-01' ORDER BY id DESC;\n";
  stats = ExtractFromPostgres(q);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(ReadFileToString(q.out_dir + "/part-m-00000").value(),
            "{\"id\":4,\"flag\":false,\"day\":\"2026-11-01\"}\n"
            "{\"id\":1,\"flag\":true,\"day\":\"2026-11-01\"}\n");

  // NaN has no JSON form; the output is left as it was.
  PostgresExtract nan = q;
  nan.query = "SELECT 'NaN'::numeric AS n";
  stats = ExtractFromPostgres(nan);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(stats.status().message()),
              HasSubstr("row 1, column 'n' (numeric): the value 'NaN' has no JSON form"));
  EXPECT_EQ(ReadFileToString(q.out_dir + "/part-m-00000").value(),
            "{\"id\":4,\"flag\":false,\"day\":\"2026-11-01\"}\n"
            "{\"id\":1,\"flag\":true,\"day\":\"2026-11-01\"}\n");
  EXPECT_EQ(ReadDir(scratch_).count(".query.extract.staging"), 0u);
}

TEST_F(LoadsTest, ExtractSplitsHoldTheSameRowsAsOneFile) {
  Exec("CREATE TABLE big AS SELECT g AS id, 'row ' || g AS label "
       "FROM generate_series(1, 1000) g");
  PostgresExtract one = Extract("one");
  one.query = "SELECT * FROM big ORDER BY id";
  absl::StatusOr<ExtractStats> stats = ExtractFromPostgres(one);
  ASSERT_TRUE(stats.ok()) << stats.status();
  const std::string all = ReadFileToString(one.out_dir + "/part-m-00000").value();
  EXPECT_THAT(all, StartsWith("{\"id\":1,\"label\":\"row 1\"}\n{\"id\":2,"));

  PostgresExtract three = Extract("three");
  three.query = one.query;
  three.num_splits = 3;
  stats = ExtractFromPostgres(three);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows, 1000);
  ASSERT_EQ(stats->files.size(), 3u);
  std::string joined;
  std::vector<size_t> lines;
  for (const std::string& f : stats->files) {
    const std::string text = ReadFileToString(f).value();
    lines.push_back(std::count(text.begin(), text.end(), '\n'));
    joined += text;
  }
  EXPECT_THAT(lines, ElementsAre(334, 334, 332));
  EXPECT_EQ(joined, all);

  // The same directory again with one split: made afresh, no old part left.
  three.num_splits = 1;
  three.query = "SELECT id FROM big WHERE id = 7";
  stats = ExtractFromPostgres(three);
  ASSERT_TRUE(stats.ok()) << stats.status();
  std::map<std::string, std::string> got = ReadDir(three.out_dir);
  got.erase("_SUCCESS");
  EXPECT_EQ(got, (std::map<std::string, std::string>{{"part-m-00000", "{\"id\":7}\n"}}));

  // More splits than rows: every file exists.
  three.num_splits = 4;
  three.query = "SELECT id FROM big WHERE id > 998";
  stats = ExtractFromPostgres(three);
  ASSERT_TRUE(stats.ok()) << stats.status();
  got = ReadDir(three.out_dir);
  got.erase("_SUCCESS");
  EXPECT_EQ(got, (std::map<std::string, std::string>{{"part-m-00000", "{\"id\":999}\n"},
                                                      {"part-m-00001", "{\"id\":1000}\n"},
                                                      {"part-m-00002", ""},
                                                      {"part-m-00003", ""}}));
}

TEST_F(LoadsTest, ExtractErrors) {
  PostgresExtract x = Extract("out");
  x.table = "nope";
  absl::StatusOr<ExtractStats> stats = ExtractFromPostgres(x);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(stats.status().message(),
            absl::StrCat("table nope does not exist in database postgres on 127.0.0.1:",
                         server_->port()));
  EXPECT_FALSE(PathExists(x.out_dir));

  x.query = "SELECT 1";
  stats = ExtractFromPostgres(x);
  EXPECT_EQ(stats.status().message(),
            "a PostgreSQL extract reads a table or a query: give exactly one");

  x.table.clear();
  x.query = "SELECT 1 AS a, 2 AS a";
  stats = ExtractFromPostgres(x);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(stats.status().message()),
              HasSubstr("the query returns two columns named 'a'"));

  x.query = "SELECT nosuch FROM pg_class";
  stats = ExtractFromPostgres(x);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(stats.status().message()),
              HasSubstr("column \"nosuch\" does not exist"));

  x.dsn = "host=127.0.0.1 port=1 dbname=dw password=hunter2 connect_timeout=5";
  stats = ExtractFromPostgres(x);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(stats.status().message()),
              StartsWith("cannot connect to PostgreSQL (database dw on 127.0.0.1:1)"));
  EXPECT_THAT(std::string(stats.status().message()), testing::Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace pipeline
}  // namespace mr
