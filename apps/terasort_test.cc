// Unit tests of the gensort port and of teragen, terasort and teravalidate,
// run against a fake Context (no engine).
#include "apps/terasort.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "apps/internal/fake_context.h"
#include "apps/internal/gensort.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mr {
namespace apps {
namespace {

using internal::FakeContext;
using internal::GenerateRecord;
using internal::GensortGenerator;
using internal::GensortNextRand;
using internal::GensortSkipAhead;
using internal::RecordCrc;
using internal::Uint128;
using internal::VectorValues;
using ::testing::ElementsAre;
using ::testing::Pair;

constexpr Uint128 U128(uint64_t hi, uint64_t lo) {
  return (static_cast<Uint128>(hi) << 64) | lo;
}

std::string Record(uint64_t r, bool ascii, uint64_t seed = 0) {
  std::string rec(100, '\0');
  GenerateRecord(r, ascii, rec.data(), seed);
  return rec;
}

std::string Hex(std::string_view bytes) {
  return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()));
}

// ---- gensort ----

// rand16.c's published Gen[k].c is f applied 2^k times to 0.
TEST(GensortTest, SkipAheadMatchesRand16PowerTable) {
  EXPECT_TRUE(GensortSkipAhead(1) ==
              U128(0x4a696d4772617952ull, 0x4950202020202001ull));
  EXPECT_TRUE(GensortSkipAhead(2) ==
              U128(0x95e0e48262b3edfeull, 0x04479485c755b646ull));
  EXPECT_TRUE(GensortSkipAhead(4) ==
              U128(0x882a02c315362b60ull, 0x765f100068b33a1cull));
  EXPECT_TRUE(GensortSkipAhead(8) ==
              U128(0x5efc4abfaca23e8cull, 0xa8edb1f2dfbf6478ull));
  EXPECT_TRUE(GensortSkipAhead(Uint128{1} << 63) ==
              U128(0x7858ca25feb8d4bfull, 0x8000000000000000ull));
  EXPECT_TRUE(GensortSkipAhead(Uint128{1} << 64) ==
              U128(0xf0b1944bfd71a97full, 0x0000000000000000ull));
}

TEST(GensortTest, SkipAheadEqualsStepping) {
  Uint128 x = 0;
  for (int n = 0; n <= 300; ++n) {
    ASSERT_TRUE(GensortSkipAhead(n) == x) << n;
    x = GensortNextRand(x);
  }
  for (Uint128 n : {Uint128{1} << 40, (Uint128{1} << 64) - 1, U128(7, 12345),
                    ~Uint128{0} - 1}) {
    EXPECT_TRUE(GensortSkipAhead(n + 1) ==
                GensortNextRand(GensortSkipAhead(n)));
  }
}

// gensort.c 1.5's Skew_binary[j] / Skew_ascii[j] tables are the first 6
// key bytes of records 0..128 (unskewed): published known values.
TEST(GensortTest, KeysMatchGensortSkewTables) {
  const std::vector<std::pair<uint64_t, std::string>> skew_binary = {
      {0, "4a696d477261"},  {1, "95e0e48262b3"},   {2, "45979353dbed"},
      {3, "882a02c31536"},  {4, "5c90ab38ae52"},   {5, "72dc0ca51e33"},
      {7, "5efc4abfaca2"},  {15, "f25bd15439d1"},  {31, "89ca67c29c93"},
      {64, "33d5b5b15c70"}, {100, "0a25a99af439"}, {127, "98a2542fd23d"},
      {128, "e1dc46b645c4"}};
  for (const auto& [r, prefix] : skew_binary) {
    EXPECT_EQ(Hex(Record(r, false).substr(0, 6)), prefix) << "record " << r;
  }
  const std::vector<std::pair<uint64_t, std::string>> skew_ascii = {
      {0, "AsfAGH"},   {1, "~sHd0j"},  {2, "uI^EYm"},  {3, "Q)JN)R"},
      {4, "o4FoBk"},   {7, "mz4VCN"},  {64, "ix^T<S"}, {93, "(cb621"},
      {127, "}]Kk&:"}, {128, "12NSK|"}};
  for (const auto& [r, prefix] : skew_ascii) {
    EXPECT_EQ(Record(r, true).substr(0, 6), prefix) << "record " << r;
  }
}

// Whole records, from an independent transcription of gensort.c 1.5
// (plain big-integer LCG iteration in Python) and the crc32 sums it gives.
TEST(GensortTest, WholeRecordsMatchReference) {
  EXPECT_EQ(Hex(Record(0, false)),
            "4a696d4772617952495065080060836b392cd58b8f5e55961855e79b87f02283"
            "a466b6aab1f9e0cacf1e26b3292afd1064bb18b56ac07d6f656b1d2f430d57bd"
            "e7e47d81f36a6dd267948bbc2397bfe28c334e4ad82b8e70166293cfaa0116bf"
            "da3bb1ab");
  EXPECT_EQ(Hex(Record(2, false)),
            "45979353dbed5329365c78c2e621f4eeffb2a79396596dfd6dea3dd0a47bd875"
            "aa00bdafa5abddef83cd977d27a033cab43334952cdacffe64d5feb817b9c1c0"
            "078326d8acb7b7eeb4041c8ae03ebbbf7b2daa5c79ff36642356eff9714dd020"
            "220b829e");
  EXPECT_EQ(Record(0, true),
            "AsfAGHM5om  00000000000000000000000000000000  "
            "0000222200002222000022220000222200002222000000001111\r\n");
  EXPECT_EQ(Record(1, true),
            "~sHd0jDv6X  00000000000000000000000000000001  "
            "77779999444488885555CCCC777755555555BBBB666644446666\r\n");

  for (bool ascii : {false, true}) {
    GensortGenerator gen(0, ascii);
    uint64_t sum = 0;
    char rec[100];
    for (int i = 0; i < 20; ++i) {
      gen.Next(rec);
      sum += RecordCrc(rec);
    }
    EXPECT_EQ(sum, ascii ? 0x80fc8ce4full : 0xb90a9e7aeull);
  }
}

TEST(GensortTest, RecordCrcIsZlibCrc32) {
  const std::string rec = Record(5, false);
  EXPECT_EQ(RecordCrc(rec.data()),
            crc32(0, reinterpret_cast<const Bytef*>(rec.data()), 100));
}

TEST(GensortTest, AsciiLayout) {
  for (uint64_t r : {uint64_t{0}, uint64_t{9}, uint64_t{0xABCDEF},
                     (uint64_t{1} << 40) + 5}) {
    const std::string rec = Record(r, true);
    for (int i = 0; i < 10; ++i) {
      EXPECT_GE(rec[i], ' ') << r;
      EXPECT_LE(rec[i], '~') << r;
    }
    EXPECT_EQ(rec.substr(10, 2), "  ");
    char number[33];
    snprintf(number, sizeof(number), "%032llX",
             static_cast<unsigned long long>(r));
    EXPECT_EQ(rec.substr(12, 32), number);
    EXPECT_EQ(rec.substr(44, 2), "  ");
    for (int g = 0; g < 13; ++g) {
      const char d = rec[46 + 4 * g];
      EXPECT_TRUE(isxdigit(static_cast<unsigned char>(d)) && !islower(d));
      EXPECT_EQ(rec.substr(46 + 4 * g, 4), std::string(4, d));
    }
    EXPECT_EQ(rec.substr(98), "\r\n");
  }
}

// Binary bytes 10..99: the next nine random numbers, xor'ed per part.
TEST(GensortTest, BinaryBodyUsesTheNextNineNumbers) {
  const uint64_t r = 1000;
  const std::string rec = Record(r, false);
  Uint128 x = GensortSkipAhead(r + 1);
  // Part 1's xor constant: F0E8E4E2E1D8D4D2 D1CC.
  x = GensortNextRand(x);
  const Uint128 part1 = x ^ U128(0xF0E8E4E2E1D8D4D2ull, 0xD1CC000000000000ull);
  std::string expected;
  for (int i = 0; i < 10; ++i) {
    expected.push_back(static_cast<char>(part1 >> (120 - 8 * i)));
  }
  EXPECT_EQ(rec.substr(10, 10), expected);
}

TEST(GensortTest, SkipAheadToRecordEqualsSteppingFromZero) {
  GensortGenerator from_zero(0, false);
  GensortGenerator from_zero_ascii(0, true);
  char rec[100];
  for (uint64_t r = 0; r <= 1000; ++r) {
    from_zero.Next(rec);
    if (r % 7 == 0 || r == 9 || r == 10 || r == 11 || r == 1000) {
      ASSERT_EQ(std::string(rec, 100), Record(r, false)) << r;
    }
    from_zero_ascii.Next(rec);
    if (r % 13 == 0 || r == 1000) {
      ASSERT_EQ(std::string(rec, 100), Record(r, true)) << r;
    }
  }
  EXPECT_EQ(from_zero.next_record(), 1001u);
  // A generator started mid-way, across several queue wrap-arounds.
  GensortGenerator mid(123, false);
  for (uint64_t r = 123; r < 160; ++r) {
    mid.Next(rec);
    ASSERT_EQ(std::string(rec, 100), Record(r, false)) << r;
  }
}

TEST(GensortTest, SeedsAreDeterministicAndDistinct) {
  EXPECT_EQ(Record(42, false, 7), Record(42, false, 7));
  EXPECT_NE(Record(42, false, 7), Record(42, false, 0));
  EXPECT_NE(Record(42, false, 7), Record(42, false, 8));
  EXPECT_EQ(Record(42, false, 0), Record(42, false));
  // Seed s: the stream of record r starts at r + s * 2^64; the ASCII record
  // number stays r.
  const Uint128 x = GensortSkipAhead(U128(7, 42) + 1);
  std::string key;
  for (int i = 0; i < 10; ++i)
    key.push_back(static_cast<char>(x >> (120 - 8 * i)));
  EXPECT_EQ(Record(42, false, 7).substr(0, 10), key);
  const std::string a = Record(42, true, 7);
  EXPECT_EQ(a.substr(12, 32), "0000000000000000000000000000002A");
  EXPECT_NE(a.substr(0, 10), Record(42, true).substr(0, 10));
}

// ---- teragen ----

TEST(TeraGenTest, SetupRefusesBadParams) {
  TeraGen g;
  EXPECT_EQ(g.Setup({}), "teragen needs --param records=N (N > 0)");
  EXPECT_EQ(g.Setup({{"records", "0"}}),
            "teragen needs --param records=N (N > 0), got '0'");
  EXPECT_EQ(g.Setup({{"records", "-5"}}),
            "teragen needs --param records=N (N > 0), got '-5'");
  EXPECT_EQ(g.Setup({{"records", "12x"}}),
            "teragen needs --param records=N (N > 0), got '12x'");
  EXPECT_EQ(g.Setup({{"records", ""}}),
            "teragen needs --param records=N (N > 0), got ''");
  EXPECT_EQ(
      g.Setup({{"records", "99999999999999999999"}}),
      "teragen needs --param records=N (N > 0), got '99999999999999999999'");
  EXPECT_EQ(g.Setup({{"records", "10"}, {"format", "text"}}),
            "teragen: format must be 'binary' or 'ascii', got 'text'");
  EXPECT_EQ(g.Setup({{"records", "10"}, {"seed", "-1"}}),
            "teragen: seed must be a non-negative integer, got '-1'");
  EXPECT_EQ(g.Setup({{"records", "10"}, {"format", "ascii"}, {"seed", "3"}}),
            "");
  EXPECT_EQ(g.Setup({{"records", "1099511627776"}, {"format", "binary"}}), "");
}

TEST(TeraGenTest, Traits) {
  const JobTraits t = TeraGen().Traits();
  EXPECT_TRUE(t.generates_input);
  EXPECT_TRUE(t.map_only);
  EXPECT_TRUE(t.raw_output);
  EXPECT_FALSE(t.total_order);
}

TEST(TeraGenTest, MapRangesCoverAllRecordsWithoutOverflow) {
  for (uint64_t n :
       {uint64_t{1}, uint64_t{7}, uint64_t{1} << 40, ~uint64_t{0}}) {
    for (uint32_t m : {1u, 3u, 1000u, 4294967295u}) {
      uint64_t begin, end;
      TeraGen::MapRange(n, 0, m, &begin, &end);
      EXPECT_EQ(begin, 0u);
      TeraGen::MapRange(n, m - 1, m, &begin, &end);
      EXPECT_EQ(end, n) << n << " " << m;
      // Neighbours meet.
      for (uint32_t i : {0u, m / 2, m - 2}) {
        if (uint64_t{i} + 1 >= m) continue;  // also m - 2 wrapping
        uint64_t next_begin, next_end;
        TeraGen::MapRange(n, i, m, &begin, &end);
        TeraGen::MapRange(n, i + 1, m, &next_begin, &next_end);
        EXPECT_LE(begin, end);
        EXPECT_EQ(end, next_begin) << n << " " << m << " " << i;
      }
    }
  }
  uint64_t begin, end;
  TeraGen::MapRange(uint64_t{1} << 40, 1, 3, &begin, &end);
  EXPECT_EQ(begin, 366503875925u);
  EXPECT_EQ(end, 733007751850u);
  TeraGen::MapRange(10, 3, 3, &begin, &end);  // no such map: nothing
  EXPECT_EQ(begin, end);
}

// Runs teragen's maps; returns the records in map order and the counters.
std::vector<std::string> RunTeraGen(
    const std::map<std::string, std::string>& params, uint32_t num_maps,
    std::map<std::string, int64_t>* counters) {
  std::vector<std::string> records;
  for (uint32_t i = 0; i < num_maps; ++i) {
    TeraGen g;  // one instance per task, as the engine does
    EXPECT_EQ(g.Setup(params), "");
    FakeContext ctx;
    g.Generate(i, num_maps, ctx);
    for (const auto& [key, value] : ctx.emits) {
      EXPECT_EQ(key.size(), 100u);
      EXPECT_EQ(value, "");
      records.push_back(key);
    }
    for (const auto& [name, v] : ctx.counters) (*counters)[name] += v;
  }
  return records;
}

TEST(TeraGenTest, MapsTogetherWriteRecordsZeroToNOnce) {
  for (const char* format : {"binary", "ascii"}) {
    std::map<std::string, int64_t> counters;
    const std::vector<std::string> records =
        RunTeraGen({{"records", "1000"}, {"format", format}}, 7, &counters);
    ASSERT_EQ(records.size(), 1000u);
    GensortGenerator gen(0, std::string(format) == "ascii");
    uint64_t sum = 0;
    char rec[100];
    for (uint64_t r = 0; r < 1000; ++r) {
      gen.Next(rec);
      sum += RecordCrc(rec);
      ASSERT_EQ(records[r], std::string(rec, 100)) << format << " " << r;
    }
    EXPECT_EQ(counters["teragen records"], 1000);
    EXPECT_EQ(static_cast<uint64_t>(counters["record checksum"]), sum);
  }
}

TEST(TeraGenTest, MoreMapsThanRecordsAndSeeds) {
  std::map<std::string, int64_t> counters;
  const std::vector<std::string> records =
      RunTeraGen({{"records", "3"}, {"seed", "5"}}, 5, &counters);
  ASSERT_EQ(records.size(), 3u);
  for (uint64_t r = 0; r < 3; ++r) EXPECT_EQ(records[r], Record(r, false, 5));
  EXPECT_EQ(counters["teragen records"], 3);
  EXPECT_NE(records[0], Record(0, false));
}

// ---- terasort ----

InputRecord At(std::string_view file, uint64_t offset, std::string_view line) {
  InputRecord r;
  r.file = file;
  r.offset = offset;
  r.line = line;
  return r;
}

TEST(TeraSortTest, TraitsAndMapEmitsWholeRecordAsKey) {
  TeraSort s;
  const JobTraits t = s.Traits();
  EXPECT_TRUE(t.total_order);
  EXPECT_EQ(t.record_bytes, 100u);
  EXPECT_TRUE(t.raw_output);
  EXPECT_FALSE(s.HasCombiner());
  FakeContext ctx;
  const std::string rec = Record(3, false);
  s.Map(At("f", 0, rec), ctx);
  s.Map(At("f", 100, "short"), ctx);
  EXPECT_THAT(ctx.emits, ElementsAre(Pair(rec, "")));
  EXPECT_EQ(ctx.Counter("short records"), 1);
}

TEST(TeraSortTest, ReduceKeepsDuplicates) {
  TeraSort s;
  FakeContext ctx;
  const std::string rec = Record(8, true);
  VectorValues values({"", "", ""});
  s.Reduce(rec, values, ctx);
  EXPECT_THAT(ctx.emits,
              ElementsAre(Pair(rec, ""), Pair(rec, ""), Pair(rec, "")));
}

// ---- teravalidate ----

TEST(TeraValidateTest, TraitsAndSummaryEncoding) {
  const JobTraits t = TeraValidate().Traits();
  EXPECT_EQ(t.record_bytes, 100u);
  EXPECT_EQ(t.num_reduces, 1u);
  EXPECT_FALSE(t.raw_output);

  TeraRunSummary s;
  s.first = Record(1, false);
  s.last = Record(2, false);
  s.records = 12;
  s.duplicate_keys = 3;
  s.misordered = 4;
  s.first_misorder_offset = 500;
  s.checksum = 0xfedcba9876543210ull;
  const std::string encoded = s.Encode();
  EXPECT_EQ(encoded.size(), TeraRunSummary::kEncodedBytes);
  TeraRunSummary d;
  ASSERT_TRUE(TeraRunSummary::Decode(encoded, &d));
  EXPECT_EQ(d.first, s.first);
  EXPECT_EQ(d.last, s.last);
  EXPECT_EQ(d.records, 12u);
  EXPECT_EQ(d.duplicate_keys, 3u);
  EXPECT_EQ(d.misordered, 4u);
  EXPECT_EQ(d.first_misorder_offset, 500u);
  EXPECT_EQ(d.checksum, 0xfedcba9876543210ull);
  EXPECT_FALSE(TeraRunSummary::Decode(encoded.substr(1), &d));
  EXPECT_LT(TeraRunKey("part-r-00000", 900), TeraRunKey("part-r-00000", 1000));
  EXPECT_LT(TeraRunKey("part-r-00000", 1ull << 40),
            TeraRunKey("part-r-00001", 0));
}

// A file of records, and the map tasks' splits of the files.
struct File {
  std::string path;
  std::vector<std::string> records;
};
struct Split {
  size_t file;
  size_t first;  // record index
  size_t count;
};

struct ValidateResult {
  std::vector<std::string> report;
  std::map<std::string, int64_t> counters;
};

// Runs teravalidate: one map per split, the shuffle (sort by key), then the
// single reduce.
ValidateResult RunTeraValidate(const std::vector<File>& files,
                               const std::vector<Split>& splits) {
  ValidateResult result;
  std::vector<std::pair<std::string, std::string>> shuffle;
  for (const Split& split : splits) {
    TeraValidate v;
    FakeContext ctx;
    const File& f = files[split.file];
    for (size_t i = split.first; i < split.first + split.count; ++i) {
      v.Map(At(f.path, 100 * i, f.records[i]), ctx);
    }
    v.Finish(ctx);
    shuffle.insert(shuffle.end(), ctx.emits.begin(), ctx.emits.end());
    for (const auto& [name, n] : ctx.counters) result.counters[name] += n;
  }
  std::stable_sort(
      shuffle.begin(), shuffle.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  TeraValidate reduce;
  FakeContext ctx;
  ctx.kind = TaskKind::kReduce;
  for (size_t i = 0; i < shuffle.size();) {
    size_t j = i;
    std::vector<std::string> values;
    while (j < shuffle.size() && shuffle[j].first == shuffle[i].first) {
      values.push_back(shuffle[j++].second);
    }
    VectorValues it(values);
    reduce.Reduce(shuffle[i].first, it, ctx);
    i = j;
  }
  reduce.Finish(ctx);
  for (const auto& [key, value] : ctx.emits) {
    EXPECT_EQ(value, "");
    result.report.push_back(key);
  }
  for (const auto& [name, n] : ctx.counters) result.counters[name] += n;
  return result;
}

// `n` gensort records sorted, dealt into files of `per_file` records.
std::vector<File> SortedFiles(size_t n, size_t per_file, uint64_t* checksum) {
  std::vector<std::string> all;
  *checksum = 0;
  for (uint64_t r = 0; r < n; ++r) {
    all.push_back(Record(r, false));
    *checksum += RecordCrc(all.back().data());
  }
  std::sort(all.begin(), all.end());
  std::vector<File> files;
  for (size_t i = 0; i < n; i += per_file) {
    File f;
    f.path = absl::StrCat("/out/part-r-0000", files.size());
    f.records.assign(all.begin() + i, all.begin() + std::min(n, i + per_file));
    files.push_back(std::move(f));
  }
  return files;
}

// Map splits: file 0 in three, file 1 in two.
const std::vector<Split> kSplits = {
    {0, 0, 40}, {0, 40, 50}, {0, 90, 60}, {1, 0, 70}, {1, 70, 80}};

TEST(TeraValidateTest, SortedInputHasNoMisorders) {
  uint64_t checksum;
  const std::vector<File> files = SortedFiles(300, 150, &checksum);
  ValidateResult res = RunTeraValidate(files, kSplits);
  EXPECT_THAT(
      res.report,
      ElementsAre("records 300", absl::StrCat("checksum ", absl::Hex(checksum)),
                  "duplicate keys 0", "misordered records 0"));
  EXPECT_EQ(res.counters["teravalidate records"], 300);
  EXPECT_EQ(static_cast<uint64_t>(res.counters["record checksum"]), checksum);
  EXPECT_EQ(res.counters.count(kCheckFailuresCounter), 0u);
}

TEST(TeraValidateTest, OneMapSeeingTwoFilesAndGaps) {
  uint64_t checksum;
  const std::vector<File> files = SortedFiles(300, 150, &checksum);
  TeraValidate v;
  FakeContext ctx;
  for (size_t i = 0; i < 150; ++i) {
    if (i == 75) continue;  // a gap: the run breaks
    v.Map(At(files[0].path, 100 * i, files[0].records[i]), ctx);
  }
  for (size_t i = 0; i < 150; ++i) {
    v.Map(At(files[1].path, 100 * i, files[1].records[i]), ctx);
  }
  v.Finish(ctx);
  ASSERT_EQ(ctx.emits.size(), 3u);
  EXPECT_EQ(ctx.emits[0].first, TeraRunKey(files[0].path, 0));
  EXPECT_EQ(ctx.emits[1].first, TeraRunKey(files[0].path, 7600));
  EXPECT_EQ(ctx.emits[2].first, TeraRunKey(files[1].path, 0));
  TeraRunSummary s;
  ASSERT_TRUE(TeraRunSummary::Decode(ctx.emits[1].second, &s));
  EXPECT_EQ(s.records, 74u);
  EXPECT_EQ(s.first, files[0].records[76]);
  EXPECT_EQ(s.last, files[0].records[149]);
}

TEST(TeraValidateTest, SwappedPairWithinARun) {
  uint64_t checksum;
  std::vector<File> files = SortedFiles(300, 150, &checksum);
  std::swap(files[1].records[20], files[1].records[21]);
  ValidateResult res = RunTeraValidate(files, kSplits);
  EXPECT_THAT(
      res.report,
      ElementsAre("records 300", absl::StrCat("checksum ", absl::Hex(checksum)),
                  "duplicate keys 0", "misordered records 1",
                  "first misorder /out/part-r-00001:2100"));
  EXPECT_EQ(res.counters[kCheckFailuresCounter], 1);
}

TEST(TeraValidateTest, SwappedPairAcrossRunsAndFiles) {
  uint64_t checksum;
  std::vector<File> files = SortedFiles(300, 150, &checksum);
  // Records 39 and 40 of file 0: the second split starts at 40.
  std::swap(files[0].records[39], files[0].records[40]);
  ValidateResult res = RunTeraValidate(files, kSplits);
  EXPECT_THAT(
      res.report,
      ElementsAre("records 300", absl::StrCat("checksum ", absl::Hex(checksum)),
                  "duplicate keys 0", "misordered records 1",
                  "first misorder /out/part-r-00000:4000"));
  // The last of file 0 and the first of file 1.
  files = SortedFiles(300, 150, &checksum);
  std::swap(files[0].records[149], files[1].records[0]);
  res = RunTeraValidate(files, kSplits);
  EXPECT_THAT(
      res.report,
      ElementsAre("records 300", absl::StrCat("checksum ", absl::Hex(checksum)),
                  "duplicate keys 0", "misordered records 1",
                  "first misorder /out/part-r-00001:0"));
  EXPECT_EQ(res.counters[kCheckFailuresCounter], 1);
}

TEST(TeraValidateTest, DuplicateKeysWithinAndAcrossRuns) {
  uint64_t checksum;
  std::vector<File> files = SortedFiles(300, 150, &checksum);
  // Copy a key onto the next record (its rest keeps it sorted after):
  // within a run, across a split, across files.
  auto dup = [&](File& to, size_t i, const std::string& from) {
    to.records[i].replace(0, 10, from.substr(0, 10));
  };
  dup(files[0], 11, files[0].records[10]);  // within run 1
  dup(files[0], 40, files[0].records[39]);  // split boundary
  dup(files[1], 0, files[0].records[149]);  // file boundary
  checksum = 0;
  for (const File& f : files) {
    for (const std::string& r : f.records) checksum += RecordCrc(r.data());
  }
  ValidateResult res = RunTeraValidate(files, kSplits);
  ASSERT_GE(res.report.size(), 4u);
  EXPECT_EQ(res.report[2], "duplicate keys 3");
  EXPECT_EQ(res.report[1], absl::StrCat("checksum ", absl::Hex(checksum)));
  // Equal keys are in order only if the rest of the record happens to be;
  // teravalidate looks at keys only, so no misorder either way.
  EXPECT_EQ(res.report[3], "misordered records 0");
}

TEST(TeraValidateTest, ReduceWithoutInputReportsZero) {
  TeraValidate v;
  FakeContext ctx;
  ctx.kind = TaskKind::kReduce;
  v.Finish(ctx);
  EXPECT_THAT(ctx.emits,
              ElementsAre(Pair("records 0", ""), Pair("checksum 0", ""),
                          Pair("duplicate keys 0", ""),
                          Pair("misordered records 0", "")));
  EXPECT_EQ(ctx.Counter("teravalidate records"), 0);
  EXPECT_EQ(ctx.counters.count(kCheckFailuresCounter), 0u);
}

// A map with no input writes nothing.
TEST(TeraValidateTest, InputlessMapWritesNothing) {
  TeraValidate v;
  FakeContext ctx;
  v.Finish(ctx);
  EXPECT_TRUE(ctx.emits.empty());
  EXPECT_TRUE(ctx.counters.empty());
}

TEST(TeraValidateTest, AnEmptySplitAmongOthersChangesNothing) {
  uint64_t checksum;
  const std::vector<File> files = SortedFiles(100, 100, &checksum);
  std::vector<Split> splits = {{0, 0, 50}, {0, 50, 0}, {0, 50, 50}};
  ValidateResult res = RunTeraValidate(files, splits);
  EXPECT_THAT(
      res.report,
      ElementsAre("records 100", absl::StrCat("checksum ", absl::Hex(checksum)),
                  "duplicate keys 0", "misordered records 0"));
  EXPECT_EQ(res.counters["teravalidate records"], 100);
  EXPECT_EQ(res.counters.count("bad run summaries"), 0u);
}

TEST(TeraValidateTest, ShortRecordAndBadSummaryFailTheCheck) {
  TeraValidate v;
  FakeContext ctx;
  const std::string rec = Record(1, false);
  v.Map(At("f", 0, rec), ctx);
  v.Map(At("f", 100, "tail"), ctx);
  v.Finish(ctx);
  EXPECT_EQ(ctx.Counter("short records"), 1);
  EXPECT_EQ(ctx.Counter(kCheckFailuresCounter), 1);
  ASSERT_EQ(ctx.emits.size(), 1u);

  TeraValidate reduce;
  FakeContext rctx;
  rctx.kind = TaskKind::kReduce;
  VectorValues bad({"not a summary"});
  reduce.Reduce(TeraRunKey("f", 0), bad, rctx);
  VectorValues good({ctx.emits[0].second});
  reduce.Reduce(TeraRunKey("f", 200), good, rctx);
  reduce.Finish(rctx);
  EXPECT_EQ(rctx.emits[0].first, "records 1");
  EXPECT_EQ(rctx.Counter("bad run summaries"), 1);
  EXPECT_EQ(rctx.Counter(kCheckFailuresCounter), 1);
}

}  // namespace
}  // namespace apps
}  // namespace mr
