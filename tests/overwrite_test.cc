// Replacing a committed output (--overwrite): the old output stays whole and
// readable until the new job commits, then the new one replaces it in one
// step, old parts and all; a job that fails or is killed leaves the old
// output byte for byte, and removes its staging directory; a master killed
// in the middle of the commit finishes it once restarted.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

// File name -> bytes, for the files directly in a directory.
using Files = std::map<std::string, std::string>;

std::string DataGlob() { return DataDir() + "/pg-*.txt"; }

// Reads every entry of `dir` through one descriptor of it, so that the
// result is one directory's contents even if another directory is swapped
// into its place meanwhile. NotFound when `dir` does not exist; Internal
// when it holds a subdirectory.
absl::StatusOr<Files> ReadFlatDir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? absl::NotFoundError(dir)
                           : absl::InternalError(absl::StrCat(dir, ": ", strerror(errno)));
  }
  DIR* d = fdopendir(dup(fd));
  Files files;
  absl::Status status;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const int f = openat(fd, name.c_str(), O_RDONLY | O_CLOEXEC);
    if (f < 0 && errno == ENOENT) {
      // The version being read was swapped out by a commit (the directory
      // open here now sits elsewhere) and is being removed: read again.
      status = absl::AbortedError(absl::StrCat(dir, " changed while read"));
      break;
    }
    if (f < 0) {
      status = absl::InternalError(absl::StrCat(dir, "/", name, ": ", strerror(errno)));
      break;
    }
    std::string data;
    char buf[1 << 16];
    ssize_t n;
    while ((n = read(f, buf, sizeof(buf))) > 0) data.append(buf, n);
    if (n < 0) {
      status = absl::InternalError(absl::StrCat(dir, "/", name, " (a directory?)"));
    }
    close(f);
    if (!status.ok()) break;
    files[name] = std::move(data);
  }
  closedir(d);
  close(fd);
  if (!status.ok()) return status;
  return files;
}

std::string Names(const Files& files) {
  std::vector<std::string> names;
  for (const auto& [name, data] : files) names.push_back(name);
  return absl::StrJoin(names, " ");
}

// Entries of `parent` that are staging directories (".NAME.JOB.staging").
std::vector<std::string> StagingDirs(const std::string& parent) {
  std::vector<std::string> out;
  DIR* d = opendir(parent.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (absl::StartsWith(name, ".") && absl::EndsWith(name, ".staging")) {
      out.push_back(name);
    }
  }
  closedir(d);
  return out;
}

// Polls `done` every 10 ms; false if it is still false after `timeout`.
bool WaitUntil(const std::function<bool()>& done,
               absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

class OverwriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
    ASSERT_TRUE(expected.ok()) << expected.status();
    expected_ = *expected;
  }

  // Runs `submit args... --wait`, expecting success.
  void RunJob(ExternalMiniCluster& cluster, std::vector<std::string> args) {
    args.insert(args.begin(), "submit");
    args.push_back("--wait");
    absl::StatusOr<CommandResult> r = cluster.RunMrctl(args);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << r->out << r->err << cluster.LogTails();
  }

  // The committed output of the indexer over the books, 4 reduces: what the
  // overwriting jobs below find at their output.
  Files MakeOldOutput(ExternalMiniCluster& cluster, const std::string& out) {
    RunJob(cluster, {"--app", "indexer", "--input", DataGlob(), "--output", out,
                     "--reduces", "4"});
    absl::StatusOr<Files> old = ReadFlatDir(out);
    EXPECT_TRUE(old.ok()) << old.status();
    if (!old.ok()) return {};
    EXPECT_EQ(Names(*old),
              "_SUCCESS part-r-00000 part-r-00001 part-r-00002 part-r-00003");
    return *old;
  }

  // Waits until every worker runs nothing and the ended job's staging
  // directory is gone (the master removes it just after the job ends), then
  // checks that `out` still holds `old`.
  void ExpectOldOutputAndNoStaging(ExternalMiniCluster& cluster,
                                   const std::string& out, const Files& old) {
    EXPECT_TRUE(WaitUntil([&] {
      absl::StatusOr<mrpb::ListWorkersResponse> w = cluster.ListWorkers();
      if (!w.ok()) return false;
      for (const auto& info : w->workers()) {
        if (info.running_tasks() > 0) return false;
      }
      return StagingDirs(cluster.root_dir()).empty();
    })) << "workers still running tasks, or a staging directory is left:\n"
        << DescribeTree(cluster.root_dir());
    absl::StatusOr<Files> now = ReadFlatDir(out);
    ASSERT_TRUE(now.ok()) << now.status();
    EXPECT_EQ(Names(*now), Names(old));
    EXPECT_TRUE(*now == old) << "the old output changed";
  }

  std::string expected_;
};

TEST_F(OverwriteTest, SuccessfulOverwriteReplacesTheOldOutputWhole) {
  ExternalMiniClusterOptions options;
  options.heartbeat_timeout_ms = 60000;  // workers are paused below
  ExternalMiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  const std::string out = cluster.PathUnderRoot("out");
  const Files old = MakeOldOutput(cluster, out);
  ASSERT_FALSE(HasFailure());

  // Submitted while no worker can run anything: the old output is untouched
  // and the new one is staged beside it.
  for (int i = 0; i < cluster.num_workers(); ++i) {
    ASSERT_TRUE(cluster.worker(i)->Pause().ok());
  }
  absl::StatusOr<std::string> job = cluster.SubmitJob(
      {"--app", "wordcount", "--input", DataGlob(), "--output", out,
       "--reduces", "2", "--split-size", "412638", "--overwrite"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_THAT(StagingDirs(cluster.root_dir()),
              ::testing::ElementsAre(absl::StrCat(".out.", *job, ".staging")));
  absl::StatusOr<Files> during = ReadFlatDir(out);
  ASSERT_TRUE(during.ok()) << during.status();
  EXPECT_TRUE(*during == old);
  for (int i = 0; i < cluster.num_workers(); ++i) {
    ASSERT_TRUE(cluster.worker(i)->Resume().ok());
  }

  // While it runs, the output is always one whole version: the old one, or
  // (once committed) the new one.
  std::vector<Files> seen;
  mrpb::JobStatus status;
  const absl::Time deadline = absl::Now() + absl::Seconds(240);
  while (true) {
    absl::StatusOr<mrpb::JobStatus> st = cluster.GetJobStatus(*job);
    ASSERT_TRUE(st.ok()) << st.status();
    status = *st;
    absl::StatusOr<Files> snap = ReadFlatDir(out);
    if (absl::IsAborted(snap.status())) continue;  // replaced mid-read
    ASSERT_TRUE(snap.ok()) << "the output vanished during the job: "
                           << snap.status();
    if (seen.empty() || !(seen.back() == *snap)) seen.push_back(*snap);
    if (status.state() != mrpb::JOB_RUNNING) break;
    ASSERT_LT(absl::Now(), deadline);
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(status.state(), mrpb::JOB_SUCCEEDED) << status.error();

  JobOutputOptions two;
  two.expected_parts = 2;
  absl::StatusOr<std::string> got = ReadJobOutput(out, two);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == expected_) << "the new output differs from the reference";
  absl::StatusOr<Files> now = ReadFlatDir(out);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(Names(*now), "_SUCCESS part-r-00000 part-r-00001");
  EXPECT_EQ(now->at("_SUCCESS"),
            absl::StrCat("committed by ", *job, " (submitted at ",
                         status.submit_time_ms(), " ms)\n"));
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_TRUE(seen[i] == old || seen[i] == *now)
        << "snapshot " << i << " is neither version: " << Names(seen[i]);
  }
  EXPECT_THAT(StagingDirs(cluster.root_dir()), ::testing::IsEmpty());
}

TEST_F(OverwriteTest, FailedOverwriteLeavesTheOldOutputByteForByte) {
  ExternalMiniCluster cluster;
  ASSERT_TRUE(cluster.Start().ok());
  const std::string out = cluster.PathUnderRoot("out");
  const Files old = MakeOldOutput(cluster, out);
  ASSERT_FALSE(HasFailure());

  // Every map of the crash app dies.
  absl::StatusOr<CommandResult> r = cluster.RunMrctl(
      {"submit", "--app", "crash", "--param", "crash_probability=1",
       "--param", "sleep_probability=0", "--input", DataGlob(), "--output",
       out, "--overwrite", "--max-attempts", "1", "--wait"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 1) << r->out << r->err;
  EXPECT_THAT(r->out, HasSubstr("failed"));
  ExpectOldOutputAndNoStaging(cluster, out, old);
}

TEST_F(OverwriteTest, KilledOverwriteLeavesTheOldOutputByteForByte) {
  ExternalMiniClusterOptions options;
  options.num_workers = 1;
  options.slots_per_worker = 1;  // reduces run one after another
  options.heartbeat_timeout_ms = 60000;
  ExternalMiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  const std::string out = cluster.PathUnderRoot("out");
  const Files old = MakeOldOutput(cluster, out);
  ASSERT_FALSE(HasFailure());

  absl::StatusOr<std::string> job = cluster.SubmitJob(
      {"--app", "wordcount", "--input", DataGlob(), "--output", out,
       "--reduces", "8", "--split-size", "412638", "--overwrite"});
  ASSERT_TRUE(job.ok()) << job.status();
  // Once a reduce has committed its file into the staging directory, stop
  // the worker (7 reduces are still to run one by one) and kill the job.
  const std::string staged_part = cluster.PathUnderRoot(
      absl::StrCat(".out.", *job, ".staging/part-r-00000"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (int p = 0; p < 8; ++p) {
          std::string path = staged_part;
          path.back() = static_cast<char>('0' + p);
          if (PathExists(path)) return true;
        }
        return false;
      },
      absl::Seconds(120)))
      << "no reduce committed";
  ASSERT_TRUE(cluster.worker(0)->Pause().ok());
  absl::StatusOr<mrpb::JobStatus> st = cluster.GetJobStatus(*job);
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_EQ(st->state(), mrpb::JOB_RUNNING);
  ASSERT_LT(st->reduces_done(), 8u);

  absl::StatusOr<CommandResult> kill = cluster.RunMrctl({"kill", *job});
  ASSERT_TRUE(kill.ok()) << kill.status();
  EXPECT_EQ(kill->exit_code, 0) << kill->err;
  // The staging directory is gone when the kill returns.
  EXPECT_THAT(StagingDirs(cluster.root_dir()), ::testing::IsEmpty());
  ASSERT_TRUE(cluster.worker(0)->Resume().ok());
  ExpectOldOutputAndNoStaging(cluster, out, old);
  st = cluster.GetJobStatus(*job);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state(), mrpb::JOB_KILLED);
}

// The master SIGKILLs itself at a point of the job commit, and is restarted
// without the injection: the commit completes.
void MasterKilledDuringCommit(const std::string& point,
                              const std::string& expected) {
  ExternalMiniClusterOptions options;
  options.extra_master_flags = {"--inject_crash_in_commit=" + point};
  ExternalMiniCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  // An old committed output, written by hand: a master with this flag
  // commits nothing by itself.
  const std::string out = cluster.PathUnderRoot("out");
  ASSERT_TRUE(MakeDirs(out).ok());
  Files old;
  for (int p = 0; p < 4; ++p) {
    old[absl::StrCat("part-r-0000", p)] = absl::StrCat("old ", p, "\n");
  }
  old["_SUCCESS"] = "";
  for (const auto& [name, data] : old) {
    ASSERT_TRUE(WriteFileAtomically(out + "/" + name, data).ok());
  }

  absl::StatusOr<std::string> job = cluster.SubmitJob(
      {"--app", "wordcount", "--input", DataGlob(), "--output", out,
       "--reduces", "2", "--split-size", "412638", "--overwrite"});
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_TRUE(WaitUntil([&] { return !cluster.master()->IsRunning(); },
                        absl::Seconds(240)))
      << "the master did not crash in the commit";
  const std::string staging =
      cluster.PathUnderRoot(absl::StrCat(".out.", *job, ".staging"));
  absl::StatusOr<Files> at_out = ReadFlatDir(out);
  absl::StatusOr<Files> at_staging = ReadFlatDir(staging);
  ASSERT_TRUE(at_out.ok()) << at_out.status();
  ASSERT_TRUE(at_staging.ok()) << at_staging.status();
  const std::string token_prefix = absl::StrCat("committed by ", *job, " ");
  if (point == "before_swap") {
    EXPECT_TRUE(*at_out == old);
    EXPECT_EQ(Names(*at_staging), "_SUCCESS part-r-00000 part-r-00001");
    EXPECT_THAT((*at_staging)["_SUCCESS"], ::testing::StartsWith(token_prefix));
  } else {
    EXPECT_EQ(Names(*at_out), "_SUCCESS part-r-00000 part-r-00001");
    EXPECT_THAT((*at_out)["_SUCCESS"], ::testing::StartsWith(token_prefix));
    EXPECT_TRUE(*at_staging == old);
  }

  std::vector<std::string> flags = cluster.master()->flags();
  flags.erase(std::remove(flags.begin(), flags.end(),
                          "--inject_crash_in_commit=" + point),
              flags.end());
  cluster.master()->set_flags(flags);
  ASSERT_TRUE(cluster.master()->Restart().ok());
  absl::StatusOr<mrpb::JobStatus> status;
  ASSERT_TRUE(WaitUntil([&] {
    status = cluster.GetJobStatus(*job);
    return status.ok() && status->state() != mrpb::JOB_RUNNING;
  })) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED) << status->error();
  JobOutputOptions two;
  two.expected_parts = 2;
  absl::StatusOr<std::string> got = ReadJobOutput(out, two);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == expected) << "the output differs from the reference";
  EXPECT_FALSE(PathExists(staging));
  EXPECT_THAT(StagingDirs(cluster.root_dir()), ::testing::IsEmpty());
}

TEST_F(OverwriteTest, MasterKilledBeforeTheSwapFinishesTheCommit) {
  MasterKilledDuringCommit("before_swap", expected_);
}

TEST_F(OverwriteTest, MasterKilledAfterTheSwapFinishesTheCommit) {
  MasterKilledDuringCommit("after_swap", expected_);
}

}  // namespace
}  // namespace test
}  // namespace mr
