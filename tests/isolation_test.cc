// User code runs in a child process per attempt: a plugin that segfaults
// fails its job with a clear reason after the retry limit, and the workers
// (their shuffle service and the map outputs they hold) live on. And the
// cluster runs several jobs at once.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;

class IsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.Start();
    ASSERT_TRUE(s.ok()) << s;
    auto files = GutenbergFiles();
    ASSERT_TRUE(files.ok()) << files.status();
    files_ = *files;
  }

  std::string ExpectedWordCount() {
    auto expected = ExpectedWordCountOfBooks();
    EXPECT_TRUE(expected.ok()) << expected.status();
    return expected.value_or("");
  }

  ExternalMiniCluster cluster_;
  std::vector<std::string> files_;
};

TEST_F(IsolationTest, SegfaultingPluginFailsItsJobNotTheWorker) {
  const pid_t pid0 = cluster_.worker(0)->pid();
  const pid_t pid1 = cluster_.worker(1)->pid();
  auto r = cluster_.RunMrctl(
      {"submit", "--plugin", LibDir() + "/libsegv_plugin.so", "--param",
       "crash_on=Holmes", "--input", DataDir() + "/pg-sherlock_holmes.txt",
       "--output", cluster_.PathUnderRoot("segv-out"), "--wait"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1) << r->out << r->err;
  EXPECT_THAT(r->out, HasSubstr("map task 0 failed 4 times; last error: task "
                                "process killed by signal 11 (Segmentation "
                                "fault)"));

  // Both workers are the same processes, still registered.
  EXPECT_TRUE(cluster_.worker(0)->IsRunning());
  EXPECT_TRUE(cluster_.worker(1)->IsRunning());
  EXPECT_EQ(cluster_.worker(0)->pid(), pid0);
  EXPECT_EQ(cluster_.worker(1)->pid(), pid1);
  auto workers = cluster_.ListWorkers();
  ASSERT_TRUE(workers.ok());
  EXPECT_EQ(workers->workers_size(), 2);

  // And they still run jobs.
  const std::string out = cluster_.PathUnderRoot("wc-out");
  auto wc = cluster_.RunMrctl({"submit", "--app", "wordcount", "--input",
                               DataDir() + "/pg-*.txt", "--output", out,
                               "--wait"});
  ASSERT_TRUE(wc.ok());
  ASSERT_EQ(wc->exit_code, 0) << wc->out << wc->err;
  auto got = ReadJobOutput(out);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, ExpectedWordCount());
}

TEST_F(IsolationTest, ServesSeveralJobsAtOnce) {
  const std::string wc_out = cluster_.PathUnderRoot("wc");
  const std::string ix_out = cluster_.PathUnderRoot("ix");
  auto wc = cluster_.SubmitJob({"--app", "wordcount", "--input",
                                DataDir() + "/pg-*.txt", "--output", wc_out,
                                "--split-size", "200000", "--reduces", "3"});
  ASSERT_TRUE(wc.ok()) << wc.status();
  auto ix = cluster_.SubmitJob({"--app", "indexer", "--input",
                                DataDir() + "/pg-*.txt", "--output", ix_out,
                                "--split-size", "300000", "--reduces", "2"});
  ASSERT_TRUE(ix.ok()) << ix.status();
  // A job into the output a running job writes is refused.
  auto clash = cluster_.RunMrctl({"submit", "--app", "wordcount", "--input",
                                  DataDir() + "/pg-*.txt", "--output", wc_out});
  ASSERT_TRUE(clash.ok());
  if (clash->exit_code != 0) {  // unless the first job already finished
    EXPECT_EQ(clash->exit_code, 2);
    EXPECT_THAT(clash->err, ::testing::AnyOf(HasSubstr("OUTPUT_IN_USE"),
                                             HasSubstr("OUTPUT_EXISTS")));
  }

  auto wc_status = cluster_.WaitForJob(*wc);
  auto ix_status = cluster_.WaitForJob(*ix);
  ASSERT_TRUE(wc_status.ok() && ix_status.ok());
  EXPECT_EQ(wc_status->state(), mrpb::JOB_SUCCEEDED) << wc_status->error();
  EXPECT_EQ(ix_status->state(), mrpb::JOB_SUCCEEDED) << ix_status->error();

  auto wc_got = ReadJobOutput(wc_out);
  ASSERT_TRUE(wc_got.ok()) << wc_got.status();
  EXPECT_EQ(*wc_got, ExpectedWordCount());
  auto index = IndexerReference(files_);
  ASSERT_TRUE(index.ok());
  auto ix_got = ReadJobOutput(ix_out);
  ASSERT_TRUE(ix_got.ok()) << ix_got.status();
  EXPECT_EQ(*ix_got, RenderIndex(*index));
}

}  // namespace
}  // namespace test
}  // namespace mr
