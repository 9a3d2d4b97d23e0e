#include "client/internal/job_report.h"
#include "common/proto_maps.h"

#include <gtest/gtest.h>

namespace mr {
namespace client_internal {
namespace {

mrpb::JobStatus FixedStatus() {
  mrpb::JobStatus s;
  s.set_job_id("job-000001");
  s.mutable_spec()->set_app("wordcount");
  s.mutable_spec()->set_output_dir("/abs/out");
  s.set_state(mrpb::JOB_SUCCEEDED);
  s.set_maps_total(8);
  s.set_maps_done(8);
  s.set_reduces_total(4);
  s.set_reduces_done(4);
  s.set_submit_time_ms(1700000000000);
  s.set_finish_time_ms(1700000003249);
  CountersToProto({{"map input records", 77193},
                   {"map output records", 623948},
                   {"reduce output records", 22107},
                   {"shuffle bytes", 1234567},
                   {"spilled bytes compressed", 0}},
                  s.mutable_counters());
  return s;
}

TEST(JobReportTest, Succeeded) {
  EXPECT_EQ(FormatJobReport(FixedStatus(), 0),
            "job job-000001 succeeded in 3.2 s\n"
            "output: /abs/out (4 part files)\n"
            "counters:\n"
            "  map input records           77193\n"
            "  map output records         623948\n"
            "  reduce output records       22107\n"
            "  shuffle bytes             1234567\n"
            "  spilled bytes compressed        0\n");
}

TEST(JobReportTest, ShowsTheOwner) {
  mrpb::JobStatus s = FixedStatus();
  s.clear_counters();
  s.set_owner("etl-nightly");
  EXPECT_EQ(FormatJobReport(s, 0),
            "job job-000001 succeeded in 3.2 s\n"
            "output: /abs/out (4 part files)\n"
            "owner: etl-nightly\n"
            "counters: none\n");
  s.set_state(mrpb::JOB_RUNNING);
  s.set_owner("al\x1b[2Jice");  // names are escaped like every name
  EXPECT_EQ(FormatJobReport(s, 1700000001000),
            "job job-000001 running for 1.0 s\n"
            "progress: maps 8/8  reduces 4/4\n"
            "output: /abs/out\n"
            "owner: al\\x1b[2Jice\n"
            "counters: none\n");
}

TEST(JobReportTest, PartitionsAndSkew) {
  mrpb::JobStatus s = FixedStatus();
  s.clear_counters();
  const uint64_t bytes[] = {100, 120, 90, 500};
  for (uint64_t b : bytes) {
    mrpb::PartitionSize* p = s.add_partitions();
    p->set_records(b / 10);
    p->set_bytes(b);
  }
  double ratio = 0;
  EXPECT_EQ(SkewedPartition(s, &ratio), 3);
  EXPECT_DOUBLE_EQ(ratio, 500.0 / 120);  // the median of 4 is the upper one
  EXPECT_EQ(FormatJobReport(s, 0),
            "job job-000001 succeeded in 3.2 s\n"
            "output: /abs/out (4 part files)\n"
            "map output per reduce partition:\n"
            "  partition  records  bytes\n"
            "          0       10    100\n"
            "          1       12    120\n"
            "          2        9     90\n"
            "          3       50    500\n"
            "skew: partition 3 holds 4.2x the median bytes\n"
            "counters: none\n");
  // 4x the median is not yet skew.
  s.mutable_partitions(3)->set_bytes(480);
  EXPECT_EQ(SkewedPartition(s, &ratio), -1);
}

TEST(JobReportTest, CheckFailuresAndMapOnlyParts) {
  mrpb::JobStatus s = FixedStatus();
  s.mutable_spec()->set_map_only(true);
  s.set_reduces_total(0);
  CountersToProto({{"check failures", 2}}, s.mutable_counters());
  EXPECT_EQ(CheckFailures(s), 2);
  EXPECT_EQ(FormatJobReport(s, 0),
            "job job-000001 succeeded in 3.2 s\n"
            "output: /abs/out (8 part files)\n"
            "checks failed: 2 (see the job's output)\n"
            "counters:\n"
            "  check failures  2\n");
}

TEST(JobReportTest, Running) {
  mrpb::JobStatus s = FixedStatus();
  s.set_state(mrpb::JOB_RUNNING);
  s.set_maps_done(5);
  s.set_maps_running(3);
  s.set_reduces_done(0);
  s.set_finish_time_ms(0);
  s.clear_counters();
  EXPECT_EQ(FormatJobReport(s, 1700000012000),
            "job job-000001 running for 12.0 s\n"
            "progress: maps 5/8  reduces 0/4  (3 tasks running)\n"
            "output: /abs/out\n"
            "counters: none\n");
}

TEST(JobReportTest, FailedAndKilled) {
  mrpb::JobStatus s = FixedStatus();
  s.set_state(mrpb::JOB_FAILED);
  s.set_reduces_done(1);
  s.set_error("reduce 2 failed 4 attempts: out of disk");
  s.clear_counters();
  CountersToProto({{"x", -5}}, s.mutable_counters());
  EXPECT_EQ(FormatJobReport(s, 0),
            "job job-000001 failed: reduce 2 failed 4 attempts: out of disk\n"
            "progress: maps 8/8  reduces 1/4\n"
            "output: /abs/out\n"
            "counters:\n"
            "  x  -5\n");

  s.set_state(mrpb::JOB_KILLED);
  s.clear_error();
  s.set_reduces_running(1);
  s.clear_counters();
  EXPECT_EQ(FormatJobReport(s, 0),
            "job job-000001 killed\n"
            "progress: maps 8/8  reduces 1/4  (1 task running)\n"
            "output: /abs/out\n"
            "counters: none\n");
}

TEST(JobReportTest, OnePartFile) {
  mrpb::JobStatus s = FixedStatus();
  s.set_reduces_total(1);
  s.clear_counters();
  EXPECT_EQ(FormatJobReport(s, 0),
            "job job-000001 succeeded in 3.2 s\n"
            "output: /abs/out (1 part file)\n"
            "counters: none\n");
}

TEST(JobReportTest, MalformedRecords) {
  mrpb::JobStatus s = FixedStatus();
  s.clear_counters();
  s.mutable_spec()->set_max_record_bytes(1048576);
  CountersToProto({{"malformed records", 3}}, s.mutable_counters());
  mrpb::RecordLocation* r = s.add_malformed_records();
  r->set_path("/in/a.txt");
  r->set_offset(1024);
  r->set_reason("longer than 1048576 bytes");
  r = s.add_malformed_records();
  r->set_path("/in/b.txt");
  r->set_offset(0);
  EXPECT_EQ(FormatJobReport(s, 0),
            "job job-000001 succeeded in 3.2 s\n"
            "output: /abs/out (4 part files)\n"
            "malformed records: 3; first: /in/a.txt:1024 (longer than 1048576 "
            "bytes)\n"
            "counters:\n"
            "  malformed records  3\n");

  // The reason is the one the map reported (here under the default limit),
  // whatever the spec says now; without a counter, the records are counted.
  s.mutable_spec()->clear_max_record_bytes();
  s.clear_counters();
  s.mutable_malformed_records()->DeleteSubrange(1, 1);
  s.mutable_malformed_records(0)->set_reason("longer than 67108864 bytes");
  EXPECT_EQ(FormatJobReport(s, 0),
            "job job-000001 succeeded in 3.2 s\n"
            "output: /abs/out (4 part files)\n"
            "malformed records: 1; first: /in/a.txt:1024 (longer than 67108864 "
            "bytes)\n"
            "counters: none\n");
}

TEST(JobReportTest, JobTable) {
  mrpb::ListJobsResponse jobs;
  *jobs.add_jobs() = FixedStatus();
  mrpb::JobStatus* j = jobs.add_jobs();
  j->set_job_id("job-000012");
  j->set_state(mrpb::JOB_RUNNING);
  j->set_maps_total(120);
  j->set_maps_done(7);
  j->set_reduces_total(4);
  j->mutable_spec()->set_plugin_name("libmyjob.so");
  j->mutable_spec()->set_output_dir("/data/o2");
  j->set_owner("alice");
  EXPECT_EQ(FormatJobTable(jobs),
            "JOB ID      STATE       MAPS  REDUCES  APP          OWNER  OUTPUT\n"
            "job-000001  succeeded    8/8      4/4  wordcount           /abs/out\n"
            "job-000012  running    7/120      0/4  libmyjob.so  alice  /data/o2\n");
  EXPECT_EQ(FormatJobTable(mrpb::ListJobsResponse()),
            "JOB ID  STATE  MAPS  REDUCES  APP  OWNER  OUTPUT\n");
}

TEST(JobReportTest, WorkerTable) {
  mrpb::ListWorkersResponse workers;
  mrpb::WorkerInfo* w = workers.add_workers();
  w->set_worker_id("worker-1");
  w->set_address("127.0.0.1:40111");
  w->set_slots(2);
  w->set_running_tasks(1);
  w->set_last_heartbeat_ms_ago(312);
  w = workers.add_workers();
  w->set_worker_id("worker-10");
  w->set_address("127.0.0.1:40222");
  w->set_slots(16);
  w->set_running_tasks(0);
  w->set_last_heartbeat_ms_ago(4);
  EXPECT_EQ(FormatWorkerTable(workers),
            "ID         ADDRESS          SLOTS  RUNNING  LAST HEARTBEAT\n"
            "worker-1   127.0.0.1:40111      2        1      312 ms ago\n"
            "worker-10  127.0.0.1:40222     16        0        4 ms ago\n");
}

TEST(JobReportTest, StateNames) {
  EXPECT_EQ(JobStateName(mrpb::JOB_RUNNING), "running");
  EXPECT_EQ(JobStateName(mrpb::JOB_SUCCEEDED), "succeeded");
  EXPECT_EQ(JobStateName(mrpb::JOB_FAILED), "failed");
  EXPECT_EQ(JobStateName(mrpb::JOB_KILLED), "killed");
  EXPECT_EQ(JobStateName(mrpb::JOB_STATE_UNSPECIFIED), "unknown");
}

}  // namespace
}  // namespace client_internal
}  // namespace mr
