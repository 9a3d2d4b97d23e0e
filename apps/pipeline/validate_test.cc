#include "apps/pipeline/validate.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "apps/internal/fake_context.h"
#include "apps/pipeline/plan.h"
#include "apps/pipeline/rows.h"
#include "common/csv.h"
#include "common/pipeline_spec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mr {
namespace pipeline {
namespace {

using apps::internal::FakeContext;
using apps::internal::VectorValues;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// ---- the codec (rows.h)

ColumnType Type(const std::string& text) {
  absl::StatusOr<ColumnType> t = ParseColumnType(text);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : ColumnType();
}

// The value's JSON, or "error: REASON".
std::string Json(const std::string& type, const std::string& raw,
                 const std::string& zone = "UTC") {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(zone, &tz));
  const ColumnType t = Type(type);
  Value v;
  absl::Status s = ParseValue("c", t, raw, tz, &v);
  if (!s.ok()) return "error: " + std::string(s.message());
  std::string out;
  AppendJson(t, v, &out);
  return out;
}

TEST(RowsTest, ColumnTypes) {
  EXPECT_EQ(Type("decimal(12, 2)").name, "decimal(12,2)");
  EXPECT_EQ(Type("decimal(12, 2)").precision, 12);
  EXPECT_EQ(Type("decimal(12, 2)").scale, 2);
  EXPECT_EQ(Type("timestamp").kind, ColumnKind::kTimestamp);
  EXPECT_EQ(ParseColumnType("decimal(2,3)").status().message(),
            "unknown column type 'decimal(2,3)' (int64, double, string, bool, "
            "date, timestamp or decimal(P,S))");
  EXPECT_FALSE(ParseColumnType("text").ok());
  EXPECT_TRUE(IsNumeric(ColumnKind::kDecimal));
  EXPECT_FALSE(IsNumeric(ColumnKind::kDate));
}

TEST(RowsTest, Int64AndDouble) {
  EXPECT_EQ(Json("int64", " 42 "), "42");
  EXPECT_EQ(Json("int64", "+7"), "7");
  EXPECT_EQ(Json("int64", "-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(Json("int64", "1.5"), "error: c: '1.5' is not an int64");
  EXPECT_EQ(Json("int64", "9223372036854775808"),
            "error: c: '9223372036854775808' is not an int64");
  EXPECT_EQ(Json("double", "0.1"), "0.1");
  EXPECT_EQ(Json("double", "1e21"), "1e+21");
  EXPECT_EQ(Json("double", "0.30000000000000004"), "0.30000000000000004");
  EXPECT_EQ(Json("double", "100"), "100");
  EXPECT_EQ(Json("double", "nan"), "error: c: 'nan' is not a double");
  EXPECT_EQ(Json("double", "1e999"), "error: c: '1e999' is not a double");
}

TEST(RowsTest, Decimals) {
  EXPECT_EQ(Json("decimal(5,2)", "12.5"), "12.50");
  EXPECT_EQ(Json("decimal(5,2)", "1.500"), "1.50");
  EXPECT_EQ(Json("decimal(5,2)", "0001.5"), "1.50");
  EXPECT_EQ(Json("decimal(5,2)", ".5"), "0.50");
  EXPECT_EQ(Json("decimal(5,2)", "5."), "5.00");
  EXPECT_EQ(Json("decimal(5,2)", "-0.00"), "0.00");
  EXPECT_EQ(Json("decimal(5,2)", "-3"), "-3.00");
  EXPECT_EQ(Json("decimal(5,2)", "+999.99"), "999.99");
  EXPECT_EQ(Json("decimal(5,2)", "1.005"),
            "error: c: '1.005' is not a decimal(5,2): more than 2 digits after the point");
  EXPECT_EQ(Json("decimal(5,2)", "1234.5"),
            "error: c: '1234.5' is not a decimal(5,2): more than 3 digits before the point");
  EXPECT_EQ(Json("decimal(5,2)", "1e2"), "error: c: '1e2' is not a decimal(5,2)");
  EXPECT_EQ(Json("decimal(5,2)", "."), "error: c: '.' is not a decimal(5,2)");
  EXPECT_EQ(Json("decimal(5,2)", "1,5"), "error: c: '1,5' is not a decimal(5,2)");
  EXPECT_EQ(Json("decimal(3,0)", "12.0"), "12");
  EXPECT_EQ(Json("decimal(2,2)", "0.25"), "0.25");
  EXPECT_EQ(Json("decimal(38,0)", "12345678901234567890123456789012345678"),
            "12345678901234567890123456789012345678");

  Value v;
  ASSERT_TRUE(ParseValue("c", Type("decimal(12,2)"), "-12.5", absl::UTCTimeZone(), &v).ok());
  EXPECT_EQ(v.text, "-12.50");
  EXPECT_EQ(v.number, -12.5);
}

TEST(RowsTest, BoolsDatesStringsNulls) {
  EXPECT_EQ(Json("bool", "T"), "true");
  EXPECT_EQ(Json("bool", "False"), "false");
  EXPECT_EQ(Json("bool", "1"), "true");
  EXPECT_EQ(Json("bool", "0"), "false");
  EXPECT_EQ(Json("bool", "yes"), "error: c: 'yes' is not a bool");
  EXPECT_EQ(Json("date", "2024-02-29"), "\"2024-02-29\"");
  EXPECT_EQ(Json("date", "2026-02-29"),
            "error: c: '2026-02-29' is not a date: expected YYYY-MM-DD");
  EXPECT_EQ(Json("date", "2026-1-01"),
            "error: c: '2026-1-01' is not a date: expected YYYY-MM-DD");
  EXPECT_EQ(Json("string", "a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(Json("string", " x "), "\" x \"");
  EXPECT_EQ(Json("string", ""), "null");
  EXPECT_EQ(Json("int64", ""), "null");
  EXPECT_EQ(Json("date", "  "), "null");
  EXPECT_EQ(Json("timestamp", ""), "null");

  // A date's epoch seconds: its midnight in the pipeline's timezone.
  absl::TimeZone paris;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Paris", &paris));
  Value v;
  ASSERT_TRUE(ParseValue("d", Type("date"), "2026-10-31", absl::UTCTimeZone(), &v).ok());
  EXPECT_EQ(v.epoch_seconds, 1793404800);
  ASSERT_TRUE(ParseValue("d", Type("date"), "2026-10-31", paris, &v).ok());
  EXPECT_EQ(v.epoch_seconds, 1793404800 - 3600);
}

TEST(RowsTest, Timestamps) {
  const std::string paris = "Europe/Paris";
  EXPECT_EQ(Json("timestamp", "2026-11-01T12:00:00Z"), "\"2026-11-01T12:00:00Z\"");
  EXPECT_EQ(Json("timestamp", "2026-11-01 12:00:00", paris), "\"2026-11-01T11:00:00Z\"");
  // Summer time: UTC+2.
  EXPECT_EQ(Json("timestamp", "2026-07-01 12:00:00", paris), "\"2026-07-01T10:00:00Z\"");
  EXPECT_EQ(Json("timestamp", "2026-11-01T12:00:00+05:30", paris),
            "\"2026-11-01T06:30:00Z\"");
  EXPECT_EQ(Json("timestamp", "2026-11-01T00:30:00+0100"), "\"2026-10-31T23:30:00Z\"");
  EXPECT_EQ(Json("timestamp", "2026-11-01t00:30:00-02"), "\"2026-11-01T02:30:00Z\"");
  EXPECT_EQ(Json("timestamp", "2026-11-01T12:00:00.250z"), "\"2026-11-01T12:00:00.25Z\"");
  EXPECT_EQ(Json("timestamp", "2026-11-01T12:00:00.000Z"), "\"2026-11-01T12:00:00Z\"");
  EXPECT_EQ(Json("timestamp", "2026-11-01T24:00:00Z"),
            "error: c: '2026-11-01T24:00:00Z' is not a timestamp");
  EXPECT_EQ(Json("timestamp", "2026-11-01T12:00:00+05:"),
            "error: c: '2026-11-01T12:00:00+05:' is not a timestamp");
  EXPECT_EQ(Json("timestamp", "2026-11-01"), "error: c: '2026-11-01' is not a timestamp");
  EXPECT_EQ(Json("timestamp", "2026-11-01T12:00:00.Z"),
            "error: c: '2026-11-01T12:00:00.Z' is not a timestamp");
  EXPECT_EQ(Json("timestamp", "0001-01-01T00:30:00+01:00"),
            "error: c: '0001-01-01T00:30:00+01:00' is not a timestamp: outside years "
            "1 to 9999 in UTC");

  Value v;
  ASSERT_TRUE(ParseValue("t", Type("timestamp"), "2026-11-01T12:00:00+05:30",
                         absl::UTCTimeZone(), &v)
                  .ok());
  EXPECT_EQ(v.epoch_seconds, 1793514600);
  EXPECT_EQ(v.number, 1793514600.0);
}

TEST(RowsTest, ExcerptCutsAtCharacters) {
  EXPECT_EQ(Excerpt("short"), "short");
  EXPECT_EQ(Excerpt(std::string(50, 'a')), std::string(40, 'a') + "...");
  // "é" is two bytes: a cut between them backs off to before it.
  EXPECT_EQ(Excerpt("abc\xc3\xa9", 4), "abc...");
  EXPECT_EQ(FormatNumber(0), "0");
  EXPECT_EQ(FormatNumber(0.5), "0.5");
  EXPECT_EQ(FormatNumber(1e6), "1000000");
}

// ---- the job

// RecordFields as the engine's CSV reader gives them: names past the
// header's last column are "".
class TableFields : public RecordFields {
 public:
  TableFields(std::vector<std::string> names, std::vector<std::string> values)
      : names_(std::move(names)), values_(std::move(values)) {}
  size_t size() const override { return values_.size(); }
  std::string_view name(size_t i) const override {
    return i < names_.size() ? std::string_view(names_[i]) : std::string_view();
  }
  std::string_view value(size_t i) const override { return values_[i]; }
  bool Find(std::string_view name, std::string_view* value) const override {
    for (size_t i = 0; i < std::min(names_.size(), values_.size()); ++i) {
      if (names_[i] == name) {
        *value = values_[i];
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::string> values_;
};

struct TestRecord {
  std::string file;
  uint64_t offset = 0;
  std::string line;
  std::shared_ptr<TableFields> fields;  // null: a text record

  InputRecord ToInput() const {
    InputRecord r;
    r.file = file;
    r.offset = offset;
    r.line = line;
    r.fields = fields.get();
    return r;
  }
};

// Writes `content` to `name` in the test's temp directory and reads it as
// the engine reads CSV with a header: records by RFC 4180, empty lines
// skipped, the first record naming the columns.
std::vector<TestRecord> CsvFile(const std::string& name, const std::string& content,
                                std::string* path_out = nullptr) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  if (path_out) *path_out = path;
  std::vector<TestRecord> records;
  std::vector<std::string> names;
  bool header = true;
  std::string_view rest = content;
  uint64_t offset = 0;
  while (!rest.empty()) {
    const size_t n = CsvRecordLength(rest, true);
    std::string_view rec = rest.substr(0, n);
    if (!rec.empty() && rec.back() == '\n') rec.remove_suffix(1);
    if (!rec.empty() && rec.back() == '\r') rec.remove_suffix(1);
    if (!rec.empty()) {
      std::vector<std::string> fields;
      EXPECT_TRUE(SplitCsvRecord(rec, ',', &fields).ok());
      if (header) {
        names = fields;
        header = false;
      } else {
        records.push_back({path, offset, std::string(rec),
                           std::make_shared<TableFields>(names, fields)});
      }
    }
    rest.remove_prefix(n);
    offset += n;
  }
  return records;
}

struct RunResult {
  std::vector<std::string> rows;          // the output, in order
  std::vector<std::string> dead_letters;  // the side output, in order
  std::map<std::string, int64_t> counters;
  std::string failure;
};

// A key group's values with each one's own key, as the engine hands them
// to a job that groups keys.
class KeyedValues : public ValueIterator {
 public:
  explicit KeyedValues(std::vector<std::pair<std::string, std::string>> kvs)
      : kvs_(std::move(kvs)) {}
  bool Next(std::string_view* value) override {
    if (next_ == kvs_.size()) return false;
    *value = kvs_[next_++].second;
    return true;
  }
  std::string_view key() const override {
    return next_ == 0 ? std::string_view() : std::string_view(kvs_[next_ - 1].first);
  }

 private:
  std::vector<std::pair<std::string, std::string>> kvs_;
  size_t next_ = 0;
};

// Runs each element of `maps` as a map task, then, unless the job is
// map-only, one reduce over the map output as the engine gives it: sorted
// by key, one Reduce() call per run of keys with the same GroupKey(). A
// map-only job's output is its maps', in map order.
RunResult RunJob(const std::map<std::string, std::string>& params,
                 const std::vector<std::vector<TestRecord>>& maps) {
  RunResult result;
  auto collect = [&](const FakeContext& ctx) {
    for (const auto& [k, v] : ctx.emits) {
      EXPECT_EQ(v, "");
      result.rows.push_back(k);
    }
    for (const auto& [output, kvs] : ctx.side_emits) {
      EXPECT_EQ(output, "dead_letter");
      for (const auto& [k, v] : kvs) {
        EXPECT_EQ(v, "");
        result.dead_letters.push_back(k);
      }
    }
  };
  bool map_only = false;
  {
    PipelineValidate job;
    EXPECT_EQ(job.Setup(params), "");
    map_only = job.Traits().map_only;
  }
  auto add_counters = [&](const FakeContext& ctx) {
    for (const auto& [name, value] : ctx.counters) {
      int64_t& c = result.counters[name];
      c = IsMaxCounter(name) ? std::max(c, value) : c + value;
    }
  };
  std::vector<std::pair<std::string, std::string>> shuffle;
  for (size_t m = 0; m < maps.size(); ++m) {
    PipelineValidate job;
    EXPECT_EQ(job.Setup(params), "");
    FakeContext ctx;
    ctx.task_index = static_cast<uint32_t>(m);
    for (const TestRecord& r : maps[m]) job.Map(r.ToInput(), ctx);
    job.Finish(ctx);
    add_counters(ctx);
    result.failure += ctx.failure;
    if (map_only) {
      collect(ctx);
      continue;
    }
    EXPECT_THAT(ctx.side_emits, IsEmpty());
    shuffle.insert(shuffle.end(), ctx.emits.begin(), ctx.emits.end());
  }
  if (map_only) return result;
  std::stable_sort(shuffle.begin(), shuffle.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  PipelineValidate job;
  EXPECT_EQ(job.Setup(params), "");
  FakeContext ctx;
  ctx.kind = TaskKind::kReduce;
  for (size_t i = 0; i < shuffle.size();) {
    const std::string group(job.GroupKey(shuffle[i].first));
    std::vector<std::pair<std::string, std::string>> values;
    for (; i < shuffle.size() && job.GroupKey(shuffle[i].first) == group; ++i) {
      values.push_back(shuffle[i]);
    }
    KeyedValues it(std::move(values));
    job.Reduce(group, it, ctx);
  }
  job.Finish(ctx);
  add_counters(ctx);
  result.failure += ctx.failure;
  collect(ctx);
  return result;
}

constexpr char kOrdersYaml[] = R"yaml(pipeline: orders_daily
partition: {column: dt, timezone: Europe/Paris}
steps:
  - name: orders
    extract: {files: "/data/orders/dt={{dt}}/*.csv", format: csv}
  - name: orders_ok
    validate:
      input: orders
      schema: {order_id: int64, user_id: int64, amount: "decimal(12,2)",
               status: string, created_at: timestamp}
      rules:
        - {not_null: [order_id, user_id]}
        - {unique: [order_id]}
        - {range: {column: amount, min: 0, max: 1000}}
        - {accepted_values: {column: status, values: [paid, refunded]}}
        - {regex: {column: status, pattern: "^[a-z]+$"}}
        - {row_count: {min: 1}}
        - {freshness: {column: created_at, max_age: 26h}}
      error_if: "> 10"
      dead_letter: DEAD_LETTER
)yaml";

std::string OrdersYaml(bool dead_letter = true) {
  std::string yaml = kOrdersYaml;
  yaml.replace(yaml.find("DEAD_LETTER"), 11, dead_letter ? "true" : "false");
  return yaml;
}

std::map<std::string, std::string> Params(const std::string& yaml,
                                          const std::string& step = "orders_ok",
                                          const std::string& format = "csv") {
  return {{"pipeline", yaml}, {"pipeline_file", "orders.yaml"}, {"step", step},
          {"dt", "2026-11-01"}, {"input_format", format}};
}

constexpr char kOrdersCsv[] =
    "order_id,user_id,amount,status,created_at\n"            // line 1
    "1,10,12.5,paid,2026-11-01 10:00:00\n"                   // 2
    "2,11,0,refunded,2026-11-01T08:30:00Z\n"                 // 3
    "3,,5.00,paid,2026-11-01T09:00:00+02:00\n"               // 4
    "\n"                                                     // 5
    "1,12,7.25,paid,2026-11-01 11:00:00\n"                   // 6
    "4,13,abc,paid,2026-11-01 23:00:00\n"                    // 7
    "5,14,-1,paid,2026-11-01 12:00:00\n"                     // 8
    "6,15,3,shipped,2026-11-01 12:00:00\n"                   // 9
    "7,16,3,Paid,2026-11-01 12:00:00\n"                      // 10
    "8,17,1.5,\"pa\nid\",2026-11-01 12:00:00\r\n"            // 11-12
    "9,18,2,paid,\n";                                        // 13

std::string Offset(const std::string& text) {
  return std::to_string(std::string_view(kOrdersCsv).find(text));
}

TEST(PipelineValidateTest, EveryRuleKind) {
  std::string path;
  const std::vector<TestRecord> records = CsvFile("orders.csv", kOrdersCsv, &path);
  ASSERT_EQ(records.size(), 10u);
  const RunResult r = RunJob(Params(OrdersYaml()), {records});
  EXPECT_EQ(r.failure, "");
  // The first row of order 1 passes; the later one is a duplicate.
  EXPECT_THAT(r.rows,
              ElementsAre(R"j({"order_id":1,"user_id":10,"amount":12.50,"status":"paid",)j"
                          R"j("created_at":"2026-11-01T09:00:00Z","dt":"2026-11-01"})j",
                          R"j({"order_id":2,"user_id":11,"amount":0.00,"status":"refunded",)j"
                          R"j("created_at":"2026-11-01T08:30:00Z","dt":"2026-11-01"})j",
                          R"j({"order_id":9,"user_id":18,"amount":2.00,"status":"paid",)j"
                          R"j("created_at":null,"dt":"2026-11-01"})j"));
  const std::string file = "{\"file\":\"" + path + "\",";
  EXPECT_THAT(
      r.dead_letters,
      ElementsAre(
          file + R"j("line":6,"offset":)j" + Offset("1,12,") +
              R"j(,"record":"1,12,7.25,paid,2026-11-01 11:00:00","rules":["unique(order_id)"]})j",
          file + R"j("line":4,"offset":)j" + Offset("3,,") +
              R"j(,"record":"3,,5.00,paid,2026-11-01T09:00:00+02:00","rules":["not_null(user_id)"]})j",
          file + R"j("line":7,"offset":)j" + Offset("4,13") +
              R"j(,"record":"4,13,abc,paid,2026-11-01 23:00:00",)j"
              R"j("rules":["schema: amount: 'abc' is not a decimal(12,2)"]})j",
          file + R"j("line":8,"offset":)j" + Offset("5,14") +
              R"j(,"record":"5,14,-1,paid,2026-11-01 12:00:00",)j"
              R"j("rules":["range(amount): -1.00 is below 0"]})j",
          file + R"j("line":9,"offset":)j" + Offset("6,15") +
              R"j(,"record":"6,15,3,shipped,2026-11-01 12:00:00",)j"
              R"j("rules":["accepted_values(status): 'shipped'"]})j",
          file + R"j("line":10,"offset":)j" + Offset("7,16") +
              R"j(,"record":"7,16,3,Paid,2026-11-01 12:00:00",)j"
              R"j("rules":["accepted_values(status): 'Paid'",)j"
              R"j("regex(status): 'Paid' does not match ^[a-z]+$"]})j",
          file + R"j("line":11,"offset":)j" + Offset("8,17") +
              R"j(,"record":"8,17,1.5,\"pa\nid\",2026-11-01 12:00:00",)j"
              R"j("rules":["accepted_values(status): 'pa\nid'",)j"
              R"j("regex(status): 'pa\nid' does not match ^[a-z]+$"]})j"));
  // The newest created_at of the rows that pass the schema: 12:00 in
  // Paris (line 7's 23:00 fails the schema).
  EXPECT_THAT(r.counters,
              UnorderedElementsAre(Pair("rows", 10), Pair("rows passed", 3),
                                   Pair("rows failed", 7), Pair("rule schema failed", 1),
                                   Pair("rule 0 failed", 1), Pair("rule 1 failed", 1),
                                   Pair("rule 2 failed", 1), Pair("rule 3 failed", 3),
                                   Pair("rule 4 failed", 2),
                                   Pair("max freshness 6 epoch seconds", 1793530800)));
}

TEST(PipelineValidateTest, WithoutDeadLetterFailingRowsAreOnlyCounted) {
  const RunResult r = RunJob(Params(OrdersYaml(false)), {CsvFile("orders.csv", kOrdersCsv)});
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_THAT(r.dead_letters, IsEmpty());
  EXPECT_EQ(r.counters.at("rows passed"), 3);
  EXPECT_EQ(r.counters.at("rows failed"), 7);
  EXPECT_EQ(r.counters.at("rule 1 failed"), 1);
  EXPECT_EQ(r.counters.at("rule 3 failed"), 3);
}

TEST(PipelineValidateTest, UniqueKeepsTheFirstByFileAndOffset) {
  // b.csv is mapped first, but a.csv's row is first in input order (file
  // path, then offset). Rows with a null key are never duplicates.
  const std::string header = "order_id,user_id,amount,status,created_at\n";
  const auto a = CsvFile("a.csv", header + "1,10,1,paid,\n1,11,2,paid,\n,12,3,paid,\n");
  const auto b = CsvFile("b.csv", header + "1,13,3,paid,\n,14,4,paid,\n");
  const RunResult r = RunJob(Params(OrdersYaml()), {b, a});
  EXPECT_THAT(r.rows, ElementsAre(R"j({"order_id":1,"user_id":10,"amount":1.00,"status":"paid",)j"
                                  R"j("created_at":null,"dt":"2026-11-01"})j"));
  ASSERT_EQ(r.dead_letters.size(), 4u);
  EXPECT_THAT(r.dead_letters[0], ::testing::HasSubstr(
                                     R"j("line":3,"offset":55,"record":"1,11,2,paid,",)j"
                                     R"j("rules":["unique(order_id)"]})j"));
  EXPECT_THAT(r.dead_letters[0], ::testing::HasSubstr("a.csv"));
  EXPECT_THAT(r.dead_letters[1], ::testing::HasSubstr(
                                     R"j("line":2,"offset":42,"record":"1,13,3,paid,",)j"
                                     R"j("rules":["unique(order_id)"]})j"));
  EXPECT_THAT(r.dead_letters[1], ::testing::HasSubstr("b.csv"));
  // The null keys: spread keys, map 0's (b.csv) before map 1's.
  EXPECT_THAT(r.dead_letters[2], ::testing::HasSubstr(
                                     R"j("record":",14,4,paid,","rules":["not_null(order_id)"]})j"));
  EXPECT_THAT(r.dead_letters[3], ::testing::HasSubstr(
                                     R"j("record":",12,3,paid,","rules":["not_null(order_id)"]})j"));
  EXPECT_EQ(r.counters.at("rule 0 failed"), 2);
  EXPECT_EQ(r.counters.at("rule 1 failed"), 2);
  EXPECT_EQ(r.counters.at("rows failed"), 4);
  EXPECT_EQ(r.counters.count("max freshness 6 epoch seconds"), 0u);
}

TEST(PipelineValidateTest, UniqueLabelTakesItsPlaceAmongTheRules) {
  // A duplicate that also fails range (rule 2, after unique's 1) and
  // not_null (rule 0, before it).
  const std::string header = "order_id,user_id,amount,status,created_at\n";
  const auto a = CsvFile("dup.csv", header + "1,10,1,paid,\n1,,-2,paid,\n");
  const RunResult r = RunJob(Params(OrdersYaml()), {a});
  ASSERT_EQ(r.dead_letters.size(), 1u);
  EXPECT_THAT(r.dead_letters[0],
              ::testing::EndsWith(R"j("rules":["not_null(user_id)","unique(order_id)",)j"
                                  R"j("range(amount): -2.00 is below 0"]})j"));
}

TEST(PipelineValidateTest, SchemaFailures) {
  // No created_at column; a row with one field too many; a wrong type.
  const auto records = CsvFile("short.csv",
                               "order_id,user_id,amount,status\n"
                               "1,2,3,paid\n"
                               "2,2,3,paid,extra\n"
                               "x,2,3,paid\n");
  const RunResult r = RunJob(Params(OrdersYaml()), {records});
  EXPECT_THAT(r.rows, IsEmpty());
  ASSERT_EQ(r.dead_letters.size(), 3u);
  EXPECT_THAT(r.dead_letters[0],
              ::testing::EndsWith(R"j("record":"1,2,3,paid","rules":["schema: created_at: missing"]})j"));
  EXPECT_THAT(r.dead_letters[1],
              ::testing::EndsWith(R"j("record":"2,2,3,paid,extra","rules":["schema: 5 fields )j"
                                  R"j(where the header has 4","schema: created_at: missing"]})j"));
  // An unparseable key: not checked for uniqueness, not null either.
  EXPECT_THAT(r.dead_letters[2],
              ::testing::EndsWith(R"j("record":"x,2,3,paid","rules":["schema: order_id: 'x' is )j"
                                  R"j(not an int64","schema: created_at: missing"]})j"));
  EXPECT_EQ(r.counters.at("rule schema failed"), 3);
  EXPECT_EQ(r.counters.at("rule 0 failed"), 0);
  EXPECT_EQ(r.counters.at("rows failed"), 3);
}

constexpr char kTypedYaml[] = R"yaml(pipeline: p
partition: {column: dt, timezone: UTC}
steps:
  - name: raw
    extract: {files: "/in/*.jsonl", format: jsonl}
  - name: check
    validate:
      input: raw
      schema: {id: int64, ok: bool, score: double, day: date, dt: date}
      rules:
        - {accepted_values: {column: id, values: ["007", 8]}}
        - {freshness: {column: day, max_age: 48h}}
      dead_letter: true
)yaml";

TestRecord JsonRecord(uint64_t offset, const std::string& line,
                      std::vector<std::string> names, std::vector<std::string> values) {
  return {"/staged/part-r-00000.gz", offset, line,
          std::make_shared<TableFields>(std::move(names), std::move(values))};
}

TEST(PipelineValidateTest, JsonLinesWithTypedValues) {
  const std::vector<std::string> names = {"id", "ok", "score", "day", "dt"};
  // As the engine's JSON Lines reader gives them: numbers and booleans as
  // their JSON text, null as "".
  const std::vector<TestRecord> records = {
      JsonRecord(0, R"j({"id":7,"ok":true,"score":0.1,"day":"2026-10-31","dt":null})j", names,
                 {"7", "true", "0.1", "2026-10-31", ""}),
      JsonRecord(70, R"j({"id":8,"ok":false,"score":1e2,"day":"2026-10-29","dt":"2026-10-30"})j",
                 names, {"8", "false", "1e2", "2026-10-29", "2026-10-30"}),
      JsonRecord(150, R"j({"id":9,"ok":false,"score":1,"day":null,"dt":null})j", names,
                 {"9", "false", "1", "", ""}),
      JsonRecord(200, R"j([1,2])j", {""}, {"[1,2]"}),
      JsonRecord(220, R"j({"id":10,"ok":"maybe","score":1,"day":"2026-11-02","dt":null})j", names,
                 {"10", "maybe", "1", "2026-11-02", ""}),
  };
  const RunResult r = RunJob(Params(kTypedYaml, "check", "jsonl"), {records});
  EXPECT_EQ(r.failure, "");
  EXPECT_THAT(r.rows,
              ElementsAre(R"j({"id":7,"ok":true,"score":0.1,"day":"2026-10-31","dt":"2026-11-01"})j",
                          R"j({"id":8,"ok":false,"score":100,"day":"2026-10-29","dt":"2026-10-30"})j"));
  // A compressed file's line is unknown (0).
  EXPECT_THAT(
      r.dead_letters,
      ElementsAre(
          R"j({"file":"/staged/part-r-00000.gz","line":0,"offset":150,"record":)j"
          R"j("{\"id\":9,\"ok\":false,\"score\":1,\"day\":null,\"dt\":null}",)j"
          R"j("rules":["accepted_values(id): '9'"]})j",
          R"j({"file":"/staged/part-r-00000.gz","line":0,"offset":200,"record":"[1,2]",)j"
          R"j("rules":["schema: not a JSON object","schema: id: missing","schema: ok: missing",)j"
          R"j("schema: score: missing","schema: day: missing","schema: dt: missing"]})j",
          R"j({"file":"/staged/part-r-00000.gz","line":0,"offset":220,"record":)j"
          R"j("{\"id\":10,\"ok\":\"maybe\",\"score\":1,\"day\":\"2026-11-02\",\"dt\":null}",)j"
          R"j("rules":["schema: ok: 'maybe' is not a bool","accepted_values(id): '10'"]})j"));
  // Freshness: 2026-10-31 (2026-11-02 fails the schema).
  EXPECT_THAT(r.counters,
              UnorderedElementsAre(Pair("rows", 5), Pair("rows passed", 2),
                                   Pair("rows failed", 3), Pair("rule schema failed", 2),
                                   Pair("rule 0 failed", 2),
                                   Pair("max freshness 1 epoch seconds", 1793404800)));
}

TEST(PipelineValidateTest, TextInputFailsTheTask) {
  PipelineValidate job;
  ASSERT_EQ(job.Setup(Params(OrdersYaml())), "");
  FakeContext ctx;
  TestRecord text{"/in/a.txt", 0, "hello", nullptr};
  job.Map(text.ToInput(), ctx);
  EXPECT_EQ(ctx.failure,
            "pipeline_validate reads CSV (with a header) or JSON Lines input: text "
            "input has no columns");
  EXPECT_THAT(ctx.emits, IsEmpty());
}

std::string SetupError(const std::string& yaml, const std::string& step = "orders_ok",
                       const std::string& dt = "2026-11-01") {
  std::map<std::string, std::string> params = Params(yaml, step);
  params["dt"] = dt;
  PipelineValidate job;
  return job.Setup(params);
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

TEST(PipelineValidateTest, SetupRefusals) {
  EXPECT_EQ(PipelineValidate().Setup({}),
            "pipeline_validate needs --param pipeline=YAML, step=NAME and dt=YYYY-MM-DD");
  EXPECT_EQ(SetupError(OrdersYaml(), "nope"),
            "pipeline_validate: orders.yaml: step 'nope': no such step");
  EXPECT_EQ(SetupError(OrdersYaml(), "orders"),
            "pipeline_validate: orders.yaml: step 'orders' is an extract step, not a "
            "validate step");
  EXPECT_EQ(SetupError(OrdersYaml(), "orders_ok", "2026-13-01"),
            "pipeline_validate: dt '2026-13-01' is not a date (YYYY-MM-DD)");
  EXPECT_EQ(SetupError("pipeline: [", "orders_ok").substr(0, 12), "orders.yaml:");
  EXPECT_EQ(SetupError(Replace(OrdersYaml(), "{row_count: {min: 1}}", "{unique: [user_id]}")),
            "pipeline_validate: orders.yaml: step 'orders_ok': rule 5 (unique, line 17): a "
            "step has at most one unique rule (another is rule 1)");
  EXPECT_EQ(SetupError(Replace(OrdersYaml(), "column: amount, min: 0", "column: status, min: 0")),
            "pipeline_validate: orders.yaml: step 'orders_ok': rule 2 (range, line 14): "
            "column 'status' is a string, not a number (int64, double or decimal)");
  EXPECT_EQ(SetupError(Replace(OrdersYaml(), "column: created_at, max_age",
                               "column: amount, max_age")),
            "pipeline_validate: orders.yaml: step 'orders_ok': rule 6 (freshness, line "
            "18): column 'amount' is a decimal(12,2), not a date or timestamp");
  EXPECT_EQ(SetupError(Replace(OrdersYaml(), "column: status, values: [paid, refunded]",
                               "column: amount, values: [1.234]")),
            "pipeline_validate: orders.yaml: step 'orders_ok': rule 3 (accepted_values, "
            "line 15): amount: '1.234' is not a decimal(12,2): more than 2 digits after "
            "the point");
  std::map<std::string, std::string> params = Params(OrdersYaml());
  params["input_format"] = "text";
  EXPECT_EQ(PipelineValidate().Setup(params),
            "pipeline_validate: input_format 'text' is neither csv nor jsonl (text input "
            "has no columns)");
}

TEST(PipelineValidateTest, AcceptedValuesCompareTypedValues) {
  const std::string yaml = Replace(OrdersYaml(), "column: status, values: [paid, refunded]",
                                   "column: amount, values: [1.5, \"007\"]");
  const std::string header = "order_id,user_id,amount,status,created_at\n";
  const auto records = CsvFile("acc.csv", header + "1,1,1.50,paid,\n2,1,7,paid,\n3,1,7.01,paid,\n");
  const RunResult r = RunJob(Params(yaml), {records});
  EXPECT_EQ(r.rows.size(), 2u);
  ASSERT_EQ(r.dead_letters.size(), 1u);
  EXPECT_THAT(r.dead_letters[0],
              ::testing::EndsWith(R"j("rules":["accepted_values(amount): '7.01'"]})j"));
}

TEST(PipelineValidateTest, PartitionColumnInTheSchemaKeepsItsValue) {
  const std::string yaml = Replace(OrdersYaml(), "created_at: timestamp}",
                                   "created_at: timestamp, dt: date}");
  const std::string header = "order_id,user_id,amount,status,created_at,dt\n";
  const auto records = CsvFile("dt.csv", header + "1,1,1,paid,,2026-10-31\n2,1,1,paid,,\n");
  const RunResult r = RunJob(Params(yaml), {records});
  EXPECT_THAT(r.rows,
              ElementsAre(R"j({"order_id":1,"user_id":1,"amount":1.00,"status":"paid",)j"
                          R"j("created_at":null,"dt":"2026-10-31"})j",
                          R"j({"order_id":2,"user_id":1,"amount":1.00,"status":"paid",)j"
                          R"j("created_at":null,"dt":"2026-11-01"})j"));
}

// ---- PlanValidate

StepContext OrdersContext() {
  StepContext ctx;
  ctx.pipeline_yaml = OrdersYaml();
  ctx.pipeline_file = "orders.yaml";
  ctx.dt = "2026-11-01";
  ctx.run_id = "run7";
  StagedInput in;
  in.inputs = {"/data/orders/dt=2026-11-01/*.csv"};
  in.format.set_kind(mrpb::InputFormat::CSV);
  in.format.set_header(true);
  ctx.inputs["orders"] = in;
  ctx.output_dir = "/staging/run7/orders_ok";
  ctx.num_reduces = 3;
  return ctx;
}

const PipelineStep& Step(const PipelineSpec& spec, const std::string& name) {
  for (const PipelineStep& s : spec.steps) {
    if (s.name == name) return s;
  }
  ADD_FAILURE() << "no step " << name;
  return spec.steps[0];
}

TEST(PlanValidateTest, OneJobOverTheInput) {
  const absl::StatusOr<PipelineSpec> spec = ParsePipeline(OrdersYaml(), "orders.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<std::vector<mrpb::JobSpec>> jobs =
      PlanValidate(*spec, Step(*spec, "orders_ok"), OrdersContext());
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 1u);
  const mrpb::JobSpec& job = (*jobs)[0];
  EXPECT_EQ(job.name(), "orders_daily/run7/orders_ok");
  EXPECT_EQ(job.app(), "pipeline_validate");
  EXPECT_THAT(job.inputs(), ElementsAre("/data/orders/dt=2026-11-01/*.csv"));
  ASSERT_EQ(job.input_formats_size(), 1);
  EXPECT_EQ(job.input_formats(0).kind(), mrpb::InputFormat::CSV);
  EXPECT_TRUE(job.input_formats(0).header());
  EXPECT_EQ(job.output_dir(), "/staging/run7/orders_ok");
  EXPECT_EQ(job.num_reduces(), 3u);
  EXPECT_TRUE(job.overwrite());
  std::map<std::string, std::string> params;
  for (const mrpb::Param& p : job.params()) params[p.key()] = p.value();
  EXPECT_EQ(params, (std::map<std::string, std::string>{
                        {"pipeline", OrdersYaml()},
                        {"pipeline_file", "orders.yaml"},
                        {"step", "orders_ok"},
                        {"dt", "2026-11-01"},
                        {"input_format", "csv"}}));
  // The job accepts its own parameters.
  EXPECT_EQ(PipelineValidate().Setup(params), "");
}

TEST(PlanValidateTest, StagedInputIsJsonLines) {
  const std::string yaml = Replace(OrdersYaml(), "  - name: orders_ok\n",
                                   "  - name: users\n    extract: {files: /u.csv, format: csv}\n"
                                   "  - name: orders_ok\n    after: [users]\n");
  const absl::StatusOr<PipelineSpec> spec = ParsePipeline(yaml, "orders.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  StepContext ctx = OrdersContext();
  ctx.pipeline_yaml = yaml;
  StagedInput staged;
  staged.inputs = {"/staging/run7/orders/part-*"};
  staged.format.set_kind(mrpb::InputFormat::JSONL);
  staged.staged = true;
  ctx.inputs["orders"] = staged;
  ctx.inputs["users"] = OrdersContext().inputs["orders"];
  absl::StatusOr<std::vector<mrpb::JobSpec>> jobs =
      PlanValidate(*spec, Step(*spec, "orders_ok"), ctx);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_THAT((*jobs)[0].inputs(), ElementsAre("/staging/run7/orders/part-*"));
  EXPECT_EQ((*jobs)[0].input_formats(0).kind(), mrpb::InputFormat::JSONL);
}

TEST(PlanValidateTest, Refusals) {
  const absl::StatusOr<PipelineSpec> spec = ParsePipeline(OrdersYaml(), "orders.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  const PipelineStep& step = Step(*spec, "orders_ok");
  EXPECT_EQ(PlanValidate(*spec, Step(*spec, "orders"), OrdersContext()).status().message(),
            "step 'orders' is an extract step, not a validate step");

  StepContext text = OrdersContext();
  text.inputs["orders"].format.set_kind(mrpb::InputFormat::TEXT);
  absl::Status s = PlanValidate(*spec, step, text).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "validate step 'orders_ok': input 'orders' is not CSV or JSON Lines: text has "
            "no columns to validate");

  StepContext headerless = OrdersContext();
  headerless.inputs["orders"].format.set_header(false);
  EXPECT_EQ(PlanValidate(*spec, step, headerless).status().message(),
            "validate step 'orders_ok': input 'orders' is CSV without a header row: its "
            "columns have no names");

  StepContext missing = OrdersContext();
  missing.inputs.clear();
  EXPECT_EQ(PlanValidate(*spec, step, missing).status().message(),
            "validate step 'orders_ok': its input 'orders' has no staged data to read");

  // The job's own refusals surface at planning.
  const std::string two_unique =
      Replace(OrdersYaml(), "{row_count: {min: 1}}", "{unique: [user_id]}");
  const absl::StatusOr<PipelineSpec> bad = ParsePipeline(two_unique, "orders.yaml");
  ASSERT_TRUE(bad.ok()) << bad.status();
  StepContext ctx = OrdersContext();
  ctx.pipeline_yaml = two_unique;
  EXPECT_THAT(std::string(PlanValidate(*bad, Step(*bad, "orders_ok"), ctx).status().message()),
              ::testing::HasSubstr("a step has at most one unique rule"));
}

}  // namespace
}  // namespace pipeline
}  // namespace mr
