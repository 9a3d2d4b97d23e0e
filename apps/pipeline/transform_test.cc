#include "apps/pipeline/transform.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apps/internal/fake_context.h"
#include "apps/pipeline/internal/decimal.h"
#include "apps/pipeline/internal/transform_row.h"
#include "apps/pipeline/plan.h"
#include "common/pipeline_spec.h"

namespace mr {
namespace pipeline {
namespace {

using apps::internal::FakeContext;
using apps::internal::VectorValues;
using KV = FakeContext::KV;
using Lines = std::vector<std::string>;

const char kShop[] = R"yaml(pipeline: shop
partition: {column: dt, timezone: UTC}
steps:
  - name: orders
    extract: {files: "/in/orders.jsonl", format: jsonl}
  - name: users_raw
    extract: {files: "/in/users.csv", format: csv}
  - name: users
    validate:
      input: users_raw
      schema: {user_id: int64, country: string}
  - name: joined
    transform:
      join: {left: orders, right: users, on: [user_id]}
  - name: joined_left
    transform:
      join: {left: orders, right: users, on: [user_id], type: left}
      filter: "amount > 0"
      select: [order_id, country, amount]
  - name: paid
    transform:
      input: orders
      filter: ["amount > 0", "status == 'paid'", "country != null"]
  - name: typed
    transform:
      input: orders
      cast: {amount: "decimal(12,2)", user_id: string, paid_at: timestamp,
             ok: bool}
  - name: latest
    transform:
      input: orders
      dedupe: {key: [order_id], latest_by: updated_at}
  - name: totals
    transform:
      input: orders
      aggregate: {group_by: [dt, country], sum: [amount, qty], min: [amount],
                  max: [amount], avg: [amount], count: orders}
  - name: shaped
    transform:
      input: orders
      rename: {amount: total, status: state}
      select: [order_id, state, total]
  - name: revenue
    transform:
      join: {left: orders, right: users, on: [user_id], type: left}
      aggregate: {group_by: [country], sum: [amount], count: orders}
      rename: {sum_amount: revenue}
)yaml";

std::map<std::string, std::string> Params(const std::string& step,
                                          const std::string& phase) {
  return {{"pipeline", kShop}, {"pipeline_file", "shop.yaml"}, {"step", step},
          {"dt", "2026-11-01"},  {"phase", phase}};
}

std::unique_ptr<PipelineTransform> NewJob(const std::string& step,
                                          const std::string& phase) {
  auto job = std::make_unique<PipelineTransform>();
  const std::string error = job->Setup(Params(step, phase));
  EXPECT_EQ(error, "");
  return job;
}

// Maps `lines` as one file's records (offsets as in that file), then
// finishes the task.
void MapFile(PipelineTransform& job, const std::string& file, const Lines& lines,
             uint32_t input_index, FakeContext* ctx) {
  uint64_t offset = 0;
  for (const std::string& line : lines) {
    InputRecord record;
    record.file = file;
    record.offset = offset;
    record.line = line;
    record.input_index = input_index;
    job.Map(record, *ctx);
    offset += line.size() + 1;
  }
}

// The engine's shuffle: sorts by key (keeping the emit order of equal
// keys), then calls `fn` once per run of keys with one GroupKey().
template <typename Fn>
void ForEachGroup(const PipelineTransform& job, std::vector<KV> emits, Fn fn) {
  std::stable_sort(emits.begin(), emits.end(),
                   [](const KV& a, const KV& b) { return a.first < b.first; });
  for (size_t i = 0; i < emits.size();) {
    size_t j = i;
    std::vector<std::string> values;
    while (j < emits.size() &&
           job.GroupKey(emits[j].first) == job.GroupKey(emits[i].first)) {
      values.push_back(emits[j++].second);
    }
    VectorValues it(values);
    fn(emits[i].first, it);
    i = j;
  }
}

std::vector<KV> Combine(PipelineTransform& job, const std::vector<KV>& emits) {
  FakeContext ctx;
  ForEachGroup(job, emits, [&](const std::string& key, VectorValues& values) {
    job.Combine(key, values, ctx);
  });
  EXPECT_EQ(ctx.failure, "");
  return ctx.emits;
}

// A reduce task's output lines, sorted; *failure gets its Fail() message.
Lines Reduce(const std::string& step, const std::string& phase,
             const std::vector<KV>& emits, std::string* failure = nullptr) {
  std::unique_ptr<PipelineTransform> job = NewJob(step, phase);
  FakeContext ctx;
  ctx.kind = TaskKind::kReduce;
  ForEachGroup(*job, emits, [&](const std::string& key, VectorValues& values) {
    job->Reduce(key, values, ctx);
  });
  job->Finish(ctx);
  if (failure != nullptr) {
    *failure = ctx.failure;
  } else {
    EXPECT_EQ(ctx.failure, "");
  }
  Lines out;
  for (const KV& kv : ctx.emits) {
    EXPECT_EQ(kv.second, "");
    out.push_back(kv.first);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A map-only step's output for `lines`; *failure gets its Fail() message.
Lines MapOnly(const std::string& step, const Lines& lines, std::string* failure = nullptr) {
  std::unique_ptr<PipelineTransform> job = NewJob(step, "rows");
  EXPECT_TRUE(job->Traits().map_only);
  FakeContext ctx;
  MapFile(*job, "/in/orders.jsonl", lines, 0, &ctx);
  job->Finish(ctx);
  if (failure != nullptr) {
    *failure = ctx.failure;
  } else {
    EXPECT_EQ(ctx.failure, "");
  }
  Lines out;
  for (const KV& kv : ctx.emits) out.push_back(kv.first);
  return out;
}

const Lines kOrders = {
    R"({"order_id":1,"user_id":10,"amount":5.00})",
    R"({"order_id":2,"user_id":11,"amount":7.50})",
    R"({"order_id":3,"user_id":null,"amount":1.00})",
    R"({"order_id":4,"user_id":12,"amount":2.00})",
    R"({"order_id":5,"user_id":10.0,"amount":-1.00})",
};
// As pipeline_validate writes them: the schema's columns, then dt.
const Lines kUsers = {
    R"({"user_id":10,"country":"FR","dt":"2026-11-01"})",
    R"({"user_id":11,"country":"DE","amount":99,"dt":"2026-11-01"})",
    R"({"user_id":11,"country":"AT","dt":"2026-11-01"})",
    R"({"user_id":null,"country":"XX","dt":"2026-11-01"})",
};

// Maps kOrders (left) and kUsers (right) for a join step.
std::vector<KV> MapJoin(const std::string& step) {
  std::unique_ptr<PipelineTransform> job = NewJob(step, "join");
  EXPECT_FALSE(job->Traits().map_only);
  EXPECT_FALSE(job->HasCombiner());
  FakeContext ctx;
  MapFile(*job, "/stage/orders/part-r-00000", kOrders, 0, &ctx);
  MapFile(*job, "/stage/users/part-r-00000", kUsers, 1, &ctx);
  job->Finish(ctx);
  EXPECT_EQ(ctx.failure, "");
  return ctx.emits;
}

TEST(TransformTest, PhasesFollowTheShuffles) {
  absl::StatusOr<PipelineSpec> spec = ParsePipeline(kShop, "shop.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  std::map<std::string, std::vector<std::string>> phases;
  for (const PipelineStep& s : spec->steps) {
    if (s.kind == PipelineStep::Kind::kTransform) phases[s.name] = TransformPhases(s.transform);
  }
  using V = std::vector<std::string>;
  EXPECT_EQ(phases["joined"], V{"join"});
  EXPECT_EQ(phases["paid"], V{"rows"});
  EXPECT_EQ(phases["latest"], V{"dedupe"});
  EXPECT_EQ(phases["totals"], V{"aggregate"});
  EXPECT_EQ(phases["revenue"], (V{"join", "aggregate"}));
}

TEST(TransformTest, InnerJoinMatchesEqualValuesAndTheLeftWinsAClash) {
  EXPECT_EQ(Reduce("joined", "join", MapJoin("joined")),
            (Lines{
                R"({"order_id":1,"user_id":10,"amount":5.00,"country":"FR","dt":"2026-11-01"})",
                R"({"order_id":2,"user_id":11,"amount":7.50,"country":"AT","dt":"2026-11-01"})",
                R"({"order_id":2,"user_id":11,"amount":7.50,"country":"DE","dt":"2026-11-01"})",
                R"({"order_id":5,"user_id":10.0,"amount":-1.00,"country":"FR","dt":"2026-11-01"})",
            }));
}

TEST(TransformTest, LeftJoinKeepsUnmatchedRowsWithTheRightColumnsNull) {
  // Then filter (amount > 0) and select, in the join's reduce.
  EXPECT_EQ(Reduce("joined_left", "join", MapJoin("joined_left")),
            (Lines{
                R"({"order_id":1,"country":"FR","amount":5.00})",
                R"({"order_id":2,"country":"AT","amount":7.50})",
                R"({"order_id":2,"country":"DE","amount":7.50})",
                R"({"order_id":3,"country":null,"amount":1.00})",
                R"({"order_id":4,"country":null,"amount":2.00})",
            }));
}

TEST(TransformTest, JoinFailsOnARowWithoutTheOnColumn) {
  std::unique_ptr<PipelineTransform> job = NewJob("joined", "join");
  FakeContext ctx;
  MapFile(*job, "/stage/users/part-r-00003", {R"({"user_id":1})", R"({"id":2})"}, 1, &ctx);
  EXPECT_EQ(ctx.failure,
            "pipeline step 'joined': join: the right row has no column 'user_id' "
            "(/stage/users/part-r-00003 at offset 14)");
}

TEST(TransformTest, FilterKeepsRowsThatPassEveryComparison) {
  EXPECT_EQ(MapOnly("paid",
                    {
                        R"({"id":1,"amount":5,"status":"paid","country":"FR"})",
                        R"({"id":2,"amount":0,"status":"paid","country":"FR"})",
                        R"({"id":3,"amount":1.5,"status":"refunded","country":"FR"})",
                        R"({"id":4,"amount":2,"status":"paid","country":null})",
                        R"({"id":5,"amount":null,"status":"paid","country":"FR"})",
                        "",
                        R"( {"id":6, "amount":"0.01", "status":"paid", "country":"caf\u00e9\t"} )",
                        R"({"id":7,"amount":1e-2,"status":"paid","country":"DE","x":[1, 2]})",
                    }),
            (Lines{
                R"({"id":1,"amount":5,"status":"paid","country":"FR"})",
                R"({"id":6,"amount":"0.01","status":"paid","country":"café\t"})",
                R"({"id":7,"amount":1e-2,"status":"paid","country":"DE","x":[1, 2]})",
            }));
}

TEST(TransformTest, FilterFailsOnAMissingColumnOrATypeMismatch) {
  std::string failure;
  EXPECT_EQ(MapOnly("paid",
                    {R"({"amount":5,"status":"paid","country":"FR"})",
                     R"({"amount":5,"country":"FR"})"},
                    &failure),
            Lines{R"({"amount":5,"status":"paid","country":"FR"})"});
  EXPECT_EQ(failure,
            "pipeline step 'paid': filter 'status == 'paid'': the row has no "
            "column 'status' (/in/orders.jsonl at offset 44)");
  MapOnly("paid", {R"({"amount":"abc","status":"paid","country":"FR"})"}, &failure);
  EXPECT_EQ(failure,
            "pipeline step 'paid': filter 'amount > 0': column 'amount' holds "
            "the string 'abc', which does not compare with the number 0 "
            "(/in/orders.jsonl at offset 0)");
  MapOnly("paid", {R"({"amount":1,"status":"paid",)"}, &failure);
  EXPECT_EQ(failure,
            "pipeline step 'paid': cannot read the row: not a JSON object "
            "(/in/orders.jsonl at offset 0)");
}

TEST(TransformTest, StringsKeepTheirBytesThroughAStep) {
  // JsonString()'s surrogateescape (\udcNN: a byte that is not UTF-8) and
  // an escaped control character come back as they were.
  const std::string line =
      R"({"amount":1,"status":"paid","country":"caf\udce9\u0001 \"q\" \\ \ud83d\ude00"})";
  EXPECT_EQ(MapOnly("paid", {line}),
            Lines{R"({"amount":1,"status":"paid","country":"caf\udce9\u0001 \"q\" \\ )"
                  "\xf0\x9f\x98\x80\"}"});
}

// CSV fields, as the engine's reader gives them.
class CsvFields : public RecordFields {
 public:
  CsvFields(std::vector<std::string> names, std::vector<std::string> values)
      : names_(std::move(names)), values_(std::move(values)) {}
  size_t size() const override { return names_.size(); }
  std::string_view name(size_t i) const override { return names_[i]; }
  std::string_view value(size_t i) const override { return values_[i]; }
  bool Find(std::string_view name, std::string_view* value) const override {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) {
        *value = values_[i];
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<std::string> names_, values_;
};

TEST(TransformTest, ACsvRecordGivesStringsAndNulls) {
  std::unique_ptr<PipelineTransform> job = NewJob("shaped", "rows");
  const CsvFields fields({"order_id", "amount", "status"}, {"1", "5.0", ""});
  InputRecord record;
  record.file = "/in/orders.csv";
  record.offset = 27;
  record.line = "1,5.0,";
  record.fields = &fields;
  FakeContext ctx;
  job->Map(record, ctx);
  EXPECT_EQ(ctx.failure, "");
  ASSERT_EQ(ctx.emits.size(), 1u);
  EXPECT_EQ(ctx.emits[0].first, R"({"order_id":"1","state":null,"total":"5.0"})");
}

TEST(TransformTest, DecimalsAreExact) {
  using internal::CanonicalNumber;
  using internal::CompareNumbers;
  using internal::Decimal;
  using internal::FormatDecimal;
  using internal::ParseDecimal;
  auto text = [](const std::string& s) {
    Decimal d;
    return ParseDecimal(s, &d) ? FormatDecimal(d) : "refused";
  };
  EXPECT_EQ(text("1.50"), "1.50");
  EXPECT_EQ(text("-0.05"), "-0.05");
  EXPECT_EQ(text("007"), "7");
  EXPECT_EQ(text("1.5e3"), "1500");
  EXPECT_EQ(text("25E-3"), "0.025");
  EXPECT_EQ(text("99999999999999999999999999999999999999"),
            "99999999999999999999999999999999999999");
  EXPECT_EQ(text("999999999999999999999999999999999999999"), "refused");  // 39 digits
  EXPECT_EQ(text("1e39"), "refused");
  EXPECT_EQ(text("abc"), "refused");
  EXPECT_EQ(CompareNumbers("1.5", "1.50"), 0);
  EXPECT_EQ(CompareNumbers("-2", "1e-30"), -1);
  EXPECT_EQ(CompareNumbers("1e400", "1"), 1);  // as doubles: +inf
  EXPECT_EQ(CanonicalNumber("10.00"), "10");
  EXPECT_EQ(CanonicalNumber("1e1"), "10");
  EXPECT_EQ(CanonicalNumber("-0.0"), "0");

  internal::Sum sum;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(sum.Add("0.1"));
  EXPECT_EQ(sum.Text(), "1.0");
  ASSERT_TRUE(sum.Add("0.005"));
  EXPECT_EQ(sum.Text(), "1.005");
  ASSERT_TRUE(sum.Add("1e-50"));  // beyond 38 fraction digits: a double
  EXPECT_FALSE(sum.exact);
  EXPECT_EQ(sum.Text(), "1.005");
  internal::Sum big;
  ASSERT_TRUE(big.Add("99999999999999999999999999999999999999"));
  EXPECT_FALSE(big.Add("99999999999999999999999999999999999999"));  // leaves 128 bits
}

TEST(TransformTest, JsonStringsUnescapeAsJsonStringEscapes) {
  std::string s;
  ASSERT_TRUE(internal::UnescapeJsonString(R"("caf\udce9")", &s));
  EXPECT_EQ(s, "caf\xe9");
  ASSERT_TRUE(internal::UnescapeJsonString(R"("a\u0000b\/")", &s));
  EXPECT_EQ(s, std::string("a\0b/", 4));
  ASSERT_TRUE(internal::UnescapeJsonString(R"("\u00e9\ud83d\ude00")", &s));
  EXPECT_EQ(s, "\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_FALSE(internal::UnescapeJsonString(R"("\udc41")", &s));  // not a byte >= 80
  EXPECT_FALSE(internal::UnescapeJsonString(R"("\ud83d")", &s));  // a lone high half
  EXPECT_FALSE(internal::UnescapeJsonString(R"("\x")", &s));
}

TEST(TransformTest, CastConvertsToSchemaTypes) {
  EXPECT_EQ(MapOnly("typed",
                    {
                        R"({"order_id":1,"amount":"12.5","user_id":7,"paid_at":"2026-11-01 10:00:00+01:00","ok":"t"})",
                        R"({"order_id":2,"amount":3,"user_id":"x","paid_at":"2026-11-01T23:59:59Z","ok":false})",
                        R"({"order_id":3,"amount":null,"user_id":null,"paid_at":null,"ok":null})",
                    }),
            (Lines{
                R"({"order_id":1,"amount":12.50,"user_id":"7","paid_at":"2026-11-01T09:00:00Z","ok":true})",
                R"({"order_id":2,"amount":3.00,"user_id":"x","paid_at":"2026-11-01T23:59:59Z","ok":false})",
                R"({"order_id":3,"amount":null,"user_id":null,"paid_at":null,"ok":null})",
            }));
}

TEST(TransformTest, AFailedCastFailsTheTaskNamingColumnFileAndOffset) {
  std::string failure;
  MapOnly("typed",
          {R"({"amount":1,"user_id":1,"paid_at":null,"ok":true})",
           R"({"amount":1.505,"user_id":1,"paid_at":null,"ok":true})"},
          &failure);
  EXPECT_EQ(failure,
            "pipeline step 'typed': cast: amount: '1.505' is not a "
            "decimal(12,2): more than 2 digits after the point "
            "(/in/orders.jsonl at offset 50)");
  MapOnly("typed", {R"({"amount":1,"user_id":1,"ok":true})"}, &failure);
  EXPECT_EQ(failure,
            "pipeline step 'typed': cast: the row has no column 'paid_at' "
            "(/in/orders.jsonl at offset 0)");
}

const Lines kVersions = {
    R"({"order_id":1,"status":"new","updated_at":"2026-11-01T10:00:00Z"})",
    R"({"order_id":1,"status":"paid","updated_at":"2026-11-01T11:00:00Z"})",
    R"({"order_id":1,"status":"late","updated_at":null})",
    R"({"order_id":2,"status":"b","updated_at":"2026-11-01T10:00:00Z"})",
    R"({"order_id":2,"status":"a","updated_at":"2026-11-01T10:00:00Z"})",
    R"({"order_id":3,"status":"x","updated_at":"2026-11-01T10:00:00.5Z"})",
    R"({"order_id":3.0,"status":"y","updated_at":"2026-11-01T10:00:00Z"})",
};

TEST(TransformTest, DedupeKeepsTheLatestRowOfEachKeyInAnyOrder) {
  const Lines expected = {
      R"({"order_id":1,"status":"paid","updated_at":"2026-11-01T11:00:00Z"})",
      R"({"order_id":2,"status":"b","updated_at":"2026-11-01T10:00:00Z"})",
      R"({"order_id":3,"status":"x","updated_at":"2026-11-01T10:00:00.5Z"})",
  };
  Lines reversed = kVersions;
  std::reverse(reversed.begin(), reversed.end());
  for (const Lines& input : {kVersions, reversed}) {
    std::unique_ptr<PipelineTransform> job = NewJob("latest", "dedupe");
    EXPECT_TRUE(job->HasCombiner());
    FakeContext ctx;
    MapFile(*job, "/in/orders.jsonl", input, 0, &ctx);
    job->Finish(ctx);
    EXPECT_EQ(ctx.emits.size(), 7u);
    EXPECT_EQ(Reduce("latest", "dedupe", ctx.emits), expected);
    // The combiner keeps one row per key, the one the reduce would pick.
    const std::vector<KV> combined = Combine(*job, ctx.emits);
    EXPECT_EQ(combined.size(), 3u);
    EXPECT_EQ(Reduce("latest", "dedupe", combined), expected);
  }
}

const Lines kSales = {
    R"({"country":"FR","amount":0.10,"qty":1})",
    R"({"country":"FR","amount":0.20,"qty":2})",
    R"({"country":"DE","amount":1.25,"qty":3})",
    R"({"country":"FR","amount":null,"qty":4})",
    R"({"country":"DE","amount":2.50,"qty":-5})",
    R"({"country":"US","amount":null,"qty":null})",
};

TEST(TransformTest, AggregateSumsDecimalsExactly) {
  const Lines expected = {
      R"({"dt":"2026-11-01","country":"DE","sum_amount":3.75,"sum_qty":-2,"min_amount":1.25,"max_amount":2.50,"avg_amount":1.875,"orders":2})",
      R"({"dt":"2026-11-01","country":"FR","sum_amount":0.30,"sum_qty":7,"min_amount":0.10,"max_amount":0.20,"avg_amount":0.15,"orders":3})",
      R"({"dt":"2026-11-01","country":"US","sum_amount":null,"sum_qty":null,"min_amount":null,"max_amount":null,"avg_amount":null,"orders":1})",
  };
  // One map task: the groups are aggregated in memory.
  std::unique_ptr<PipelineTransform> job = NewJob("totals", "aggregate");
  EXPECT_TRUE(job->HasCombiner());
  FakeContext ctx;
  MapFile(*job, "/in/orders.jsonl", kSales, 0, &ctx);
  job->Finish(ctx);
  EXPECT_EQ(ctx.emits.size(), 3u);
  EXPECT_EQ(Reduce("totals", "aggregate", ctx.emits), expected);

  // One map task per row, through the combiner and without it.
  std::vector<KV> partials;
  for (const std::string& line : kSales) {
    std::unique_ptr<PipelineTransform> map = NewJob("totals", "aggregate");
    FakeContext one;
    MapFile(*map, "/in/orders.jsonl", {line}, 0, &one);
    map->Finish(one);
    partials.insert(partials.end(), one.emits.begin(), one.emits.end());
  }
  EXPECT_EQ(partials.size(), 6u);
  EXPECT_EQ(Reduce("totals", "aggregate", partials), expected);
  EXPECT_EQ(Reduce("totals", "aggregate", Combine(*job, partials)), expected);
}

TEST(TransformTest, AggregateSumsManyDecimalsWithoutDrift) {
  // As doubles, ten 0.10 make 0.9999999999999999.
  Lines lines(10, R"({"country":"FR","amount":0.10,"qty":1})");
  lines.push_back(R"({"country":"FR","amount":12345678901234567890.125,"qty":1})");
  std::unique_ptr<PipelineTransform> job = NewJob("totals", "aggregate");
  FakeContext ctx;
  MapFile(*job, "/in/orders.jsonl", lines, 0, &ctx);
  job->Finish(ctx);
  EXPECT_EQ(Reduce("totals", "aggregate", ctx.emits),
            Lines{R"({"dt":"2026-11-01","country":"FR","sum_amount":12345678901234567891.125,"sum_qty":11,"min_amount":0.10,"max_amount":12345678901234567890.125,"avg_amount":1.1223344455667789e+18,"orders":11})"});
}

TEST(TransformTest, AggregateFailsOnAStringToSum) {
  std::unique_ptr<PipelineTransform> job = NewJob("totals", "aggregate");
  FakeContext ctx;
  MapFile(*job, "/in/orders.jsonl", {R"({"country":"FR","amount":"ten","qty":1})"}, 0, &ctx);
  EXPECT_EQ(ctx.failure,
            "pipeline step 'totals': aggregate: sum: column 'amount' holds the "
            "string 'ten', not a number (/in/orders.jsonl at offset 0)");
  job->Finish(ctx);
  EXPECT_TRUE(ctx.emits.empty());
}

TEST(TransformTest, RenameThenSelect) {
  EXPECT_EQ(MapOnly("shaped",
                    {R"({"order_id":1,"amount":5,"status":"paid","extra":true})",
                     R"({"status":null,"order_id":2,"amount":6.5})"}),
            (Lines{R"({"order_id":1,"state":"paid","total":5})",
                   R"({"order_id":2,"state":null,"total":6.5})"}));
  std::string failure;
  MapOnly("shaped", {R"({"order_id":1,"amount":5})"}, &failure);
  EXPECT_EQ(failure,
            "pipeline step 'shaped': rename: the row has no column 'status' "
            "(/in/orders.jsonl at offset 0)");
  MapOnly("shaped", {R"({"order_id":1,"amount":5,"status":"x","state":"y"})"}, &failure);
  EXPECT_EQ(failure,
            "pipeline step 'shaped': rename: the row already has a column "
            "'state' (renaming 'status') (/in/orders.jsonl at offset 0)");
}

TEST(TransformTest, AJoinThenAnAggregateChainThroughTheScratchOutput) {
  // "revenue": the join's output is the aggregate's input.
  const Lines joined = Reduce("revenue", "join", MapJoin("revenue"));
  ASSERT_EQ(joined.size(), 6u);
  // An unmatched row: the right's columns null, but the partition column.
  EXPECT_EQ(joined[3],
            R"({"order_id":3,"user_id":null,"amount":1.00,"country":null,"dt":"2026-11-01"})");
  std::unique_ptr<PipelineTransform> job = NewJob("revenue", "aggregate");
  FakeContext ctx;
  MapFile(*job, "/scratch/join/part-r-00000", joined, 0, &ctx);
  job->Finish(ctx);
  EXPECT_EQ(Reduce("revenue", "aggregate", ctx.emits),
            (Lines{R"({"country":"AT","revenue":7.50,"orders":1})",
                   R"({"country":"DE","revenue":7.50,"orders":1})",
                   R"({"country":"FR","revenue":4.00,"orders":2})",
                   R"({"country":null,"revenue":3.00,"orders":2})"}));
}

TEST(TransformTest, SetupRefusesBadParameters) {
  PipelineTransform job;
  std::map<std::string, std::string> params = Params("paid", "join");
  EXPECT_EQ(job.Setup(params),
            "pipeline_transform: step 'paid' has no phase 'join' (its phases: rows)");
  params = Params("users", "rows");
  EXPECT_EQ(job.Setup(params),
            "pipeline_transform: step 'users' is a validate step, not a transform");
  params = Params("nope", "rows");
  EXPECT_EQ(job.Setup(params), "pipeline_transform: pipeline 'shop' has no step 'nope'");
  params = Params("paid", "rows");
  params["pipeline"] = "pipeline: [";
  EXPECT_EQ(job.Setup(params), "shop.yaml:1:1: end of sequence flow not found");
}

StepContext Context(const std::string& step) {
  StepContext ctx;
  ctx.pipeline_yaml = kShop;
  ctx.pipeline_file = "shop.yaml";
  ctx.dt = "2026-11-01";
  ctx.run_id = "r7";
  StagedInput orders;
  orders.inputs = {"/stage/r7/orders/part-*"};
  orders.format.set_kind(mrpb::InputFormat::JSONL);
  orders.staged = true;
  StagedInput users;
  users.inputs = {"/stage/r7/users/part-*"};
  users.format.set_kind(mrpb::InputFormat::JSONL);
  users.staged = true;
  ctx.inputs = {{"orders", orders}, {"users", users}};
  ctx.output_dir = "/stage/r7/" + step;
  ctx.scratch_dir = "/stage/r7/.scratch/" + step;
  ctx.num_reduces = 4;
  return ctx;
}

std::map<std::string, std::string> ParamsOf(const mrpb::JobSpec& job) {
  std::map<std::string, std::string> params;
  for (const mrpb::Param& p : job.params()) params[p.key()] = p.value();
  return params;
}

TEST(PlanTransformTest, AJoinAndAnAggregateAreTwoJobs) {
  absl::StatusOr<PipelineSpec> spec = ParsePipeline(kShop, "shop.yaml");
  ASSERT_TRUE(spec.ok());
  const PipelineStep& step = *std::find_if(
      spec->steps.begin(), spec->steps.end(),
      [](const PipelineStep& s) { return s.name == "revenue"; });
  absl::StatusOr<std::vector<mrpb::JobSpec>> jobs =
      PlanTransform(*spec, step, Context("revenue"));
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 2u);
  const mrpb::JobSpec& join = (*jobs)[0];
  EXPECT_EQ(join.name(), "shop/r7/revenue/join");
  EXPECT_EQ(join.app(), "pipeline_transform");
  ASSERT_EQ(join.inputs_size(), 2);
  EXPECT_EQ(join.inputs(0), "/stage/r7/orders/part-*");
  EXPECT_EQ(join.inputs(1), "/stage/r7/users/part-*");
  ASSERT_EQ(join.input_formats_size(), 2);
  EXPECT_EQ(join.input_formats(1).kind(), mrpb::InputFormat::JSONL);
  EXPECT_EQ(join.output_dir(), "/stage/r7/.scratch/revenue/join");
  EXPECT_FALSE(join.map_only());
  EXPECT_EQ(join.num_reduces(), 4u);
  EXPECT_TRUE(join.overwrite());
  EXPECT_EQ(ParamsOf(join),
            (std::map<std::string, std::string>{{"dt", "2026-11-01"},
                                                {"left_inputs", "1"},
                                                {"phase", "join"},
                                                {"pipeline", kShop},
                                                {"pipeline_file", "shop.yaml"},
                                                {"step", "revenue"}}));
  const mrpb::JobSpec& aggregate = (*jobs)[1];
  EXPECT_EQ(aggregate.name(), "shop/r7/revenue/aggregate");
  ASSERT_EQ(aggregate.inputs_size(), 1);
  EXPECT_EQ(aggregate.inputs(0), "/stage/r7/.scratch/revenue/join/part-*");
  ASSERT_EQ(aggregate.input_formats_size(), 1);
  EXPECT_EQ(aggregate.input_formats(0).kind(), mrpb::InputFormat::JSONL);
  EXPECT_EQ(aggregate.output_dir(), "/stage/r7/revenue");
  EXPECT_FALSE(aggregate.map_only());
  EXPECT_EQ(aggregate.num_reduces(), 4u);
  EXPECT_EQ(ParamsOf(aggregate).at("phase"), "aggregate");
  EXPECT_EQ(ParamsOf(aggregate).count("left_inputs"), 0u);
}

TEST(PlanTransformTest, RowOperationsAloneAreOneMapOnlyJob) {
  absl::StatusOr<PipelineSpec> spec = ParsePipeline(kShop, "shop.yaml");
  ASSERT_TRUE(spec.ok());
  for (const PipelineStep& step : spec->steps) {
    if (step.name != "paid") continue;
    absl::StatusOr<std::vector<mrpb::JobSpec>> jobs =
        PlanTransform(*spec, step, Context("paid"));
    ASSERT_TRUE(jobs.ok()) << jobs.status();
    ASSERT_EQ(jobs->size(), 1u);
    EXPECT_EQ((*jobs)[0].name(), "shop/r7/paid/rows");
    EXPECT_TRUE((*jobs)[0].map_only());
    EXPECT_EQ((*jobs)[0].num_reduces(), 0u);
    EXPECT_EQ((*jobs)[0].output_dir(), "/stage/r7/paid");
    EXPECT_EQ((*jobs)[0].inputs(0), "/stage/r7/orders/part-*");

    StepContext ctx = Context("paid");
    ctx.inputs.erase("orders");
    EXPECT_EQ(PlanTransform(*spec, step, ctx).status().message(),
              "transform step 'paid': input 'orders' has no staged data to read");
    ctx = Context("paid");
    ctx.inputs["orders"].format.set_kind(mrpb::InputFormat::TEXT);
    EXPECT_EQ(PlanTransform(*spec, step, ctx).status().message(),
              "transform step 'paid': input 'orders' is not JSON Lines or CSV "
              "with a header: its rows have no named columns");
  }
  EXPECT_EQ(PlanTransform(*spec, spec->steps[0], Context("orders")).status().message(),
            "step 'orders' is an extract step, not a transform step");
}

}  // namespace
}  // namespace pipeline
}  // namespace mr
