// Inputs that cannot be read are named, never an opaque failure: refused at
// submission (INPUT_UNREADABLE, exit code 2) when unreadable then; and when
// an input vanishes or becomes unreadable between the submission and its
// map, the map fails with an error naming the file and the reason, which the
// failed job's status shows.
//
// Root bypasses file permissions, so the permission tests run the daemons
// as the unprivileged user nobody (setpriv); they fail, not skip, when that
// cannot be arranged.
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kNobody = 65534;
constexpr char kSetpriv[] = "/usr/bin/setpriv";

std::string Real(const std::string& path) {
  absl::StatusOr<std::string> real = ResolvePath(path);
  return real.ok() ? *real : path;
}

// `submit args...` is refused with exit code 2, one stderr line naming
// `error`, and containing `needle`.
void ExpectRefused(ExternalMiniCluster& cluster, std::vector<std::string> args,
                   const std::string& error, const std::string& needle) {
  args.insert(args.begin(), "submit");
  absl::StatusOr<CommandResult> r = cluster.RunMrctl(args);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2) << r->out << r->err;
  EXPECT_THAT(r->err, StartsWith("mrctl: submission refused (" + error + "): "));
  EXPECT_EQ(CountLines(r->err), 1u) << r->err;
  EXPECT_THAT(r->err, HasSubstr(needle));
}

// Pauses every worker, submits `args`, runs `between`, resumes the workers,
// and returns the job's final status: whatever `between` does to the input
// happens before any map can open it.
absl::StatusOr<mrpb::JobStatus> SubmitWhilePaused(
    ExternalMiniCluster& cluster, const std::vector<std::string>& args,
    const std::function<void()>& between) {
  for (int i = 0; i < cluster.num_workers(); ++i) {
    absl::Status s = cluster.worker(i)->Pause();
    if (!s.ok()) return s;
  }
  absl::StatusOr<std::string> job = cluster.SubmitJob(args);
  between();
  for (int i = 0; i < cluster.num_workers(); ++i) {
    absl::Status s = cluster.worker(i)->Resume();
    if (!s.ok()) return s;
  }
  if (!job.ok()) return job.status();
  return cluster.WaitForJob(*job);
}

// The uid a process runs as (the real one, from /proc).
absl::StatusOr<int> ProcessUid(pid_t pid) {
  absl::StatusOr<std::string> status =
      ReadFileToString(absl::StrCat("/proc/", pid, "/status"));
  if (!status.ok()) return status.status();
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    if (!absl::ConsumePrefix(&line, "Uid:")) continue;
    std::vector<absl::string_view> ids =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    int uid = -1;
    if (!ids.empty() && absl::SimpleAtoi(ids[0], &uid)) return uid;
  }
  return absl::InternalError(absl::StrCat("no Uid in /proc/", pid, "/status"));
}

TEST(BadInputTest, AnInputThatVanishesAfterSubmissionFailsItsMapNamingIt) {
  ExternalMiniClusterOptions options;
  options.heartbeat_timeout_ms = 60000;  // the workers are paused a moment
  ExternalMiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  const std::string in = Real(cluster.PathUnderRoot("in"));
  ASSERT_TRUE(MakeDirs(in).ok());
  ASSERT_TRUE(WriteFileAtomically(in + "/a.txt", "a b\n").ok());
  ASSERT_TRUE(WriteFileAtomically(in + "/b.txt", "c d\n").ok());
  const std::string out = cluster.PathUnderRoot("out");
  absl::StatusOr<mrpb::JobStatus> status = SubmitWhilePaused(
      cluster,
      {"--app", "wordcount", "--input", in + "/a.txt", in + "/b.txt", "--output",
       out, "--max-attempts", "2"},
      [&] { ASSERT_EQ(unlink((in + "/b.txt").c_str()), 0); });
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_FAILED);
  EXPECT_THAT(status->error(),
              HasSubstr("input " + in + "/b.txt: No such file or directory"));
  EXPECT_FALSE(PathExists(out));
  // The master removes the failed job's staging directory just after the
  // job ends.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (DescribeTree(cluster.root_dir()).find(".staging") != std::string::npos &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(DescribeTree(cluster.root_dir()).find(".staging"), std::string::npos)
      << DescribeTree(cluster.root_dir());

  // `mrctl status` shows it too.
  absl::StatusOr<CommandResult> r =
      cluster.RunMrctl({"status", status->job_id()});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->out, HasSubstr("input " + in + "/b.txt: No such file or directory"));
}

// The daemons run as nobody: an input nobody may not read is refused at
// submission, and one that becomes unreadable after it fails its map.
TEST(BadInputTest, UnreadableInputsAreNamed) {
  ASSERT_EQ(geteuid(), 0u)
      << "this test runs the daemons as nobody and needs root to do so";
  ASSERT_EQ(access(kSetpriv, X_OK), 0) << kSetpriv << " is needed";
  ExternalMiniClusterOptions options;
  options.heartbeat_timeout_ms = 60000;  // the workers are paused a moment
  options.master_command_prefix = {kSetpriv, absl::StrCat("--reuid=", kNobody),
                                   absl::StrCat("--regid=", kNobody),
                                   "--clear-groups"};
  options.worker_command_prefix = options.master_command_prefix;
  options.daemon_uid = kNobody;
  options.daemon_gid = kNobody;
  ExternalMiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  absl::StatusOr<int> uid = ProcessUid(cluster.master()->pid());
  ASSERT_TRUE(uid.ok()) << uid.status();
  ASSERT_EQ(*uid, kNobody) << "the master does not run as nobody";
  uid = ProcessUid(cluster.worker(0)->pid());
  ASSERT_TRUE(uid.ok()) << uid.status();
  ASSERT_EQ(*uid, kNobody) << "worker 0 does not run as nobody";

  const std::string in = Real(cluster.PathUnderRoot("in"));
  ASSERT_TRUE(MakeDirs(in).ok());
  ASSERT_TRUE(WriteFileAtomically(in + "/ok.txt", "a b a\n").ok());
  ASSERT_TRUE(WriteFileAtomically(in + "/secret.txt", "c d\n").ok());
  ASSERT_EQ(chmod((in + "/secret.txt").c_str(), 0), 0);

  // A job the daemons can run works: the setup is real.
  const std::string good = cluster.PathUnderRoot("good");
  absl::StatusOr<CommandResult> r = cluster.RunMrctl(
      {"submit", "--app", "wordcount", "--input", in + "/ok.txt", "--output",
       good, "--wait"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->out << r->err << cluster.LogTails();
  absl::StatusOr<std::string> got = ReadJobOutput(good);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "a 2\nb 1\n");

  const std::string out = cluster.PathUnderRoot("out");
  for (const std::string& input : {in + "/secret.txt", in + "/*.txt", in}) {
    ExpectRefused(cluster, {"--app", "wordcount", "--input", input, "--output", out},
                  "INPUT_UNREADABLE", "input " + in + "/secret.txt: Permission denied");
  }
  EXPECT_FALSE(PathExists(out));

  absl::StatusOr<mrpb::JobStatus> status = SubmitWhilePaused(
      cluster,
      {"--app", "wordcount", "--input", in + "/ok.txt", "--output", out,
       "--max-attempts", "2"},
      [&] { ASSERT_EQ(chmod((in + "/ok.txt").c_str(), 0), 0); });
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_FAILED);
  EXPECT_THAT(status->error(),
              HasSubstr("input " + in + "/ok.txt: Permission denied"));
  EXPECT_FALSE(PathExists(out));
}

}  // namespace
}  // namespace test
}  // namespace mr
