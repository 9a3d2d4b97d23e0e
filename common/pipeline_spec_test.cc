#include "common/pipeline_spec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_replace.h"

namespace mr {
namespace {

// The pipeline of issue #8, with inputs named explicitly.
const char kOrders[] = R"yaml(pipeline: orders_daily
partition: {column: dt, timezone: UTC}
steps:
  - name: load_revenue
    load:
      input: revenue
      postgres: {dsn_env: DW_DSN, table: daily_revenue,
                 mode: upsert, key: [dt, country]}
  - name: orders
    extract: {files: "/data/raw/orders/dt={{dt}}/*.csv", format: csv}
  - name: users
    extract: {postgres: {dsn_env: SRC_DSN, table: users}}
    retries: 5
    retry_delay: 30s
    timeout: 10m
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
        - {row_count: {min: 1, max_growth: 2.0}}
        - {freshness: {column: created_at, max_age: 26h}}
      error_if: "> 0.5%"
      warn_if: "> 0"
      dead_letter: true
  - name: revenue
    after: [users]
    transform:
      join: {left: orders_ok, right: users, on: [user_id], type: left}
      aggregate: {group_by: [dt, country], sum: [amount], count: orders}
)yaml";

std::string Error(const std::string& yaml) {
  absl::StatusOr<PipelineSpec> spec = ParsePipeline(yaml, "p.yaml");
  if (spec.ok()) return "OK";
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(spec.status().message());
}

// kOrders with one text replaced (which must occur).
std::string With(const std::string& from, const std::string& to) {
  const std::string yaml = kOrders;
  EXPECT_NE(yaml.find(from), std::string::npos) << from;
  return absl::StrReplaceAll(yaml, {{from, to}});
}

TEST(PipelineSpecTest, TheIssuesPipelineParsesInDependencyOrder) {
  absl::StatusOr<PipelineSpec> spec = ParsePipeline(kOrders, "p.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "orders_daily");
  EXPECT_EQ(spec->partition_column, "dt");
  EXPECT_EQ(spec->timezone, "UTC");
  std::vector<std::string> order;
  for (const PipelineStep& s : spec->steps) order.push_back(s.name);
  EXPECT_EQ(order, (std::vector<std::string>{"orders", "users", "orders_ok",
                                             "revenue", "load_revenue"}));
  const PipelineStep& orders = spec->steps[0];
  EXPECT_EQ(orders.kind, PipelineStep::Kind::kExtract);
  EXPECT_EQ(orders.files, "/data/raw/orders/dt={{dt}}/*.csv");
  EXPECT_EQ(orders.format, "csv");
  EXPECT_EQ(orders.line, 9);
  EXPECT_EQ(orders.retries, 2);
  const PipelineStep& ok = spec->steps[2];
  EXPECT_EQ(ok.kind, PipelineStep::Kind::kValidate);
  EXPECT_EQ(ok.depends_on, std::vector<std::string>{"orders"});
  ASSERT_EQ(ok.schema.size(), 5u);
  EXPECT_EQ(ok.schema[2], (std::pair<std::string, std::string>{"amount", "decimal(12,2)"}));
  ASSERT_EQ(ok.rules.size(), 7u);
  EXPECT_EQ(ok.rules[0].columns, (std::vector<std::string>{"order_id", "user_id"}));
  EXPECT_EQ(ok.rules[2].kind, "range");
  EXPECT_EQ(*ok.rules[2].min, 0);
  EXPECT_FALSE(ok.rules[2].max.has_value());
  EXPECT_EQ(ok.rules[3].values, (std::vector<std::string>{"paid", "refunded"}));
  EXPECT_EQ(ok.rules[5].max_growth, 2.0);
  EXPECT_EQ(ok.rules[6].max_age, absl::Hours(26));
  EXPECT_EQ(ok.rules[6].line, 28);
  ASSERT_TRUE(ok.error_if.has_value());
  EXPECT_TRUE(ok.error_if->percent);
  EXPECT_EQ(ok.error_if->value, 0.5);
  EXPECT_FALSE(ok.warn_if->percent);
  EXPECT_EQ(ok.warn_if->value, 0);
  EXPECT_TRUE(ok.dead_letter);
  const PipelineStep& users = spec->steps[1];
  EXPECT_EQ(users.postgres_dsn_env, "SRC_DSN");
  EXPECT_EQ(users.postgres_table, "users");
  EXPECT_EQ(users.retries, 5);
  EXPECT_EQ(users.retry_delay, absl::Seconds(30));
  EXPECT_EQ(users.timeout, absl::Minutes(10));
  EXPECT_EQ(spec->steps[3].depends_on,
            (std::vector<std::string>{"users", "orders_ok"}));
  const PipelineStep& load = spec->steps[4];
  EXPECT_EQ(load.kind, PipelineStep::Kind::kLoad);
  EXPECT_EQ(load.mode, "upsert");
  EXPECT_EQ(load.key, (std::vector<std::string>{"dt", "country"}));
  EXPECT_EQ(load.postgres_table, "daily_revenue");
}

TEST(PipelineSpecTest, StructureErrorsNameTheLineAndColumn) {
  EXPECT_EQ(Error(With("    extract: {postgres", "    extrct: {postgres")),
            "p.yaml:12:5: unknown key 'extrct' in a step (expected one of: "
            "name, after, retries, retry_delay, timeout, extract, validate, "
            "transform, load)");
  EXPECT_EQ(Error(With("partition: {column: dt, timezone: UTC}",
                       "partition: {column: dt}")),
            "p.yaml:2:12: partition needs column and timezone (the zone its "
            "dates are in, e.g. UTC or Europe/Paris)");
  EXPECT_EQ(Error(With("timezone: UTC", "timezone: Mars/Olympus")),
            "p.yaml:2:35: unknown timezone 'Mars/Olympus' (UTC or a zone of "
            "the tz database, such as Europe/Paris)");
  EXPECT_EQ(Error(With("- name: users", "- name: orders")),
            "p.yaml:11:11: step 'orders': a second step named 'orders' (the "
            "first is on line 9)");
  EXPECT_EQ(Error(With("      input: revenue", "      input: revenu")),
            "p.yaml:4:5: step 'load_revenue' depends on 'revenu', which is not "
            "a step of this pipeline");
  EXPECT_EQ(Error(With("    after: [users]", "    after: [load_revenue]")),
            "p.yaml:4:5: the steps depend on each other in a cycle: "
            "load_revenue <- revenue <- load_revenue");
  EXPECT_EQ(Error(With("    after: [users]", "    after: [revenue]")),
            "p.yaml:32:5: step 'revenue' depends on itself");
  EXPECT_EQ(Error(With("  - name: orders\n    extract",
                       "  - name: orders\n    load: {input: users}\n    extract")),
            "p.yaml:9:5: step 'orders': needs exactly one of extract, "
            "validate, transform, load, not extract and load");
  EXPECT_EQ(Error("steps: [\n"), "p.yaml:2:1: end of sequence flow not found");
  // What an error quotes from the file is escaped (found by
  // tests/fuzz/pipeline_fuzzer: a raw newline made a two-line message).
  EXPECT_EQ(Error(With("pipeline: orders_daily", "pipeline: \"a\\tb\\n\"")),
            "p.yaml:1:11: pipeline 'a\\tb\\n' must be letters, digits and "
            "'_', not starting with a digit, at most 63");
  EXPECT_EQ(Error("pipeline: \"\\q\"\n"),
            "p.yaml:1:14: unknown escape character: q");
  EXPECT_EQ(Error("- a\n"),
            "p.yaml:1:1: a pipeline file is a mapping with pipeline, "
            "partition and steps");
  EXPECT_EQ(Error("pipeline: x\npartition: {column: dt, timezone: UTC}\n"),
            "p.yaml:1:1: missing 'steps'");
}

TEST(PipelineSpecTest, StepErrorsNameTheStep) {
  EXPECT_EQ(Error(With("amount: \"decimal(12,2)\"", "amount: \"decimal(2,12)\"")),
            "p.yaml:19:57: step 'orders_ok': column 'amount': unknown type "
            "'decimal(2,12)' (int64, double, string, bool, date, timestamp or "
            "decimal(P,S))");
  EXPECT_EQ(Error(With("{unique: [order_id]}", "{unique: [order]}")),
            "p.yaml:23:20: step 'orders_ok': unique: column 'order' is not in "
            "the schema");
  EXPECT_EQ(Error(With("error_if: \"> 0.5%\"", "error_if: \"< 0.5%\"")),
            "p.yaml:29:17: step 'orders_ok': error_if must be \"> N\" (rows) "
            "or \"> P%\" (of the rows)");
  EXPECT_EQ(Error(With("warn_if: \"> 0\"", "warn_if: \"> 1.5\"")),
            "p.yaml:30:16: step 'orders_ok': warn_if: a row count must be a "
            "whole number");
  EXPECT_EQ(Error(With("dt={{dt}}", "dt={{date}}")),
            "p.yaml:10:22: step 'orders': files: unknown variable {{date}} "
            "(the only one is {{dt}})");
  EXPECT_EQ(Error(With("mode: upsert, key: [dt, country]", "mode: upsert")),
            "p.yaml:7:17: step 'load_revenue': upsert needs key (the columns "
            "of the target's unique key)");
  EXPECT_EQ(Error(With("dsn_env: DW_DSN", "dsn_env: AWS_SECRET_ACCESS_KEY")),
            "p.yaml:7:27: step 'load_revenue': dsn_env "
            "'AWS_SECRET_ACCESS_KEY' must name a variable ending in _DSN (the "
            "master reads no other for a pipeline)");
  EXPECT_EQ(Error(With("mode: upsert", "mode: merge")),
            "p.yaml:8:24: step 'load_revenue': unknown mode 'merge' (upsert, "
            "overwrite_partition or append)");
  EXPECT_EQ(Error(With("pattern: \"^[a-z]+$\"", "pattern: \"^[a-z+$\"")),
            "p.yaml:26:45: step 'orders_ok': regex: bad pattern: missing ]: "
            "[a-z+$");
  EXPECT_EQ(Error(With("max_age: 26h", "max_age: soon")),
            "p.yaml:28:53: step 'orders_ok': max_age must be a positive "
            "duration such as 30s, 10m or 26h");
  EXPECT_EQ(Error(With("retries: 5", "retries: -1")),
            "p.yaml:13:14: step 'users': retries must be a whole number from 0 "
            "to 100");
  EXPECT_EQ(Error(With("{range: {column: amount, min: 0}}",
                       "{range: {column: amount, min: 5, max: 1}}")),
            "p.yaml:24:19: step 'orders_ok': range: min is above max");
  EXPECT_EQ(Error(With("format: csv}", "format: parquet}")),
            "p.yaml:10:66: step 'orders': unknown format 'parquet' (text, csv "
            "or jsonl)");
}

// Every transform operation (pipeline_spec.h gives the order they run in).
const char kShop[] = R"yaml(pipeline: shop
partition: {column: dt, timezone: UTC}
steps:
  - name: orders
    extract: {files: "/in/orders.jsonl", format: jsonl}
  - name: users
    extract: {files: "/in/users.jsonl", format: jsonl}
  - name: revenue
    transform:
      join: {left: orders, right: users, on: [user_id], type: left}
      filter: ["amount > 0", "status == 'it''s'", country != null, "n<=-1.5e3"]
      cast: {amount: "decimal(12,2)", created_at: timestamp}
      dedupe: {key: [order_id], latest_by: created_at}
      aggregate: {group_by: [dt, country], sum: [amount], min: [amount],
                  max: [created_at], avg: [amount], count: orders}
      rename: {sum_amount: revenue, country: market}
      select: [dt, market, revenue, orders]
  - name: paid
    transform:
      input: orders
      filter: "paid == true"
      select: order_id
)yaml";

std::string ShopError(const std::string& from, const std::string& to) {
  const std::string yaml = kShop;
  EXPECT_NE(yaml.find(from), std::string::npos) << from;
  return Error(absl::StrReplaceAll(yaml, {{from, to}}));
}

TEST(PipelineSpecTest, TransformOperationsParse) {
  using Cmp = PipelineStep::Transform::Comparison;
  absl::StatusOr<PipelineSpec> spec = ParsePipeline(kShop, "p.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->steps.size(), 4u);
  const PipelineStep& revenue = spec->steps[2];
  EXPECT_EQ(revenue.depends_on, (std::vector<std::string>{"orders", "users"}));
  const PipelineStep::Transform& t = revenue.transform;
  EXPECT_EQ(t.input, "");
  ASSERT_TRUE(t.join.has_value());
  EXPECT_EQ(t.join->left, "orders");
  EXPECT_EQ(t.join->right, "users");
  EXPECT_EQ(t.join->on, std::vector<std::string>{"user_id"});
  EXPECT_TRUE(t.join->left_outer);
  ASSERT_EQ(t.filter.size(), 4u);
  EXPECT_EQ(t.filter[0].column, "amount");
  EXPECT_EQ(t.filter[0].op, Cmp::Op::kGt);
  EXPECT_EQ(t.filter[0].literal, Cmp::Literal::kNumber);
  EXPECT_EQ(t.filter[0].value, "0");
  EXPECT_EQ(t.filter[0].text, "amount > 0");
  EXPECT_EQ(t.filter[1].op, Cmp::Op::kEq);
  EXPECT_EQ(t.filter[1].literal, Cmp::Literal::kString);
  EXPECT_EQ(t.filter[1].value, "it's");
  EXPECT_EQ(t.filter[2].column, "country");
  EXPECT_EQ(t.filter[2].op, Cmp::Op::kNe);
  EXPECT_EQ(t.filter[2].literal, Cmp::Literal::kNull);
  EXPECT_EQ(t.filter[2].value, "");
  EXPECT_EQ(t.filter[3].column, "n");
  EXPECT_EQ(t.filter[3].op, Cmp::Op::kLe);
  EXPECT_EQ(t.filter[3].value, "-1.5e3");
  EXPECT_EQ(t.cast, (std::vector<std::pair<std::string, std::string>>{
                        {"amount", "decimal(12,2)"}, {"created_at", "timestamp"}}));
  ASSERT_TRUE(t.dedupe.has_value());
  EXPECT_EQ(t.dedupe->key, std::vector<std::string>{"order_id"});
  EXPECT_EQ(t.dedupe->latest_by, "created_at");
  ASSERT_TRUE(t.aggregate.has_value());
  EXPECT_EQ(t.aggregate->group_by, (std::vector<std::string>{"dt", "country"}));
  EXPECT_EQ(t.aggregate->count, "orders");
  EXPECT_EQ(AggregateColumns(*t.aggregate),
            (std::vector<std::string>{"dt", "country", "sum_amount", "min_amount",
                                      "max_created_at", "avg_amount", "orders"}));
  EXPECT_EQ(t.rename, (std::vector<std::pair<std::string, std::string>>{
                          {"sum_amount", "revenue"}, {"country", "market"}}));
  EXPECT_EQ(t.select,
            (std::vector<std::string>{"dt", "market", "revenue", "orders"}));

  const PipelineStep::Transform& paid = spec->steps[3].transform;
  EXPECT_EQ(paid.input, "orders");
  EXPECT_FALSE(paid.join.has_value());
  ASSERT_EQ(paid.filter.size(), 1u);
  EXPECT_EQ(paid.filter[0].literal, Cmp::Literal::kBool);
  EXPECT_EQ(paid.filter[0].value, "true");
  EXPECT_FALSE(paid.dedupe.has_value());
  EXPECT_FALSE(paid.aggregate.has_value());
  EXPECT_EQ(paid.select, std::vector<std::string>{"order_id"});
}

TEST(PipelineSpecTest, TransformErrorsPointIntoTheComparison) {
  // Line 11 is `      filter: ["amount > 0", ...`: the first comparison's
  // text starts at column 17, after its quote.
  EXPECT_EQ(ShopError("\"amount > 0\"", "\"amount ~ 0\""),
            "p.yaml:11:24: step 'revenue': filter: expected ==, !=, <, <=, > "
            "or >= after 'amount'");
  EXPECT_EQ(ShopError("\"amount > 0\"", "\"amount > zero\""),
            "p.yaml:11:26: step 'revenue': filter: 'zero' is not a value (a "
            "number, a 'quoted string', true, false or null)");
  EXPECT_EQ(ShopError("\"amount > 0\"", "\"amount > 0 and 1\""),
            "p.yaml:11:28: step 'revenue': filter: unexpected text after the "
            "value (one comparison per item; the items of the list are ANDed)");
  EXPECT_EQ(ShopError("\"amount > 0\"", "\"amount >\""),
            "p.yaml:11:25: step 'revenue': filter: expected a value after the "
            "operator (a number, a 'quoted string', true, false or null)");
  EXPECT_EQ(ShopError("\"amount > 0\"", "\"9amount > 0\""),
            "p.yaml:11:17: step 'revenue': filter: expected a column name (a "
            "comparison is COLUMN OP VALUE, such as amount > 0)");
  // A plain scalar: `country != null` starts at column 51.
  EXPECT_EQ(ShopError("country != null", "country < null"),
            "p.yaml:11:61: step 'revenue': filter: null goes only with == and "
            "!= (is null, is not null)");
  EXPECT_EQ(ShopError("'it''s'", "'its"),
            "p.yaml:11:41: step 'revenue': filter: a string without its "
            "closing quote");
  EXPECT_EQ(ShopError("filter: \"paid == true\"", "filter: {paid: true}"),
            "p.yaml:21:15: step 'paid': filter must be a comparison or a "
            "non-empty list of them, such as [\"amount > 0\", \"status == "
            "'paid'\"]");
}

TEST(PipelineSpecTest, TransformErrorsNameTheOperation) {
  EXPECT_EQ(ShopError("created_at: timestamp}", "created_at: datetime}"),
            "p.yaml:12:51: step 'revenue': cast: column 'created_at': unknown "
            "type 'datetime' (int64, double, string, bool, date, timestamp or "
            "decimal(P,S))");
  EXPECT_EQ(ShopError("{group_by: [dt, country], sum", "{sum"),
            "p.yaml:14:18: step 'revenue': aggregate needs group_by");
  EXPECT_EQ(ShopError("{sum_amount: revenue, country: market}",
                      "{sum_amount: revenue, country: revenue}"),
            "p.yaml:16:46: step 'revenue': rename: 'revenue' is the new name "
            "of both 'sum_amount' and 'country'");
  EXPECT_EQ(ShopError("{sum_amount: revenue, country: market}",
                      "{sum_amount: orders}"),
            "p.yaml:16:28: step 'revenue': rename: 'orders' is already a "
            "column of the aggregate's output (dt, country, sum_amount, "
            "min_amount, max_created_at, avg_amount, orders)");
  EXPECT_EQ(ShopError("{sum_amount: revenue, country: market}",
                      "{sum_amnt: revenue}"),
            "p.yaml:16:15: step 'revenue': rename: 'sum_amnt' is not a column "
            "of the aggregate's output (dt, country, sum_amount, min_amount, "
            "max_created_at, avg_amount, orders)");
  EXPECT_EQ(ShopError("select: [dt, market,", "select: [dt, country,"),
            "p.yaml:17:20: step 'revenue': select: 'country' is not a column "
            "of the aggregate's output (after rename: dt, market, revenue, "
            "min_amount, max_created_at, avg_amount, orders)");
  EXPECT_EQ(ShopError("count: orders}", "count: sum_amount}"),
            "p.yaml:15:60: step 'revenue': aggregate: two output columns "
            "named 'sum_amount'");
  EXPECT_EQ(ShopError("count: orders}", "count: [a, b]}"),
            "p.yaml:15:60: step 'revenue': count must be a non-empty value");
  EXPECT_EQ(ShopError(", latest_by: created_at}", "}"),
            "p.yaml:13:15: step 'revenue': dedupe needs key and latest_by (the "
            "column whose greatest value is kept)");
  EXPECT_EQ(ShopError("type: left}", "type: outer}"),
            "p.yaml:10:63: step 'revenue': join type must be inner or left");
  EXPECT_EQ(ShopError("      input: orders\n", "      input: orders\n      join: {}\n"),
            "p.yaml:20:7: step 'paid': transform needs exactly one of input and "
            "join");
}

TEST(PipelineSpecTest, AMissingFileIsNotFoundNamingIt) {
  absl::StatusOr<PipelineSpec> spec = LoadPipelineFile("/nonexistent/p.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(spec.status().message(),
            "cannot read pipeline file /nonexistent/p.yaml: No such file or "
            "directory");
}

TEST(PipelineSpecTest, AJobStepRunsAnAppWithItsParams) {
  const std::string yaml = R"yaml(pipeline: words
partition: {column: dt, timezone: UTC}
steps:
  - name: books
    extract: {files: "/data/books/dt={{dt}}/*.txt", format: text}
  - name: counts
    transform:
      input: books
      job: {app: grep, params: {pattern: "dt={{dt}}", ignore_case: "true"}, reduces: 3}
)yaml";
  absl::StatusOr<PipelineSpec> spec = ParsePipeline(yaml, "w.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  const PipelineStep& step = spec->steps[1];
  ASSERT_TRUE(step.transform.job.has_value());
  EXPECT_EQ(step.transform.job->app, "grep");
  EXPECT_EQ(step.transform.job->params,
            (std::vector<std::pair<std::string, std::string>>{{"pattern", "dt={{dt}}"},
                                                              {"ignore_case", "true"}}));
  EXPECT_EQ(step.transform.job->reduces, 3u);
  EXPECT_EQ(step.transform.input, "books");

  auto with = [&](const std::string& job) {
    std::string y = yaml;
    const std::string from =
        "job: {app: grep, params: {pattern: \"dt={{dt}}\", ignore_case: \"true\"}, reduces: 3}";
    y.replace(y.find(from), from.size(), job);
    return Error(y);
  };
  EXPECT_EQ(with("job: {params: {a: b}}"),
            "p.yaml:9:12: step 'counts': job needs app (a built-in app, such as wordcount)");
  EXPECT_EQ(with("job: {app: grep, reduces: 0}"),
            "p.yaml:9:33: step 'counts': reduces must be an integer from 1 to 10000");
  EXPECT_EQ(with("job: {app: grep, params: [a]}"),
            "p.yaml:9:32: step 'counts': params must map each name to its value");
  EXPECT_EQ(with("job: {app: grep, mappers: 2}"),
            "p.yaml:9:24: step 'counts': unknown key 'mappers' in job (expected one of: app, "
            "params, reduces)");
  EXPECT_EQ(with("job: {app: grep}\n      filter: \"a > 1\""),
            "p.yaml:10:15: step 'counts': a transform with a job has no filter (put it in a "
            "step of its own)");
}

TEST(PipelineSpecTest, StepsReadRowsFromStepsThatHaveThem) {
  EXPECT_EQ(Error(With("      input: orders\n      schema", "      input: load_revenue\n      schema")),
            "p.yaml:16:5: step 'orders_ok' reads 'load_revenue', a load, which has no rows "
            "to read (use after: to wait for it)");
  EXPECT_EQ(Error(With("      input: revenue", "      input: orders")),
            "p.yaml:4:5: load step 'load_revenue' reads 'orders', an extract of files: a "
            "load takes typed rows, from a validate, transform or PostgreSQL extract step");
}

TEST(PipelineSpecTest, TemplatesAndDates) {
  absl::StatusOr<PipelineSpec> spec = ParsePipeline(
      "pipeline: p\npartition: {column: day, timezone: UTC}\nsteps:\n"
      "  - name: a\n    extract: {files: \"/in/{{ day }}/x-{{day}}.csv\", format: csv}\n",
      "p.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(ExpandTemplate(spec->steps[0].files, *spec, "2026-11-01"),
            "/in/2026-11-01/x-2026-11-01.csv");
  // Only the partition column's variable; other text as it is.
  EXPECT_EQ(ExpandTemplate("{{dt}} {{ day}} {{x", *spec, "2026-11-01"),
            "{{dt}} 2026-11-01 {{x");
  EXPECT_TRUE(IsIsoDate("2024-02-29"));
  EXPECT_TRUE(IsIsoDate("0001-01-01"));
  for (const char* bad : {"2026-02-29", "2026-13-01", "2026-1-01", "0000-01-01",
                          "2026-11-01 ", "20261101", ""}) {
    EXPECT_FALSE(IsIsoDate(bad)) << bad;
  }
}

}  // namespace
}  // namespace mr
