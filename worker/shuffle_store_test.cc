#include "worker/shuffle_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/record_block.h"
#include "worker/internal/map_output_buffer.h"

namespace mr {
namespace {

// A job whose combiner concatenates values with '+'.
class ConcatJob : public Job {
 public:
  explicit ConcatJob(bool combine) : combine_(combine) {}
  void Map(const InputRecord&, Context&) override {}
  void Reduce(std::string_view, ValueIterator&, Context&) override {}
  bool HasCombiner() const override { return combine_; }
  void Combine(std::string_view key, ValueIterator& values,
               Context& ctx) override {
    std::string joined;
    std::string_view v;
    while (values.Next(&v)) joined += (joined.empty() ? "" : "+") + std::string(v);
    ctx.Emit(key, joined);
  }

 private:
  const bool combine_;
};

class ShuffleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (std::filesystem::temp_directory_path() /
             ("shuffle_store_test_" + std::to_string(getpid())))
                .string();
    ASSERT_TRUE(MakeDirs(root_ + "/spill").ok());
    auto store = ShuffleStore::Open(root_ + "/store");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    RemoveAll(root_).IgnoreError();
  }

  // Spills records through a MapOutputBuffer with a tiny budget (several
  // runs) and ingests them as map `map` attempt `attempt`.
  void WriteMapOutput(const std::string& job, uint32_t map, uint64_t attempt,
                      bool combine,
                      const std::vector<std::pair<std::string, std::string>>& records,
                      uint64_t budget = 100) {
    ConcatJob j(combine);
    std::map<std::string, int64_t> counters;
    std::map<std::string, std::string> params;
    MapOutputOptions o;
    o.job_id = job;
    o.map_index = map;
    o.attempt_id = attempt;
    o.num_partitions = 2;
    o.budget_bytes = budget;  // by default, a run every few records
    o.block_bytes = 16;    // several blocks per run
    o.spill_dir = root_ + "/spill/" + std::to_string(attempt);
    ASSERT_TRUE(MakeDirs(o.spill_dir).ok());
    MapOutputBuffer buffer(o, &j, &counters, &params);
    for (const auto& [k, v] : records) {
      ASSERT_TRUE(buffer.Add(k[0] % 2, k, v).ok());
    }
    ASSERT_TRUE(buffer.Finish().ok());
    std::vector<std::string> files = buffer.sst_files();
    ASSERT_TRUE(store_->IngestMapOutput(job, map, attempt, files).ok());
  }

  // Every record of one partition, as "run:key=value" in stream order.
  std::vector<std::string> ReadPartition(const std::string& job, uint32_t map,
                                         uint64_t attempt, uint32_t partition) {
    auto reader = store_->ReadPartition(job, map, attempt, partition);
    EXPECT_TRUE(reader.ok()) << reader.status();
    std::vector<std::string> out;
    StoredBlock block;
    while (true) {
      auto more = (*reader)->Next(&block);
      EXPECT_TRUE(more.ok());
      if (!more.ok() || !*more) break;
      std::string raw;
      EXPECT_TRUE(DecompressBlock(block.data, block.raw_size, block.crc32c, &raw).ok());
      RecordBlockReader records(raw);
      std::string_view k, v;
      absl::Status s;
      while (records.Next(&k, &v, &s)) {
        out.push_back(std::to_string(block.run) + ":" + std::string(k) + "=" +
                      std::string(v));
      }
    }
    return out;
  }

  std::string root_;
  std::unique_ptr<ShuffleStore> store_;
};

TEST_F(ShuffleStoreTest, SortedRunsPerPartitionRoundTrip) {
  // Keys starting with an odd byte go to partition 1 ('a' = 97, 'c' = 99).
  WriteMapOutput("job-1", 3, 7, /*combine=*/false,
                 {{"cat", "1"}, {"bat", "2"}, {"apple", "3"}, {"dog", "4"},
                  {"cow", "5"}, {"ant", "6"}, {"bee", "7"}, {"cat", "8"}});
  const auto p1 = ReadPartition("job-1", 3, 7, 1);
  const auto p0 = ReadPartition("job-1", 3, 7, 0);
  // Every record once, each run sorted by key.
  std::vector<std::string> keys1;
  for (const auto& r : p1) keys1.push_back(r.substr(r.find(':') + 1));
  std::sort(keys1.begin(), keys1.end());
  EXPECT_EQ(keys1, (std::vector<std::string>{"ant=6", "apple=3", "cat=1",
                                             "cat=8", "cow=5"}));
  EXPECT_EQ(p0.size(), 3u);  // bat, bee, dog
  for (size_t i = 1; i < p1.size(); ++i) {
    if (p1[i][0] == p1[i - 1][0]) {  // same run
      EXPECT_LE(p1[i - 1], p1[i]);
    }
  }
}

TEST_F(ShuffleStoreTest, CombinerRunsPerSpill) {
  WriteMapOutput("job-1", 0, 1, /*combine=*/true,
                 {{"a", "1"}, {"a", "2"}, {"c", "3"}, {"a", "4"}},
                 /*budget=*/4096);
  // One run holds everything (the budget is not reached): a=1+2+4, c=3.
  EXPECT_EQ(ReadPartition("job-1", 0, 1, 1),
            (std::vector<std::string>{"0:a=1+2+4", "0:c=3"}));
}

TEST_F(ShuffleStoreTest, EmptyOutputReadsEmptyAndUnknownIsNotFound) {
  WriteMapOutput("job-1", 0, 1, false, {});
  EXPECT_TRUE(ReadPartition("job-1", 0, 1, 0).empty());
  auto missing = store_->ReadPartition("job-1", 0, 2, 0);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ShuffleStoreTest, DropJobRemovesOnlyThatJob) {
  WriteMapOutput("job-1", 0, 1, false, {{"a", "1"}, {"b", "2"}});
  WriteMapOutput("job-10", 0, 2, false, {{"a", "9"}});
  ASSERT_TRUE(store_->DropJob("job-1").ok());
  EXPECT_EQ(store_->ReadPartition("job-1", 0, 1, 1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadPartition("job-10", 0, 2, 1),
            (std::vector<std::string>{"0:a=9"}));
  ASSERT_TRUE(store_->DropJob("job-10").ok());
  EXPECT_EQ(store_->LiveBytes(), 0u);
}

// Open SST files of the store, from this process's descriptors.
int OpenTableFiles(const std::string& dir) {
  int n = 0;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(fd.path(), ec);
    if (!ec && target.rfind(dir + "/", 0) == 0 &&
        target.size() > 4 && target.substr(target.size() - 4) == ".sst") {
      ++n;
    }
  }
  return n;
}

TEST_F(ShuffleStoreTest, ManyRunsReadBackUnderASmallOpenFileBound) {
  store_.reset();
  ShuffleStoreOptions options;
  options.max_open_files = 20;
  const std::string dir = root_ + "/bounded";
  auto store = ShuffleStore::Open(dir, options);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = std::move(*store);

  // 100 map outputs of several runs each: hundreds of SST files.
  constexpr int kMaps = 100;
  std::map<int, std::vector<std::string>> expected;  // partition -> records
  for (int m = 0; m < kMaps; ++m) {
    std::vector<std::pair<std::string, std::string>> records;
    for (int i = 0; i < 12; ++i) {
      const std::string key = std::string(1, static_cast<char>('a' + i)) +
                              "-map" + std::to_string(m);
      records.emplace_back(key, std::to_string(i));
    }
    WriteMapOutput("job-1", m, 1000 + m, /*combine=*/false, records);
    if (HasFatalFailure()) return;
  }
  int runs = 0;
  for (int m = 0; m < kMaps; ++m) {
    for (uint32_t p = 0; p < 2; ++p) {
      std::vector<std::string> got;
      std::set<std::string> run_ids;
      for (const std::string& r : ReadPartition("job-1", m, 1000 + m, p)) {
        run_ids.insert(r.substr(0, r.find(':')));
        got.push_back(r.substr(r.find(':') + 1));
      }
      std::sort(got.begin(), got.end());
      std::vector<std::string> want;
      for (int i = 0; i < 12; ++i) {
        const char first = static_cast<char>('a' + i);
        if (first % 2 != static_cast<int>(p)) continue;
        want.push_back(std::string(1, first) + "-map" + std::to_string(m) + "=" +
                       std::to_string(i));
      }
      std::sort(want.begin(), want.end());
      EXPECT_EQ(got, want) << "map " << m << " partition " << p;
      runs = std::max(runs, static_cast<int>(run_ids.size()));
    }
    EXPECT_LE(OpenTableFiles(dir), options.max_open_files) << "after map " << m;
  }
  EXPECT_GE(runs, 2);  // each map spilled several runs (files)
  EXPECT_LE(OpenTableFiles(dir), options.max_open_files);
}

}  // namespace
}  // namespace mr
