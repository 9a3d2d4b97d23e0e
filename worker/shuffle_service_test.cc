#include "worker/shuffle_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/file_util.h"
#include "common/record_block.h"
#include "common/shuffle_secret.h"
#include "proto/shuffle.grpc.pb.h"
#include "worker/internal/map_output_buffer.h"
#include "worker/shuffle_store.h"
#include "worker/shuffle_test_util.h"

namespace mr {
namespace {

// Map output as a map task leaves it; no combiner.
class PlainJob : public Job {
 public:
  void Map(const InputRecord&, Context&) override {}
  void Reduce(std::string_view, ValueIterator&, Context&) override {}
};

// One FetchBatch, comparable.
using Batch = std::tuple<uint32_t, uint32_t, uint32_t, std::string>;

Batch FromProto(const mrpb::FetchBatch& b) {
  return {b.run(), b.raw_size(), b.crc32c(), b.data()};
}

// What a client got from one fetch.
struct Fetched {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  std::vector<Batch> batches;
};

// The records of `batches` as "key=value", in stream order.
absl::StatusOr<std::vector<std::string>> Records(
    const std::vector<Batch>& batches) {
  std::vector<std::string> out;
  for (const auto& [run, raw_size, crc, data] : batches) {
    if (absl::Status s = AppendBlockRecords(data, raw_size, crc, &out);
        !s.ok()) {
      return s;
    }
  }
  return out;
}

class ShuffleServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (std::filesystem::temp_directory_path() /
             absl::StrCat("shuffle_service_test_", getpid(), "_",
                          ::testing::UnitTest::GetInstance()
                              ->current_test_info()
                              ->name()))
                .string();
    RemoveAll(root_).IgnoreError();
    ASSERT_TRUE(MakeDirs(root_ + "/spill").ok());
    auto store = ShuffleStore::Open(root_ + "/store");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    service_.reset();
    store_.reset();
    RemoveAll(root_).IgnoreError();
  }

  // Serves the store on 127.0.0.1, a port the OS picks.
  void StartServer(int corrupt_batches = 0) {
    service_ = std::make_unique<ShuffleService>(store_.get(), corrupt_batches);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    address_ = absl::StrCat("127.0.0.1:", port);
  }

  std::unique_ptr<mrpb::Shuffle::Stub> NewStub() {
    return mrpb::Shuffle::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  // `records` records per map, both partitions (keys starting with an odd
  // byte go to partition 1), each value `value_bytes` of random bytes (LZ4
  // cannot shrink them), spilled as several runs of several blocks.
  std::vector<std::pair<std::string, std::string>> MakeRecords(
      const std::string& job, uint32_t map, int records, size_t value_bytes) {
    std::mt19937 rng(map * 7919 + std::hash<std::string>()(job) % 1000);
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 0; i < records; ++i) {
      std::string value(value_bytes, '\0');
      for (char& c : value) c = static_cast<char>(rng());
      out.emplace_back(absl::StrCat(std::string(1, 'a' + i % 8), "-", job,
                                    "-", map, "-", i),
                       value);
    }
    return out;
  }

  // The SST files of one map attempt's output, not yet ingested.
  std::vector<std::string> Spill(
      const std::string& job, uint32_t map, uint64_t attempt,
      const std::vector<std::pair<std::string, std::string>>& records,
      uint64_t budget, size_t block_bytes) {
    PlainJob j;
    std::map<std::string, int64_t> counters;
    std::map<std::string, std::string> params;
    MapOutputOptions o;
    o.job_id = job;
    o.map_index = map;
    o.attempt_id = attempt;
    o.num_partitions = 2;
    o.budget_bytes = budget;
    o.block_bytes = block_bytes;
    o.spill_dir = absl::StrCat(root_, "/spill/", attempt);
    EXPECT_TRUE(MakeDirs(o.spill_dir).ok());
    MapOutputBuffer buffer(o, &j, &counters, &params);
    for (const auto& [k, v] : records) {
      EXPECT_TRUE(buffer.Add(k[0] % 2, k, v).ok());
    }
    EXPECT_TRUE(buffer.Finish().ok());
    return buffer.sst_files();
  }

  // The partition as the store holds it, block by block.
  std::vector<Batch> StoredBatches(const std::string& job, uint32_t map,
                                   uint64_t attempt, uint32_t partition) {
    std::vector<Batch> out;
    auto reader = store_->ReadPartition(job, map, attempt, partition);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return out;
    StoredBlock block;
    while (true) {
      absl::StatusOr<bool> more = (*reader)->Next(&block);
      EXPECT_TRUE(more.ok()) << more.status();
      if (!more.ok() || !*more) break;
      out.emplace_back(block.run, block.raw_size, block.crc32c, block.data);
    }
    return out;
  }

  // Fetches one partition over gRPC, with the job's TestSecret(). With
  // `cancel_after` >= 0, cancels the call once that many batches arrived.
  static Fetched Fetch(mrpb::Shuffle::Stub* stub, const std::string& job,
                       uint32_t map, uint64_t attempt, uint32_t partition,
                       int cancel_after = -1) {
    return FetchWithSecret(stub, job, map, attempt, partition,
                           TestSecret(job), cancel_after);
  }
  static Fetched FetchWithSecret(mrpb::Shuffle::Stub* stub,
                                 const std::string& job, uint32_t map,
                                 uint64_t attempt, uint32_t partition,
                                 const std::string& secret,
                                 int cancel_after = -1) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    mrpb::FetchRequest request;
    request.set_job_id(job);
    request.set_map_index(map);
    request.set_attempt_id(attempt);
    request.set_partition(partition);
    request.set_secret(secret);
    auto stream = stub->FetchMapOutput(&ctx, request);
    Fetched out;
    mrpb::FetchBatch batch;
    while (stream->Read(&batch)) {
      out.batches.push_back(FromProto(batch));
      if (static_cast<int>(out.batches.size()) == cancel_after) ctx.TryCancel();
    }
    grpc::Status s = stream->Finish();
    out.code = s.error_code();
    out.message = s.error_message();
    return out;
  }

  std::string root_;
  std::unique_ptr<ShuffleStore> store_;
  std::unique_ptr<ShuffleService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

// Reducers fetch concurrently while the worker ingests new map outputs and
// drops a finished job: each fetch gets a partition's stored blocks exactly,
// or NOT_FOUND naming the output (not yet ingested, or dropped), never a
// part of it; a fetch the client cancels ends CANCELLED.
TEST_F(ShuffleServiceTest, ConcurrentFetchesWhileIngestingAndDropping) {
  constexpr uint32_t kMaps = 3;
  constexpr int kFetchers = 4;
  // "kept": ingested before, kept. "late": ingested while fetched.
  // "dropped": ingested before, dropped while fetched.
  const std::map<std::string, uint64_t> first_attempt = {
      {"kept", 100}, {"late", 200}, {"dropped", 300}};
  // job -> map -> partition -> the records, as "key=value" sorted.
  std::map<std::string, std::vector<std::vector<std::vector<std::string>>>>
      records;
  std::map<uint32_t, std::vector<std::string>> late_files;
  for (const auto& [job, attempt0] : first_attempt) {
    records[job].assign(kMaps, std::vector<std::vector<std::string>>(2));
    for (uint32_t m = 0; m < kMaps; ++m) {
      auto recs = MakeRecords(job, m, 40, 100);
      for (const auto& [k, v] : recs) {
        records[job][m][k[0] % 2].push_back(k + "=" + v);
      }
      for (auto& p : records[job][m]) std::sort(p.begin(), p.end());
      // Runs of ~10 records, blocks of ~2.
      std::vector<std::string> files =
          Spill(job, m, attempt0 + m, recs, /*budget=*/1500, /*block_bytes=*/200);
      ASSERT_FALSE(HasFailure());
      ASSERT_GE(files.size(), 2u);
      if (job == "late") {
        late_files[m] = files;
      } else {
        ASSERT_TRUE(store_
                        ->IngestMapOutput(job, m, attempt0 + m,
                                          TestSecret(job), files)
                        .ok());
      }
    }
  }
  // The dropped job's blocks, while it is there.
  std::map<std::pair<uint32_t, uint32_t>, std::vector<Batch>> dropped_batches;
  for (uint32_t m = 0; m < kMaps; ++m) {
    for (uint32_t p = 0; p < 2; ++p) {
      dropped_batches[{m, p}] = StoredBatches("dropped", m, 300 + m, p);
      ASSERT_GE(dropped_batches[std::make_pair(m, p)].size(), 2u);
    }
  }
  // A big output, for fetches cancelled midway: 4 MiB per partition.
  std::vector<std::string> big_files =
      Spill("kept", 9, 109, MakeRecords("kept", 9, 512, 16 << 10),
            /*budget=*/64 << 20, /*block_bytes=*/128 << 10);
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(
      store_->IngestMapOutput("kept", 9, 109, TestSecret("kept"), big_files)
          .ok());
  StartServer();

  // What each fetch got: (job, map, partition, pass) in the order one
  // thread made them.
  struct Result {
    std::string job;
    uint32_t map;
    uint32_t partition;
    bool last_pass;
    Fetched fetched;
  };
  std::vector<std::vector<Result>> results(kFetchers);
  std::vector<Fetched> cancelled;
  std::atomic<int> fetches{0};
  std::atomic<bool> writers_done{false};

  std::vector<std::thread> threads;
  for (int t = 0; t < kFetchers; ++t) {
    threads.emplace_back([&, t] {
      auto stub = NewStub();
      bool last_pass = false;
      while (!last_pass) {
        last_pass = writers_done.load();  // one whole pass after the writers
        for (const auto& [job, attempt0] : first_attempt) {
          for (uint32_t m = 0; m < kMaps; ++m) {
            for (uint32_t p = 0; p < 2; ++p) {
              results[t].push_back({job, m, p, last_pass,
                                    Fetch(stub.get(), job, m, attempt0 + m, p)});
              ++fetches;
            }
          }
        }
      }
    });
  }
  std::thread canceller([&] {
    auto stub = NewStub();
    for (int i = 0; i < 6; ++i) {
      cancelled.push_back(Fetch(stub.get(), "kept", 9, 109, i % 2,
                                /*cancel_after=*/1));
    }
  });
  std::thread ingester([&] {
    for (uint32_t m = 0; m < kMaps; ++m) {
      // Fetches see it missing first, now and then.
      const int until = fetches.load() + 8;
      while (fetches.load() < until) std::this_thread::yield();
      EXPECT_TRUE(store_->IngestMapOutput("late", m, 200 + m, TestSecret("late"),
                                         late_files[m]).ok());
    }
  });
  std::thread dropper([&] {
    const int until = fetches.load() + 24;
    while (fetches.load() < until) std::this_thread::yield();
    EXPECT_TRUE(store_->DropJob("dropped").ok());
  });
  ingester.join();
  dropper.join();
  writers_done = true;
  canceller.join();
  for (std::thread& t : threads) t.join();

  // The blocks every whole fetch must have got, byte for byte.
  std::map<std::tuple<std::string, uint32_t, uint32_t>, std::vector<Batch>>
      expected;
  for (uint32_t m = 0; m < kMaps; ++m) {
    for (uint32_t p = 0; p < 2; ++p) {
      expected[{"kept", m, p}] = StoredBatches("kept", m, 100 + m, p);
      expected[{"late", m, p}] = StoredBatches("late", m, 200 + m, p);
      expected[{"dropped", m, p}] = dropped_batches[{m, p}];
      EXPECT_EQ(store_->ReadPartition("dropped", m, 300 + m, p).status().code(),
                absl::StatusCode::kNotFound);
    }
  }
  // ... which hold the records written.
  for (const auto& [where, batches] : expected) {
    const auto& [job, m, p] = where;
    auto got = Records(batches);
    ASSERT_TRUE(got.ok()) << got.status();
    std::sort(got->begin(), got->end());
    EXPECT_EQ(*got, records[job][m][p]) << job << " map " << m << " partition " << p;
  }

  int whole = 0, missing = 0;
  for (int t = 0; t < kFetchers; ++t) {
    std::set<std::tuple<std::string, uint32_t, uint32_t>> seen_whole, seen_missing;
    for (const Result& r : results[t]) {
      const auto where = std::make_tuple(r.job, r.map, r.partition);
      const std::string name =
          absl::StrCat("fetcher ", t, ": ", r.job, " map ", r.map, " partition ",
                       r.partition, r.last_pass ? " (last pass)" : "");
      if (r.fetched.code == grpc::StatusCode::OK) {
        ++whole;
        EXPECT_TRUE(r.fetched.batches == expected[where])
            << name << ": got " << r.fetched.batches.size() << " batches of "
            << expected[where].size();
        if (r.last_pass) {
          EXPECT_NE(r.job, "dropped") << name << ": not dropped";
        }
        if (r.job == "dropped") {
          EXPECT_EQ(seen_missing.count(where), 0u) << name << ": back after its drop";
        }
        seen_whole.insert(where);
        continue;
      }
      ++missing;
      EXPECT_EQ(r.fetched.code, grpc::StatusCode::NOT_FOUND) << name << ": "
                                                            << r.fetched.message;
      EXPECT_EQ(r.fetched.message,
                absl::StrCat("no output of ", r.job, " map ", r.map, " attempt ",
                             first_attempt.at(r.job) + r.map, " here"))
          << name;
      EXPECT_TRUE(r.fetched.batches.empty()) << name;
      EXPECT_NE(r.job, "kept") << name;
      if (r.job == "late") {
        EXPECT_FALSE(r.last_pass) << name << ": missing after its ingestion";
        EXPECT_EQ(seen_whole.count(where), 0u) << name << ": gone after its ingestion";
      }
      seen_missing.insert(where);
    }
  }
  std::cout << "fetches: " << whole << " whole, " << missing << " not found"
            << std::endl;

  // Cancelled fetches: CANCELLED after the first batch, or (when the server
  // had sent it all already) the whole partition.
  const auto big0 = StoredBatches("kept", 9, 109, 0);
  const auto big1 = StoredBatches("kept", 9, 109, 1);
  ASSERT_GE(big0.size(), 16u);
  int really_cancelled = 0;
  for (size_t i = 0; i < cancelled.size(); ++i) {
    const Fetched& f = cancelled[i];
    const std::vector<Batch>& whole_big = i % 2 == 0 ? big0 : big1;
    ASSERT_FALSE(f.batches.empty()) << "fetch " << i;
    if (f.code == grpc::StatusCode::CANCELLED) {
      ++really_cancelled;
      ASSERT_LE(f.batches.size(), whole_big.size());
      EXPECT_TRUE(std::equal(f.batches.begin(), f.batches.end(), whole_big.begin()))
          << "fetch " << i << ": a cancelled stream's batches are a prefix";
    } else {
      EXPECT_EQ(f.code, grpc::StatusCode::OK) << f.message;
      EXPECT_TRUE(f.batches == whole_big) << "fetch " << i;
    }
  }
  std::cout << "cancelled fetches: " << really_cancelled << " of "
            << cancelled.size() << std::endl;
}

// A map output goes only to a fetch that carries its job's secret: another
// job's secret, none, or a near miss is refused, and the refusal names the
// job but neither secret.
TEST_F(ShuffleServiceTest, FetchNeedsTheJobsSecret) {
  const std::string secret_a = NewShuffleSecret();
  const std::string secret_b = NewShuffleSecret();
  const auto records = MakeRecords("job-a", 0, 40, 100);
  ASSERT_TRUE(store_
                  ->IngestMapOutput("job-a", 0, 1, secret_a,
                                    Spill("job-a", 0, 1, records, 1500, 200))
                  .ok());
  ASSERT_TRUE(store_
                  ->IngestMapOutput("job-b", 0, 2, secret_b,
                                    Spill("job-b", 0, 2, records, 1500, 200))
                  .ok());
  ASSERT_FALSE(HasFailure());
  StartServer();
  auto stub = NewStub();

  for (uint32_t p = 0; p < 2; ++p) {
    const Fetched ok = FetchWithSecret(stub.get(), "job-a", 0, 1, p, secret_a);
    ASSERT_EQ(ok.code, grpc::StatusCode::OK) << ok.message;
    EXPECT_FALSE(ok.batches.empty());
    EXPECT_TRUE(ok.batches == StoredBatches("job-a", 0, 1, p));
  }
  std::string near_miss = secret_a;
  near_miss.back() ^= 1;
  const std::vector<std::pair<std::string, std::string>> wrong = {
      {"job b's", secret_b},
      {"none", ""},
      {"one bit off", near_miss},
      {"a prefix", secret_a.substr(0, 16)},
      {"longer", secret_a + "x"}};
  for (const auto& [what, secret] : wrong) {
    const Fetched refused =
        FetchWithSecret(stub.get(), "job-a", 0, 1, 0, secret);
    EXPECT_EQ(refused.code, grpc::StatusCode::PERMISSION_DENIED) << what;
    EXPECT_EQ(refused.message, "wrong shuffle secret for job job-a") << what;
    EXPECT_TRUE(refused.batches.empty()) << what;
  }
  // Job b's own secret still reads job b.
  EXPECT_EQ(FetchWithSecret(stub.get(), "job-b", 0, 2, 1, secret_b).code,
            grpc::StatusCode::OK);
  // A job the worker holds nothing of: NOT_FOUND, whatever the secret.
  const Fetched unknown = FetchWithSecret(stub.get(), "job-c", 0, 1, 0, secret_a);
  EXPECT_EQ(unknown.code, grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown.message, "no output of job-c map 0 attempt 1 here");
  // Once dropped, the secret is forgotten with the data.
  ASSERT_TRUE(store_->DropJob("job-a").ok());
  EXPECT_EQ(FetchWithSecret(stub.get(), "job-a", 0, 1, 0, secret_a).code,
            grpc::StatusCode::NOT_FOUND);
}

// Corruption injected into the first N batches sent hits exactly N batches,
// however many fetches run at once; every other batch arrives intact.
TEST_F(ShuffleServiceTest, InjectedCorruptionHitsExactlyNBatchesUnderConcurrency) {
  constexpr uint32_t kMaps = 4;
  constexpr int kCorrupt = 5;
  for (uint32_t m = 0; m < kMaps; ++m) {
    std::vector<std::string> files =
        Spill("job", m, 10 + m, MakeRecords("job", m, 40, 100), 1500, 200);
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(
        store_->IngestMapOutput("job", m, 10 + m, TestSecret("job"), files)
            .ok());
  }
  StartServer(kCorrupt);
  std::vector<std::vector<Fetched>> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto stub = NewStub();
      for (int round = 0; round < 3; ++round) {
        for (uint32_t m = 0; m < kMaps; ++m) {
          for (uint32_t p = 0; p < 2; ++p) {
            got[t].push_back(Fetch(stub.get(), "job", m, 10 + m, p));
          }
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  int corrupted = 0, intact = 0;
  for (int t = 0; t < 4; ++t) {
    size_t i = 0;
    for (int round = 0; round < 3; ++round) {
      for (uint32_t m = 0; m < kMaps; ++m) {
        for (uint32_t p = 0; p < 2; ++p, ++i) {
          const Fetched& f = got[t][i];
          ASSERT_EQ(f.code, grpc::StatusCode::OK) << f.message;
          const std::vector<Batch> want = StoredBatches("job", m, 10 + m, p);
          ASSERT_EQ(f.batches.size(), want.size());
          for (size_t b = 0; b < want.size(); ++b) {
            if (f.batches[b] == want[b]) {
              ++intact;
              continue;
            }
            ++corrupted;
            Batch fixed = f.batches[b];
            std::get<3>(fixed)[0] ^= 0x5a;
            EXPECT_TRUE(fixed == want[b]) << "more than the first byte differs";
          }
        }
      }
    }
  }
  EXPECT_EQ(corrupted, kCorrupt);
  EXPECT_GT(intact, 100);
}

}  // namespace
}  // namespace mr
