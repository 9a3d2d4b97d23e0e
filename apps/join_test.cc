// Unit tests of the join app (apps/join.h) and its internals, run through a
// small in-process stand-in for the engine (sample, maps, partitioning,
// sort, reduces) with fake record fields: no cluster.
#include "apps/join.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "apps/internal/fake_context.h"
#include "apps/internal/join_plan.h"
#include "apps/internal/join_render.h"
#include "apps/internal/join_row.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mr {
namespace apps {
namespace {

using internal::FakeContext;
using internal::JoinColumn;
using internal::JoinPlan;
using internal::JoinRow;
using internal::VectorValues;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Params = std::map<std::string, std::string>;

// A CSV or JSON Lines record's columns, as the engine would give them.
class FakeFields : public RecordFields {
 public:
  explicit FakeFields(std::vector<std::pair<std::string, std::string>> cols)
      : cols_(std::move(cols)) {}
  size_t size() const override { return cols_.size(); }
  std::string_view name(size_t i) const override { return cols_[i].first; }
  std::string_view value(size_t i) const override { return cols_[i].second; }
  bool Find(std::string_view name, std::string_view* value) const override {
    for (const auto& [n, v] : cols_) {
      if (n == name) {
        *value = v;
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<std::pair<std::string, std::string>> cols_;
};

// One input record of the test's tables.
struct Rec {
  uint32_t input = 0;
  std::string file;
  uint64_t offset = 0;
  std::string line;
  std::shared_ptr<FakeFields> fields;  // null: a text record

  InputRecord ToInput() const {
    InputRecord r;
    r.file = file;
    r.offset = offset;
    r.line = line;
    r.input_index = input;
    r.fields = fields.get();
    return r;
  }
};

// CSV rows of `file` (input `input`): a header "a,b,c" and lines split on
// ',' (test data holds no quotes); offsets are the lines' positions.
std::vector<Rec> Csv(uint32_t input, const std::string& file,
                     const std::string& header,
                     const std::vector<std::string>& lines) {
  const std::vector<std::string> names = absl::StrSplit(header, ',');
  std::vector<Rec> out;
  uint64_t offset = header.size() + 1;
  for (const std::string& line : lines) {
    const std::vector<std::string> values = absl::StrSplit(line, ',');
    std::vector<std::pair<std::string, std::string>> cols;
    for (size_t i = 0; i < values.size(); ++i) {
      cols.emplace_back(i < names.size() ? names[i] : "", values[i]);
    }
    out.push_back({input, file, offset, line,
                   std::make_shared<FakeFields>(std::move(cols))});
    offset += line.size() + 1;
  }
  return out;
}

// A JSON Lines record: its line and the fields the engine makes of it.
Rec Json(uint32_t input, const std::string& file, uint64_t offset,
         const std::string& line,
         std::vector<std::pair<std::string, std::string>> fields) {
  return {input, file, offset, line,
          std::make_shared<FakeFields>(std::move(fields))};
}

std::vector<Rec> Concat(std::vector<Rec> a, const std::vector<Rec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A Context with side files and Fail().
class JoinContext : public FakeContext {
 public:
  std::string FilePath(std::string_view name) const override {
    auto it = files.find(std::string(name));
    return it == files.end() ? std::string() : it->second;
  }
  void Fail(std::string_view message) override {
    failures.emplace_back(message);
  }
  std::map<std::string, std::string> files;
  std::vector<std::string> failures;
};

struct RunResult {
  std::string plan;
  std::vector<std::string> parts;          // each reduce's output lines
  std::vector<uint64_t> partition_records;  // map output records per reduce
  std::map<std::string, int64_t> counters;  // of the maps and reduces
  std::vector<std::string> failures;
};

// Joins `recs` as the engine would: a sample of all of them (unless
// `plan` is given), `maps` maps over contiguous runs of them, `reduces`
// reduces.
RunResult RunJoin(const Params& params, const std::vector<Rec>& recs,
                  uint32_t reduces, uint32_t maps = 2,
                  const std::string* plan = nullptr) {
  RunResult result;
  {
    Join job;
    EXPECT_EQ(job.Setup(params), "");
    EXPECT_TRUE(job.Traits().plans);
    if (plan != nullptr) {
      result.plan = *plan;
    } else {
      JoinContext sample_ctx;
      for (const Rec& r : recs) job.Map(r.ToInput(), sample_ctx);
      Sample sample = sample_ctx.emits;
      std::sort(sample.begin(), sample.end());
      result.plan = job.Plan(sample, reduces);
    }
  }
  // Map output per partition, in map order.
  std::vector<std::vector<std::pair<std::string, std::string>>> shuffle(reduces);
  result.partition_records.assign(reduces, 0);
  for (uint32_t m = 0; m < maps; ++m) {
    Join job;
    EXPECT_EQ(job.Setup(params), "");
    EXPECT_EQ(job.LoadPlan(result.plan), "");
    JoinContext ctx;
    ctx.task_index = m;
    const size_t begin = recs.size() * m / maps;
    const size_t end = recs.size() * (m + 1) / maps;
    for (size_t i = begin; i < end; ++i) job.Map(recs[i].ToInput(), ctx);
    job.Finish(ctx);
    for (auto& [key, value] : ctx.emits) {
      const uint32_t p = job.Partition(key, reduces);
      EXPECT_LT(p, reduces);
      shuffle[p].emplace_back(key, value);
      ++result.partition_records[p];
    }
    for (const auto& [n, v] : ctx.counters) result.counters[n] += v;
    for (const std::string& f : ctx.failures) result.failures.push_back(f);
  }
  for (uint32_t p = 0; p < reduces; ++p) {
    auto& kvs = shuffle[p];
    std::stable_sort(kvs.begin(), kvs.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    Join job;
    EXPECT_EQ(job.Setup(params), "");
    EXPECT_EQ(job.LoadPlan(result.plan), "");
    JoinContext ctx;
    ctx.task_index = p;
    for (size_t i = 0; i < kvs.size();) {
      size_t j = i;
      std::vector<std::string> values;
      for (; j < kvs.size() && kvs[j].first == kvs[i].first; ++j) {
        values.push_back(kvs[j].second);
      }
      VectorValues it(std::move(values));
      job.Reduce(kvs[i].first, it, ctx);
      i = j;
    }
    job.Finish(ctx);
    std::string out;
    for (const auto& [key, value] : ctx.emits) {
      EXPECT_EQ(value, "");
      out += key + "\n";
    }
    result.parts.push_back(out);
    for (const auto& [n, v] : ctx.counters) result.counters[n] += v;
    for (const std::string& f : ctx.failures) result.failures.push_back(f);
  }
  return result;
}

// All output lines of a run, sorted.
std::vector<std::string> SortedLines(const RunResult& r) {
  std::vector<std::string> lines;
  for (const std::string& part : r.parts) {
    for (absl::string_view l : absl::StrSplit(part, '\n', absl::SkipEmpty())) {
      lines.emplace_back(l);
    }
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string NoHotKeysPlan(uint32_t reduces) {
  JoinPlan plan;
  plan.set_num_partitions(reduces);
  return plan.Encode();
}

// ---- Parameters ----

TEST(JoinSetupTest, RefusesBadParameters) {
  auto setup = [](Params p) { return Join().Setup(p); };
  const std::string need =
      "join needs --param keys=COL[,COL...] (or left_keys=... and "
      "right_keys=...)";
  EXPECT_EQ(setup({}), need);
  EXPECT_EQ(setup({{"left_keys", "a"}}), need);
  EXPECT_EQ(setup({{"keys", "a"}, {"left_keys", "a"}, {"right_keys", "b"}}),
            need);
  EXPECT_EQ(setup({{"left_keys", "a,b"}, {"right_keys", "c"}}),
            "join: left_keys names 2 columns and right_keys 1; they must "
            "name as many");
  EXPECT_EQ(setup({{"keys", "a,,b"}}), "join: keys has an empty column name");
  EXPECT_EQ(setup({{"keys", "a"}, {"type", "outer"}}),
            "join: type must be inner, left or full, got 'outer'");
  EXPECT_EQ(setup({{"keys", "a"}, {"output", "tsv"}}),
            "join: output must be csv or jsonl, got 'tsv'");
  EXPECT_EQ(setup({{"keys", "a"}, {"missing", "skip"}}),
            "join: missing must be fail or null, got 'skip'");
  EXPECT_EQ(setup({{"keys", "a"}, {"side", "s.csv"}, {"type", "full"}}),
            "join: a broadcast join (side=FILE) is inner or left, got "
            "type=full");
  EXPECT_EQ(setup({{"keys", "a"}, {"skew", "auto"}}),
            "join: skew must be on or off, got 'auto'");
  EXPECT_EQ(setup({{"keys", "a"}, {"kyes", "b"}}),
            "join: unknown parameter 'kyes'");
  EXPECT_EQ(setup({{"keys", "a,#2"}, {"type", "full"}, {"output", "jsonl"}}),
            "");
}

TEST(JoinSetupTest, TraitsFollowTheSideParameter) {
  Join reduce_side;
  ASSERT_EQ(reduce_side.Setup({{"keys", "a"}}), "");
  EXPECT_TRUE(reduce_side.Traits().plans);
  EXPECT_FALSE(reduce_side.Traits().map_only);
  Join broadcast;
  ASSERT_EQ(broadcast.Setup({{"keys", "a"}, {"side", "s.csv"}}), "");
  EXPECT_FALSE(broadcast.Traits().plans);
  EXPECT_TRUE(broadcast.Traits().map_only);
  // A plan for no reduces is refused.
  EXPECT_EQ(reduce_side.LoadPlan(NoHotKeysPlan(0)),
            "join: a reduce-side join needs reduces; a map-only join is a "
            "broadcast join: side=FILE");
  EXPECT_EQ(reduce_side.LoadPlan("garbage"), "join: the plan does not decode");
}

// ---- Internals ----

TEST(JoinKeyTest, EncodingKeepsTupleOrderAndNeverHoldsTheSaltMarker) {
  auto enc = [](std::vector<std::string> parts) {
    std::string key(1, internal::kJoinRowKey);
    for (const std::string& p : parts) internal::AppendKeyComponent(p, &key);
    return key;
  };
  EXPECT_LT(enc({"a", "z"}), enc({"ab", "a"}));
  EXPECT_LT(enc({"a"}), enc({std::string("a\0", 2)}));
  EXPECT_LT(enc({std::string("a\0", 2)}), enc({"a\x01"}));
  EXPECT_NE(enc({"a", "b"}), enc({std::string("a\0\x01b", 4)}));
  const std::string k = enc({std::string("\0\x02\0", 3), "x"});
  EXPECT_EQ(k.find(std::string("\0\x02", 2)), std::string::npos);
  std::string_view base;
  uint32_t salt;
  EXPECT_FALSE(internal::SplitSalt(k, &base, &salt));
  std::string salted = k;
  internal::AppendSalt(7, &salted);
  ASSERT_TRUE(internal::SplitSalt(salted, &base, &salt));
  EXPECT_EQ(base, k);
  EXPECT_EQ(salt, 7u);
  // Salt i goes i partitions after the unsalted key.
  const uint32_t p0 = internal::JoinPartition(k, 5);
  EXPECT_EQ(internal::JoinPartition(salted, 5), (p0 + 7) % 5);
  EXPECT_EQ(internal::JoinPartition(internal::JoinSchemaKey(1, 3), 5), 3u);
}

TEST(JoinRowTest, EncodesKeysFirstAndDecodes) {
  std::vector<JoinColumn> cols = {{"a", JoinColumn::kString, "1"},
                                  {"b", JoinColumn::kJson, "2.5"},
                                  {"c", JoinColumn::kNull, ""},
                                  {"", JoinColumn::kString, "x,y"}};
  std::string enc;
  internal::EncodeJoinRow(1, "/f", 42, cols, {2, 0}, true, &enc);
  JoinRow row;
  ASSERT_TRUE(internal::DecodeJoinRow(enc, &row));
  EXPECT_EQ(row.side, 1);
  EXPECT_EQ(row.file, "/f");
  EXPECT_EQ(row.offset, 42u);
  EXPECT_EQ(row.num_keys, 2u);
  ASSERT_EQ(row.columns.size(), 4u);
  EXPECT_EQ(row.columns[0].name, "c");
  EXPECT_EQ(row.columns[0].kind, JoinColumn::kNull);
  EXPECT_EQ(row.columns[1].name, "a");
  EXPECT_EQ(row.columns[2].name, "b");
  EXPECT_EQ(row.columns[2].kind, JoinColumn::kJson);
  EXPECT_EQ(row.columns[3].name, "#3");  // headerless: named by position
  EXPECT_EQ(row.columns[3].text, "x,y");
  EXPECT_FALSE(internal::DecodeJoinRow(enc.substr(0, enc.size() - 1), &row));
}

TEST(JoinRowTest, ReadsJsonTypesAndFallsBackToFields) {
  internal::RowReader reader;
  std::vector<JoinColumn> cols;
  Rec json = Json(0, "/j", 0,
                  R"({"id": 7, "name": "A \"b\"", "n": null, "t": [1, {"x": 2}], "o": {"p": true} })",
                  {{"id", "7"}, {"name", "A \"b\""}, {"n", ""},
                   {"t", R"([1, {"x": 2}])"}, {"o", R"({"p": true})"}});
  reader.Read(json.ToInput(), &cols);
  ASSERT_EQ(cols.size(), 5u);
  EXPECT_EQ(cols[0].kind, JoinColumn::kJson);
  EXPECT_EQ(cols[0].text, "7");
  EXPECT_EQ(cols[1].kind, JoinColumn::kString);
  EXPECT_EQ(cols[1].text, "A \"b\"");
  EXPECT_EQ(cols[2].kind, JoinColumn::kNull);
  EXPECT_EQ(cols[3].text, R"([1, {"x": 2}])");
  EXPECT_EQ(cols[4].text, R"({"p": true})");
  EXPECT_TRUE(reader.ReadJsonObject("{\"a\": 1}  ", &cols));
  EXPECT_FALSE(reader.ReadJsonObject("{\"a\": 1} x", &cols));
  EXPECT_FALSE(reader.ReadJsonObject("{\"a\": 1", &cols));
  // A CSV line that starts with '{' keeps its fields' strings.
  Rec csv = Csv(0, "/c", "a,b", {"{x},1"})[0];
  reader.Read(csv.ToInput(), &cols);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[0].kind, JoinColumn::kString);
  EXPECT_EQ(cols[0].text, "{x}");
}

// ---- Reduce-side joins on small tables ----

// Left: users (id,name); right: orders (oid,id,amount). Duplicate keys on
// both sides (id 1: two users, two orders), null keys on both sides, keys
// only on one side (2 left, 4 right).
std::vector<Rec> UsersAndOrders() {
  return Concat(Csv(0, "/in/users.csv", "id,name",
                    {"1,ann", "2,bob", "1,ann2", ",nobody", "3,cy"}),
                Csv(1, "/in/orders.csv", "oid,id,amount",
                    {"o1,1,10", "o2,3,20", "o3,1,30", "o4,4,40", "o5,,50"}));
}

TEST(JoinReduceTest, InnerJoin) {
  RunResult r = RunJoin({{"keys", "id"}}, UsersAndOrders(), 1);
  EXPECT_THAT(r.failures, ElementsAre());
  ASSERT_EQ(r.parts.size(), 1u);
  // Keys in order; left rows in input order, each with the right rows in
  // input order.
  EXPECT_EQ(r.parts[0],
            "1,ann,o1,10\n"
            "1,ann,o3,30\n"
            "1,ann2,o1,10\n"
            "1,ann2,o3,30\n"
            "3,cy,o2,20\n");
  EXPECT_EQ(r.counters["join null-key rows"], 2);
}

TEST(JoinReduceTest, LeftJoin) {
  RunResult r = RunJoin({{"keys", "id"}, {"type", "left"}}, UsersAndOrders(), 1);
  EXPECT_EQ(r.parts[0],
            "1,ann,o1,10\n"
            "1,ann,o3,30\n"
            "1,ann2,o1,10\n"
            "1,ann2,o3,30\n"
            "2,bob,,\n"
            "3,cy,o2,20\n"
            ",nobody,,\n");
}

TEST(JoinReduceTest, FullJoinGivesEachMissingSideItsWidth) {
  RunResult r = RunJoin({{"keys", "id"}, {"type", "full"}}, UsersAndOrders(), 1);
  EXPECT_EQ(r.parts[0],
            "1,ann,o1,10\n"
            "1,ann,o3,30\n"
            "1,ann2,o1,10\n"
            "1,ann2,o3,30\n"
            "2,bob,,\n"
            "3,cy,o2,20\n"
            "4,,o4,40\n"
            ",nobody,,\n"
            ",,o5,50\n");
  // On several reduces and maps, the same rows.
  RunResult spread =
      RunJoin({{"keys", "id"}, {"type", "full"}}, UsersAndOrders(), 3, 3);
  EXPECT_EQ(SortedLines(spread), SortedLines(r));
}

TEST(JoinReduceTest, CompositeKeysWithDifferentNames) {
  std::vector<Rec> recs =
      Concat(Csv(0, "/l.csv", "y,m,v", {"2024,1,a", "2024,2,b", "2023,1,c"}),
             Csv(1, "/r.csv", "month,year,w",
                 {"1,2024,x", "1,2023,y", "2,2023,z", "1,2024,x2"}));
  RunResult r = RunJoin({{"left_keys", "y,m"}, {"right_keys", "year,month"},
                         {"type", "left"}},
                        recs, 1);
  EXPECT_EQ(r.parts[0],
            "2023,1,c,y\n"
            "2024,1,a,x\n"
            "2024,1,a,x2\n"
            "2024,2,b,\n");
}

TEST(JoinReduceTest, PositionalKeysForHeaderlessCsv) {
  std::vector<Rec> recs = Concat(Csv(0, "/l.csv", "", {"k1,a", "k2,b"}),
                                 Csv(1, "/r.csv", "", {"x,k1", "y,k3"}));
  RunResult r = RunJoin({{"left_keys", "#0"}, {"right_keys", "#1"},
                         {"type", "full"}},
                        recs, 1);
  EXPECT_EQ(r.parts[0], "k1,a,x\nk2,b,\nk3,,y\n");
}

TEST(JoinReduceTest, CsvOutputQuotesFields) {
  std::vector<Rec> recs;
  recs.push_back(Json(0, "/l.csv", 0, "x",
                      {{"id", "a,1"}, {"note", "say \"hi\""}}));
  recs.push_back(Json(1, "/r.csv", 0, "x", {{"id", "a,1"}, {"t", "two\nlines"}}));
  RunResult r = RunJoin({{"keys", "id"}}, recs, 1);
  EXPECT_EQ(r.parts[0], "\"a,1\",\"say \"\"hi\"\"\",\"two\nlines\"\n");
}

TEST(JoinReduceTest, JsonlOutputKeepsTypesAndPrefixesClashes) {
  // CSV left, JSON Lines right; both have a "name" column.
  std::vector<Rec> recs = Csv(0, "/users.csv", "id,name", {"7,ann", "8,bob"});
  recs.push_back(Json(1, "/orders.jsonl", 0,
                      R"({"id": 7, "name": "order \"A\"", "amount": 9.5, "tags": ["x"], "note": null})",
                      {{"id", "7"}, {"name", "order \"A\""}, {"amount", "9.5"},
                       {"tags", R"(["x"])"}, {"note", ""}}));
  recs.push_back(Json(1, "/orders.jsonl", 100,
                      R"({"id": 9, "name": "lost", "amount": 1})",
                      {{"id", "9"}, {"name", "lost"}, {"amount", "1"}}));
  RunResult r = RunJoin({{"keys", "id"}, {"type", "full"}, {"output", "jsonl"}},
                        recs, 1);
  EXPECT_EQ(r.parts[0],
            R"({"id":"7","left.name":"ann","right.name":"order \"A\"","amount":9.5,"tags":["x"],"note":null})"
            "\n"
            R"({"id":"8","left.name":"bob"})"
            "\n"
            R"({"id":9,"right.name":"lost","amount":1})"
            "\n");
}

TEST(JoinReduceTest, MissingKeyColumnFailsOrIsNull) {
  std::vector<Rec> recs = Concat(Csv(0, "/l.csv", "id,v", {"1,a"}),
                                 Csv(1, "/r.csv", "key,w", {"1,x"}));
  {
    Join job;
    ASSERT_EQ(job.Setup({{"keys", "id"}}), "");
    JoinContext ctx;
    job.Map(recs[1].ToInput(), ctx);
    EXPECT_THAT(ctx.failures,
                ElementsAre("join: no column 'id' in the right input's record "
                            "at /r.csv:6"));
    EXPECT_THAT(ctx.emits, ElementsAre());
  }
  RunResult r = RunJoin({{"keys", "id"}, {"type", "full"}, {"missing", "null"}},
                        recs, 1);
  EXPECT_THAT(r.failures, ElementsAre());
  // The right row's key is a null stand-in: it matches nothing.
  EXPECT_EQ(r.parts[0], "1,a,,\n,,1,x\n");
}

TEST(JoinReduceTest, RefusesTextRecordsAndAThirdInput) {
  Join job;
  ASSERT_EQ(job.Setup({{"keys", "id"}}), "");
  JoinContext ctx;
  Rec text{0, "/t.txt", 0, "hello", nullptr};
  job.Map(text.ToInput(), ctx);
  EXPECT_THAT(ctx.failures,
              ElementsAre("join reads CSV or JSON Lines input (--input-format "
                          "csv:header, csv or jsonl); /t.txt is neither"));
  Join job2;
  ASSERT_EQ(job2.Setup({{"keys", "id"}}), "");
  JoinContext ctx2;
  Rec third = Csv(2, "/x.csv", "id", {"1"})[0];
  job2.Map(third.ToInput(), ctx2);
  EXPECT_THAT(ctx2.failures,
              ElementsAre("join takes two inputs (--input LEFT RIGHT), or one "
                          "and side=FILE; got a record of input 3: /x.csv"));
}

// ---- Skew ----

// `n` left rows, half of them with key "hot", the rest spread over n/4
// keys; `m` right rows, one per key and a few extra for "hot".
std::vector<Rec> SkewedTables(int n, int m, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> left, right;
  for (int i = 0; i < n; ++i) {
    const std::string key =
        i % 2 == 0 ? "hot" : absl::StrCat("k", rng() % (n / 4));
    left.push_back(absl::StrCat(key, ",l", i));
  }
  for (int i = 0; i < m; ++i) {
    right.push_back(absl::StrCat("k", i, ",r", i));
  }
  right.push_back("hot,rh1");
  right.push_back("hot,rh2");
  right.push_back("k1,rk1b");
  return Concat(Csv(0, "/big.csv", "k,lv", left),
                Csv(1, "/small.csv", "k,rv", right));
}

TEST(JoinPlanTest, FindsTheHotKeyAndItsLargeSide) {
  std::vector<Rec> recs = SkewedTables(2000, 400, 1);
  Join job;
  ASSERT_EQ(job.Setup({{"keys", "k"}}), "");
  JoinContext ctx;
  for (const Rec& r : recs) job.Map(r.ToInput(), ctx);
  Sample sample = ctx.emits;
  std::sort(sample.begin(), sample.end());
  JoinPlan plan;
  ASSERT_TRUE(JoinPlan::Decode(job.Plan(sample, 4), &plan));
  EXPECT_EQ(plan.num_partitions(), 4u);
  ASSERT_EQ(plan.hot_keys().size(), 1u);
  std::string hot(1, internal::kJoinRowKey);
  internal::AppendKeyComponent("hot", &hot);
  const JoinPlan::HotKey* h = plan.Find(hot);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->salted_side, 0);
  // 1000 of 2403 sampled rows; half a share is 2403 / 8: S = ceil(3.3) = 4.
  EXPECT_EQ(h->salts, 4u);
  // Round trip.
  JoinPlan again;
  ASSERT_TRUE(JoinPlan::Decode(plan.Encode(), &again));
  EXPECT_EQ(again.Encode(), plan.Encode());
  // One reduce: nothing to spread.
  EXPECT_TRUE(JoinPlan::FromSample(sample, 1).hot_keys().empty());
  // skew=off plans no hot keys.
  Join off;
  ASSERT_EQ(off.Setup({{"keys", "k"}, {"skew", "off"}}), "");
  ASSERT_TRUE(JoinPlan::Decode(off.Plan(sample, 4), &plan));
  EXPECT_EQ(plan.num_partitions(), 4u);
  EXPECT_TRUE(plan.hot_keys().empty());
}

TEST(JoinPlanTest, SaltsSpreadTheHotKeyAndReplicateTheOtherSide) {
  std::vector<Rec> recs = SkewedTables(2000, 400, 2);
  RunResult r = RunJoin({{"keys", "k"}}, recs, 4, 3);
  // 1000 hot rows salted; the 2 right "hot" rows sent to 4 partitions each.
  EXPECT_EQ(r.counters["join salted rows"], 1000);
  EXPECT_EQ(r.counters["join replicated rows"], 2 * 3);
  // Every partition joins some hot rows with both right hot rows.
  for (const std::string& part : r.parts) {
    EXPECT_THAT(part, HasSubstr(",rh1\n"));
    EXPECT_THAT(part, HasSubstr(",rh2\n"));
  }
  std::vector<uint64_t> sorted = r.partition_records;
  std::sort(sorted.begin(), sorted.end());
  const double median = (sorted[1] + sorted[2]) / 2.0;
  EXPECT_LE(sorted[3], 2 * median) << absl::StrJoin(sorted, ",");
  // Without the plan, one partition holds the hot key's 1000 rows.
  const std::string unplanned = NoHotKeysPlan(4);
  RunResult plain = RunJoin({{"keys", "k"}}, recs, 4, 3, &unplanned);
  EXPECT_GT(*std::max_element(plain.partition_records.begin(),
                              plain.partition_records.end()),
            1000u);
}

// A naive nested-loop join of SkewedTables-shaped data (k,v on each side),
// rendered as the job renders CSV.
std::vector<std::string> ReferenceJoin(const std::vector<Rec>& recs,
                                       const std::string& type) {
  std::vector<std::pair<std::string, std::string>> side[2];
  for (const Rec& r : recs) {
    side[r.input].emplace_back(std::string(r.fields->value(0)),
                               std::string(r.fields->value(1)));
  }
  std::vector<std::string> out;
  std::vector<bool> right_matched(side[1].size());
  for (const auto& [lk, lv] : side[0]) {
    bool matched = false;
    for (size_t j = 0; j < side[1].size(); ++j) {
      if (!lk.empty() && lk == side[1][j].first) {
        out.push_back(absl::StrCat(lk, ",", lv, ",", side[1][j].second));
        matched = true;
        right_matched[j] = true;
      }
    }
    if (!matched && type != "inner") out.push_back(absl::StrCat(lk, ",", lv, ","));
  }
  if (type == "full") {
    for (size_t j = 0; j < side[1].size(); ++j) {
      if (!right_matched[j]) {
        out.push_back(absl::StrCat(side[1][j].first, ",,", side[1][j].second));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(JoinPlanTest, SaltedOutputEqualsTheUnsaltedJoin) {
  for (const std::string type : {"inner", "left", "full"}) {
    // Hot key on the left (salted left, right replicated) ...
    std::vector<Rec> recs = SkewedTables(1200, 300, 3);
    // ... plus left rows whose keys no right row has.
    recs.push_back(Csv(0, "/big2.csv", "k,lv", {"zz,lonely"})[0]);
    const Params params = {{"keys", "k"}, {"type", type}};
    RunResult salted = RunJoin(params, recs, 4, 3);
    EXPECT_GT(salted.counters["join salted rows"], 0) << type;
    const std::string unplanned = NoHotKeysPlan(4);
    RunResult plain = RunJoin(params, recs, 4, 3, &unplanned);
    EXPECT_EQ(SortedLines(salted), SortedLines(plain)) << type;
    EXPECT_EQ(SortedLines(salted), ReferenceJoin(recs, type)) << type;

    // Hot key on the right (salted right, left replicated), with a hot key
    // that has no left rows at all.
    std::vector<Rec> flipped;
    for (Rec r : recs) {
      r.input = 1 - r.input;
      flipped.push_back(r);
    }
    std::vector<std::string> cold;
    for (int i = 0; i < 300; ++i) cold.push_back(absl::StrCat("cold,c", i));
    flipped = Concat(flipped, Csv(1, "/big3.csv", "k,lv", cold));
    std::stable_sort(flipped.begin(), flipped.end(),
                     [](const Rec& a, const Rec& b) { return a.input < b.input; });
    RunResult fsalted = RunJoin(params, flipped, 4, 3);
    JoinPlan plan;
    ASSERT_TRUE(JoinPlan::Decode(fsalted.plan, &plan));
    EXPECT_EQ(plan.hot_keys().size(), 2u) << type;  // "hot" and "cold"
    for (const auto& [k, h] : plan.hot_keys()) EXPECT_EQ(h.salted_side, 1);
    RunResult fplain = RunJoin(params, flipped, 4, 3, &unplanned);
    EXPECT_EQ(SortedLines(fsalted), SortedLines(fplain)) << type;
    EXPECT_EQ(SortedLines(fsalted), ReferenceJoin(flipped, type)) << type;
  }
}

// ---- Broadcast ----

class JoinBroadcastTest : public ::testing::Test {
 protected:
  std::string WriteSide(const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    ctx_.files[name] = path;
    return path;
  }

  // Maps `recs` in one map task; returns the output lines.
  std::string Run(const Params& params, const std::vector<Rec>& recs) {
    Join job;
    EXPECT_EQ(job.Setup(params), "");
    for (const Rec& r : recs) job.Map(r.ToInput(), ctx_);
    job.Finish(ctx_);
    std::string out;
    for (const auto& [key, value] : ctx_.emits) out += key + "\n";
    return out;
  }

  JoinContext ctx_;
};

TEST_F(JoinBroadcastTest, CsvSideFile) {
  WriteSide("users.csv",
            "id,name,city\n1,ann,\"Paris, FR\"\n2,bob,Oslo\n1,ann2,Rome\n"
            ",ghost,Nowhere\n");
  std::vector<Rec> orders = Csv(0, "/orders.csv", "oid,id",
                                {"o1,1", "o2,3", "o3,2", "o4,"});
  EXPECT_EQ(Run({{"keys", "id"}, {"side", "users.csv"}}, orders),
            "1,o1,ann,\"Paris, FR\"\n1,o1,ann2,Rome\n2,o3,bob,Oslo\n");
  ctx_.emits.clear();
  EXPECT_EQ(Run({{"keys", "id"}, {"side", "users.csv"}, {"type", "left"}},
                orders),
            "1,o1,ann,\"Paris, FR\"\n1,o1,ann2,Rome\n3,o2,,\n2,o3,bob,Oslo\n"
            ",o4,,\n");
  EXPECT_THAT(ctx_.failures, ElementsAre());
}

TEST_F(JoinBroadcastTest, JsonlSideFileAndJsonlOutput) {
  WriteSide("users.jsonl",
            "{\"uid\": 1, \"name\": \"ann\", \"vip\": true}\n\n"
            "{\"uid\": 2, \"name\": null}\n");
  std::vector<Rec> orders = Csv(0, "/orders.csv", "oid,user,name",
                                {"o1,1,first", "o2,2,second", "o3,5,third"});
  EXPECT_EQ(Run({{"left_keys", "user"}, {"right_keys", "uid"},
                 {"side", "users.jsonl"}, {"type", "left"},
                 {"output", "jsonl"}},
                orders),
            R"({"user":"1","oid":"o1","left.name":"first","right.name":"ann","vip":true})"
            "\n"
            R"({"user":"2","oid":"o2","left.name":"second","right.name":null})"
            "\n"
            R"({"user":"5","oid":"o3","left.name":"third"})"
            "\n");
}

TEST_F(JoinBroadcastTest, SideFileErrorsFailTheTask) {
  std::vector<Rec> orders = Csv(0, "/orders.csv", "oid,id", {"o1,1"});
  Run({{"keys", "id"}, {"side", "users.csv"}}, orders);
  EXPECT_THAT(ctx_.failures,
              ElementsAre("join: no side file 'users.csv' (ship it with mrctl "
                          "submit --file PATH)"));
  ctx_.failures.clear();
  WriteSide("users.txt", "id\n1\n");
  Run({{"keys", "id"}, {"side", "users.txt"}}, orders);
  EXPECT_THAT(ctx_.failures,
              ElementsAre("join: side file 'users.txt' must end in .csv, "
                          ".jsonl or .ndjson"));
  ctx_.failures.clear();
  WriteSide("nokey.csv", "uid,name\n1,ann\n");
  Run({{"keys", "id"}, {"side", "nokey.csv"}}, orders);
  EXPECT_THAT(ctx_.failures,
              ElementsAre("join: side file 'nokey.csv' has no column 'id' in "
                          "its header"));
  ctx_.failures.clear();
  WriteSide("bad.jsonl", "{\"id\": 1}\n[1, 2]\n");
  Run({{"keys", "id"}, {"side", "bad.jsonl"}}, orders);
  EXPECT_THAT(ctx_.failures,
              ElementsAre("join: side file 'bad.jsonl' line 2: not a JSON "
                          "object"));
  EXPECT_THAT(ctx_.emits, ElementsAre());
}

}  // namespace
}  // namespace apps
}  // namespace mr
