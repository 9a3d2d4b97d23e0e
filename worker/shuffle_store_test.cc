#include "worker/shuffle_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

#include "common/file_util.h"
#include "common/record_block.h"
#include "worker/internal/map_output_buffer.h"
#include "worker/shuffle_test_util.h"

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
    std::vector<std::string> files;
    SpillMapOutput(job, map, attempt, combine, records, &files, budget);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(
        store_->IngestMapOutput(job, map, attempt, TestSecret(job), files)
            .ok());
  }

  // The SST files WriteMapOutput() would ingest, left for the caller to.
  void SpillMapOutput(const std::string& job, uint32_t map, uint64_t attempt,
                      bool combine,
                      const std::vector<std::pair<std::string, std::string>>& records,
                      std::vector<std::string>* files, uint64_t budget = 100) {
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
    *files = buffer.sst_files();
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

TEST_F(ShuffleStoreTest, SecretsAreKeptPerJobUntilDropped) {
  WriteMapOutput("job-1", 0, 1, false, {{"a", "1"}});
  WriteMapOutput("job-2", 0, 2, false, {{"a", "2"}});
  EXPECT_TRUE(store_->CheckSecret("job-1", 0, 1, TestSecret("job-1")).ok());
  // Any map of the job: the secret is the job's.
  EXPECT_TRUE(store_->CheckSecret("job-1", 5, 9, TestSecret("job-1")).ok());
  absl::Status s = store_->CheckSecret("job-1", 0, 1, TestSecret("job-2"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "wrong shuffle secret for job job-1");
  EXPECT_EQ(store_->CheckSecret("job-1", 0, 1, "").code(),
            absl::StatusCode::kPermissionDenied);
  s = store_->CheckSecret("job-3", 0, 7, TestSecret("job-3"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no output of job-3 map 0 attempt 7 here");
  // A later ingest (a restarted master's assignment) sets the job's secret.
  ASSERT_TRUE(store_->IngestMapOutput("job-2", 1, 3, "new", {}).ok());
  EXPECT_EQ(store_->CheckSecret("job-2", 0, 2, TestSecret("job-2")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(store_->CheckSecret("job-2", 0, 2, "new").ok());
  ASSERT_TRUE(store_->DropJob("job-1").ok());
  EXPECT_EQ(store_->CheckSecret("job-1", 0, 1, TestSecret("job-1")).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ShuffleStoreTest, AReaderMadeBeforeDropJobReadsTheWholeOutput) {
  WriteMapOutput("job-1", 0, 1, false,
                 {{"a", "1"}, {"c", "2"}, {"e", "3"}, {"g", "4"}, {"i", "5"}});
  const std::vector<std::string> whole = ReadPartition("job-1", 0, 1, 1);
  ASSERT_EQ(whole.size(), 5u);
  auto reader = store_->ReadPartition("job-1", 0, 1, 1);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE(store_->DropJob("job-1").ok());
  EXPECT_EQ(store_->ReadPartition("job-1", 0, 1, 1).status().code(),
            absl::StatusCode::kNotFound);
  std::vector<std::string> got;
  StoredBlock block;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&block);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    std::string raw;
    ASSERT_TRUE(DecompressBlock(block.data, block.raw_size, block.crc32c, &raw).ok());
    RecordBlockReader records(raw);
    std::string_view k, v;
    absl::Status s;
    while (records.Next(&k, &v, &s)) {
      got.push_back(std::to_string(block.run) + ":" + std::string(k) + "=" +
                    std::string(v));
    }
  }
  EXPECT_EQ(got, whole);
}

// Every record of one partition of a map output, as "key=value" sorted;
// the store's error when it has no such output or a read fails.
absl::StatusOr<std::vector<std::string>> ReadSortedRecords(
    ShuffleStore* store, const std::string& job, uint32_t map,
    uint64_t attempt, uint32_t partition) {
  auto out = StoredPartitionRecords(store, job, map, attempt, partition);
  if (out.ok()) std::sort(out->begin(), out->end());
  return out;
}

// Readers read map outputs while one thread ingests new ones and another
// drops whole jobs: every read sees an output whole or not at all
// (NotFound), never a part of it; an ingested output stays readable, a
// dropped one stays gone; HeldOutputs() agrees at every moment.
TEST_F(ShuffleStoreTest, ConcurrentIngestReadAndDropSeeWholeOutputsOrNone) {
  constexpr int kMaps = 4;
  constexpr int kReaders = 4;
  // "job-a": ingested before, kept. "job-b": ingested during the reads.
  // "job-c0".."job-c2": ingested before, dropped during the reads.
  const std::vector<std::string> kept = {"job-a"};
  const std::vector<std::string> ingested = {"job-b"};
  const std::vector<std::string> dropped = {"job-c0", "job-c1", "job-c2"};
  std::map<std::string, uint64_t> first_attempt;  // attempt = first + map
  uint64_t next_attempt = 100;
  for (const auto* jobs : {&kept, &ingested, &dropped}) {
    for (const std::string& job : *jobs) {
      first_attempt[job] = next_attempt;
      next_attempt += 100;
    }
  }
  // job -> map -> partition -> sorted "key=value".
  std::map<std::string, std::vector<std::vector<std::vector<std::string>>>>
      expected;
  std::map<std::string, std::vector<std::vector<std::string>>> spilled;
  for (const auto& [job, attempt0] : first_attempt) {
    expected[job].assign(kMaps, std::vector<std::vector<std::string>>(2));
    for (int m = 0; m < kMaps; ++m) {
      std::vector<std::pair<std::string, std::string>> records;
      for (int i = 0; i < 24; ++i) {
        // 'a'..'h' as first letters: both partitions (odd bytes go to 1).
        const std::string key = absl::StrCat(std::string(1, 'a' + i % 8), "-",
                                             job, "-", m, "-", i);
        const std::string value = std::to_string(i * 7 + m);
        records.emplace_back(key, value);
        expected[job][m][key[0] % 2].push_back(key + "=" + value);
      }
      for (auto& p : expected[job][m]) std::sort(p.begin(), p.end());
      std::vector<std::string> files;
      SpillMapOutput(job, m, attempt0 + m, /*combine=*/false, records, &files);
      ASSERT_FALSE(HasFatalFailure());
      ASSERT_GE(files.size(), 2u) << "several runs per map";
      if (std::find(ingested.begin(), ingested.end(), job) != ingested.end()) {
        spilled[job].push_back(files);
      } else {
        ASSERT_TRUE(store_
                        ->IngestMapOutput(job, m, attempt0 + m,
                                          TestSecret(job), files)
                        .ok());
      }
    }
  }

  absl::Mutex mu;
  std::vector<std::string> failures;  // guarded by mu
  auto fail = [&](std::string what) {
    absl::MutexLock lock(&mu);
    failures.push_back(std::move(what));
  };
  std::atomic<int> reads{0};
  std::atomic<bool> writers_done{false};
  std::atomic<int> whole_dropped_reads{0}, not_found_dropped_reads{0};

  auto reader = [&](int id) {
    // (job, map, partition) -> whether this thread saw it whole / missing.
    std::set<std::tuple<std::string, int, int>> seen_whole, seen_missing;
    bool last_pass = false;
    while (!last_pass) {
      last_pass = writers_done.load();  // one full pass after the writers
      for (const auto& [job, attempt0] : first_attempt) {
        const bool is_kept =
            std::find(kept.begin(), kept.end(), job) != kept.end();
        const bool is_dropped =
            std::find(dropped.begin(), dropped.end(), job) != dropped.end();
        for (int m = 0; m < kMaps; ++m) {
          for (int p = 0; p < 2; ++p) {
            const auto where = std::make_tuple(job, m, p);
            const std::string name =
                absl::StrCat("reader ", id, ": ", job, " map ", m, " partition ", p);
            auto got = ReadSortedRecords(store_.get(), job, m, attempt0 + m, p);
            ++reads;
            if (got.ok()) {
              if (*got != expected[job][m][p]) {
                fail(absl::StrCat(name, ": read ", got->size(), " of ",
                                  expected[job][m][p].size(), " records"));
              }
              if (is_dropped && seen_missing.count(where) > 0) {
                fail(name + ": readable again after it was dropped");
              }
              seen_whole.insert(where);
              if (is_dropped) ++whole_dropped_reads;
            } else if (got.status().code() == absl::StatusCode::kNotFound &&
                       !is_kept) {
              if (!is_dropped && seen_whole.count(where) > 0) {
                fail(name + ": missing again after it was ingested");
              }
              if (last_pass && !is_dropped) {
                fail(name + ": missing after its ingestion");
              }
              seen_missing.insert(where);
              if (is_dropped) ++not_found_dropped_reads;
            } else {
              fail(absl::StrCat(name, ": ", got.status().ToString()));
            }
            if (last_pass && is_dropped && got.ok()) {
              fail(name + ": readable after its job was dropped");
            }
          }
        }
      }
      // What the store says it holds: all of the kept job, never a part
      // of an output.
      int kept_held = 0;
      for (const mrpb::HeldMapOutput& h : store_->HeldOutputs()) {
        auto it = first_attempt.find(h.job_id());
        if (it == first_attempt.end() || h.map_index() >= kMaps ||
            h.attempt_id() != it->second + h.map_index()) {
          fail(absl::StrCat("reader ", id, ": holds unknown ", h.job_id(),
                            " map ", h.map_index(), " attempt ",
                            h.attempt_id()));
        }
        kept_held += h.job_id() == "job-a";
      }
      if (kept_held != kMaps) {
        fail(absl::StrCat("reader ", id, ": holds ", kept_held, " maps of job-a"));
      }
    }
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < kReaders; ++i) threads.emplace_back(reader, i);
  std::thread ingester([&] {
    for (const std::string& job : ingested) {
      for (int m = 0; m < kMaps; ++m) {
        // Let the readers see it missing first, now and then.
        const int until = reads.load() + 16;
        while (reads.load() < until) std::this_thread::yield();
        absl::Status s = store_->IngestMapOutput(
            job, m, first_attempt[job] + m, TestSecret(job), spilled[job][m]);
        if (!s.ok()) fail(absl::StrCat("ingesting ", job, " map ", m, ": ", s.ToString()));
      }
    }
  });
  std::thread dropper([&] {
    for (const std::string& job : dropped) {
      const int until = reads.load() + 32;
      while (reads.load() < until) std::this_thread::yield();
      if (absl::Status s = store_->DropJob(job); !s.ok()) {
        fail(absl::StrCat("dropping ", job, ": ", s.ToString()));
      }
    }
  });
  ingester.join();
  dropper.join();
  writers_done = true;
  for (std::thread& t : threads) t.join();

  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(failures.empty())
        << failures.size() << " failures, the first: " << failures.front();
  }
  std::cout << "reads of dropped jobs: " << whole_dropped_reads.load()
            << " whole, " << not_found_dropped_reads.load() << " not found"
            << std::endl;

  // The end state: the kept and the ingested jobs' maps, nothing else.
  std::set<std::tuple<std::string, uint32_t, uint64_t>> held, want;
  for (const mrpb::HeldMapOutput& h : store_->HeldOutputs()) {
    held.insert({h.job_id(), h.map_index(), h.attempt_id()});
  }
  for (const std::string& job : {std::string("job-a"), std::string("job-b")}) {
    for (int m = 0; m < kMaps; ++m) want.insert({job, m, first_attempt[job] + m});
  }
  EXPECT_EQ(held, want);
  for (const std::string& job : dropped) {
    for (int m = 0; m < kMaps; ++m) {
      EXPECT_EQ(store_->ReadPartition(job, m, first_attempt[job] + m, 0)
                    .status()
                    .code(),
                absl::StatusCode::kNotFound);
    }
  }
  ASSERT_TRUE(store_->DropJob("job-a").ok());
  ASSERT_TRUE(store_->DropJob("job-b").ok());
  EXPECT_TRUE(store_->HeldOutputs().empty());
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
