// Bounded memory on the data path, through a real cluster:
//   - a 1 MiB sort buffer and a merge factor of 4 over input that makes
//     dozens of spills: maps spill many runs, reduces merge them in passes
//     of at most 4, and word count and the indexer still match their
//     references byte for byte;
//   - an over-long line and a file without any newline under
//     --max-record-bytes: skipped, counted and located exactly, shown by
//     `mrctl status`.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;

bool IsLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// `text` with every word (run of letters) followed by "Q" and a tag of three
// letters naming (copy * 1000 + line number mod 1000): real text whose
// vocabulary is some 20 times the books', so that maps emit many distinct
// keys despite combining in memory.
std::string TagWords(const std::string& text, int copy) {
  std::string out;
  out.reserve(text.size() * 2);
  int line = 0;
  auto tag = [&] {
    int n = copy * 1000 + line % 1000;
    out.push_back('Q');
    for (int i = 0; i < 3; ++i, n /= 26) out.push_back('a' + n % 26);
  };
  for (size_t i = 0; i < text.size(); ++i) {
    out.push_back(text[i]);
    const bool word_ends =
        IsLetter(text[i]) && (i + 1 == text.size() || !IsLetter(text[i + 1]));
    if (word_ends) tag();
    if (text[i] == '\n') ++line;
  }
  return out;
}

class BoundedMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster_.Start().ok()); }

  // Runs `mrctl submit ARGS --wait --json`; the final status.
  absl::StatusOr<mrpb::JobStatus> RunJob(std::vector<std::string> args) {
    args.insert(args.begin(), "submit");
    args.push_back("--wait");
    args.push_back("--json");
    absl::StatusOr<CommandResult> r = cluster_.RunMrctl(args);
    if (!r.ok()) return r.status();
    if (r->exit_code != 0) {
      return absl::InternalError(absl::StrCat("mrctl exited ", r->exit_code,
                                              "\nstdout:\n", r->out, "stderr:\n",
                                              r->err, cluster_.LogTails()));
    }
    return ParseJobStatusJson(r->out);
  }

  ExternalMiniCluster cluster_;
};

class ManySpillsTest : public BoundedMemoryTest {
 protected:
  void SetUp() override {
    BoundedMemoryTest::SetUp();
    absl::StatusOr<std::vector<std::string>> books = GutenbergFiles();
    ASSERT_TRUE(books.ok()) << books.status();
    // Two copies of the eight books, tagged differently: 16 files, about
    // 11.6 MB.
    const std::string dir = cluster_.PathUnderRoot("input");
    ASSERT_TRUE(MakeDirs(dir).ok());
    for (int copy = 0; copy < 2; ++copy) {
      for (const std::string& book : *books) {
        absl::StatusOr<std::string> text = ReadFileToString(book);
        ASSERT_TRUE(text.ok()) << text.status();
        const std::string path = absl::StrCat(
            dir, "/c", copy, "-", book.substr(book.rfind('/') + 1));
        const std::string tagged = TagWords(*text, copy);
        ASSERT_TRUE(WriteFileAtomically(path, tagged).ok());
        files_.push_back(path);
        bytes_ += tagged.size();
      }
    }
    std::sort(files_.begin(), files_.end());
  }

  // Five maps, two reduces, a 1 MiB sort buffer, merges of at most 4 runs.
  std::vector<std::string> Args(const std::string& app, const std::string& out) {
    std::vector<std::string> args = {"--app", app, "--input"};
    args.insert(args.end(), files_.begin(), files_.end());
    for (const std::string& a :
         {std::string("--output"), out, std::string("--split-size"),
          absl::StrCat(bytes_ / 5 + 1), std::string("--reduces"),
          std::string("2"), std::string("--sort-buffer-mb"), std::string("1"),
          std::string("--merge-factor"), std::string("4")}) {
      args.push_back(a);
    }
    return args;
  }

  // The job's spill and merge counters: at least 24 spills; every reduce
  // gets a run of every spill (each spill holds both partitions), and
  // merges its S runs in ceil((S - 4) / 3) intermediate passes and a final
  // one.
  void CheckSpillsAndMerges(const mrpb::JobStatus& status) {
    EXPECT_EQ(status.maps_total(), 5u);
    const int64_t spills = JobCounter(status, "map spills");
    EXPECT_GE(spills, 24);
    const int64_t passes = JobCounter(status, "merge passes");
    std::printf("%d map spills, %d merge passes, %d merged bytes written\n",
                static_cast<int>(spills), static_cast<int>(passes),
                static_cast<int>(JobCounter(status, "merged bytes written")));
    EXPECT_EQ(passes, 2 * (1 + (spills - 4 + 2) / 3)) << spills << " spills";
    // So some reduce merged in two intermediate passes or more.
    EXPECT_GE(passes, 3 * 2);
    EXPECT_GT(JobCounter(status, "merged bytes written"), 0);
  }

  std::vector<std::string> files_;
  uint64_t bytes_ = 0;
};

TEST_F(ManySpillsTest, WordCountMatchesReference) {
  absl::StatusOr<std::map<std::string, int64_t>> counts =
      WordCountReference(files_);
  ASSERT_TRUE(counts.ok()) << counts.status();
  const std::string out = cluster_.PathUnderRoot("wc-out");
  absl::StatusOr<mrpb::JobStatus> status = RunJob(Args("wordcount", out));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
  CheckSpillsAndMerges(*status);
  EXPECT_EQ(JobCounter(*status, "reduce output records"),
            static_cast<int64_t>(counts->size()));
  JobOutputOptions opts;
  opts.expected_parts = 2;
  absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == RenderWordCount(*counts))
      << "output differs from the reference; first lines:\n"
      << got->substr(0, 200);
}

TEST_F(ManySpillsTest, IndexerMatchesReference) {
  absl::StatusOr<std::map<std::string, std::set<std::string>>> index =
      IndexerReference(files_);
  ASSERT_TRUE(index.ok()) << index.status();
  const std::string out = cluster_.PathUnderRoot("index-out");
  absl::StatusOr<mrpb::JobStatus> status = RunJob(Args("indexer", out));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
  CheckSpillsAndMerges(*status);
  JobOutputOptions opts;
  opts.expected_parts = 2;
  absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == RenderIndex(*index))
      << "output differs from the reference; first lines:\n"
      << got->substr(0, 300);
}

class MalformedRecordsTest : public BoundedMemoryTest {
 protected:
  void SetUp() override {
    BoundedMemoryTest::SetUp();
    const std::string in = cluster_.PathUnderRoot("input");
    const std::string clean = cluster_.PathUnderRoot("clean");
    ASSERT_TRUE(MakeDirs(in).ok());
    ASSERT_TRUE(MakeDirs(clean).ok());
    // A 2 MiB line after a short one; a 3 MiB file without a newline; a
    // book. The clean copies hold what the job should count.
    const std::string head = "the long line follows\n";
    long_path_ = in + "/a-long-line.txt";
    long_offset_ = head.size();
    ASSERT_TRUE(WriteFileAtomically(
        long_path_, head + std::string(2 << 20, 'x') + "\nand then more words\n").ok());
    ASSERT_TRUE(WriteFileAtomically(clean + "/a.txt",
                                    head + "and then more words\n").ok());
    flat_path_ = in + "/b-no-newline.txt";
    ASSERT_TRUE(WriteFileAtomically(flat_path_, std::string(3 << 20, 'y')).ok());
    book_path_ = DataDir() + "/pg-metamorphosis.txt";
    absl::StatusOr<std::map<std::string, int64_t>> counts =
        WordCountReference({clean + "/a.txt", book_path_});
    ASSERT_TRUE(counts.ok()) << counts.status();
    expected_ = RenderWordCount(*counts);
  }

  std::vector<std::string> Args(const std::string& out) {
    return {"--app", "wordcount", "--input", long_path_, flat_path_, book_path_,
            "--output", out, "--max-record-bytes", "1048576"};
  }

  void CheckOutput(const std::string& out) {
    absl::StatusOr<std::string> got = ReadJobOutput(out);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == expected_)
        << "output differs from the reference; first lines:\n"
        << got->substr(0, 200);
  }

  std::string long_path_, flat_path_, book_path_;
  uint64_t long_offset_ = 0;
  std::string expected_;
};

TEST_F(MalformedRecordsTest, SkippedCountedAndShown) {
  // One map reads the files in order: the locations come in that order.
  const std::string out = cluster_.PathUnderRoot("out");
  absl::StatusOr<mrpb::JobStatus> status = RunJob(Args(out));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
  EXPECT_EQ(status->maps_total(), 1u);
  EXPECT_EQ(JobCounter(*status, "malformed records"), 2);
  ASSERT_EQ(status->malformed_records_size(), 2);
  EXPECT_EQ(status->malformed_records(0).path(), long_path_);
  EXPECT_EQ(status->malformed_records(0).offset(), long_offset_);
  EXPECT_EQ(status->malformed_records(1).path(), flat_path_);
  EXPECT_EQ(status->malformed_records(1).offset(), 0u);
  CheckOutput(out);

  absl::StatusOr<CommandResult> shown =
      cluster_.RunMrctl({"status", status->job_id()});
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->exit_code, 0) << shown->err;
  const std::string line =
      absl::StrCat("malformed records: 2; first: ", long_path_, ":",
                   long_offset_, " (longer than 1048576 bytes)\n");
  EXPECT_THAT(shown->out, HasSubstr(line));

  // The locations are kept in the master's state: a restart keeps them.
  ASSERT_TRUE(cluster_.master()->Restart().ok()) << cluster_.LogTails();
  shown = cluster_.RunMrctl({"status", status->job_id()});
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->exit_code, 0) << shown->err;
  EXPECT_THAT(shown->out, HasSubstr(line));
}

TEST_F(MalformedRecordsTest, LinesAcrossSplitsAreReportedOnce) {
  // 1 MiB splits: the long line and the newline-less file each span
  // several maps; each is still one malformed record, found by the map
  // holding its first byte.
  const std::string out = cluster_.PathUnderRoot("out");
  std::vector<std::string> args = Args(out);
  args.push_back("--split-size");
  args.push_back("1048576");
  absl::StatusOr<mrpb::JobStatus> status = RunJob(args);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
  EXPECT_GE(status->maps_total(), 6u);
  EXPECT_EQ(JobCounter(*status, "malformed records"), 2);
  std::set<std::pair<std::string, uint64_t>> where;
  for (const mrpb::RecordLocation& r : status->malformed_records()) {
    where.emplace(r.path(), r.offset());
  }
  EXPECT_EQ(where, (std::set<std::pair<std::string, uint64_t>>{
                       {long_path_, long_offset_}, {flat_path_, 0}}));
  CheckOutput(out);
}

}  // namespace
}  // namespace test
}  // namespace mr
