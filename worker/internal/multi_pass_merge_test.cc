#include "worker/internal/multi_pass_merge.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/record_block.h"
#include "worker/internal/run_file.h"
#include "worker/internal/run_merger.h"

namespace mr {
namespace {

using Record = std::pair<std::string, std::string>;
using Records = std::vector<Record>;

class MultiPassMergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("multi_pass_merge_test_" + std::to_string(getpid())))
               .string();
    ASSERT_TRUE(MakeDirs(dir_ + "/fetched").ok());
  }
  void TearDown() override { RemoveAll(dir_).IgnoreError(); }

  // Writes `runs` as run files (blocks of a few records each); returns their
  // paths. An empty run is an empty file.
  std::vector<std::string> WriteRuns(const std::vector<Records>& runs) {
    std::vector<std::string> paths;
    for (size_t i = 0; i < runs.size(); ++i) {
      const std::string path = absl::StrFormat("%s/fetched/run-%04d", dir_, i);
      RunFileWriter writer;
      EXPECT_TRUE(writer.Open(path).ok());
      RecordBlockBuilder builder;
      CompressedBlock block;
      for (const auto& [k, v] : runs[i]) {
        builder.Add(k, v);
        if (builder.raw_size() >= 40) {
          builder.Finish(&block);
          EXPECT_TRUE(writer.Append(block.raw_size, block.crc32c, block.data).ok());
        }
      }
      if (!builder.empty()) {
        builder.Finish(&block);
        EXPECT_TRUE(writer.Append(block.raw_size, block.crc32c, block.data).ok());
      }
      EXPECT_TRUE(writer.Close().ok());
      paths.push_back(path);
    }
    return paths;
  }

  // Merges the runs down to `factor`, then merges what is left: the
  // records in merge order.
  std::vector<Record> MergeAll(const std::vector<Records>& runs, uint32_t factor,
                               MultiPassMergeStats* stats,
                               size_t* final_runs = nullptr) {
    MultiPassMergeOptions options;
    options.merge_factor = factor;
    options.dir = dir_ + "/merged";
    options.block_bytes = 64;
    auto left = MergeDownToFactor(WriteRuns(runs), options, stats);
    EXPECT_TRUE(left.ok()) << left.status();
    if (!left.ok()) return {};
    EXPECT_LE(left->size(), factor);
    if (final_runs != nullptr) *final_runs = left->size();
    RunMerger merger;
    EXPECT_TRUE(merger.Open(*left).ok());
    std::vector<Record> out;
    while (merger.Valid()) {
      out.emplace_back(std::string(merger.key()), std::string(merger.value()));
      EXPECT_TRUE(merger.Next().ok());
    }
    return out;
  }

  // What one merge of all the runs gives: by key, equal keys in run order.
  static std::vector<Record> Expected(const std::vector<Records>& runs) {
    std::vector<Record> all;
    for (const Records& r : runs) all.insert(all.end(), r.begin(), r.end());
    std::stable_sort(all.begin(), all.end(), [](const Record& a, const Record& b) {
      return a.first < b.first;
    });
    return all;
  }

  // Files left in a directory.
  static size_t FilesIn(const std::string& dir) {
    std::error_code ec;
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); ++it) {
      ++n;
    }
    return n;
  }

  std::string dir_;
};

TEST_F(MultiPassMergeTest, ThirtySevenRunsFactorFour) {
  // Records i holds keys k00..k29 that are multiples of (i % 5 + 1), each with
  // value "i.j": equal keys meet across many runs.
  std::vector<Records> runs(37);
  for (int i = 0; i < 37; ++i) {
    for (int k = 0; k < 30; k += i % 5 + 1) {
      runs[i].emplace_back(absl::StrFormat("k%02d", k), absl::StrCat(i, ".", k));
    }
  }
  MultiPassMergeStats stats;
  size_t final_runs = 0;
  const std::vector<Record> got = MergeAll(runs, 4, &stats, &final_runs);
  EXPECT_TRUE(got == Expected(runs));
  // 37 runs: the first pass merges 4 ((37 - 1) mod 3 = 0), every pass takes
  // away 3, 11 passes leave 4.
  EXPECT_EQ(stats.passes, 11);
  EXPECT_EQ(stats.runs_merged, 44);
  EXPECT_GT(stats.bytes_written, 0);
  EXPECT_EQ(final_runs, 4u);
  // The merged inputs are gone; the intermediate runs left are the final's.
  EXPECT_EQ(FilesIn(dir_ + "/fetched") + FilesIn(dir_ + "/merged"), 4u);

  // The reduce's view: each key one group, its values in run order.
  std::vector<std::string> keys;
  for (const Record& r : got) {
    if (keys.empty() || keys.back() != r.first) keys.push_back(r.first);
  }
  EXPECT_EQ(keys.size(), 30u);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
}

TEST_F(MultiPassMergeTest, FirstPassMergesOnlyWhatIsNeeded) {
  // 5 runs, factor 4: one pass of 2 runs leaves exactly 4.
  std::vector<Records> runs(5);
  for (int i = 0; i < 5; ++i) runs[i] = {{"a", absl::StrCat(i)}, {"b", "x"}};
  MultiPassMergeStats stats;
  size_t final_runs = 0;
  EXPECT_TRUE(MergeAll(runs, 4, &stats, &final_runs) == Expected(runs));
  EXPECT_EQ(stats.passes, 1);
  EXPECT_EQ(stats.runs_merged, 2);
  EXPECT_EQ(final_runs, 4u);
}

TEST_F(MultiPassMergeTest, FewRunsAreLeftAlone) {
  std::vector<Records> runs = {{{"a", "1"}}, {{"a", "2"}}, {{"b", "3"}}};
  MultiPassMergeStats stats;
  EXPECT_TRUE(MergeAll(runs, 3, &stats) == Expected(runs));
  EXPECT_EQ(stats.passes, 0);
  EXPECT_EQ(FilesIn(dir_ + "/fetched"), 3u);
}

TEST_F(MultiPassMergeTest, EmptyRunsAreDropped) {
  // 10 runs, 6 of them empty: 4 remain, no pass needed at factor 4.
  std::vector<Records> runs(10);
  runs[1] = {{"b", "1"}};
  runs[4] = {{"a", "4"}, {"b", "4"}};
  runs[7] = {{"a", "7"}};
  runs[9] = {{"c", "9"}};
  MultiPassMergeStats stats;
  size_t final_runs = 0;
  EXPECT_TRUE(MergeAll(runs, 4, &stats, &final_runs) == Expected(runs));
  EXPECT_EQ(stats.passes, 0);
  EXPECT_EQ(final_runs, 4u);

  // Nothing at all.
  MultiPassMergeStats none;
  EXPECT_TRUE(MergeAll(std::vector<Records>(7), 2, &none).empty());
  EXPECT_EQ(none.passes, 0);
}

TEST_F(MultiPassMergeTest, Randomized) {
  const uint64_t seed = std::random_device()();
  SCOPED_TRACE(absl::StrFormat("seed %d", seed));
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 20; ++round) {
    const size_t num_runs = rng() % 120;
    const uint32_t factor = 2 + rng() % 9;
    std::vector<Records> runs(num_runs);
    for (size_t i = 0; i < num_runs; ++i) {
      const size_t n = rng() % 4 == 0 ? 0 : rng() % 50;
      std::vector<std::string> keys;
      for (size_t j = 0; j < n; ++j) {
        keys.push_back(std::string(rng() % 3, 'a' + rng() % 3) +
                       std::to_string(rng() % 20));
      }
      std::sort(keys.begin(), keys.end());
      for (size_t j = 0; j < n; ++j) {
        runs[i].emplace_back(keys[j], absl::StrCat(i, "/", j));
      }
    }
    size_t non_empty = 0;
    for (const Records& r : runs) non_empty += !r.empty();
    MultiPassMergeStats stats;
    ASSERT_TRUE(MergeAll(runs, factor, &stats) == Expected(runs))
        << "round " << round << ": " << num_runs << " runs, factor " << factor;
    const int64_t want_passes =
        non_empty <= factor ? 0 : (non_empty - factor + factor - 2) / (factor - 1);
    EXPECT_EQ(stats.passes, want_passes)
        << "round " << round << ": " << non_empty << " runs, factor " << factor;
    RemoveAll(dir_ + "/fetched").IgnoreError();
    RemoveAll(dir_ + "/merged").IgnoreError();
    ASSERT_TRUE(MakeDirs(dir_ + "/fetched").ok());
  }
}

}  // namespace
}  // namespace mr
