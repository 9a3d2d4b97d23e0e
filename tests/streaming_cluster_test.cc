// Streaming jobs on a two-worker cluster: a Python mapper and reducer,
// shipped with --file, count the words of the Gutenberg books, and the
// output must equal the built-in word count's byte for byte (with and
// without a Python combiner); a Python mapper that exits 3 fails the job,
// and `mrctl status` shows its stderr's tail.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/proto_maps.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;

// A word is a maximal run of ASCII letters (wordcount's definition); the
// books are read as bytes, whatever their encoding.
constexpr char kMapperPy[] = R"(import re
import sys

out = sys.stdout.buffer
for line in sys.stdin.buffer:
    for word in re.findall(rb"[A-Za-z]+", line):
        out.write(word + b"\t1\n")
)";

// Sums the counts of each run of equal keys (the input is sorted by key).
constexpr char kReducerPy[] = R"(import sys

out = sys.stdout.buffer
key, total = None, 0
for line in sys.stdin.buffer:
    k, v = line.rstrip(b"\n").split(b"\t", 1)
    if k != key:
        if key is not None:
            out.write(key + b"\t" + str(total).encode() + b"\n")
        key, total = k, 0
    total += int(v)
if key is not None:
    out.write(key + b"\t" + str(total).encode() + b"\n")
)";

constexpr char kFailingMapperPy[] = R"(import sys

sys.stdin.buffer.readline()
sys.stderr.write("fail.py: cannot parse record 1\n")
sys.exit(3)
)";

class StreamingClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.Start();
    ASSERT_TRUE(s.ok()) << s;
    scripts_ = cluster_.PathUnderRoot("scripts");
    ASSERT_TRUE(MakeDirs(scripts_).ok());
    for (const auto& [name, text] :
         {std::pair{"mapper.py", kMapperPy}, std::pair{"reducer.py", kReducerPy},
          std::pair{"fail.py", kFailingMapperPy}}) {
      s = WriteFileAtomically(Script(name), text);
      ASSERT_TRUE(s.ok()) << s;
    }
  }

  std::string Script(const std::string& name) const {
    return scripts_ + "/" + name;
  }

  // Runs `mrctl submit --wait --json` with `args`; the final status.
  mrpb::JobStatus Submit(const std::vector<std::string>& args,
                         int expected_exit) {
    absl::StatusOr<mrpb::JobStatus> status =
        cluster_.SubmitAndWait(args, expected_exit);
    EXPECT_TRUE(status.ok()) << status.status();
    return status.ok() ? *status : mrpb::JobStatus();
  }

  // Checks a word count job's output against the reference.
  void ExpectWordCount(const std::string& out, int reduces) {
    absl::StatusOr<std::string> expected = ExpectedWordCountOfBooks();
    ASSERT_TRUE(expected.ok()) << expected.status();
    JobOutputOptions opts;
    opts.expected_parts = reduces;
    absl::StatusOr<std::string> got = ReadJobOutput(out, opts);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(CountLines(*got), 22107u);
    EXPECT_TRUE(*got == *expected)
        << "output differs from the reference; first lines:\n"
        << got->substr(0, 200);
  }

  ExternalMiniCluster cluster_;
  std::string scripts_;
};

TEST_F(StreamingClusterTest, PythonWordCountEqualsTheBuiltinOne) {
  const std::string out = cluster_.PathUnderRoot("wc-out");
  // 8 maps, 3 reduces.
  const mrpb::JobStatus status = Submit(
      {"--mapper", "python3 mapper.py", "--reducer", "python3 reducer.py",
       "--file", Script("mapper.py"), "--file", Script("reducer.py"),
       "--input", DataDir() + "/pg-*.txt", "--output", out, "--split-size",
       "412638", "--reduces", "3"},
      0);
  EXPECT_EQ(status.state(), mrpb::JOB_SUCCEEDED) << status.error();
  EXPECT_EQ(status.maps_total(), 8u);
  EXPECT_EQ(JobCounter(status, "map output records"), 623948);
  EXPECT_EQ(JobCounter(status, "reduce input records"), 623948);
  EXPECT_EQ(JobCounter(status, "reduce output records"), 22107);
  EXPECT_EQ(JobCounter(status, "combine input records"), -1);
  ExpectWordCount(out, 3);
}

TEST_F(StreamingClusterTest, PythonCombinerGivesTheSameOutput) {
  const std::string out = cluster_.PathUnderRoot("wc-combined-out");
  const mrpb::JobStatus status = Submit(
      {"--mapper", "python3 mapper.py", "--combiner", "python3 reducer.py",
       "--reducer", "python3 reducer.py", "--file", Script("mapper.py"),
       "--file", Script("reducer.py"), "--input", DataDir() + "/pg-*.txt",
       "--output", out, "--split-size", "412638", "--reduces", "2"},
      0);
  EXPECT_EQ(status.state(), mrpb::JOB_SUCCEEDED) << status.error();
  // Every word the mappers print goes through a combiner; what they print
  // is the map output: at most one line per distinct word of each map.
  EXPECT_EQ(JobCounter(status, "combine input records"), 623948);
  const int64_t combined = JobCounter(status, "combine output records");
  EXPECT_EQ(JobCounter(status, "map output records"), combined);
  EXPECT_GE(combined, 22107);
  EXPECT_LT(combined, 8 * 22107);
  EXPECT_EQ(JobCounter(status, "reduce input records"), combined);
  ExpectWordCount(out, 2);
}

TEST_F(StreamingClusterTest, FailingMapperFailsTheJobWithItsStderr) {
  const std::string out = cluster_.PathUnderRoot("fail-out");
  const mrpb::JobStatus status =
      Submit({"--mapper", "python3 fail.py", "--file", Script("fail.py"),
              "--input", DataDir() + "/pg-grimm.txt", "--output", out,
              "--max-attempts", "2"},
             1);
  EXPECT_EQ(status.state(), mrpb::JOB_FAILED);
  const std::string message =
      "streaming mapper `python3 fail.py` exited with status 3; its stderr "
      "ends:\nfail.py: cannot parse record 1";
  EXPECT_EQ(status.error(),
            "map task 0 failed 2 times; last error: " + message);

  // `mrctl status` prints the error on one line, its newlines as \n.
  absl::StatusOr<CommandResult> r =
      cluster_.RunMrctl({"status", status.job_id()});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  EXPECT_THAT(r->out,
              HasSubstr("streaming mapper `python3 fail.py` exited with "
                        "status 3; its stderr ends:\\nfail.py: cannot parse "
                        "record 1"))
      << r->out;
}

TEST_F(StreamingClusterTest, MissingCommandFailsTheJob) {
  const std::string out = cluster_.PathUnderRoot("missing-out");
  const mrpb::JobStatus status =
      Submit({"--mapper", "no-such-mapper-4711", "--input",
              DataDir() + "/pg-grimm.txt", "--output", out, "--max-attempts",
              "1"},
             1);
  EXPECT_EQ(status.state(), mrpb::JOB_FAILED);
  EXPECT_THAT(status.error(),
              HasSubstr("streaming mapper `no-such-mapper-4711` exited with "
                        "status 127 (command not found); its stderr ends:\n"
                        "sh: 1: no-such-mapper-4711: not found"));
}

TEST_F(StreamingClusterTest, SubmissionWithoutAMapperIsRefused) {
  absl::StatusOr<CommandResult> r = cluster_.RunMrctl(
      {"submit", "--app", "streaming", "--input", DataDir() + "/pg-grimm.txt",
       "--output", cluster_.PathUnderRoot("refused-out")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 2) << r->out << r->err;
  EXPECT_THAT(r->err, HasSubstr("streaming needs --param mapper=CMD (or "
                                "mrctl submit --mapper CMD)"));
}

}  // namespace
}  // namespace test
}  // namespace mr
