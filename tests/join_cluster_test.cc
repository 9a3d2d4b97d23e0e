// The join app (apps/join.h) on a two-worker cluster: reduce-side inner,
// left and full joins of two CSV inputs (headers, quoted fields with commas,
// quotes and newlines, duplicate and null keys), of a CSV with a JSON Lines
// input, a broadcast join against a side file shipped with --file, and a
// skewed join whose hot key holds half of the large side. Expected outputs
// come from a nested-loop join written here from the specification.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

// One row of a two-column-plus-key table: id (empty: null), then `others`.
struct Row {
  std::string id;
  std::vector<std::string> others;
};

// RFC 4180: quoted when it holds a comma, quote, CR or LF.
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::vector<std::string> quoted;
  for (const std::string& f : fields) quoted.push_back(CsvField(f));
  return absl::StrJoin(quoted, ",");
}

// A CSV file: `header`, then id and the other columns of each row, the id
// in column `id_column`.
std::string CsvFile(const std::string& header, const std::vector<Row>& rows,
                    size_t id_column) {
  std::string text = header + "\n";
  for (const Row& r : rows) {
    std::vector<std::string> fields = r.others;
    fields.insert(fields.begin() + id_column, r.id);
    text += CsvLine(fields) + "\n";
  }
  return text;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The reference: the rows a join of `left` and `right` on id gives, in the
// order one reduce writes them (keys ascending, left rows in order each
// with the right rows in order, then null-key rows: left ones, right ones).
// `left_width`/`right_width`: the other columns of each side.
std::vector<std::string> ReferenceJoin(const std::vector<Row>& left,
                                       const std::vector<Row>& right,
                                       const std::string& type,
                                       size_t left_width, size_t right_width) {
  std::map<std::string, std::pair<std::vector<size_t>, std::vector<size_t>>>
      groups;
  std::vector<size_t> null_left, null_right;
  for (size_t i = 0; i < left.size(); ++i) {
    (left[i].id.empty() ? null_left : groups[left[i].id].first).push_back(i);
  }
  for (size_t j = 0; j < right.size(); ++j) {
    (right[j].id.empty() ? null_right : groups[right[j].id].second).push_back(j);
  }
  std::vector<std::string> out;
  auto emit = [&](const std::string& key, const Row* l, const Row* r) {
    std::vector<std::string> fields = {key};
    for (size_t k = 0; k < left_width; ++k) {
      fields.push_back(l != nullptr ? l->others[k] : "");
    }
    for (size_t k = 0; k < right_width; ++k) {
      fields.push_back(r != nullptr ? r->others[k] : "");
    }
    out.push_back(CsvLine(fields));
  };
  for (const auto& [key, g] : groups) {
    if (!g.first.empty() && !g.second.empty()) {
      for (size_t l : g.first) {
        for (size_t r : g.second) emit(key, &left[l], &right[r]);
      }
    } else if (!g.first.empty() && type != "inner") {
      for (size_t l : g.first) emit(key, &left[l], nullptr);
    } else if (!g.second.empty() && type == "full") {
      for (size_t r : g.second) emit(key, nullptr, &right[r]);
    }
  }
  if (type != "inner") {
    for (size_t l : null_left) emit("", &left[l], nullptr);
  }
  if (type == "full") {
    for (size_t r : null_right) emit("", nullptr, &right[r]);
  }
  return out;
}

std::string Lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  return text;
}

class JoinClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.Start();
    ASSERT_TRUE(s.ok()) << s;
    MakeTables();
  }

  // Users (left: id,name,city) and orders (right: oid,id,amount), with
  // duplicate ids on both sides, null ids on both, ids only one side has,
  // and names that need quoting.
  void MakeTables() {
    std::mt19937 rng(11);
    static const char* const kNames[] = {"Ann", "Smith, J.", "say \"hi\"",
                                         "two\nlines", "Zoë"};
    for (int i = 0; i < 3000; ++i) {
      Row u;
      u.id = i % 41 == 7 ? "" : std::to_string(rng() % 2500);
      u.others = {absl::StrCat(kNames[i % 5], " ", i),
                  absl::StrCat("city", i % 13)};
      users_.push_back(u);
    }
    for (int i = 0; i < 6000; ++i) {
      Row o;
      o.id = i % 53 == 5 ? "" : std::to_string(rng() % 3000);
      o.others = {i % 17 == 0 ? absl::StrCat("o\"", i, "\", rush") :
                                absl::StrCat("o", i),
                  std::to_string((i * 37) % 1000)};
      orders_.push_back(o);
    }
    users_csv_ = Write("users.csv", CsvFile("id,name,city", users_, 0));
    orders_csv_ = Write("orders.csv", CsvFile("oid,id,amount", orders_, 1));
    // The same orders as JSON Lines: ids and amounts as numbers, null ids.
    std::string jsonl;
    for (const Row& o : orders_) {
      absl::StrAppend(&jsonl, "{\"oid\": ", JsonString(o.others[0]),
                      ", \"id\": ", o.id.empty() ? "null" : o.id,
                      ", \"amount\": ", o.others[1], "}\n");
    }
    orders_jsonl_ = Write("orders.jsonl", jsonl);
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string dir = cluster_.PathUnderRoot("data");
    EXPECT_TRUE(MakeDirs(dir).ok());
    const std::string path = dir + "/" + name;
    absl::Status s = WriteFileAtomically(path, text);
    EXPECT_TRUE(s.ok()) << s;
    return path;
  }

  mrpb::JobStatus Submit(std::vector<std::string> args) {
    args.insert(args.begin(), {"--app", "join"});
    absl::StatusOr<mrpb::JobStatus> status =
        cluster_.SubmitAndWait(std::move(args));
    EXPECT_TRUE(status.ok()) << status.status();
    if (!status.ok()) return {};
    EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED) << status->DebugString();
    return *status;
  }

  // The part files of `kind` ("r" or "m") in `dir`, concatenated in order.
  static std::string ReadParts(const std::string& dir, const std::string& kind) {
    absl::StatusOr<std::string> all = ConcatenateParts(dir, kind);
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? *all : "";
  }

  ExternalMiniCluster cluster_;
  std::vector<Row> users_, orders_;
  std::string users_csv_, orders_csv_, orders_jsonl_;
};

TEST_F(JoinClusterTest, InnerJoinOfTwoCsvInputsOnOneReduceIsInKeyOrder) {
  const std::string out = cluster_.PathUnderRoot("inner");
  const mrpb::JobStatus s =
      Submit({"--input-format", "csv:header", "--input", users_csv_,
              orders_csv_, "--output", out, "--param", "keys=id",
              "--reduces", "1", "--split-size", "60000"});
  EXPECT_TRUE(s.sampled());
  EXPECT_GT(s.maps_total(), 2u);
  const std::string want = Lines(ReferenceJoin(users_, orders_, "inner", 2, 2));
  EXPECT_GT(CountLines(want), 5000u);
  const std::string got = ReadParts(out, "r");
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "the inner join's output differs";
  EXPECT_EQ(JobCounter(s, "join null-key rows"),
            static_cast<int64_t>(
                std::count_if(users_.begin(), users_.end(),
                              [](const Row& r) { return r.id.empty(); }) +
                std::count_if(orders_.begin(), orders_.end(),
                              [](const Row& r) { return r.id.empty(); })));
}

TEST_F(JoinClusterTest, LeftAndFullJoinsOfTwoCsvInputs) {
  for (const std::string type : {"left", "full"}) {
    const std::string out = cluster_.PathUnderRoot("outer-" + type);
    Submit({"--input-format", "csv:header", "--input", users_csv_, orders_csv_,
            "--output", out, "--param", "keys=id", "--param", "type=" + type,
            "--reduces", "3", "--split-size", "100000"});
    JobOutputOptions options;
    options.expected_parts = 3;
    options.check_key_order = false;
    absl::StatusOr<std::string> got = ReadJobOutput(out, options);
    ASSERT_TRUE(got.ok()) << got.status();
    const std::string want =
        SortLines(Lines(ReferenceJoin(users_, orders_, type, 2, 2)));
    EXPECT_EQ(got->size(), want.size()) << type;
    EXPECT_TRUE(*got == want) << "the " << type << " join's output differs";
  }
}

TEST_F(JoinClusterTest, FullJoinOfCsvWithJsonLines) {
  // JSON numbers match CSV text ("17" and 17); CSV output writes them as
  // their text, so the output is the CSV-with-CSV join's.
  const std::string out = cluster_.PathUnderRoot("csv-jsonl");
  Submit({"--input-format", "csv:header", "--input", users_csv_,
          "--input-format", "jsonl", "--input", orders_jsonl_, "--output", out,
          "--param", "keys=id", "--param", "type=full", "--reduces", "2"});
  JobOutputOptions options;
  options.expected_parts = 2;
  options.check_key_order = false;
  absl::StatusOr<std::string> got = ReadJobOutput(out, options);
  ASSERT_TRUE(got.ok()) << got.status();
  const std::string want =
      SortLines(Lines(ReferenceJoin(users_, orders_, "full", 2, 2)));
  EXPECT_EQ(got->size(), want.size());
  EXPECT_TRUE(*got == want) << "the CSV-JSONL join's output differs";
}

TEST_F(JoinClusterTest, BroadcastJoinAgainstASideFile) {
  // Orders (left, the input) against users (right, shipped with --file).
  const std::string out = cluster_.PathUnderRoot("broadcast");
  const mrpb::JobStatus s =
      Submit({"--input-format", "csv:header", "--input", orders_csv_,
              "--file", users_csv_, "--output", out, "--param",
              "side=users.csv", "--param", "keys=id", "--param", "type=left",
              "--split-size", "60000"});
  EXPECT_TRUE(s.spec().map_only());
  EXPECT_GT(s.maps_total(), 1u);
  // Each order in input order, with its users in side-file order.
  std::map<std::string, std::vector<size_t>> users_by_id;
  for (size_t i = 0; i < users_.size(); ++i) {
    if (!users_[i].id.empty()) users_by_id[users_[i].id].push_back(i);
  }
  std::string want;
  for (const Row& o : orders_) {
    auto it = o.id.empty() ? users_by_id.end() : users_by_id.find(o.id);
    if (it == users_by_id.end()) {
      want += CsvLine({o.id, o.others[0], o.others[1], "", ""}) + "\n";
      continue;
    }
    for (size_t u : it->second) {
      want += CsvLine({o.id, o.others[0], o.others[1], users_[u].others[0],
                       users_[u].others[1]}) + "\n";
    }
  }
  const std::string got = ReadParts(out, "m");
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "the broadcast join's output differs";
}

TEST_F(JoinClusterTest, HotKeyIsSpreadOverReducesWithTheSameOutput) {
  // The large side: 200,000 rows, half of them with key 777777; the small
  // side one row per other key and three with the hot key.
  constexpr int kLarge = 200000;
  constexpr int kKeys = 20000;
  std::mt19937 rng(3);
  std::vector<Row> large, small;
  for (int i = 0; i < kLarge; ++i) {
    large.push_back({i % 2 == 0 ? "777777" : std::to_string(rng() % kKeys),
                     {absl::StrCat("l", i)}});
  }
  for (int k = 0; k < kKeys; ++k) {
    small.push_back({std::to_string(k), {absl::StrCat("r", k)}});
  }
  for (int h = 0; h < 3; ++h) {
    small.push_back({"777777", {absl::StrCat("hot", h)}});
  }
  const std::string large_csv = Write("large.csv", CsvFile("k,lv", large, 0));
  const std::string small_csv = Write("small.csv", CsvFile("k,rv", small, 0));
  const std::string want =
      SortLines(Lines(ReferenceJoin(large, small, "inner", 1, 1)));
  // The largest partition's map output records over the median's.
  auto spread = [](const mrpb::JobStatus& s) {
    std::vector<uint64_t> records;
    for (const mrpb::PartitionSize& p : s.partitions()) {
      records.push_back(p.records());
    }
    EXPECT_EQ(records.size(), 4u) << s.DebugString();
    if (records.size() != 4) return 0.0;
    std::sort(records.begin(), records.end());
    return records[3] / ((records[1] + records[2]) / 2.0);
  };
  for (const std::string skew : {"on", "off"}) {
    const std::string out = cluster_.PathUnderRoot("skew-" + skew);
    const mrpb::JobStatus s =
        Submit({"--input-format", "csv:header", "--input", large_csv,
                small_csv, "--output", out, "--param", "keys=k", "--param",
                "skew=" + skew, "--reduces", "4", "--split-size", "1000000"});
    JobOutputOptions options;
    options.expected_parts = 4;
    options.check_key_order = false;
    absl::StatusOr<std::string> got = ReadJobOutput(out, options);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(CountLines(*got), CountLines(want)) << skew;
    EXPECT_TRUE(*got == want) << "the skewed join's output differs, skew="
                              << skew;
    if (skew == "on") {
      EXPECT_EQ(JobCounter(s, "join salted rows"), kLarge / 2);
      EXPECT_EQ(JobCounter(s, "join replicated rows"), 3 * 3);  // S = 4
      EXPECT_LE(spread(s), 2.0) << s.DebugString();
    } else {
      // Without salting the hot key's reduce holds over half the rows.
      EXPECT_EQ(JobCounter(s, "join salted rows"), -1);
      EXPECT_GT(spread(s), 2.0) << s.DebugString();
    }
  }
}

}  // namespace
}  // namespace test
}  // namespace mr
