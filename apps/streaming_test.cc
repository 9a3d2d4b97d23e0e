// Unit tests of the streaming app and its StreamingProcess: real child
// processes (/bin/sh, /bin/cat, python3) driven through a fake Context.
#include "apps/streaming.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "apps/internal/fake_context.h"
#include "apps/internal/streaming_process.h"
#include "apps/job_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mr {
namespace apps {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;
using internal::FakeContext;
using internal::StreamingProcess;
using internal::VectorValues;
using KV = std::pair<std::string, std::string>;

// A FakeContext that also records Fail() and has a files directory.
class StreamingContext : public FakeContext {
 public:
  void Fail(std::string_view message) override {
    failures.emplace_back(message);
  }
  std::string FilesDir() const override { return files_dir; }

  std::vector<std::string> failures;
  std::string files_dir;
};

// Counts emits instead of keeping them.
class CountingContext : public StreamingContext {
 public:
  void Emit(std::string_view key, std::string_view value) override {
    ++records;
    bytes += key.size() + value.size();
  }
  int64_t records = 0;
  int64_t bytes = 0;
};

InputRecord Line(std::string_view line) {
  InputRecord r;
  r.file = "/in/f.txt";
  r.line = line;
  return r;
}

// A Streaming job set up with `params`; fails the test when refused.
std::unique_ptr<Streaming> NewJob(
    const std::map<std::string, std::string>& params) {
  auto job = std::make_unique<Streaming>();
  EXPECT_EQ(job->Setup(params), "");
  return job;
}

// Maps `lines` one record at a time, then Finish().
void MapLines(Job& job, const std::vector<std::string>& lines, Context& ctx) {
  for (const std::string& l : lines) job.Map(Line(l), ctx);
  job.Finish(ctx);
}

// Reduces `groups` (sorted by key), then Finish().
void ReduceGroups(Job& job, const std::map<std::string, std::vector<std::string>>& groups,
                  Context& ctx) {
  for (const auto& [key, values] : groups) {
    VectorValues it(values);
    job.Reduce(key, it, ctx);
  }
  job.Finish(ctx);
}

// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "/streaming_test.XXXXXX";
    char* made = mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = std::filesystem::path(tmpl).lexically_normal().string();
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

  void Write(const std::string& name, const std::string& text, mode_t mode) {
    const std::string p = path_ + "/" + name;
    FILE* f = fopen(p.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fwrite(text.data(), 1, text.size(), f);
    fclose(f);
    chmod(p.c_str(), mode);
  }

 private:
  std::string path_;
};

constexpr char kWordMapper[] =
    "python3 -c '\n"
    "import re, sys\n"
    "for line in sys.stdin:\n"
    "    for w in re.findall(\"[A-Za-z]+\", line):\n"
    "        print(w + \"\\t1\")\n"
    "'";
constexpr char kSumReducer[] =
    "python3 -c '\n"
    "import sys\n"
    "key, total = None, 0\n"
    "for line in sys.stdin:\n"
    "    k, v = line.rstrip(\"\\n\").split(\"\\t\", 1)\n"
    "    if k != key and key is not None:\n"
    "        print(key + \"\\t\" + str(total)); total = 0\n"
    "    key = k; total += int(v)\n"
    "if key is not None: print(key + \"\\t\" + str(total))\n"
    "'";

// ---- Setup ----

TEST(StreamingTest, SetupNeedsAMapper) {
  Streaming job;
  EXPECT_EQ(job.Setup({}),
            "streaming needs --param mapper=CMD (or mrctl submit --mapper CMD)");
  EXPECT_EQ(job.Setup({{"reducer", "cat"}}),
            "streaming needs --param mapper=CMD (or mrctl submit --mapper CMD)");
  EXPECT_EQ(job.Setup({{"mapper", ""}}),
            "streaming: --param mapper=CMD is empty");
  EXPECT_EQ(job.Setup({{"mapper", "cat"}, {"combiner", ""}}),
            "streaming: --param combiner=CMD is empty");
  EXPECT_EQ(job.Setup({{"mapper", "cat"}}), "");
  EXPECT_FALSE(job.HasCombiner());
}

TEST(StreamingTest, IsABuiltinApp) {
  std::vector<std::string> names = BuiltinAppNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "streaming"), names.end());
}

// ---- mapper ----

TEST(StreamingTest, CatMapperSplitsLinesAtTheFirstTab) {
  auto job = NewJob({{"mapper", "/bin/cat"}});
  StreamingContext ctx;
  MapLines(*job, {"a\tb\tc", "no tab here", "x\t", "", "\ty"}, ctx);
  EXPECT_TRUE(ctx.failures.empty());
  EXPECT_THAT(ctx.emits,
              ElementsAre(Pair("a", "b\tc"), Pair("no tab here", ""),
                          Pair("x", ""), Pair("", ""), Pair("", "y")));
}

TEST(StreamingTest, MapBlockWritesWholeBlocksAndEndsALastLine) {
  auto job = NewJob({{"mapper", "cat"}});
  StreamingContext ctx;
  InputBlock block;
  block.file = "/in/f.txt";
  block.data = "k1\tv1\nk2\tv2\n";
  job->MapBlock(block, ctx);
  block.data = "k3\tv3";  // a file's last line, without '\n'
  job->MapBlock(block, ctx);
  job->Finish(ctx);
  EXPECT_TRUE(ctx.failures.empty());
  EXPECT_THAT(ctx.emits, ElementsAre(Pair("k1", "v1"), Pair("k2", "v2"),
                                     Pair("k3", "v3")));
}

TEST(StreamingTest, PythonMapperAndReducerCountWords) {
  const std::vector<std::string> lines = {"the cat, the hat", "",
                                          "The CAT sat; 3 hats"};
  auto mapper = NewJob({{"mapper", kWordMapper}, {"reducer", kSumReducer}});
  StreamingContext map_ctx;
  MapLines(*mapper, lines, map_ctx);
  ASSERT_TRUE(map_ctx.failures.empty()) << map_ctx.failures[0];
  EXPECT_EQ(map_ctx.emits.size(), 8u);

  // What the shuffle would give the reduce: groups sorted by key.
  std::map<std::string, std::vector<std::string>> groups;
  for (const KV& kv : map_ctx.emits) groups[kv.first].push_back(kv.second);
  auto reducer = NewJob({{"mapper", kWordMapper}, {"reducer", kSumReducer}});
  StreamingContext reduce_ctx;
  ReduceGroups(*reducer, groups, reduce_ctx);
  ASSERT_TRUE(reduce_ctx.failures.empty()) << reduce_ctx.failures[0];
  EXPECT_THAT(reduce_ctx.emits,
              ElementsAre(Pair("CAT", "1"), Pair("The", "1"), Pair("cat", "1"),
                          Pair("hat", "1"), Pair("hats", "1"), Pair("sat", "1"),
                          Pair("the", "2")));
}

TEST(StreamingTest, ReducerSeesKeyTabValueLinesInOrder) {
  auto job = NewJob({{"mapper", "cat"}, {"reducer", "cat -A"}});
  StreamingContext ctx;
  ReduceGroups(*job, {{"a", {"2", "1", ""}}, {"b c", {"x\ty"}}}, ctx);
  EXPECT_TRUE(ctx.failures.empty());
  // cat -A shows the tabs (^I) and line ends ($) the reducer got.
  EXPECT_THAT(ctx.emits,
              ElementsAre(Pair("a^I2$", ""), Pair("a^I1$", ""),
                          Pair("a^I$", ""), Pair("b c^Ix^Iy$", "")));
}

TEST(StreamingTest, NoReducerIsTheIdentity) {
  auto job = NewJob({{"mapper", "cat"}});
  StreamingContext ctx;
  ReduceGroups(*job, {{"a", {"1", "2"}}, {"b", {""}}}, ctx);
  EXPECT_TRUE(ctx.failures.empty());
  EXPECT_THAT(ctx.emits,
              ElementsAre(Pair("a", "1"), Pair("a", "2"), Pair("b", "")));
}

TEST(StreamingTest, NoRecordsStillRunsTheCommandOnEmptyInput) {
  auto job = NewJob({{"mapper", "echo mapped; wc -l | tr -d ' '"},
                     {"reducer", "printf 'total\\t%s\\n' $(wc -l)"}});
  StreamingContext map;
  job->Finish(map);
  EXPECT_TRUE(map.failures.empty());
  EXPECT_THAT(map.emits, ElementsAre(Pair("mapped", ""), Pair("0", "")));

  job = NewJob({{"mapper", "cat"}, {"reducer", "printf 'total\\t%s\\n' $(wc -l)"}});
  StreamingContext reduce;
  reduce.kind = TaskKind::kReduce;
  job->Finish(reduce);
  EXPECT_TRUE(reduce.failures.empty());
  EXPECT_THAT(reduce.emits, ElementsAre(Pair("total", "0")));
}

TEST(StreamingTest, ASampleTaskWithoutRecordsStartsNoProcess) {
  auto job = NewJob({{"mapper", "exit 9"}});  // would fail if it ran
  StreamingContext ctx;
  ctx.kind = TaskKind::kSample;
  job->Finish(ctx);
  EXPECT_TRUE(ctx.failures.empty());
  EXPECT_TRUE(ctx.emits.empty());
}

// ---- combiner ----

TEST(StreamingTest, CombinerRunsOverTheSortedMapOutput) {
  auto job = NewJob({{"mapper", "cat"}, {"combiner", kSumReducer}});
  StreamingContext ctx;
  MapLines(*job, {"b\t1", "a\t1", "b\t5", "a\t2", "c\t4"}, ctx);
  ASSERT_TRUE(ctx.failures.empty()) << ctx.failures[0];
  EXPECT_THAT(ctx.emits,
              ElementsAre(Pair("a", "3"), Pair("b", "6"), Pair("c", "4")));
  EXPECT_EQ(ctx.Counter("combine input records"), 5);
  EXPECT_EQ(ctx.Counter("combine output records"), 3);
}

TEST(StreamingTest, CombinerKeepsTheOrderOfEqualKeys) {
  auto job = NewJob({{"mapper", "cat"}, {"combiner", "cat"}});
  StreamingContext ctx;
  MapLines(*job, {"k\t3", "a\tz", "k\t1", "k\t2", "noval"}, ctx);
  ASSERT_TRUE(ctx.failures.empty());
  EXPECT_THAT(ctx.emits, ElementsAre(Pair("a", "z"), Pair("k", "3"),
                                     Pair("k", "1"), Pair("k", "2"),
                                     Pair("noval", "")));
}

TEST(StreamingTest, CombinerRunsOncePerFullBuffer) {
  // 400,000 lines of 41 bytes (+ a 16-byte index entry each) pass the
  // 16 MiB buffer once.
  auto job = NewJob({{"mapper",
                      "python3 -c 'import sys\n"
                      "for i in range(400000): print(\"k%03d\\t\" % (i % 100)"
                      " + \"v\" * 35)'"},
                     {"combiner", "wc -l"}});
  StreamingContext ctx;
  job->Map(Line("go"), ctx);
  job->Finish(ctx);
  ASSERT_TRUE(ctx.failures.empty()) << ctx.failures[0];
  // Each combiner run prints its line count (with no TAB: a key).
  ASSERT_EQ(ctx.emits.size(), 2u);
  const int64_t first = std::stoll(ctx.emits[0].first);
  const int64_t second = std::stoll(ctx.emits[1].first);
  EXPECT_EQ(first + second, 400000);
  EXPECT_EQ(first, static_cast<int64_t>(Streaming::kCombineBufferBytes) /
                       (41 + 16) + 1);
  EXPECT_EQ(ctx.Counter("combine input records"), 400000);
  EXPECT_EQ(ctx.Counter("combine output records"), 2);
}

// ---- failures ----

TEST(StreamingTest, NonZeroExitFailsWithTheStderrTail) {
  auto job = NewJob({{"mapper", "cat >/dev/null; echo 'bad record' >&2; "
                                "echo 'giving up' >&2; exit 3"}});
  StreamingContext ctx;
  MapLines(*job, {"a", "b"}, ctx);
  EXPECT_THAT(ctx.failures,
              ElementsAre("streaming mapper `cat >/dev/null; echo 'bad record' "
                          ">&2; echo 'giving up' >&2; exit 3` exited with "
                          "status 3; its stderr ends:\nbad record\ngiving up"));
}

TEST(StreamingTest, StderrTailIsTheLast2KiB) {
  // 3000 'x' then "END": the message quotes the last 2048 bytes.
  auto job = NewJob({{"mapper",
                      "cat >/dev/null; python3 -c 'import sys; "
                      "sys.stderr.write(\"x\" * 3000 + \"END\\n\")'; exit 1"}});
  StreamingContext ctx;
  MapLines(*job, {"a"}, ctx);
  ASSERT_EQ(ctx.failures.size(), 1u);
  const std::string& m = ctx.failures[0];
  const std::string expected_tail = std::string(2044, 'x') + "END";
  ASSERT_GE(m.size(), expected_tail.size());
  EXPECT_EQ(m.substr(m.size() - expected_tail.size() - 1),
            "\n" + expected_tail);
  EXPECT_THAT(m, StartsWith("streaming mapper `cat >/dev/null; python3 -c"));
  EXPECT_THAT(m, HasSubstr("` exited with status 1; its stderr ends:\n"));
}

TEST(StreamingTest, MissingCommandFailsClearly) {
  auto job = NewJob({{"mapper", "no-such-command-4711 --flag"}});
  StreamingContext ctx;
  MapLines(*job, {"a"}, ctx);
  EXPECT_THAT(ctx.failures,
              ElementsAre("streaming mapper `no-such-command-4711 --flag` "
                          "exited with status 127 (command not found); its "
                          "stderr ends:\nsh: 1: no-such-command-4711: not "
                          "found"));
  EXPECT_TRUE(ctx.emits.empty());
}

TEST(StreamingTest, ReducerKilledBySignalFails) {
  auto job = NewJob({{"mapper", "cat"}, {"reducer", "kill -9 $$"}});
  StreamingContext ctx;
  ReduceGroups(*job, {{"a", {"1"}}}, ctx);
  EXPECT_THAT(ctx.failures, ElementsAre("streaming reducer `kill -9 $$` was "
                                        "killed by signal 9 (Killed)"));
}

TEST(StreamingTest, CombinerFailureFailsTheMap) {
  auto job = NewJob({{"mapper", "cat"},
                     {"combiner", "cat >/dev/null; echo no >&2; exit 4"}});
  StreamingContext ctx;
  MapLines(*job, {"a\t1"}, ctx);
  EXPECT_THAT(ctx.failures,
              ElementsAre("streaming combiner `cat >/dev/null; echo no >&2; "
                          "exit 4` exited with status 4; its stderr ends:\nno"));
  EXPECT_TRUE(ctx.emits.empty());
}

TEST(StreamingTest, MapperThatStopsReadingFails) {
  // `head` exits 0 after its first line; 4 MiB of input is more than the
  // pipe holds, so a write finds the pipe closed.
  auto job = NewJob({{"mapper", "head -n 1"}});
  StreamingContext ctx;
  const std::string line(1023, 'a');
  for (int i = 0; i < 4096 && ctx.failures.empty(); ++i) {
    job->Map(Line(line), ctx);
  }
  job->Finish(ctx);
  EXPECT_THAT(ctx.failures,
              ElementsAre("streaming mapper `head -n 1` exited with status 0 "
                          "before reading all its input"));
}

TEST(StreamingTest, FailureStopsTheJob) {
  // After the failure, more records and Finish() do nothing.
  auto job = NewJob({{"mapper", "exit 2"}});
  StreamingContext ctx;
  const std::string line(1 << 20, 'a');
  for (int i = 0; i < 8; ++i) job->Map(Line(line), ctx);
  job->Finish(ctx);
  EXPECT_THAT(ctx.failures,
              ElementsAre("streaming mapper `exit 2` exited with status 2"));
}

// ---- volume ----

TEST(StreamingTest, TenMegabytesOfOutputPerInputLineDoNotDeadlock) {
  // Each input line (40 KiB, so that our writes block too) makes 10 MiB of
  // output before the mapper reads the next.
  auto job = NewJob({{"mapper",
                      "python3 -c 'import sys\n"
                      "for line in sys.stdin:\n"
                      "    sys.stdout.write((\"k\\t\" + \"v\" * 1022 + \"\\n\")"
                      " * 10240)\n"
                      "    sys.stdout.flush()'"}});
  CountingContext ctx;
  const std::string line(40 << 10, 'i');
  for (int i = 0; i < 5; ++i) job->Map(Line(line), ctx);
  job->Finish(ctx);
  ASSERT_TRUE(ctx.failures.empty()) << ctx.failures[0];
  EXPECT_EQ(ctx.records, 5 * 10240);
  EXPECT_EQ(ctx.bytes, 5 * 10240 * 1023);
}

TEST(StreamingTest, CatPassesManyMegabytesThrough) {
  auto job = NewJob({{"mapper", "cat"}});
  CountingContext ctx;
  const std::string line = "key\tsome value of fifty bytes or so.........";
  for (int i = 0; i < 200000; ++i) job->Map(Line(line), ctx);
  job->Finish(ctx);
  ASSERT_TRUE(ctx.failures.empty()) << ctx.failures[0];
  EXPECT_EQ(ctx.records, 200000);
  EXPECT_EQ(ctx.bytes, 200000 * static_cast<int64_t>(line.size() - 1));
}

// ---- environment and side files ----

TEST(StreamingTest, RunsInTheFilesDirWithItOnPathAndTaskVariables) {
  TempDir dir;
  dir.Write("helper.sh",
            "#!/bin/sh\n"
            "echo \"pwd\t$(pwd)\"\n"
            "echo \"vars\t$MR_STREAMING_ROLE $MR_TASK_INDEX "
            "$mapreduce_task_partition $mapreduce_task_ismap "
            "$mapreduce_map_input_file $MR_FILES_DIR\"\n"
            "echo \"param\t$MR_PARAM_my_limit\"\n"
            "echo \"data\t$(cat data.txt)\"\n"
            "cat >/dev/null\n",
            0755);
  dir.Write("data.txt", "side file\n", 0644);
  auto job = NewJob({{"mapper", "helper.sh"}, {"my.limit", "42"}});
  StreamingContext ctx;
  ctx.files_dir = dir.path();
  ctx.task_index = 7;
  MapLines(*job, {"x"}, ctx);
  ASSERT_TRUE(ctx.failures.empty()) << ctx.failures[0];
  EXPECT_THAT(ctx.emits,
              ElementsAre(Pair("pwd", dir.path()),
                          Pair("vars", "mapper 7 7 true /in/f.txt " + dir.path()),
                          Pair("param", "42"), Pair("data", "side file")));
}

TEST(StreamingTest, ReducerVariables) {
  auto job = NewJob({{"mapper", "cat"},
                     {"reducer", "cat >/dev/null; echo \"$MR_STREAMING_ROLE "
                                 "$mapreduce_task_ismap $MR_TASK_INDEX\""}});
  StreamingContext ctx;
  ctx.task_index = 3;
  ReduceGroups(*job, {{"a", {"1"}}}, ctx);
  ASSERT_TRUE(ctx.failures.empty()) << ctx.failures[0];
  EXPECT_THAT(ctx.emits, ElementsAre(Pair("reducer false 3", "")));
}

TEST(StreamingTest, MissingFilesDirFailsToStart) {
  auto job = NewJob({{"mapper", "cat"}});
  StreamingContext ctx;
  ctx.files_dir = "/nonexistent/streaming-files";
  MapLines(*job, {"a"}, ctx);
  EXPECT_THAT(ctx.failures,
              ElementsAre("streaming mapper `cat` cannot start: cannot start "
                          "/bin/sh -c 'cat' in /nonexistent/streaming-files: "
                          "No such file or directory"));
}

// ---- StreamingProcess ----

TEST(StreamingProcessTest, LastLineWithoutNewlineAndStderrCopy) {
  StreamingProcess::Options options;
  options.command = "printf 'a\\nb'; printf 'err' >&2";
  options.stderr_copy_fd = -1;
  StreamingProcess p(options);
  ASSERT_TRUE(p.Start().ok());
  std::vector<std::string> lines;
  auto exit = p.Finish([&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->ok());
  EXPECT_EQ(exit->Describe(), "exited with status 0");
  EXPECT_THAT(lines, ElementsAre("a", "b"));
  EXPECT_EQ(p.stderr_tail(), "err");
}

TEST(StreamingProcessTest, DestructorKillsARunningChild) {
  pid_t pid;
  {
    StreamingProcess::Options options;
    options.command = "exec sleep 600";
    StreamingProcess p(options);
    ASSERT_TRUE(p.Start().ok());
    pid = p.pid();
    ASSERT_GT(pid, 0);
  }
  EXPECT_NE(kill(pid, 0), 0);  // reaped: the pid names no process of ours
}

}  // namespace
}  // namespace apps
}  // namespace mr
