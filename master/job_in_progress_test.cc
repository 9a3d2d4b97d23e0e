#include "master/job_in_progress.h"

#include "common/proto_maps.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "mr/mapreduce.h"

namespace mr {
namespace {

// A job of `maps` maps and `reduces` reduces (the splits are never read).
JobInProgress MakeJob(int maps, int reduces) {
  mrpb::JobSpec spec;
  spec.set_app("wordcount");
  spec.set_num_reduces(reduces);
  std::vector<mrpb::InputSplit> splits(maps);
  return JobInProgress("job-1", spec, {"in.txt"}, splits, /*submit_wall_ms=*/0);
}

// Starts attempt `attempt` of `task` on worker "w" and makes it succeed
// with `counters`.
void Succeed(JobInProgress& job, Task* task, uint64_t attempt,
             const std::map<std::string, int64_t>& counters) {
  job.StartAttempt(task, attempt, "w", /*now_ms=*/0);
  job.AttemptSucceeded(task, attempt, "127.0.0.1:1", /*now_ms=*/1, counters);
}

int64_t Counter(const JobInProgress& job, const std::string& name) {
  const CounterMap counters = CountersFromProto(job.Status().counters());
  auto it = counters.find(name);
  return it == counters.end() ? -1 : it->second;
}

TEST(IsMaxCounterTest, NamesStartingWithMaxSpace) {
  EXPECT_TRUE(IsMaxCounter("max task memory bytes"));
  EXPECT_TRUE(IsMaxCounter("max "));
  EXPECT_FALSE(IsMaxCounter("maximum"));
  EXPECT_FALSE(IsMaxCounter("Max task memory bytes"));
  EXPECT_FALSE(IsMaxCounter("map input records"));
  EXPECT_FALSE(IsMaxCounter(""));
}

TEST(JobInProgressCountersTest, MaxCountersTakeTheLargestTaskValueOthersSum) {
  JobInProgress job = MakeJob(3, 2);
  Succeed(job, job.map(0), 1,
          {{"map input records", 10}, {"max task memory bytes", 300}});
  Succeed(job, job.map(1), 2,
          {{"map input records", 20}, {"max task memory bytes", 700}});
  Succeed(job, job.map(2), 3,
          {{"map input records", 30}, {"max task memory bytes", 500}});
  EXPECT_EQ(Counter(job, "map input records"), 60);
  EXPECT_EQ(Counter(job, "max task memory bytes"), 700);

  Succeed(job, job.reduce(0), 4,
          {{"max task memory bytes", 900}, {"max reduce task memory bytes", 900}});
  Succeed(job, job.reduce(1), 5,
          {{"max task memory bytes", 100}, {"max reduce task memory bytes", 100}});
  EXPECT_EQ(Counter(job, "max task memory bytes"), 900);
  EXPECT_EQ(Counter(job, "max reduce task memory bytes"), 900);
  EXPECT_EQ(Counter(job, "map input records"), 60);
}

TEST(JobInProgressCountersTest, ATaskRunAgainReplacesItsMaxToo) {
  JobInProgress job = MakeJob(2, 1);
  Succeed(job, job.map(0), 1,
          {{"map input records", 10}, {"max task memory bytes", 300}});
  Succeed(job, job.map(1), 2,
          {{"map input records", 20}, {"max task memory bytes", 700}});
  ASSERT_EQ(Counter(job, "max task memory bytes"), 700);

  // Map 1's output is lost; its second attempt peaks lower. The job's peak
  // is now map 0's, the largest of what the tasks' current attempts count.
  ASSERT_TRUE(job.MapOutputLost(1, 2));
  Succeed(job, job.map(1), 3,
          {{"map input records", 20}, {"max task memory bytes", 200}});
  EXPECT_EQ(Counter(job, "max task memory bytes"), 300);
  EXPECT_EQ(Counter(job, "map input records"), 30);

  // And again, higher.
  ASSERT_TRUE(job.MapOutputLost(1, 3));
  Succeed(job, job.map(1), 4,
          {{"map input records", 20}, {"max task memory bytes", 800}});
  EXPECT_EQ(Counter(job, "max task memory bytes"), 800);
  EXPECT_EQ(Counter(job, "map input records"), 30);
}

TEST(JobInProgressCountersTest, RestoredTasksCombineByTheSameRule) {
  JobInProgress job = MakeJob(2, 1);
  job.RestoreMapDone(0, 1, {{"map input records", 5}, {"max task memory bytes", 40}}, {});
  job.RestoreMapDone(1, 2, {{"map input records", 6}, {"max task memory bytes", 90}}, {});
  job.RestoreReduceDone(0, {{"reduce output records", 3}, {"max task memory bytes", 60}});
  EXPECT_EQ(Counter(job, "map input records"), 11);
  EXPECT_EQ(Counter(job, "reduce output records"), 3);
  EXPECT_EQ(Counter(job, "max task memory bytes"), 90);
}

}  // namespace
}  // namespace mr

namespace mr {
namespace {

std::vector<mrpb::PartitionSize> Sizes(
    std::vector<std::pair<uint64_t, uint64_t>> v) {
  std::vector<mrpb::PartitionSize> out;
  for (auto [records, bytes] : v) {
    out.emplace_back();
    out.back().set_records(records);
    out.back().set_bytes(bytes);
  }
  return out;
}

TEST(JobInProgressPartitionsTest, AReRunMapReplacesWhatItCounted) {
  JobInProgress job = MakeJob(2, 2);
  job.SetPartitionSizes(job.map(0), Sizes({{1, 10}, {2, 20}}));
  job.SetPartitionSizes(job.map(1), Sizes({{3, 30}, {4, 40}}));
  mrpb::JobStatus s = job.Status();
  ASSERT_EQ(s.partitions_size(), 2);
  EXPECT_EQ(s.partitions(0).records(), 4u);
  EXPECT_EQ(s.partitions(1).bytes(), 60u);
  // Map 0 ran again (its output was lost) and emitted differently.
  job.SetPartitionSizes(job.map(0), Sizes({{5, 50}, {0, 0}}));
  s = job.Status();
  EXPECT_EQ(s.partitions(0).records(), 8u);
  EXPECT_EQ(s.partitions(0).bytes(), 80u);
  EXPECT_EQ(s.partitions(1).records(), 4u);
  EXPECT_EQ(s.partitions(1).bytes(), 40u);
}

}  // namespace
}  // namespace mr
