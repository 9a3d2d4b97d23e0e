// A real network of several hosts: the master, three workers and the client
// each in a network namespace of its own, joined by a bridge on
// 198.18.0.0/24 (RFC 2544's benchmarking block, never routed off this
// machine):
//
//   <ns>-br   the bridge br0 and one veth per host, named v<host>
//   <ns>-m    mr-master  198.18.0.10
//   <ns>-w0   worker-0   198.18.0.11
//   <ns>-w1   worker-1   198.18.0.12
//   <ns>-w2   worker-2   198.18.0.13
//   <ns>-c    mrctl      198.18.0.20
//
// where <ns> is "mrnetns-<pid of the test>". Every process that opens a
// connection runs inside one of them (`ip netns exec`); the test process
// itself only runs `ip` and reads files (logs, outputs). The daemons talk
// over the 198.18.0.x addresses: the master binds its own, each worker binds
// and advertises its own (--advertise_host).
//
// TLS: the cluster runs with development certificates (mutual TLS between
// the daemons, mrctl verifying the master; ExternalMiniClusterOptions::tls);
// MR_NETNS_TEST_TLS=0 runs it in plaintext.
//
// Needs root and iproute2: without them the tests fail, they do not skip.
// Every namespace is deleted when a test ends; those of a crashed earlier
// run at the start (tests/netns_topology.h).
#include <stdlib.h>

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/proto_maps.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/netns_topology.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

constexpr char kNsPrefix[] = "mrnetns-";
constexpr int kWorkers = 3;
constexpr int kHeartbeatIntervalMs = 250;
constexpr int kHeartbeatTimeoutMs = 2500;

const NetnsHost kMaster = {"m", "198.18.0.10"};
const NetnsHost kWorkerHosts[kWorkers] = {
    {"w0", "198.18.0.11"}, {"w1", "198.18.0.12"}, {"w2", "198.18.0.13"}};
const NetnsHost kClient = {"c", "198.18.0.20"};

std::string DataGlob() { return DataDir() + "/pg-*.txt"; }

// The attempts of `job` that `log_text` shows as finished ok, by kind.
std::vector<TaskLogEvent> FinishedOk(const std::string& log_text,
                                     const std::string& job,
                                     const std::string& kind) {
  std::vector<TaskLogEvent> out;
  for (TaskLogEvent& e : ParseTaskLogEvents(log_text)) {
    if (!e.started && e.job_id == job && e.kind == kind && e.outcome == "ok") {
      out.push_back(std::move(e));
    }
  }
  return out;
}

int CountOf(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

std::string ReadLog(const ExternalDaemon* d) {
  return ReadFileToString(d->log_path()).value_or("");
}

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
    ASSERT_TRUE(expected.ok()) << expected.status();
    expected_ = *expected;
    absl::StatusOr<std::vector<std::string>> files = GutenbergFiles();
    ASSERT_TRUE(files.ok()) << files.status();
    for (const std::string& f : *files) {
      absl::StatusOr<std::string> text = ReadFileToString(f);
      ASSERT_TRUE(text.ok()) << text.status();
      for (char c : *text) total_lines_ += c == '\n';
    }

    absl::Status s = NetnsTopology::SweepStale(kNsPrefix);
    ASSERT_TRUE(s.ok()) << "cannot use network namespaces (this test needs "
                           "root and iproute2's `ip netns`): "
                        << s;
    std::vector<NetnsHost> hosts = {kMaster, kClient};
    hosts.insert(hosts.end(), std::begin(kWorkerHosts), std::end(kWorkerHosts));
    s = topology_.Create(hosts);
    ASSERT_TRUE(s.ok()) << "cannot build the network namespaces (this test "
                           "needs root and iproute2's `ip netns`): "
                        << s;

    ExternalMiniClusterOptions opts;
    opts.num_workers = kWorkers;
    opts.heartbeat_interval_ms = kHeartbeatIntervalMs;
    opts.heartbeat_timeout_ms = kHeartbeatTimeoutMs;
    opts.master_host = kMaster.address;
    opts.master_command_prefix = topology_.Exec(kMaster);
    for (const NetnsHost& w : kWorkerHosts) {
      opts.worker_hosts.push_back(w.address);
      opts.worker_command_prefixes.push_back(topology_.Exec(w));
    }
    opts.mrctl_command_prefix = topology_.Exec(kClient);
    ASSERT_NO_FATAL_FAILURE(MaybeTls(&opts));
    cluster_ = std::make_unique<ExternalMiniCluster>(opts);
    s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s;
    std::cerr << "netns_test: cluster up " << (tls_ ? "with TLS" : "in plaintext")
              << "; master at " << cluster_->master_address() << "\n";
  }

  void TearDown() override {
    cluster_.reset();  // kills the daemons before their namespaces go
  }

  // TLS between the hosts, as a real multi-host cluster runs; the fixture
  // makes certificates for the 198.18.0.x addresses. MR_NETNS_TEST_TLS=0
  // runs the same test in plaintext.
  void MaybeTls(ExternalMiniClusterOptions* opts) {
    const char* env = getenv("MR_NETNS_TEST_TLS");
    tls_ = env == nullptr || std::string(env) != "0";
    opts->tls = tls_;
  }

  // Submits word count over the books to `out` (no --wait); its job id.
  // `slow`: the crash app with no crash, every attempt sleeping 0-1.5 s at
  // its first call (word count's output): a job that reliably outlasts a
  // cut, the declaration and the worker's way back.
  std::string Submit(const std::string& out, const std::string& split_size,
                     bool slow = false) {
    std::vector<std::string> args = {
        "--app", slow ? "crash" : "wordcount", "--input", DataGlob(),
        "--output", out, "--split-size", split_size, "--reduces", "6"};
    if (slow) {
      for (const char* p : {"crash_probability=0", "sleep_probability=1",
                            "max_sleep_ms=1500"}) {
        args.push_back("--param");
        args.push_back(p);
      }
    }
    absl::StatusOr<std::string> job = cluster_->SubmitJob(args);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.value_or("");
  }

  // Waits for `job`; checks it succeeded with the reference's output in
  // `out` and exact counters (an attempt committed twice, or a stale one,
  // would count its records twice).
  void ExpectReferenceOutput(const std::string& job, const std::string& out) {
    absl::StatusOr<mrpb::JobStatus> st = cluster_->WaitForJob(job, absl::Seconds(60));
    ASSERT_TRUE(st.ok()) << st.status() << cluster_->LogTails();
    ASSERT_EQ(st->state(), mrpb::JOB_SUCCEEDED)
        << st->ShortDebugString() << cluster_->LogTails();
    EXPECT_EQ(st->maps_done(), st->maps_total());
    EXPECT_EQ(st->reduces_done(), 6u);
    EXPECT_EQ(JobCounter(*st, "map input records"), total_lines_);
    EXPECT_EQ(JobCounter(*st, "reduce output records"), 22107);
    ExpectOutputUnchanged(out);
  }

  void ExpectOutputUnchanged(const std::string& out) {
    JobOutputOptions opts;
    opts.expected_parts = 6;
    absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
    ASSERT_TRUE(got.ok()) << got.status() << "\n" << DescribeTree(out);
    EXPECT_EQ(CountLines(*got), 22107u);
    EXPECT_TRUE(*got == expected_)
        << "output of " << out << " differs from the reference; first lines:\n"
        << got->substr(0, 200);
  }

  // worker_id -> address, as the master lists them (through mrctl).
  std::map<std::string, std::string> Workers() {
    absl::StatusOr<mrpb::ListWorkersResponse> r = cluster_->ListWorkers();
    EXPECT_TRUE(r.ok()) << r.status();
    std::map<std::string, std::string> out;
    if (!r.ok()) return out;
    for (const mrpb::WorkerInfo& w : r->workers()) out[w.worker_id()] = w.address();
    return out;
  }

  // The id under which the master lists worker `i` (by its address).
  std::string WorkerId(int i) {
    for (const auto& [id, address] : Workers()) {
      if (address == cluster_->worker(i)->address()) return id;
    }
    return "";
  }

  // Waits until `daemon`'s log holds `text` after its first `from` bytes;
  // the offset just past it, or -1 after `timeout`.
  static int64_t WaitForLog(const ExternalDaemon* daemon, const std::string& text,
                            size_t from, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      const std::string log = ReadLog(daemon);
      const size_t at = log.size() > from ? log.find(text, from) : std::string::npos;
      if (at != std::string::npos) return static_cast<int64_t>(at + text.size());
      if (absl::Now() > deadline) return -1;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  // Waits until worker `victim` has finished a map of `job` (so it holds
  // output the reduces need), then cuts its link. Sets `master_log_at` to the
  // master log's size then, and `done` to the maps the worker had finished.
  // The job must still run.
  void CutWhenHoldingMapOutput(int victim, const std::string& job,
                               size_t* master_log_at, std::vector<TaskLogEvent>* done) {
    const ExternalDaemon* w = cluster_->worker(victim);
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    done->clear();
    while (done->empty() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
      *done = FinishedOk(ReadLog(w), job, "MAP");
    }
    ASSERT_FALSE(done->empty()) << w->name() << " finished no map of " << job
                                << cluster_->LogTails();
    *master_log_at = ReadLog(cluster_->master()).size();
    absl::Status s = topology_.SetLink(kWorkerHosts[victim], false);
    ASSERT_TRUE(s.ok()) << s;
    cut_time_ = absl::Now();
    // Its log may have grown since the poll.
    *done = FinishedOk(ReadLog(w), job, "MAP");
    absl::StatusOr<mrpb::JobStatus> st = cluster_->GetJobStatus(job);
    ASSERT_TRUE(st.ok()) << st.status();
    ASSERT_EQ(st->state(), mrpb::JOB_RUNNING)
        << job << " ended before the cut; make it longer";
  }

  // Waits until the master's log, past `from`, says `id` was declared dead
  // for want of heartbeats.
  void WaitDeclaredDead(const std::string& id, size_t from) {
    const std::string dead = absl::StrCat("worker ", id, " declared dead: no heartbeat");
    ASSERT_GE(WaitForLog(cluster_->master(), dead, from, absl::Seconds(20)), 0)
        << "the master never declared " << id << " dead" << cluster_->LogTails();
    std::cerr << "netns_test: " << id << " declared dead " << absl::Now() - cut_time_
              << " after the cut\n";
  }

  // Restores worker `victim`'s link and waits until it has learnt that the
  // master dropped `old_id`, killed its attempts and registered again; its
  // new id (empty after a failure).
  std::string RestoreAndWaitForRejoin(int victim, const std::string& old_id) {
    const ExternalDaemon* w = cluster_->worker(victim);
    const size_t log_start = ReadLog(w).size();
    absl::Status s = topology_.SetLink(kWorkerHosts[victim], true);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return "";
    const absl::Time restored = absl::Now();
    const int64_t fenced = WaitForLog(
        w, absl::StrCat("the master no longer knows ", old_id, "; killing its attempts"),
        log_start, absl::Seconds(30));
    EXPECT_GE(fenced, 0) << cluster_->LogTails();
    if (fenced < 0) return "";
    const int64_t registered = WaitForLog(w, "registered with master", fenced,
                                          absl::Seconds(30));
    EXPECT_GE(registered, 0) << cluster_->LogTails();
    if (registered < 0) return "";
    s = cluster_->WaitForWorkerCount(kWorkers, absl::Seconds(30));
    EXPECT_TRUE(s.ok()) << s;
    const std::string id = WorkerId(victim);
    std::cerr << "netns_test: " << w->name() << " registered again as " << id << " "
              << absl::Now() - restored << " after its link returned\n";
    EXPECT_FALSE(id.empty());
    EXPECT_NE(id, old_id);
    return id;
  }

  NetnsTopology topology_{kNsPrefix};
  std::unique_ptr<ExternalMiniCluster> cluster_;
  absl::Time cut_time_;
  std::string expected_;
  int64_t total_lines_ = 0;
  bool tls_ = false;
};

// Each daemon on its own address; word count equals the reference, and the
// shuffle crossed hosts: maps ran on all three workers, so every reduce
// fetched from at least two other hosts.
TEST_F(NetnsTest, WordCountAcrossHostsMatchesReference) {
  // Each worker is listed at the address it advertised, its own.
  std::set<std::string> hosts;
  for (const auto& [id, address] : Workers()) {
    hosts.insert(address.substr(0, address.rfind(':')));
  }
  EXPECT_EQ(hosts, (std::set<std::string>{"198.18.0.11", "198.18.0.12",
                                          "198.18.0.13"}));
  EXPECT_EQ(cluster_->master_address().substr(0, 12), "198.18.0.10:");
  EXPECT_TRUE(topology_.Holds(kMaster, cluster_->master()->pid()));
  for (int i = 0; i < kWorkers; ++i) {
    EXPECT_EQ(cluster_->worker(i)->address().substr(0, 12),
              absl::StrCat(kWorkerHosts[i].address, ":"));
    EXPECT_TRUE(topology_.Holds(kWorkerHosts[i], cluster_->worker(i)->pid()))
        << cluster_->worker(i)->name() << " is not in its namespace";
  }
  if (tls_) {  // the wording of master.cc and worker.cc
    EXPECT_TRUE(absl::StrContains(
        ReadLog(cluster_->master()),
        absl::StrCat("master serving on ", cluster_->master_address(), " (TLS")));
    for (int i = 0; i < kWorkers; ++i) {
      EXPECT_TRUE(absl::StrContains(
          ReadLog(cluster_->worker(i)),
          absl::StrCat("serving shuffle data on ", cluster_->worker(i)->address(),
                       " (TLS")))
          << cluster_->worker(i)->name();
    }
  }

  const std::string out = cluster_->PathUnderRoot("wc-out");
  const absl::Time start = absl::Now();
  const std::string job = Submit(out, "137546");  // 24 maps
  ASSERT_FALSE(job.empty());
  ASSERT_NO_FATAL_FAILURE(ExpectReferenceOutput(job, out));
  std::cerr << "netns_test: word count took " << absl::Now() - start << "\n";

  int reduces = 0;
  for (int i = 0; i < kWorkers; ++i) {
    const std::string log = ReadLog(cluster_->worker(i));
    EXPECT_FALSE(FinishedOk(log, job, "MAP").empty())
        << cluster_->worker(i)->name() << " ran no map of " << job;
    reduces += FinishedOk(log, job, "REDUCE").size();
  }
  EXPECT_GE(reduces, 6);
}

// worker-1's link is cut mid-job and stays cut: the master declares it
// dead, re-runs its maps on the others, and the job's output is still the
// reference. When the link returns, the worker learns it was dropped, kills
// its stale attempts and registers under a new id. In the next job it takes
// tasks; its link is cut again and, once it is declared dead, restored while
// that job still runs: the stale attempts it held cannot commit (the job's
// output and counters are exact), and the first job's output is untouched.
TEST_F(NetnsTest, CutLinkReRunsWorkAndWorkerRejoins) {
  const int victim = 1;
  const ExternalDaemon* w1 = cluster_->worker(victim);
  const std::map<std::string, std::string> before = Workers();
  const std::string id1 = WorkerId(victim);
  ASSERT_FALSE(id1.empty()) << "the master does not list " << w1->address();

  // Job 1: the link stays cut until the job ends.
  const std::string out1 = cluster_->PathUnderRoot("wc-cut");
  const std::string job1 = Submit(out1, "65536");  // 51 maps
  ASSERT_FALSE(job1.empty());
  size_t master_log_at_cut = 0;
  std::vector<TaskLogEvent> done_before_cut;
  ASSERT_NO_FATAL_FAILURE(CutWhenHoldingMapOutput(victim, job1, &master_log_at_cut,
                                                  &done_before_cut));
  ASSERT_NO_FATAL_FAILURE(WaitDeclaredDead(id1, master_log_at_cut));
  ASSERT_NO_FATAL_FAILURE(ExpectReferenceOutput(job1, out1));
  std::cerr << "netns_test: " << job1 << " finished " << absl::Now() - cut_time_
            << " after the cut\n";
  // Still cut, so worker-1 has run nothing since: every map it had finished
  // ran again, later, on another worker.
  for (const TaskLogEvent& e : done_before_cut) {
    bool rerun = false;
    for (int i = 0; i < kWorkers; ++i) {
      if (i == victim) continue;
      for (const TaskLogEvent& other :
           FinishedOk(ReadLog(cluster_->worker(i)), job1, "MAP")) {
        rerun |= other.task_index == e.task_index && other.attempt_id > e.attempt_id;
      }
    }
    EXPECT_TRUE(rerun) << "map " << e.task_index << " (attempt " << e.attempt_id
                       << " on worker-1) never ran again on another worker";
  }
  // No other worker was declared dead.
  EXPECT_EQ(CountOf(ReadLog(cluster_->master()).substr(master_log_at_cut),
                    "declared dead"),
            1);
  const std::map<std::string, std::string> during = Workers();
  EXPECT_EQ(during.size(), 2u);
  EXPECT_EQ(during.count(id1), 0u);

  const std::string id2 = RestoreAndWaitForRejoin(victim, id1);
  ASSERT_FALSE(id2.empty());
  for (const auto& [id, address] : before) {
    if (id != id1) {
      EXPECT_EQ(Workers().count(id), 1u) << id << " at " << address;
    }
  }

  // Job 2: worker-1 takes tasks again; cut once it holds map output, and
  // restored as soon as it is declared dead, while the job runs on.
  // Twice as many maps as job 1, each sleeping a little: the job must
  // outlast the cut, the declaration, and the worker's way back (TCP
  // retransmits back off).
  const std::string out2 = cluster_->PathUnderRoot("wc-restored");
  const std::string job2 = Submit(out2, "32768", /*slow=*/true);  // 101 maps
  ASSERT_FALSE(job2.empty());
  ASSERT_NO_FATAL_FAILURE(CutWhenHoldingMapOutput(victim, job2, &master_log_at_cut,
                                                  &done_before_cut));
  ASSERT_NO_FATAL_FAILURE(WaitDeclaredDead(id2, master_log_at_cut));
  const std::string id3 = RestoreAndWaitForRejoin(victim, id2);
  ASSERT_FALSE(id3.empty());
  // Its heartbeat with the stale id (and any reports of stale attempts)
  // reached the master before it registered again, so during the job.
  absl::StatusOr<mrpb::JobStatus> at_rejoin = cluster_->GetJobStatus(job2);
  ASSERT_TRUE(at_rejoin.ok()) << at_rejoin.status();
  EXPECT_EQ(at_rejoin->state(), mrpb::JOB_RUNNING)
      << job2 << " ended before worker-1 came back; make it longer";
  const absl::Time rejoined = absl::Now();
  ASSERT_NO_FATAL_FAILURE(ExpectReferenceOutput(job2, out2));
  std::cerr << "netns_test: " << job2 << " finished " << absl::Now() - rejoined
            << " after worker-1 came back\n";

  // Whatever worker-1 still held of the first job committed nothing either.
  ExpectOutputUnchanged(out1);
  absl::StatusOr<mrpb::JobStatus> st1 = cluster_->GetJobStatus(job1);
  ASSERT_TRUE(st1.ok()) << st1.status();
  EXPECT_EQ(JobCounter(*st1, "map input records"), total_lines_);
  EXPECT_EQ(JobCounter(*st1, "reduce output records"), 22107);
}

// Only worker-0 and worker-1 lose each other (a firewall in worker-0's
// namespace drops all between them); both still reach the master. A reduce
// on either side cannot fetch the other's map output: either it reports
// that and the master re-runs those maps, or it hangs until a backup attempt
// on worker-2 wins. The job still gives the reference, and no worker is
// declared dead.
TEST_F(NetnsTest, PartitionBetweenTwoWorkersReRunsMaps) {
  const std::string w1_address = kWorkerHosts[1].address;
  for (const std::vector<std::string>& rule : std::vector<std::vector<std::string>>{
           {"-A", "INPUT", "-s", w1_address, "-j", "DROP"},
           {"-A", "OUTPUT", "-d", w1_address, "-j", "DROP"}}) {
    absl::Status s = topology_.Iptables(kWorkerHosts[0], rule);
    ASSERT_TRUE(s.ok()) << "cannot set up the firewall (this test needs iptables): "
                        << s;
  }
  const size_t master_log_start = ReadLog(cluster_->master()).size();
  const std::string out = cluster_->PathUnderRoot("wc-partition");
  const absl::Time start = absl::Now();
  const std::string job = Submit(out, "137546");
  ASSERT_FALSE(job.empty());
  ASSERT_NO_FATAL_FAILURE(ExpectReferenceOutput(job, out));
  std::cerr << "netns_test: word count across the partition took "
            << absl::Now() - start << "\n";

  // The partition was in the way: a reduce on worker-0 or worker-1 reported
  // that it could not fetch from the other (and the map ran again), or a
  // reduce attempt there did not succeed (a backup elsewhere won).
  const std::string master_log = ReadLog(cluster_->master()).substr(master_log_start);
  int reported = 0;
  for (absl::string_view line : absl::StrSplit(master_log, '\n')) {
    if (!absl::StrContains(line, "cannot fetch map")) continue;
    for (int i : {0, 1}) {
      reported += absl::StrContains(
          line, absl::StrCat(" from ", cluster_->worker(i)->address(), " ("));
    }
  }
  int lost_reduces = 0;
  for (int i : {0, 1}) {
    for (const TaskLogEvent& e : ParseTaskLogEvents(ReadLog(cluster_->worker(i)))) {
      lost_reduces += !e.started && e.job_id == job && e.kind == "REDUCE" &&
                      e.outcome != "ok";
    }
  }
  std::cerr << "netns_test: " << reported << " fetch failures reported across the "
            << "partition, " << lost_reduces << " reduce attempts there lost\n";
  EXPECT_GT(reported + lost_reduces, 0)
      << "no reduce was hindered by the partition:\n" << cluster_->LogTails(60);
  EXPECT_EQ(CountOf(master_log, "declared dead"), 0) << master_log;
  EXPECT_EQ(Workers().size(), static_cast<size_t>(kWorkers));
}

}  // namespace
}  // namespace test
}  // namespace mr
