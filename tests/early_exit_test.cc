// The job is done when mrctl says so, and never shows half a result: after
// `submit --wait` returns, the output directory does not change any more; and
// while a job runs, a part-r-* file that appears is already complete and
// _SUCCESS comes with every part (reduces write into a staging directory
// beside the output, which becomes the output at the job commit).
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

namespace fs = std::filesystem;

// name -> (size, mtime in ns) of every entry directly in `dir` (recursing
// into subdirectories, whose entries are named "sub/name").
using Snapshot = std::map<std::string, std::tuple<uint64_t, int64_t>>;

// The names and sizes of the entries directly in `dir`.
std::map<std::string, uint64_t> TopLevel(const std::string& dir) {
  std::map<std::string, uint64_t> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (lstat(it->path().c_str(), &st) != 0) continue;
    out[it->path().filename().string()] = static_cast<uint64_t>(st.st_size);
  }
  return out;
}

Snapshot Take(const std::string& dir) {
  Snapshot snap;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    const std::string path = it->path().string();
    if (lstat(path.c_str(), &st) != 0) continue;  // renamed away meanwhile
    const int64_t mtime_ns =
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    snap[fs::relative(it->path(), dir).string()] = {
        S_ISDIR(st.st_mode) ? 0 : static_cast<uint64_t>(st.st_size), mtime_ns};
  }
  return snap;
}

std::string Describe(const Snapshot& s) {
  std::string out;
  for (const auto& [name, v] : s) {
    absl::StrAppend(&out, "  ", name, " size ", std::get<0>(v), " mtime ",
                    std::get<1>(v), "\n");
  }
  return out;
}

std::string DataGlob() { return DataDir() + "/pg-*.txt"; }

class EarlyExitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.Start();
    ASSERT_TRUE(s.ok()) << s;
    absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
    ASSERT_TRUE(expected.ok()) << expected.status();
    expected_ = *expected;
  }

  ExternalMiniCluster cluster_;
  std::string expected_;
};

TEST_F(EarlyExitTest, OutputIsFinalWhenWaitReturns) {
  const std::string out = cluster_.PathUnderRoot("out");
  absl::StatusOr<CommandResult> r = cluster_.RunMrctl(
      {"submit", "--app", "wordcount", "--input", DataGlob(), "--output", out,
       "--split-size", "412638", "--reduces", "4", "--wait"});
  ASSERT_TRUE(r.ok()) << r.status();
  const Snapshot first = Take(out);
  ASSERT_EQ(r->exit_code, 0) << "stdout:\n" << r->out << "stderr:\n" << r->err;
  // Late attempts (backups, losers) may still be ending: once every attempt
  // has ended, nothing has changed.
  for (int i = 0; i < cluster_.num_workers(); ++i) {
    absl::Status ended = WaitForAttemptsToEnd(*cluster_.worker(i));
    ASSERT_TRUE(ended.ok()) << ended;
  }
  const Snapshot second = Take(out);
  EXPECT_EQ(first, second) << "right after mrctl returned:\n" << Describe(first)
                           << "once every attempt ended:\n" << Describe(second);
  // Exactly the committed files.
  std::vector<std::string> names;
  for (const auto& [name, v] : first) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"_SUCCESS", "part-r-00000",
                                             "part-r-00001", "part-r-00002",
                                             "part-r-00003"}));
  JobOutputOptions opts;
  opts.expected_parts = 4;
  absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == expected_) << "output differs from the reference";
}

TEST_F(EarlyExitTest, PartFilesAppearComplete) {
  const std::string out = cluster_.PathUnderRoot("out");
  absl::StatusOr<std::string> job = cluster_.SubmitJob(
      {"--app", "wordcount", "--input", DataGlob(), "--output", out,
       "--split-size", "65536", "--reduces", "8"});
  ASSERT_TRUE(job.ok()) << job.status();

  std::map<std::string, uint64_t> first_size;  // part file -> size first seen
  std::vector<std::string> violations;
  int polls = 0;
  bool success_seen = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(240);
  mrpb::JobStatus status;
  while (true) {
    // Read the state before looking at the directory: what we see in the
    // directory afterwards is at least as new as that state.
    absl::StatusOr<mrpb::JobStatus> st = cluster_.GetJobStatus(*job);
    ASSERT_TRUE(st.ok()) << st.status();
    status = *st;
    std::map<std::string, uint64_t> snap = TopLevel(out);
    ++polls;
    if (snap.count("_SUCCESS") != 0 && !success_seen) {
      // A listing started after _SUCCESS was seen holds every part file
      // renamed before _SUCCESS was created.
      success_seen = true;
      snap = TopLevel(out);
      size_t parts = 0;
      for (const auto& [name, size] : snap) parts += absl::StartsWith(name, "part-r-");
      // The job commit comes after every reduce's commit.
      if (parts != 8) {
        violations.push_back(absl::StrCat("_SUCCESS seen with ", parts,
                                          " part files at poll ", polls));
      }
    }
    for (const auto& [name, size] : snap) {
      if (!absl::StartsWith(name, "part-r-")) continue;
      auto [it, inserted] = first_size.emplace(name, size);
      if (!inserted && it->second != size) {
        violations.push_back(absl::StrCat(name, " changed size from ", it->second,
                                          " to ", size, " at poll ", polls));
      }
    }
    if (status.state() != mrpb::JOB_RUNNING) break;
    ASSERT_LT(absl::Now(), deadline) << "job still running: " << status.ShortDebugString();
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(status.state(), mrpb::JOB_SUCCEEDED) << status.error();
  EXPECT_TRUE(violations.empty()) << absl::StrJoin(violations, "\n");

  JobOutputOptions opts;
  opts.expected_parts = 8;
  absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == expected_) << "output differs from the reference";
  // Every part file seen during the run already had its final size.
  const Snapshot final_snap = Take(out);
  for (const auto& [name, size] : first_size) {
    ASSERT_EQ(final_snap.count(name), 1u) << name << " disappeared";
    EXPECT_EQ(size, std::get<0>(final_snap.at(name)))
        << name << " was first seen with " << size << " bytes";
  }
  RecordProperty("polls", polls);
  RecordProperty("parts_seen_while_running", static_cast<int>(first_size.size()));
}

}  // namespace
}  // namespace test
}  // namespace mr
