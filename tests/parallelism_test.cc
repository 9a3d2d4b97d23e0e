// Tasks run in parallel, across workers and within one, as in the MIT 6.5840
// lab's parallelism tests. The evidence is the per-attempt lines each worker
// logs ("task JOB MAP 3 attempt 7 started at MS" / "... finished at MS ok"):
// both workers must run maps, and some map on worker-0 must overlap in time
// with some map on worker-1; the same for reduces.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

struct Interval {
  uint32_t task = 0;
  uint64_t attempt = 0;
  int64_t start = -1;
  int64_t finish = -1;
};

// kind -> the attempts of `job_id` on one worker, from its log.
std::map<std::string, std::vector<Interval>> Intervals(const std::string& log_path,
                                                       const std::string& job_id) {
  std::map<std::string, std::vector<Interval>> out;
  absl::StatusOr<std::string> text = ReadFileToString(log_path);
  if (!text.ok()) return out;
  std::map<uint64_t, Interval> by_attempt;
  std::map<uint64_t, std::string> kind_of;
  for (const TaskLogEvent& e : ParseTaskLogEvents(*text)) {
    if (e.job_id != job_id) continue;
    Interval& iv = by_attempt[e.attempt_id];
    iv.task = e.task_index;
    iv.attempt = e.attempt_id;
    kind_of[e.attempt_id] = e.kind;
    (e.started ? iv.start : iv.finish) = e.wall_ms;
  }
  for (const auto& [attempt, iv] : by_attempt) out[kind_of[attempt]].push_back(iv);
  return out;
}

bool Overlap(const Interval& a, const Interval& b) {
  return a.start <= b.finish && b.start <= a.finish;
}

std::string Describe(const std::vector<Interval>& v) {
  std::string s;
  for (const Interval& i : v) {
    absl::StrAppend(&s, " [task ", i.task, " attempt ", i.attempt, ": ", i.start,
                    "..", i.finish, "]");
  }
  return s;
}

TEST(ParallelismTest, MapsAndReducesOverlapAcrossWorkers) {
  absl::StatusOr<std::vector<std::string>> books = GutenbergFiles();
  ASSERT_TRUE(books.ok()) << books.status();

  ExternalMiniClusterOptions opts;
  opts.num_workers = 2;
  opts.slots_per_worker = 2;
  // Frequent heartbeats: both workers get tasks within ~100 ms of each other.
  opts.heartbeat_interval_ms = 100;
  ExternalMiniCluster cluster(opts);
  absl::Status s = cluster.Start();
  ASSERT_TRUE(s.ok()) << s;

  // The books six times over (19,806,624 bytes), so each of the 8 maps
  // reads ~2.5 MB; grep for "e", which matches most lines and has no
  // combiner, so that the reduces too have megabytes to merge. 16 reduces on
  // 2 + 2 slots: even when one worker's reduces take ~60 ms each (a CI
  // machine: the worker that finished the last map took 2 reduces at once
  // and 2 more as soon as they ended, all before the other worker's next
  // heartbeat), the reduce phase outlasts several heartbeat intervals, so
  // the other worker gets reduces while the first still runs some.
  const std::string in = cluster.PathUnderRoot("in");
  ASSERT_TRUE(MakeDirs(in).ok());
  for (int copy = 0; copy < 6; ++copy) {
    for (const std::string& b : *books) {
      const std::string dst = absl::StrCat(
          in, "/copy", copy, "-", std::filesystem::path(b).filename().string());
      std::filesystem::copy_file(b, dst);
    }
  }
  const std::string out = cluster.PathUnderRoot("out");
  absl::StatusOr<CommandResult> r = cluster.RunMrctl(
      {"submit", "--app", "grep", "--param", "pattern=e", "--input", in,
       "--output", out, "--split-size", "2475828", "--reduces", "16", "--wait",
       "--json"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << "stdout:\n" << r->out << "stderr:\n" << r->err
                             << cluster.LogTails();
  absl::StatusOr<mrpb::JobStatus> status = ParseJobStatusJson(r->out);
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_EQ(status->maps_total(), 8u);
  ASSERT_EQ(status->reduces_total(), 16u);

  auto w0 = Intervals(cluster.worker(0)->log_path(), status->job_id());
  auto w1 = Intervals(cluster.worker(1)->log_path(), status->job_id());
  for (const char* kind : {"MAP", "REDUCE"}) {
    SCOPED_TRACE(kind);
    const std::vector<Interval>& a = w0[kind];
    const std::vector<Interval>& b = w1[kind];
    EXPECT_FALSE(a.empty()) << "worker-0 ran no " << kind << " task\n"
                            << cluster.LogTails();
    EXPECT_FALSE(b.empty()) << "worker-1 ran no " << kind << " task";
    for (const auto* v : {&a, &b}) {
      for (const Interval& i : *v) {
        EXPECT_GE(i.start, 0) << "attempt " << i.attempt << " has no started line";
        EXPECT_GE(i.finish, i.start) << "attempt " << i.attempt
                                     << " has no finished line";
      }
    }
    bool overlap = false;
    for (const Interval& x : a) {
      for (const Interval& y : b) overlap = overlap || Overlap(x, y);
    }
    EXPECT_TRUE(overlap) << "no " << kind << " on worker-0 overlaps one on "
                         << "worker-1\nworker-0:" << Describe(a)
                         << "\nworker-1:" << Describe(b);
  }
}

}  // namespace
}  // namespace test
}  // namespace mr
