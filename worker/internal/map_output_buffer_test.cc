#include "worker/internal/map_output_buffer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>

#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/record_block.h"

namespace mr {
namespace {

class PlainJob : public Job {
 public:
  void Map(const InputRecord&, Context&) override {}
  void Reduce(std::string_view, ValueIterator&, Context&) override {}
};

// One record of a spilled run: (run, partition, key, value), in file order.
using Spilled = std::tuple<int, uint32_t, std::string, std::string>;

class MapOutputBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("map_output_buffer_test_" + std::to_string(getpid())))
               .string();
    ASSERT_TRUE(MakeDirs(dir_).ok());
  }
  void TearDown() override { RemoveAll(dir_).IgnoreError(); }

  MapOutputOptions Options(uint64_t budget) {
    MapOutputOptions o;
    o.job_id = "job-1";
    o.num_partitions = 3;
    o.budget_bytes = budget;
    o.spill_dir = dir_;
    return o;
  }

  // Every record of the SST files, run by run, in each file's key order
  // (partition, then block).
  std::vector<Spilled> ReadRuns(const std::vector<std::string>& files) {
    std::vector<Spilled> out;
    for (size_t run = 0; run < files.size(); ++run) {
      rocksdb::Options options;
      rocksdb::SstFileReader reader(options);
      EXPECT_TRUE(reader.Open(files[run]).ok()) << files[run];
      std::unique_ptr<rocksdb::Iterator> it(
          reader.NewIterator(rocksdb::ReadOptions()));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        // .../<run:08x>/<partition:08x>/<block:08x>
        const std::string key = it->key().ToString();
        const uint32_t partition =
            std::stoul(key.substr(key.size() - 17, 8), nullptr, 16);
        uint32_t raw_size, crc;
        std::string_view data;
        EXPECT_TRUE(DecodeStoredBlock(it->value().ToStringView(), &raw_size,
                                      &crc, &data)
                        .ok());
        std::string raw;
        EXPECT_TRUE(DecompressBlock(data, raw_size, crc, &raw).ok());
        RecordBlockReader records(raw);
        std::string_view k, v;
        absl::Status s;
        while (records.Next(&k, &v, &s)) {
          out.emplace_back(run, partition, std::string(k), std::string(v));
        }
        EXPECT_TRUE(s.ok()) << s;
      }
      EXPECT_TRUE(it->status().ok());
    }
    return out;
  }

  std::string dir_;
  PlainJob job_;
  std::map<std::string, int64_t> counters_;
  std::map<std::string, std::string> params_;
};

TEST_F(MapOutputBufferTest, AllocationsStayWithinTheBudgetAndRunsAreSorted) {
  const uint64_t seed = std::random_device()();
  SCOPED_TRACE(absl::StrFormat("seed %d", seed));
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  constexpr uint64_t kBudget = 256 << 10;
  MapOutputBuffer buffer(Options(kBudget), &job_, &counters_, &params_);

  // 200,000 small records (16-40 bytes each, 24 more in the index): about
  // 40 budgets' worth. Keys repeat, so equal keys meet within runs.
  std::vector<Spilled> added;
  uint64_t record_bytes = 0;
  for (int i = 0; i < 200000; ++i) {
    const std::string key = absl::StrFormat("key%06d", rng() % 50000);
    const std::string value(rng() % 25, 'a' + i % 26);
    const uint32_t partition = rng() % 3;
    ASSERT_TRUE(buffer.Add(partition, key, absl::StrCat(i, value)).ok());
    ASSERT_LE(buffer.allocated_bytes(), kBudget) << "after record " << i;
    added.emplace_back(0, partition, key, absl::StrCat(i, value));
    record_bytes += key.size() + std::get<3>(added.back()).size();
  }
  ASSERT_TRUE(buffer.Finish().ok());
  EXPECT_LE(buffer.peak_allocated_bytes(), kBudget);
  // The budget is used, not wasted: after the first run (whose index grows
  // as it goes), at least 80% of it per run.
  const uint64_t per_record = sizeof(MapOutputBuffer::Entry);
  const uint64_t total = record_bytes + added.size() * per_record;
  const size_t runs = buffer.sst_files().size();
  std::printf("%zu runs of %llu bytes' worth\n", runs,
              static_cast<unsigned long long>(total));
  EXPECT_GE(runs, total / kBudget);
  EXPECT_LE(runs, total * 10 / (kBudget * 8) + 2);
  EXPECT_EQ(counters_["map spills"], static_cast<int64_t>(runs));

  // Each run sorted by (partition, key), equal keys in arrival order (the
  // value starts with the record's number); every record exactly once.
  const std::vector<Spilled> spilled = ReadRuns(buffer.sst_files());
  ASSERT_EQ(spilled.size(), added.size());
  for (size_t i = 1; i < spilled.size(); ++i) {
    const auto& [run0, p0, k0, v0] = spilled[i - 1];
    const auto& [run1, p1, k1, v1] = spilled[i];
    if (run0 != run1) continue;
    ASSERT_LE(std::tie(p0, k0), std::tie(p1, k1)) << "record " << i;
    if (p0 == p1 && k0 == k1) {
      ASSERT_LT(std::stoll(v0), std::stoll(v1)) << "record " << i;
    }
  }
  std::vector<std::tuple<uint32_t, std::string, std::string>> want, got;
  for (const auto& [run, p, k, v] : added) want.emplace_back(p, k, v);
  for (const auto& [run, p, k, v] : spilled) got.emplace_back(p, k, v);
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_TRUE(want == got);
}

TEST_F(MapOutputBufferTest, RecordLargerThanTheBudgetIsSpilledAlone) {
  constexpr uint64_t kBudget = 64 << 10;
  MapOutputBuffer buffer(Options(kBudget), &job_, &counters_, &params_);
  ASSERT_TRUE(buffer.Add(0, "a", "1").ok());
  ASSERT_TRUE(buffer.Add(1, "big", std::string(100 << 10, 'x')).ok());
  // The small record went out first, then the big one alone; nothing of
  // the big one's block is kept.
  EXPECT_EQ(buffer.sst_files().size(), 2u);
  EXPECT_LE(buffer.allocated_bytes(), kBudget);
  ASSERT_TRUE(buffer.Add(2, "", "").ok());  // an empty record
  ASSERT_TRUE(buffer.Add(0, "b", "2").ok());
  ASSERT_TRUE(buffer.Finish().ok());
  const std::vector<Spilled> spilled = ReadRuns(buffer.sst_files());
  EXPECT_EQ(spilled, (std::vector<Spilled>{
                         {0, 0, "a", "1"},
                         {1, 1, "big", std::string(100 << 10, 'x')},
                         {2, 0, "b", "2"},
                         {2, 2, "", ""}}));
  EXPECT_EQ(counters_["map spills"], 3);
}

TEST_F(MapOutputBufferTest, KeysSortInByteOrderAroundTheEightBytePrefix) {
  // Keys equal in their first 8 bytes, or that differ only by trailing
  // zero bytes, or by bytes >= 0x80.
  const std::vector<std::string> sorted = {
      std::string(""),          std::string("\0", 1),
      std::string("a"),         std::string("ab"),
      std::string("ab\0", 3),   std::string("abcdefgh"),
      std::string("abcdefgh\0", 9), std::string("abcdefgha"),
      std::string("abcdefghb"), std::string("b"),
      std::string("\x80"),      std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff")};
  std::vector<std::string> shuffled = sorted;
  std::mt19937 rng(7);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  MapOutputBuffer buffer(Options(1 << 20), &job_, &counters_, &params_);
  for (const std::string& k : shuffled) ASSERT_TRUE(buffer.Add(1, k, "v").ok());
  ASSERT_TRUE(buffer.Finish().ok());
  std::vector<std::string> got;
  for (const auto& [run, p, k, v] : ReadRuns(buffer.sst_files())) got.push_back(k);
  EXPECT_EQ(got, sorted);
}

TEST_F(MapOutputBufferTest, NothingAddedWritesNoRun) {
  MapOutputBuffer buffer(Options(1 << 20), &job_, &counters_, &params_);
  ASSERT_TRUE(buffer.Finish().ok());
  EXPECT_TRUE(buffer.sst_files().empty());
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
  EXPECT_EQ(counters_.count("map spills"), 0u);
}

}  // namespace
}  // namespace mr
