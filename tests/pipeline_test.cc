// ETL pipelines end to end (issue #8): `mrctl pipeline run` against a real
// cluster (mr-master, two mr-workers) and a real PostgreSQL 15 server
// (tests/postgres_server.h), checked against a reference computed here,
// independently of the engine.
//
// The data: a day of orders in two CSV files, 1,000 good rows and five
// defective ones (a missing user, a duplicate order id, a negative amount,
// an unknown status, an amount that is not a number), and a users table in
// PostgreSQL. The pipeline extracts both, validates the orders, joins them
// to the users, sums the revenue per country and upserts it into
// PostgreSQL; it also writes the validated orders to a files warehouse,
// one directory per date.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/postgres_server.h"

namespace mr {
namespace test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kDate[] = "2026-11-01";
constexpr int kOrders = 1000;
constexpr int kUsers = 50;
const char* const kCountries[] = {"DE", "FR", "US", "JP"};

std::string Country(int user_id) { return kCountries[user_id % 4]; }

// Order i (1-based): its CSV line.
std::string OrderLine(int i) {
  const int cents = (i * 137) % 20000;
  return absl::StrFormat("%d,%d,%d.%02d,%s,2026-11-01T%02d:%02d:00Z", i,
                         1 + (i * 7) % kUsers, cents / 100, cents % 100,
                         i % 10 == 0 ? "refunded" : "paid", i % 24, i % 60);
}

// The defects, appended to the second file, and how the validate step must
// report each: its line in that file and the start of its rule label.
struct Defect {
  std::string line;
  std::string rule;
};
const std::vector<Defect>& Defects() {
  static const auto* const d = new std::vector<Defect>{
      {"1001,,12.00,paid,2026-11-01T10:00:00Z", "not_null(user_id)"},
      {OrderLine(500), "unique(order_id)"},
      {"1002,3,-5.00,paid,2026-11-01T11:00:00Z", "range(amount)"},
      {"1003,4,7.50,shipped,2026-11-01T12:00:00Z", "accepted_values(status)"},
      {"1004,5,abc,paid,2026-11-01T13:00:00Z", "schema: "},
  };
  return *d;
}

// The reference: revenue per country of the good orders, in cents, and
// their count (every good order's user exists).
std::map<std::string, std::pair<int64_t, int64_t>> ReferenceRevenue() {
  std::map<std::string, std::pair<int64_t, int64_t>> out;
  for (int i = 1; i <= kOrders; ++i) {
    const std::vector<std::string> f = absl::StrSplit(OrderLine(i), ',');
    int64_t user = 0;
    EXPECT_TRUE(absl::SimpleAtoi(f[1], &user));
    const std::vector<std::string> amount = absl::StrSplit(f[2], '.');
    int64_t units = 0, cents = 0;
    EXPECT_TRUE(absl::SimpleAtoi(amount[0], &units) && absl::SimpleAtoi(amount[1], &cents));
    auto& [sum, count] = out[Country(static_cast<int>(user))];
    sum += units * 100 + cents;
    ++count;
  }
  return out;
}

std::string Cents(int64_t c) { return absl::StrFormat("%d.%02d", c / 100, c % 100); }

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pg_.Start().ok());
    setenv("DW_DSN", pg_.dsn().c_str(), 1);
    setenv("SRC_DSN", pg_.dsn().c_str(), 1);
    {
      pqxx::connection c(pg_.dsn());
      pqxx::work tx(c);
      tx.exec0("CREATE TABLE users (user_id bigint PRIMARY KEY, country text NOT NULL)");
      for (int u = 0; u < kUsers; ++u) {
        tx.exec0(absl::StrCat("INSERT INTO users VALUES (", u + 1, ", '", Country(u + 1), "')"));
      }
      tx.exec0(
          "CREATE TABLE daily_revenue (dt date, country text, sum_amount numeric(14,2), "
          "orders bigint, PRIMARY KEY (dt, country))");
      tx.commit();
    }
    ExternalMiniClusterOptions opts;
    opts.num_workers = 2;
    opts.heartbeat_interval_ms = 200;
    cluster_ = std::make_unique<ExternalMiniCluster>(opts);
    ASSERT_TRUE(cluster_->Start().ok());
    raw_ = cluster_->PathUnderRoot("raw");
    warehouse_ = cluster_->PathUnderRoot("warehouse");
    WriteOrders(kDate);
  }

  void TearDown() override {
    cluster_.reset();
    EXPECT_TRUE(pg_.Stop().ok());
  }

  void WriteOrders(const std::string& dt) {
    const std::string dir = absl::StrCat(raw_, "/orders/dt=", dt);
    ASSERT_TRUE(MakeDirs(dir).ok());
    std::string a = "order_id,user_id,amount,status,created_at\n";
    std::string b = a;
    for (int i = 1; i <= kOrders; ++i) {
      absl::StrAppend(i <= kOrders / 2 ? &a : &b, OrderLine(i), "\n");
    }
    for (const Defect& d : Defects()) absl::StrAppend(&b, d.line, "\n");
    ASSERT_TRUE(WriteFileAtomically(dir + "/orders-a.csv", a).ok());
    ASSERT_TRUE(WriteFileAtomically(dir + "/orders-b.csv", b).ok());
  }

  // The pipeline file, with `error_if` as the orders' gate and `extra`
  // settings appended to the orders extract step.
  std::string WritePipeline(const std::string& error_if, const std::string& extra = "") {
    const std::string yaml = absl::StrCat(R"Y(pipeline: orders_daily
partition: {column: dt, timezone: UTC}
steps:
  - name: orders
    extract: {files: ")Y", raw_, R"Y(/orders/dt={{dt}}/*.csv", format: csv}
)Y", extra, R"Y(
  - name: users
    extract: {postgres: {dsn_env: SRC_DSN, table: users}}
  - name: orders_ok
    validate:
      input: orders
      schema: {order_id: int64, user_id: int64, amount: "decimal(12,2)",
               status: string, created_at: timestamp}
      rules:
        - {not_null: [order_id, user_id]}
        - {unique: [order_id]}
        - {range: {column: amount, min: 0}}
        - {accepted_values: {column: status, values: [paid, refunded]}}
        - {regex: {column: status, pattern: "^[a-z]+$"}}
        - {row_count: {min: 1}}
        - {freshness: {column: created_at, max_age: 26h}}
      error_if: ")Y", error_if, R"Y("
      warn_if: "> 0"
      dead_letter: true
  - name: revenue
    transform:
      join: {left: orders_ok, right: users, on: [user_id], type: left}
      aggregate: {group_by: [dt, country], sum: [amount], count: orders}
  - name: load_revenue
    load:
      input: revenue
      postgres: {dsn_env: DW_DSN, table: daily_revenue, mode: upsert, key: [dt, country]}
  - name: load_orders
    load:
      input: orders_ok
      files: {path: ")Y", warehouse_, R"Y(/orders", format: jsonl, mode: overwrite_partition}
)Y");
    const std::string path = absl::StrCat(cluster_->root_dir(), "/orders_daily.yaml");
    EXPECT_TRUE(WriteFileAtomically(path, yaml).ok());
    return path;
  }

  // daily_revenue, ordered, one "dt|country|sum|orders" line per row.
  std::vector<std::string> Revenue() {
    pqxx::connection c(pg_.dsn());
    pqxx::work tx(c);
    std::vector<std::string> rows;
    for (const auto& row : tx.exec(
             "SELECT dt::text, country, sum_amount::text, orders::text FROM daily_revenue "
             "ORDER BY dt, country")) {
      rows.push_back(absl::StrCat(row[0].c_str(), "|", row[1].c_str(), "|", row[2].c_str(),
                                  "|", row[3].c_str()));
    }
    return rows;
  }

  std::vector<std::string> ReferenceRows() {
    std::vector<std::string> rows;
    for (const auto& [country, v] : ReferenceRevenue()) {
      rows.push_back(absl::StrCat(kDate, "|", country, "|", Cents(v.first), "|", v.second));
    }
    return rows;
  }

  absl::StatusOr<mrpb::PipelineRun> Run(const std::string& run_id) {
    absl::StatusOr<mrpb::GetPipelineRunResponse> r =
        cluster_->client()->GetPipelineRun(run_id);
    if (!r.ok()) return r.status();
    if (!r->found()) return absl::NotFoundError(run_id);
    return r->run();
  }

  const mrpb::PipelineStepStatus* Step(const mrpb::PipelineRun& run, const std::string& name) {
    for (const mrpb::PipelineStepStatus& s : run.steps()) {
      if (s.name() == name) return &s;
    }
    ADD_FAILURE() << "no step " << name;
    return nullptr;
  }

  // Polls the run until `done` says so (at most 120 s).
  mrpb::PipelineRun WaitFor(const std::string& run_id,
                            const std::function<bool(const mrpb::PipelineRun&)>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(120);
    mrpb::PipelineRun last;
    while (absl::Now() < deadline) {
      absl::StatusOr<mrpb::PipelineRun> run = Run(run_id);
      if (run.ok()) {
        last = *run;
        if (done(last)) return last;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "timed out waiting for " << run_id << "; last:\n"
                  << last.DebugString() << cluster_->LogTails();
    return last;
  }

  static bool Ended(const mrpb::PipelineRun& r) {
    return r.state() == mrpb::PIPELINE_SUCCEEDED || r.state() == mrpb::PIPELINE_FAILED;
  }

  // The warehouse's files of one date: name -> lines, sorted.
  std::vector<std::string> WarehouseLines(const std::string& dt) {
    std::vector<std::string> lines;
    const std::string dir = absl::StrCat(warehouse_, "/orders/dt=", dt);
    if (!fs::exists(dir)) return lines;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!absl::StartsWith(e.path().filename().string(), "part-")) continue;
      absl::StatusOr<std::string> text = ReadFileToString(e.path().string());
      EXPECT_TRUE(text.ok());
      for (absl::string_view l : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
        lines.emplace_back(l);
      }
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  PostgresServer pg_;
  std::unique_ptr<ExternalMiniCluster> cluster_;
  std::string raw_;
  std::string warehouse_;
};

TEST_F(PipelineTest, CleanRunLoadsTheReferenceAndARerunChangesNothing) {
  const std::string file = WritePipeline("> 1%");
  absl::StatusOr<CommandResult> r =
      cluster_->RunMrctl({"pipeline", "run", file, "--date", kDate, "--wait"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->out << r->err << cluster_->LogTails();
  EXPECT_THAT(r->out, HasSubstr("run-000001  orders_daily  2026-11-01  SUCCEEDED"));
  EXPECT_EQ(Revenue(), ReferenceRows());

  absl::StatusOr<mrpb::PipelineRun> run = Run("run-000001");
  ASSERT_TRUE(run.ok()) << run.status();
  const mrpb::PipelineStepStatus* ok = Step(*run, "orders_ok");
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->rows(), kOrders + Defects().size());
  EXPECT_EQ(ok->rows_failed(), Defects().size());
  ASSERT_EQ(ok->warnings_size(), 1);
  EXPECT_EQ(ok->warnings(0), "5 of 1005 rows (0.498%) failed a rule: warn_if > 0");
  // Per rule: schema, not_null, unique, range, accepted_values, regex,
  // row_count, freshness.
  std::vector<std::pair<std::string, uint64_t>> counts;
  for (const mrpb::PipelineRuleResult& rule : ok->rules()) {
    counts.emplace_back(rule.rule(), rule.failed());
    EXPECT_FALSE(rule.violated()) << rule.rule();
  }
  EXPECT_EQ(counts, (std::vector<std::pair<std::string, uint64_t>>{
                        {"schema", 1},
                        {"not_null(order_id, user_id)", 1},
                        {"unique(order_id)", 1},
                        {"range(amount)", 1},
                        {"accepted_values(status)", 1},
                        {"regex(status)", 0},
                        {"row_count", 0},
                        {"freshness(created_at)", 0}}));
  EXPECT_EQ(ok->rules(6).detail(), "1005 rows");

  // Dead letters: exactly the defective rows, by file and line, with their
  // rule; each also a sample of its rule.
  absl::StatusOr<std::vector<std::string>> dl_files = ExpandInputs({ok->dead_letter()});
  ASSERT_TRUE(dl_files.ok()) << dl_files.status();
  std::vector<std::string> dead;
  for (const std::string& f : *dl_files) {
    for (absl::string_view l : absl::StrSplit(*ReadFileToString(f), '\n', absl::SkipEmpty())) {
      dead.emplace_back(l);
    }
  }
  ASSERT_EQ(dead.size(), Defects().size()) << absl::StrJoin(dead, "\n");
  const std::string b = absl::StrCat(raw_, "/orders/dt=", kDate, "/orders-b.csv");
  for (size_t d = 0; d < Defects().size(); ++d) {
    const Defect& defect = Defects()[d];
    const std::string line = absl::StrCat("\"line\":", kOrders / 2 + 2 + d, ",");
    const std::string record = absl::StrCat("\"record\":\"", defect.line, "\"");
    int found = 0;
    for (const std::string& l : dead) {
      if (absl::StrContains(l, record)) {
        ++found;
        EXPECT_THAT(l, HasSubstr(absl::StrCat("\"file\":\"", b, "\""))) << l;
        EXPECT_THAT(l, HasSubstr(line)) << l;
        EXPECT_THAT(l, HasSubstr(absl::StrCat("\"rules\":[\"", defect.rule))) << l;
      }
    }
    EXPECT_EQ(found, 1) << defect.line;
  }
  for (int rule = 0; rule < 5; ++rule) {
    ASSERT_EQ(ok->rules(rule).samples_size(), 1) << ok->rules(rule).rule();
  }
  EXPECT_THAT(ok->rules(2).samples(0), HasSubstr(absl::StrCat("\"record\":\"", OrderLine(500))));

  // The warehouse: the 1,000 good orders, typed, with their date.
  std::vector<std::string> lines = WarehouseLines(kDate);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kOrders));
  EXPECT_THAT(lines, ::testing::Contains(
                         "{\"order_id\":1,\"user_id\":8,\"amount\":1.37,\"status\":\"paid\","
                         "\"created_at\":\"2026-11-01T01:01:00Z\",\"dt\":\"2026-11-01\"}"));

  // mrctl pipeline status shows the rules and a sample.
  absl::StatusOr<CommandResult> status =
      cluster_->RunMrctl({"pipeline", "status", "run-000001"});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_code, 0) << status->err;
  EXPECT_THAT(status->out, HasSubstr("rules of orders_ok (1005 rows, 5 failed, dead letters: "));
  EXPECT_THAT(status->out, HasSubstr("samples failing unique(order_id):"));
  EXPECT_THAT(status->out, HasSubstr("load_revenue  load       SUCCEEDED      1"));

  // The same date again: a new run, the same rows everywhere.
  r = cluster_->RunMrctl({"pipeline", "run", file, "--date", kDate, "--wait"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->out << r->err;
  EXPECT_THAT(r->out, HasSubstr("run-000002"));
  EXPECT_EQ(Revenue(), ReferenceRows());
  EXPECT_EQ(WarehouseLines(kDate), lines);
  // The first run's staging area is gone, the second's kept.
  run = Run("run-000001");
  EXPECT_FALSE(fs::exists(run->staging_dir()));
  absl::StatusOr<mrpb::PipelineRun> run2 = Run("run-000002");
  EXPECT_TRUE(fs::exists(run2->staging_dir()));

  absl::StatusOr<CommandResult> list = cluster_->RunMrctl({"pipeline", "list"});
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(list->out, HasSubstr("run-000002  orders_daily  2026-11-01  SUCCEEDED  6/6"));
}

TEST_F(PipelineTest, TheGateStopsTheRunAndLeavesTargetsAsTheyWere) {
  {
    pqxx::connection c(pg_.dsn());
    pqxx::work tx(c);
    tx.exec0("INSERT INTO daily_revenue VALUES ('2026-11-01', 'XX', 1.00, 1)");
    tx.commit();
  }
  const std::vector<std::string> before = Revenue();
  const std::string file = WritePipeline("> 0.1%");
  absl::StatusOr<CommandResult> r =
      cluster_->RunMrctl({"pipeline", "run", file, "--date", kDate, "--wait"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1) << r->out << r->err;
  EXPECT_THAT(r->out,
              HasSubstr("error: step 'orders_ok' failed: quality gate failed: 5 of 1005 rows "
                        "(0.498%) failed a rule: error_if > 0.1%"));
  EXPECT_EQ(Revenue(), before);
  EXPECT_FALSE(fs::exists(absl::StrCat(warehouse_, "/orders/dt=", kDate)));

  absl::StatusOr<mrpb::PipelineRun> run = Run("run-000001");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->state(), mrpb::PIPELINE_FAILED);
  EXPECT_EQ(Step(*run, "orders_ok")->tries(), 1u);  // a gate is not retried
  for (const char* skipped : {"revenue", "load_revenue", "load_orders"}) {
    EXPECT_EQ(Step(*run, skipped)->state(), mrpb::PIPELINE_SKIPPED) << skipped;
    EXPECT_EQ(Step(*run, skipped)->tries(), 0u) << skipped;
  }
  EXPECT_EQ(Step(*run, "users")->state(), mrpb::PIPELINE_SUCCEEDED);
}

TEST_F(PipelineTest, ATableRuleFailsTheGate) {
  // Freshness: orders of 2026-11-01 are more than 26 h old at the end of
  // 2026-11-03.
  const std::string file = WritePipeline("> 1%");
  WriteOrders("2026-11-03");
  // The files of 2026-11-03 hold created_at of 2026-11-01.
  absl::StatusOr<CommandResult> r =
      cluster_->RunMrctl({"pipeline", "run", file, "--date", "2026-11-03", "--wait"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1) << r->out << r->err;
  EXPECT_THAT(r->out, HasSubstr("freshness(created_at): newest created_at 2026-11-01T23:59:00Z "
                                "is older than 26h before the end of 2026-11-03"));
  EXPECT_EQ(Revenue(), std::vector<std::string>());
}

TEST_F(PipelineTest, AStepIsRetriedWithBackoffUntilItsInputArrives) {
  const std::string file = WritePipeline("> 1%", "    retries: 3\n    retry_delay: 1s\n");
  absl::StatusOr<CommandResult> r =
      cluster_->RunMrctl({"pipeline", "run", file, "--date", "2026-11-02"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->err;
  // Two tries fail (no files yet), then the files arrive.
  mrpb::PipelineRun run = WaitFor("run-000001", [&](const mrpb::PipelineRun& run) {
    const mrpb::PipelineStepStatus* s = Step(run, "orders");
    return s->tries() == 2 && s->state() == mrpb::PIPELINE_PENDING;
  });
  EXPECT_THAT(Step(run, "orders")->error(), HasSubstr("dt=2026-11-02/*.csv"));
  // The second retry waits twice the first delay.
  EXPECT_GE(Step(run, "orders")->next_try_ms() - Step(run, "orders")->try_start_ms(), 2000);
  WriteOrders("2026-11-02");
  run = WaitFor("run-000001", Ended);
  EXPECT_EQ(run.state(), mrpb::PIPELINE_SUCCEEDED) << run.DebugString();
  EXPECT_EQ(Step(run, "orders")->tries(), 3u);
  EXPECT_EQ(Revenue().size(), 4u);
}

TEST_F(PipelineTest, IndependentStepsRunAtOnce) {
  // Two branches, extract then validate, with nothing between them: both
  // extracts end in the runner's first pass, so both validate steps start
  // in that pass too (each ends in a later one, when its job has ended),
  // and their jobs run side by side on the cluster.
  const std::string yaml = absl::StrCat(R"Y(pipeline: two_branches
partition: {column: dt, timezone: UTC}
steps:
  - name: a
    extract: {files: ")Y", raw_, R"Y(/orders/dt={{dt}}/orders-a.csv", format: csv}
  - name: b
    extract: {files: ")Y", raw_, R"Y(/orders/dt={{dt}}/orders-b.csv", format: csv}
  - name: a_ok
    validate:
      input: a
      schema: {order_id: int64, amount: "decimal(12,2)"}
      rules: [{not_null: [order_id]}]
      error_if: "> 1%"
  - name: b_ok
    validate:
      input: b
      schema: {order_id: int64, amount: "decimal(12,2)"}
      rules: [{not_null: [order_id]}]
      error_if: "> 1%"
)Y");
  const std::string file = absl::StrCat(cluster_->root_dir(), "/two_branches.yaml");
  ASSERT_TRUE(WriteFileAtomically(file, yaml).ok());
  absl::StatusOr<CommandResult> r =
      cluster_->RunMrctl({"pipeline", "run", file, "--date", kDate, "--wait"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->out << r->err;
  absl::StatusOr<mrpb::PipelineRun> run = Run("run-000001");
  ASSERT_TRUE(run.ok());
  const mrpb::PipelineStepStatus* a = Step(*run, "a_ok");
  const mrpb::PipelineStepStatus* b = Step(*run, "b_ok");
  EXPECT_LE(a->start_ms(), b->finish_time_ms());
  EXPECT_LE(b->start_ms(), a->finish_time_ms());
  EXPECT_LT(a->start_ms(), a->finish_time_ms());
  EXPECT_LT(b->start_ms(), b->finish_time_ms());
  // Their jobs were submitted before either ended.
  ASSERT_EQ(a->job_ids_size(), 1);
  ASSERT_EQ(b->job_ids_size(), 1);
  absl::StatusOr<mrpb::JobStatus> ja = cluster_->GetJobStatus(a->job_ids(0));
  absl::StatusOr<mrpb::JobStatus> jb = cluster_->GetJobStatus(b->job_ids(0));
  ASSERT_TRUE(ja.ok() && jb.ok());
  EXPECT_LE(ja->submit_time_ms(), jb->finish_time_ms());
  EXPECT_LE(jb->submit_time_ms(), ja->finish_time_ms());
}

TEST_F(PipelineTest, AMasterKilledDuringTheLoadResumesTheRun) {
  const std::string file = WritePipeline("> 1%");
  // Hold the target locked, so that the load waits in PostgreSQL.
  pqxx::connection c(pg_.dsn());
  auto lock = std::make_unique<pqxx::work>(c);
  lock->exec0("LOCK TABLE daily_revenue IN ACCESS EXCLUSIVE MODE");

  absl::StatusOr<CommandResult> r =
      cluster_->RunMrctl({"pipeline", "run", file, "--date", kDate});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->err;
  WaitFor("run-000001", [&](const mrpb::PipelineRun& run) {
    return Step(run, "load_revenue")->state() == mrpb::PIPELINE_RUNNING;
  });
  absl::SleepFor(absl::Milliseconds(300));  // the load is in PostgreSQL
  ASSERT_TRUE(cluster_->master()->Kill().ok());
  lock->abort();
  lock.reset();
  EXPECT_EQ(Revenue(), std::vector<std::string>());  // rolled back with the master

  ASSERT_TRUE(cluster_->master()->Restart().ok());
  ASSERT_TRUE(cluster_->WaitForWorkerCount(2).ok());
  mrpb::PipelineRun run = WaitFor("run-000001", Ended);
  EXPECT_EQ(run.state(), mrpb::PIPELINE_SUCCEEDED) << run.DebugString();
  EXPECT_EQ(Revenue(), ReferenceRows());
  EXPECT_EQ(WarehouseLines(kDate).size(), static_cast<size_t>(kOrders));
}

TEST_F(PipelineTest, AWorkerKilledMidRunAndAMasterKilledMidJobChangeNothing) {
  const std::string file = WritePipeline("> 1%");
  absl::StatusOr<CommandResult> r =
      cluster_->RunMrctl({"pipeline", "run", file, "--date", kDate});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->err;
  // While orders_ok's job runs: kill a worker, then the master.
  WaitFor("run-000001", [&](const mrpb::PipelineRun& run) {
    return Step(run, "orders_ok")->job_ids_size() > 0;
  });
  ASSERT_TRUE(cluster_->worker(1)->Kill().ok());
  ASSERT_TRUE(cluster_->master()->Kill().ok());
  ASSERT_TRUE(cluster_->master()->Restart().ok());
  ASSERT_TRUE(cluster_->worker(1)->Restart().ok());
  ASSERT_TRUE(cluster_->WaitForWorkerCount(2).ok());
  mrpb::PipelineRun run = WaitFor("run-000001", Ended);
  EXPECT_EQ(run.state(), mrpb::PIPELINE_SUCCEEDED) << run.DebugString();
  EXPECT_EQ(Revenue(), ReferenceRows());
  EXPECT_EQ(WarehouseLines(kDate).size(), static_cast<size_t>(kOrders));
  EXPECT_EQ(Step(run, "orders_ok")->rows_failed(), Defects().size());
}

TEST_F(PipelineTest, RefusalsAreOneLineWithTheReason) {
  const std::string file = WritePipeline("> 1%");
  absl::StatusOr<CommandResult> r =
      cluster_->RunMrctl({"pipeline", "run", file, "--date", "2026-02-30"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err,
            "mrctl: pipeline run refused (BAD_DATE): bad date '2026-02-30' (expected "
            "YYYY-MM-DD, a calendar date)\n");
  r = cluster_->RunMrctl({"pipeline", "status", "run-000042"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err, "mrctl: no pipeline run run-000042\n");
  r = cluster_->RunMrctl({"pipeline", "run", file});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err,
            "mrctl: pipeline run needs --date YYYY-MM-DD (the logical date to run)\n");

  // A second run of a date while one runs.
  const std::string slow = WritePipeline("> 1%", "    retries: 5\n    retry_delay: 1h\n");
  r = cluster_->RunMrctl({"pipeline", "run", slow, "--date", "2026-11-05"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->err;
  r = cluster_->RunMrctl({"pipeline", "run", slow, "--date", "2026-11-05"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_THAT(r->err, HasSubstr("(ALREADY_RUNNING): pipeline orders_daily for 2026-11-05 is "
                                "already running as run-000001"));
}

TEST_F(PipelineTest, ABuiltInAppIsAStep) {
  // Word count as a pipeline step over text files, its rows loaded into
  // the files warehouse (Hive-style: the date is in the directory's name,
  // not added to rows that lack it).
  const std::string books = absl::StrCat(raw_, "/books/dt=", kDate);
  ASSERT_TRUE(MakeDirs(books).ok());
  ASSERT_TRUE(WriteFileAtomically(books + "/a.txt", "the cat the dog\nthe end\n").ok());
  const std::string yaml = absl::StrCat(R"Y(pipeline: words
partition: {column: dt, timezone: UTC}
steps:
  - name: books
    extract: {files: ")Y", raw_, R"Y(/books/dt={{dt}}/*.txt", format: text}
  - name: counts
    transform: {input: books, job: {app: wordcount, reduces: 2}}
  - name: load_counts
    load:
      input: counts
      files: {path: ")Y", warehouse_, R"Y(/words", format: jsonl, mode: overwrite_partition}
)Y");
  const std::string file = absl::StrCat(cluster_->root_dir(), "/words.yaml");
  ASSERT_TRUE(WriteFileAtomically(file, yaml).ok());
  absl::StatusOr<CommandResult> r =
      cluster_->RunMrctl({"pipeline", "run", file, "--date", kDate, "--wait"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->out << r->err << cluster_->LogTails();
  std::vector<std::string> lines;
  const std::string dir = absl::StrCat(warehouse_, "/words/dt=", kDate);
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!absl::StartsWith(e.path().filename().string(), "part-")) continue;
    for (absl::string_view l :
         absl::StrSplit(*ReadFileToString(e.path().string()), '\n', absl::SkipEmpty())) {
      lines.emplace_back(l);
    }
  }
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{
                       R"({"key":"cat","value":"1"})",
                       R"({"key":"dog","value":"1"})",
                       R"({"key":"end","value":"1"})",
                       R"({"key":"the","value":"3"})"}));
}

}  // namespace
}  // namespace test
}  // namespace mr
