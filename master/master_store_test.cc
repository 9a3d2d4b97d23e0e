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
    t.set_index(3);
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
