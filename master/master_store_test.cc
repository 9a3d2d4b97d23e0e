#include "master/master_store.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/file_util.h"
#include "gtest/gtest.h"

namespace mr {
namespace {

class MasterStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("master_store_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    RemoveAll(dir_).IgnoreError();
  }
  void TearDown() override { RemoveAll(dir_).IgnoreError(); }

  std::unique_ptr<MasterStore> Open() {
    auto store = MasterStore::Open(dir_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  static mrstate::JobRecord Job(const std::string& id) {
    mrstate::JobRecord r;
    r.set_job_id(id);
    r.set_state(mrstate::RUNNING);
    r.mutable_spec()->set_output_dir("/out/caf\xe9");
    r.mutable_spec()->set_num_reduces(1);
    r.mutable_spec()->add_inputs("/in/caf\xe9.txt");
    r.add_input_files("/in/caf\xe9.txt");
    mrstate::FileChunk* c = r.add_splits()->add_chunks();
    c->set_path("/in/caf\xe9.txt");
    c->set_length(10);
    return r;
  }

  std::string dir_;
};

TEST_F(MasterStoreTest, NamesThatAreNotUtf8RoundTrip) {
  {
    auto store = Open();
    ASSERT_TRUE(store->PutJob(Job("job-000001")).ok());
    mrstate::TaskRecord t;
    t.set_kind(mrstate::MAP);
    t.set_index(0);  // the job's one split
    t.set_attempt_id(17);
    mrstate::Counter* c = t.add_counters();
    c->set_name("caf\xe9 records");
    c->set_value(5);
    ASSERT_TRUE(store->PutTask("job-000001", t).ok());
  }
  auto store = Open();
  auto state = store->Load();
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_EQ(state->jobs.size(), 1u);
  EXPECT_EQ(state->jobs[0].input_files(0), "/in/caf\xe9.txt");
  EXPECT_EQ(state->jobs[0].spec().output_dir(), "/out/caf\xe9");
  ASSERT_EQ(state->tasks["job-000001"].size(), 1u);
  EXPECT_EQ(state->tasks["job-000001"][0].counters(0).name(), "caf\xe9 records");
  EXPECT_TRUE(state->quarantined.empty());
  EXPECT_FALSE(state->has_ids);
}

TEST_F(MasterStoreTest, ARecordThatDoesNotParseIsQuarantinedAndTheRestLoads) {
  {
    auto store = Open();
    ASSERT_TRUE(store->PutJob(Job("job-000001")).ok());
    ASSERT_TRUE(store->PutJob(Job("job-000003")).ok());
    // A truncated varint: no message parses from it.
    ASSERT_TRUE(store->PutRawForTest("job/job-000002", "\x0a\xff").ok());
    // A record under the wrong key is as unreadable.
    ASSERT_TRUE(store->PutRawForTest("job/job-000009",
                                     Job("job-000004").SerializeAsString())
                    .ok());
    mrstate::MasterIds ids;
    ids.set_next_job_seq(5);
    ASSERT_TRUE(store->PutIds(ids).ok());
  }
  {
    auto store = Open();
    auto state = store->Load();
    ASSERT_TRUE(state.ok()) << state.status();
    ASSERT_EQ(state->jobs.size(), 2u);
    EXPECT_EQ(state->jobs[0].job_id(), "job-000001");
    EXPECT_EQ(state->jobs[1].job_id(), "job-000003");
    EXPECT_EQ(state->quarantined,
              (std::vector<std::string>{"job/job-000002", "job/job-000009"}));
    EXPECT_TRUE(state->has_ids);
    EXPECT_EQ(state->ids.next_job_seq(), 5u);
  }
  // Quarantined records stay out on the next load, and are kept.
  auto store = Open();
  auto state = store->Load();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->jobs.size(), 2u);
  EXPECT_TRUE(state->quarantined.empty());
}

// Records that parse but hold what no master writes: restoring them would
// size a task table by 2^32-1 reduces, commit a job without its reduces,
// remove directories the output or the id name, or hand out bounds that do
// not fit the reduces. Found by tests/fuzz/master_state_fuzzer.
TEST_F(MasterStoreTest, ARecordRestoreCannotTrustIsQuarantinedNamingWhy) {
  auto reduces = [](uint32_t n) {
    mrstate::JobRecord r = Job("job-000002");
    r.mutable_spec()->set_num_reduces(n);
    return r;
  };
  mrstate::JobRecord good = reduces(2);
  good.set_job_id("job-000001");
  mrstate::JobRecord relative = reduces(1);
  relative.set_job_id("job-000004");
  relative.mutable_spec()->set_output_dir("out");
  mrstate::JobRecord nul = reduces(1);
  nul.set_job_id("job-000005");
  nul.set_state(mrstate::FAILED);
  nul.mutable_spec()->set_output_dir(std::string("/\0", 2));
  mrstate::JobRecord slash = reduces(1);
  slash.set_job_id("job-000006/..");
  mrstate::JobRecord bounds = reduces(2);
  bounds.set_job_id("job-000007");
  bounds.mutable_spec()->set_total_order(true);
  bounds.set_sampled(true);
  bounds.add_partition_bounds("m");
  bounds.add_partition_bounds("t");
  mrstate::JobRecord map_only = reduces(0);
  map_only.set_job_id("job-000008");
  map_only.mutable_spec()->set_map_only(true);
  auto task = [](mrstate::TaskKind kind, uint32_t index) {
    mrstate::TaskRecord t;
    t.set_kind(kind);
    t.set_index(index);
    return t;
  };
  {
    auto store = Open();
    ASSERT_TRUE(store->PutJob(good).ok());
    ASSERT_TRUE(store->PutJob(reduces(0xffffffffu)).ok());
    mrstate::JobRecord zero = reduces(0);
    zero.set_job_id("job-000003");
    ASSERT_TRUE(store->PutJob(zero).ok());
    ASSERT_TRUE(store->PutJob(relative).ok());
    ASSERT_TRUE(store->PutJob(nul).ok());
    ASSERT_TRUE(store->PutJob(slash).ok());
    ASSERT_TRUE(store->PutJob(bounds).ok());
    ASSERT_TRUE(store->PutJob(map_only).ok());
    ASSERT_TRUE(store->PutTask("job-000001", task(mrstate::MAP, 0)).ok());
    ASSERT_TRUE(store->PutTask("job-000001", task(mrstate::REDUCE, 1)).ok());
    // Past the job's one split and two reduces; of a job that is not
    // there; under another task's key.
    ASSERT_TRUE(store->PutTask("job-000001", task(mrstate::MAP, 1)).ok());
    ASSERT_TRUE(store->PutTask("job-000001", task(mrstate::REDUCE, 2)).ok());
    ASSERT_TRUE(store->PutTask("job-000009", task(mrstate::MAP, 0)).ok());
    ASSERT_TRUE(store->PutRawForTest("task/job-000001/R00000000",
                                     task(mrstate::MAP, 0).SerializeAsString())
                    .ok());
    ASSERT_TRUE(store->PutTask("job-000008", task(mrstate::MAP, 0)).ok());
  }
  auto store = Open();
  auto state = store->Load();
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_EQ(state->jobs.size(), 2u);
  EXPECT_EQ(state->jobs[0].job_id(), "job-000001");
  EXPECT_EQ(state->jobs[1].job_id(), "job-000008");
  ASSERT_EQ(state->tasks["job-000001"].size(), 2u);
  EXPECT_EQ(state->tasks["job-000008"].size(), 1u);
  EXPECT_EQ(state->quarantined,
            (std::vector<std::string>{
                "job/job-000002", "job/job-000003", "job/job-000004",
                "job/job-000005", "job/job-000006/..", "job/job-000007",
                "task/job-000001/M00000001", "task/job-000001/R00000000",
                "task/job-000001/R00000002", "task/job-000009/M00000000"}));

  EXPECT_EQ(MasterStore::CheckJob("job/job-000002", reduces(0xffffffffu))
                .message(),
            "job/job-000002: 4294967295 reduces (1 to 100000 unless map-only)");
  EXPECT_EQ(MasterStore::CheckJob("job/job-000005", nul).message(),
            "job/job-000005: the output /\\x00 is not an absolute real path");
  EXPECT_EQ(MasterStore::CheckJob("job/job-000007", bounds).message(),
            "job/job-000007: 2 partition bounds for 2 reduces");
  EXPECT_EQ(MasterStore::CheckTask("task/job-000001/R00000002",
                                   task(mrstate::REDUCE, 2), &good)
                .message(),
            "task/job-000001/R00000002: reduce 2 of a job with 2 reduces");
  EXPECT_EQ(MasterStore::CheckTask("task/job-000001/R00000000",
                                   task(mrstate::MAP, 0), &good)
                .message(),
            "task/job-000001/R00000000: holds map 0");
  EXPECT_EQ(MasterStore::CheckTask("task/job-000009/M00000000",
                                   task(mrstate::MAP, 0), nullptr)
                .message(),
            "task/job-000009/M00000000: no job record has its job id");
}

TEST_F(MasterStoreTest, UnreadableIdsAreReported) {
  {
    auto store = Open();
    ASSERT_TRUE(store->PutRawForTest("ids", "\xff\xff\xff").ok());
  }
  auto store = Open();
  auto state = store->Load();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_FALSE(state->has_ids);
  EXPECT_EQ(state->quarantined, std::vector<std::string>{"ids"});
}

TEST_F(MasterStoreTest, ABatchIsWrittenAtOnce) {
  auto store = Open();
  MasterStore::Batch batch;
  EXPECT_TRUE(batch.empty());
  batch.PutJob(Job("job-000001"));
  mrstate::MasterIds ids;
  ids.set_next_job_seq(2);
  batch.PutIds(ids);
  EXPECT_FALSE(batch.empty());
  ASSERT_TRUE(store->Write(&batch).ok());
  EXPECT_TRUE(batch.empty());
  auto state = store->Load();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->jobs.size(), 1u);
  EXPECT_EQ(state->ids.next_job_seq(), 2u);
}

}  // namespace
}  // namespace mr
