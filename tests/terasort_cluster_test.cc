// The TeraSort trio on a two-worker cluster: teragen writes gensort records
// (map-only, generated input), terasort sorts them through the whole
// distributed path with a sampled total-order partitioner, teravalidate
// checks the order. Expected outputs are computed here: the records sorted
// with std::sort, and for ASCII records GNU sort (LC_ALL=C); checksums with
// zlib's crc32 over each record, as valsort does.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

constexpr size_t kRecord = 100;

// The part files `prefix`-00000.. of a job output, concatenated in order;
// checks there are `expected` of them.
std::string ReadParts(const std::string& dir, const std::string& prefix,
                      int expected) {
  const std::string kind = prefix.substr(prefix.size() - 1);  // "m" or "r"
  EXPECT_TRUE(PathExists(absl::StrFormat("%s-%05d", dir + "/" + prefix,
                                         expected - 1)) &&
              !PathExists(absl::StrFormat("%s-%05d", dir + "/" + prefix,
                                          expected)))
      << DescribeTree(dir);
  absl::StatusOr<std::string> all = ConcatenateParts(dir, kind);
  EXPECT_TRUE(all.ok()) << all.status();
  return all.ok() ? *all : "";
}

uint64_t Checksum(std::string_view records) {
  uint64_t sum = 0;
  for (size_t i = 0; i + kRecord <= records.size(); i += kRecord) {
    sum += crc32(0, reinterpret_cast<const Bytef*>(records.data() + i), kRecord);
  }
  return sum;
}

// The records sorted by their bytes, as one string.
std::string SortRecords(std::string_view records) {
  std::vector<std::string_view> v;
  for (size_t i = 0; i + kRecord <= records.size(); i += kRecord) {
    v.push_back(records.substr(i, kRecord));
  }
  std::sort(v.begin(), v.end());
  std::string out;
  out.reserve(records.size());
  for (std::string_view r : v) out.append(r.data(), r.size());
  return out;
}

class TeraSortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.Start();
    ASSERT_TRUE(s.ok()) << s;
  }

  // Runs `mrctl submit ARGS --wait --json`; returns the final status, and
  // checks the exit code.
  mrpb::JobStatus Submit(std::vector<std::string> args, int expected_exit = 0) {
    absl::StatusOr<mrpb::JobStatus> s =
        cluster_.SubmitAndWait(std::move(args), expected_exit);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : mrpb::JobStatus();
  }

  // teragen N records (--maps 3) into a new directory; returns it.
  std::string Generate(uint64_t records, const std::string& format,
                       mrpb::JobStatus* status) {
    const std::string out = cluster_.PathUnderRoot(absl::StrCat("gen-", runs_++));
    *status = Submit({"--app", "teragen", "--maps", "3", "--param",
                      absl::StrCat("records=", records), "--param",
                      "format=" + format, "--output", out});
    EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
    return out;
  }

  std::string Sort(const std::string& input, int reduces,
                   mrpb::JobStatus* status) {
    const std::string out = cluster_.PathUnderRoot(absl::StrCat("sort-", runs_++));
    *status = Submit({"--app", "terasort", "--input", input, "--output", out,
                      "--reduces", std::to_string(reduces), "--split-size",
                      std::to_string(16 << 20)});
    EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
    return out;
  }

  // Runs teravalidate over `input`; returns its report.
  std::string Validate(const std::string& input, int expected_exit,
                       mrpb::JobStatus* status) {
    const std::string out = cluster_.PathUnderRoot(absl::StrCat("val-", runs_++));
    *status = Submit({"--app", "teravalidate", "--input", input, "--output",
                      out, "--split-size", std::to_string(8 << 20)},
                     expected_exit);
    EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED);
    return ReadParts(out, "part-r", 1);
  }

  // The largest partition's records over the smallest's.
  static double PartitionSpread(const mrpb::JobStatus& s) {
    uint64_t lo = UINT64_MAX, hi = 0;
    for (const mrpb::PartitionSize& p : s.partitions()) {
      lo = std::min(lo, p.records());
      hi = std::max(hi, p.records());
    }
    return lo == 0 ? 1e9 : static_cast<double>(hi) / lo;
  }

  ExternalMiniCluster cluster_;
  int runs_ = 0;
};

TEST_F(TeraSortTest, BinaryRecordsSortValidateAndKeepTheirChecksum) {
  constexpr uint64_t kRecords = 1000000;
  mrpb::JobStatus gen, sort, val;
  const std::string generated = Generate(kRecords, "binary", &gen);
  const std::string input = ReadParts(generated, "part-m", 3);
  ASSERT_EQ(input.size(), kRecords * kRecord);
  const uint64_t checksum = Checksum(input);
  EXPECT_EQ(JobCounter(gen, "teragen records"), static_cast<int64_t>(kRecords));
  EXPECT_EQ(static_cast<uint64_t>(JobCounter(gen, "record checksum")), checksum);

  const std::string sorted_dir = Sort(generated, 4, &sort);
  const std::string sorted = ReadParts(sorted_dir, "part-r", 4);
  EXPECT_TRUE(sorted == SortRecords(input)) << "the sorted output differs";
  EXPECT_EQ(JobCounter(sort, "reduce output records"),
            static_cast<int64_t>(kRecords));
  ASSERT_EQ(sort.partitions_size(), 4);
  EXPECT_LE(PartitionSpread(sort), 1.5) << sort.DebugString();
  EXPECT_TRUE(sort.sampled());

  const std::string report = Validate(sorted_dir, 0, &val);
  EXPECT_EQ(report, absl::StrFormat("records %d\nchecksum %x\nduplicate keys 0\n"
                                    "misordered records 0\n",
                                    kRecords, checksum));
  EXPECT_EQ(static_cast<uint64_t>(JobCounter(val, "record checksum")), checksum);
  EXPECT_EQ(JobCounter(val, "check failures"), -1);  // none counted
}

TEST_F(TeraSortTest, AsciiRecordsSortAsGnuSortDoes) {
  constexpr uint64_t kRecords = 1000000;
  mrpb::JobStatus gen, sort, val;
  const std::string generated = Generate(kRecords, "ascii", &gen);
  const std::string input = ReadParts(generated, "part-m", 3);
  ASSERT_EQ(input.size(), kRecords * kRecord);
  for (size_t i = 0; i < input.size(); i += kRecord) {
    ASSERT_EQ(input.substr(i + 98, 2), "\r\n") << "record " << i / kRecord;
  }
  const std::string sorted_dir = Sort(generated, 3, &sort);

  // GNU sort of the same records (lines end "\r\n": it sorts whole records).
  const std::string expected = cluster_.PathUnderRoot("gnu-sorted");
  absl::StatusOr<CommandResult> gnu = RunCommand(
      {"/bin/sh", "-c",
       absl::StrCat("cat '", generated, "'/part-m-* | LC_ALL=C sort -S 100M > '",
                    expected, "'")},
      absl::Seconds(120));
  ASSERT_TRUE(gnu.ok()) << gnu.status();
  ASSERT_EQ(gnu->exit_code, 0) << gnu->err;
  absl::StatusOr<std::string> want = ReadFileToString(expected);
  ASSERT_TRUE(want.ok()) << want.status();
  const std::string got = ReadParts(sorted_dir, "part-r", 3);
  EXPECT_EQ(got.size(), want->size());
  EXPECT_TRUE(got == *want) << "terasort's output differs from LC_ALL=C sort's";

  const std::string report = Validate(sorted_dir, 0, &val);
  EXPECT_EQ(report, absl::StrFormat("records %d\nchecksum %x\nduplicate keys 0\n"
                                    "misordered records 0\n",
                                    kRecords, Checksum(input)));
}

TEST_F(TeraSortTest, TeravalidateReportsDisorderAndExitsOne) {
  mrpb::JobStatus gen, sort, val;
  const std::string generated = Generate(20000, "ascii", &gen);
  const std::string sorted_dir = Sort(generated, 2, &sort);
  std::string part = ReadParts(sorted_dir, "part-r", 2);
  // Two parts again, with records 500 and 501 of the first swapped, and a
  // duplicate key: record 9000 repeated right after itself.
  const size_t half = part.size() / 2 / kRecord * kRecord;
  std::string first = part.substr(0, half), second = part.substr(half);
  std::string swapped = first.substr(500 * kRecord, kRecord);
  first.replace(500 * kRecord, kRecord, first.substr(501 * kRecord, kRecord));
  first.replace(501 * kRecord, kRecord, swapped);
  second.insert(1000 * kRecord, second.substr(1000 * kRecord, kRecord));
  const std::string dir = cluster_.PathUnderRoot("disordered");
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/part-r-00000", first).ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/part-r-00001", second).ok());

  const std::string report = Validate(dir, 1, &val);
  EXPECT_EQ(report,
            absl::StrFormat("records 20001\nchecksum %x\nduplicate keys 1\n"
                            "misordered records 1\nfirst misorder %s:%d\n",
                            Checksum(first) + Checksum(second),
                            dir + "/part-r-00000", 501 * kRecord));
  EXPECT_EQ(JobCounter(val, "check failures"), 1);
}

TEST_F(TeraSortTest, HalfTheKeysSharingAPrefixStillBalance) {
  // 400,000 records; half the keys start with the same 6 bytes.
  constexpr int kRecords = 400000;
  std::mt19937_64 rng(7);
  std::string input;
  input.reserve(kRecords * kRecord);
  for (int i = 0; i < kRecords; ++i) {
    char rec[kRecord];
    for (size_t b = 0; b < kRecord; ++b) rec[b] = static_cast<char>(' ' + rng() % 95);
    if (i % 2 == 0) memcpy(rec, "SKEWED", 6);
    input.append(rec, kRecord);
  }
  const std::string dir = cluster_.PathUnderRoot("skewed");
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/records", input).ok());
  mrpb::JobStatus sort;
  const std::string sorted_dir = Sort(dir, 4, &sort);
  EXPECT_TRUE(ReadParts(sorted_dir, "part-r", 4) == SortRecords(input));
  ASSERT_EQ(sort.partitions_size(), 4);
  EXPECT_LE(PartitionSpread(sort), 1.5) << sort.DebugString();
  // The status shows them, without a skew warning.
  absl::StatusOr<CommandResult> status =
      cluster_.RunMrctl({"status", sort.job_id()});
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_NE(status->out.find("map output per reduce partition:\n"
                             "  partition  records     bytes\n"),
            std::string::npos)
      << status->out;
  EXPECT_EQ(status->out.find("skew:"), std::string::npos) << status->out;
}

TEST_F(TeraSortTest, ATruncatedRecordIsMalformedAndTheRestSorts) {
  std::mt19937_64 rng(11);
  std::string input;
  for (int i = 0; i < 1000 * static_cast<int>(kRecord) + 37; ++i) {
    input.push_back(static_cast<char>(rng()));
  }
  const std::string dir = cluster_.PathUnderRoot("truncated");
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/records", input).ok());
  mrpb::JobStatus sort;
  const std::string sorted_dir = Sort(dir, 2, &sort);
  EXPECT_TRUE(ReadParts(sorted_dir, "part-r", 2) ==
              SortRecords(input.substr(0, 1000 * kRecord)));
  EXPECT_EQ(JobCounter(sort, "malformed records"), 1);
  ASSERT_EQ(sort.malformed_records_size(), 1);
  EXPECT_EQ(sort.malformed_records(0).path(), dir + "/records");
  EXPECT_EQ(sort.malformed_records(0).offset(), 100000u);
  EXPECT_EQ(sort.malformed_records(0).reason(),
            "a truncated record (shorter than 100 bytes)");
}

// Kills the master once the job has `sampled` (when asked) and some but not
// all maps are done; restarts it. False when no such moment came.
bool KillMasterMidMaps(ExternalMiniCluster* cluster, const std::string& job,
                       bool sampled) {
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (absl::Now() < give_up) {
    auto s = cluster->GetJobStatus(job);
    if (s.ok() && (!sampled || s->sampled()) && s->maps_done() >= 1 &&
        s->maps_done() < s->maps_total()) {
      if (!cluster->master()->Kill().ok()) return false;
      absl::SleepFor(absl::Milliseconds(300));
      return cluster->master()->Restart().ok();
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  return false;
}

TEST_F(TeraSortTest, AMasterKilledMidJobKeepsTheSampleAndTheMapOnlyCommits) {
  constexpr uint64_t kRecords = 1000000;
  const std::string generated = cluster_.PathUnderRoot("gen-restart");
  absl::StatusOr<CommandResult> gen;
  std::thread client([&] {
    gen = cluster_.RunMrctl({"submit", "--app", "teragen", "--maps", "12",
                             "--param", absl::StrCat("records=", kRecords),
                             "--output", generated, "--wait"});
  });
  const bool killed_gen = KillMasterMidMaps(&cluster_, "job-000001", false);
  client.join();
  ASSERT_TRUE(killed_gen) << "no moment with some maps done";
  ASSERT_TRUE(gen.ok()) << gen.status();
  ASSERT_EQ(gen->exit_code, 0) << gen->out << gen->err << cluster_.LogTails();
  const std::string input = ReadParts(generated, "part-m", 12);
  ASSERT_EQ(input.size(), kRecords * kRecord);

  const std::string sorted_dir = cluster_.PathUnderRoot("sort-restart");
  absl::StatusOr<CommandResult> sort;
  client = std::thread([&] {
    sort = cluster_.RunMrctl({"submit", "--app", "terasort", "--input",
                              generated, "--output", sorted_dir, "--reduces",
                              "4", "--split-size", std::to_string(8 << 20),
                              "--wait"});
  });
  const bool killed_sort = KillMasterMidMaps(&cluster_, "job-000002", true);
  client.join();
  ASSERT_TRUE(killed_sort) << "no moment with the sample and some maps done";
  ASSERT_TRUE(sort.ok()) << sort.status();
  ASSERT_EQ(sort->exit_code, 0) << sort->out << sort->err << cluster_.LogTails();
  EXPECT_TRUE(ReadParts(sorted_dir, "part-r", 4) == SortRecords(input));
  absl::StatusOr<mrpb::JobStatus> status = cluster_.GetJobStatus("job-000002");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(status->sampled());
  EXPECT_LE(PartitionSpread(*status), 1.5) << status->DebugString();
}

TEST_F(TeraSortTest, GzippedRecordsSampleAndSort) {
  // 300,000 binary records (incompressible: about 30 MB of gzip), over the
  // 16 MiB the sample reads whole: each .gz file gets a window at its start.
  mrpb::JobStatus gen, sort;
  const std::string generated = Generate(300000, "binary", &gen);
  const std::string input = ReadParts(generated, "part-m", 3);
  const std::string dir = cluster_.PathUnderRoot("gzipped");
  ASSERT_TRUE(MakeDirs(dir).ok());
  absl::StatusOr<CommandResult> gz = RunCommand(
      {"/bin/sh", "-c",
       absl::StrCat("for f in '", generated, "'/part-m-*; do gzip -1 -c \"$f\" > '",
                    dir, "'/$(basename \"$f\").gz; done")},
      absl::Seconds(120));
  ASSERT_TRUE(gz.ok()) << gz.status();
  ASSERT_EQ(gz->exit_code, 0) << gz->err;
  const std::string sorted_dir = Sort(dir, 3, &sort);
  EXPECT_TRUE(ReadParts(sorted_dir, "part-r", 3) == SortRecords(input));
  EXPECT_TRUE(sort.sampled());
  EXPECT_GT(JobCounter(sort, "sample input records"), 0);
  EXPECT_LE(PartitionSpread(sort), 1.5) << sort.DebugString();
}

TEST_F(TeraSortTest, JobShapesAreChecked) {
  const std::string out = cluster_.PathUnderRoot("refused");
  absl::StatusOr<CommandResult> r = cluster_.RunMrctl(
      {"submit", "--app", "teragen", "--param", "records=10", "--input",
       cluster_.root_dir(), "--output", out});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err,
            "mrctl: submission refused (INVALID_SPEC): the app teragen "
            "generates its input: give --maps, not --input\n");
  r = cluster_.RunMrctl({"submit", "--app", "terasort", "--maps", "3",
                         "--output", out});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err,
            "mrctl: submission refused (INVALID_SPEC): no input given\n");
  r = cluster_.RunMrctl({"submit", "--app", "teravalidate", "--input",
                         cluster_.root_dir(), "--reduces", "0", "--output",
                         out});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err,
            "mrctl: submission refused (INVALID_SPEC): the app teravalidate "
            "runs 1 reduces; it cannot be map-only (--reduces 0)\n");
  r = cluster_.RunMrctl({"submit", "--app", "teragen", "--maps", "2",
                         "--output", out});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err, "mrctl: submission refused (BAD_PARAMS): teragen needs "
                    "--param records=N (N > 0)\n");
}

}  // namespace
}  // namespace test
}  // namespace mr
