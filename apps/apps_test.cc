// Unit tests of the built-in apps and the job registry, run against a fake
// Context; the plugin tests load build/lib/lib*_plugin.so (MR_LIB_DIR).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "apps/crash.h"
#include "apps/grep.h"
#include "apps/indexer.h"
#include "apps/internal/fake_context.h"
#include "apps/job_registry.h"
#include "apps/wordcount.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mr {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using KV = std::pair<std::string, std::string>;

using apps::internal::FakeContext;
using apps::internal::VectorValues;

InputRecord Line(std::string_view file, std::string_view line,
                 uint64_t line_number = 0) {
  InputRecord r;
  r.file = file;
  r.line = line;
  r.line_number = line_number;
  return r;
}

// Runs `job` as a map task over `lines` of one file; returns the sorted emits.
std::vector<KV> RunMap(Job& job, std::string_view file,
                       const std::vector<std::string>& lines) {
  FakeContext ctx;
  for (const std::string& l : lines) job.Map(Line(file, l), ctx);
  job.Finish(ctx);
  return ctx.Sorted();
}

std::string LibDir() {
  if (const char* dir = std::getenv("MR_LIB_DIR")) return dir;
  return MR_DEFAULT_LIB_DIR;
}

// ---- wordcount ----

TEST(WordCountTest, ForEachWordSplitsOnNonLetters) {
  std::vector<std::string> words;
  apps::ForEachWord("Hello, world! it's 3am",
                    [&](std::string_view w) { words.emplace_back(w); });
  EXPECT_THAT(words, ElementsAre("Hello", "world", "it", "s", "am"));
}

TEST(WordCountTest, NonAsciiBytesSeparateWords) {
  std::vector<std::string> words;
  apps::ForEachWord("caf\xc3\xa9 na\xefve\tX_y\x7f",
                    [&](std::string_view w) { words.emplace_back(w); });
  EXPECT_THAT(words, ElementsAre("caf", "na", "ve", "X", "y"));
}

TEST(WordCountTest, MapCountsInMemoryAndFinishFlushes) {
  apps::WordCount wc;
  FakeContext ctx;
  wc.Map(Line("f", "Hello, world! it's 3am"), ctx);
  wc.Map(Line("f", "hello Hello"), ctx);
  EXPECT_TRUE(ctx.emits.empty());  // combined in memory until Finish()
  wc.Finish(ctx);
  EXPECT_THAT(ctx.Sorted(),
              ElementsAre(Pair("Hello", "2"), Pair("am", "1"), Pair("hello", "1"),
                          Pair("it", "1"), Pair("s", "1"), Pair("world", "1")));
  ctx.emits.clear();
  wc.Finish(ctx);  // nothing left, as in a reduce task
  EXPECT_TRUE(ctx.emits.empty());
}

TEST(WordCountTest, CombineAndReduceSumDecimalCounts) {
  apps::WordCount wc;
  EXPECT_TRUE(wc.HasCombiner());
  FakeContext ctx;
  VectorValues c({"3", "4", "5"});
  wc.Combine("the", c, ctx);
  VectorValues r({"12", "1", "9999999999"});
  wc.Reduce("the", r, ctx);
  EXPECT_THAT(ctx.emits, ElementsAre(Pair("the", "12"), Pair("the", "10000000012")));
}

// ---- indexer ----

TEST(IndexerTest, MapEmitsEachWordOncePerDocument) {
  apps::Indexer ix;
  FakeContext ctx;
  ix.Map(Line("/data/a/doc1.txt", "apple banana apple"), ctx);
  ix.Map(Line("/data/a/doc1.txt", "apple"), ctx);
  ix.Map(Line("/data/b/doc2.txt", "banana"), ctx);
  ix.Map(Line("doc3.txt", "banana"), ctx);
  ix.Finish(ctx);
  EXPECT_THAT(ctx.Sorted(),
              ElementsAre(Pair("apple", "doc1.txt"), Pair("banana", "doc1.txt"),
                          Pair("banana", "doc2.txt"), Pair("banana", "doc3.txt")));
}

TEST(IndexerTest, CombineDedupesAndReduceSortsAndCounts) {
  apps::Indexer ix;
  EXPECT_TRUE(ix.HasCombiner());
  FakeContext ctx;
  VectorValues c({"b.txt", "a.txt", "b.txt"});
  ix.Combine("w", c, ctx);
  EXPECT_THAT(ctx.Sorted(), ElementsAre(Pair("w", "a.txt"), Pair("w", "b.txt")));
  ctx.emits.clear();
  VectorValues r({"pg-tom.txt", "pg-grimm.txt", "pg-tom.txt", "Z.txt"});
  ix.Reduce("w", r, ctx);
  EXPECT_THAT(ctx.emits,
              ElementsAre(Pair("w", "3 Z.txt,pg-grimm.txt,pg-tom.txt")));
}

// ---- grep ----

TEST(GrepTest, SetupRefusesMissingOrBadPattern) {
  apps::Grep g;
  EXPECT_EQ(g.Setup({}), "grep needs --param pattern=REGEX");
  EXPECT_EQ(g.Setup({{"pattern", "("}}),
            "grep: bad pattern '(': Unmatched ( or \\(");
  EXPECT_EQ(g.Setup({{"pattern", "a{1"}}),
            "grep: bad pattern 'a{1': Unmatched \\{");
  EXPECT_EQ(g.Setup({{"pattern", "ab+c"}}), "");
  EXPECT_TRUE(g.WantsLineNumbers());
  EXPECT_FALSE(g.HasCombiner());
}

std::string GrepKey(const std::string& path, uint64_t line) {
  std::string k = path;
  k.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) k.push_back(char(line >> shift));
  return k;
}

TEST(GrepTest, MapKeysSortByFileThenLine) {
  apps::Grep g;
  ASSERT_EQ(g.Setup({{"pattern", "wor.d"}}), "");
  FakeContext ctx;
  g.Map(Line("/d/f.txt", "Hello world", 7), ctx);
  g.Map(Line("/d/f.txt", "Hello World", 8), ctx);  // case differs: no match
  g.Map(Line("/d/f.txt", "worldwide", 256), ctx);
  g.Map(Line("/d/e.txt", "a world", 1000), ctx);
  EXPECT_THAT(ctx.Sorted(),
              ElementsAre(Pair(GrepKey("/d/e.txt", 1000), "/d/e.txt:1000:a world"),
                          Pair(GrepKey("/d/f.txt", 7), "/d/f.txt:7:Hello world"),
                          Pair(GrepKey("/d/f.txt", 256), "/d/f.txt:256:worldwide")));
}

TEST(GrepTest, IgnoreCaseAndReduceEmitsValuesAsLines) {
  apps::Grep g;
  ASSERT_EQ(g.Setup({{"pattern", "^hello"}, {"ignore_case", "true"}}), "");
  FakeContext ctx;
  g.Map(Line("f", "HELLO there", 3), ctx);
  g.Map(Line("f", "say hello", 4), ctx);
  ASSERT_EQ(ctx.emits.size(), 1u);
  EXPECT_EQ(ctx.emits[0].second, "f:3:HELLO there");
  ctx.emits.clear();
  VectorValues r({"f:3:HELLO there"});
  g.Reduce(GrepKey("f", 3), r, ctx);
  EXPECT_THAT(ctx.emits, ElementsAre(Pair("f:3:HELLO there", "")));
}

// ---- crash ----

TEST(CrashTest, SetupRefusesBadDeterministicModes) {
  apps::Crash c;
  EXPECT_EQ(c.Setup({{"hang", "yes"}}), "crash: hang must be 0 or 1, got 'yes'");
  EXPECT_EQ(c.Setup({{"exhaust_memory", ""}}),
            "crash: exhaust_memory must be 0 or 1, got ''");
  EXPECT_EQ(c.Setup({{"fork_sleeper", ""}}),
            "crash: fork_sleeper must not be empty");
}

TEST(CrashTest, DeterministicModesDrawNoRandomFateUnlessAsked) {
  apps::Crash c;
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(c.Setup({{"fork_sleeper", "1000.5"}}), "");
    EXPECT_EQ(c.fate(), apps::Crash::Fate::kNormal);
    ASSERT_EQ(c.Setup({{"hang", "1"}}), "");
    EXPECT_EQ(c.fate(), apps::Crash::Fate::kNormal);
  }
  ASSERT_EQ(c.Setup({{"fork_sleeper", "1000.5"}, {"crash_probability", "1"}}),
            "");
  EXPECT_EQ(c.fate(), apps::Crash::Fate::kCrash);
}

// ---- registry ----

TEST(JobRegistryTest, BuiltinAppNamesAreSorted) {
  EXPECT_THAT(BuiltinAppNames(),
              ElementsAre("crash", "fields", "grep", "indexer", "join", "pipeline_transform",
                          "pipeline_validate", "streaming", "teragen", "terasort",
                          "teravalidate", "wordcount"));
}

TEST(JobRegistryTest, LoadBuiltinJob) {
  auto job = LoadBuiltinJob("wordcount");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_TRUE((*job)->job()->HasCombiner());
  EXPECT_THAT(RunMap(*(*job)->job(), "f", {"a b a"}),
              ElementsAre(Pair("a", "2"), Pair("b", "1")));

  auto bad = LoadBuiltinJob("wordcont");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(bad.status().message(),
            "unknown app 'wordcont'; built-in apps: crash, fields, grep, indexer, join, "
            "pipeline_transform, pipeline_validate, streaming, teragen, terasort, "
            "teravalidate, wordcount");
}

TEST(JobRegistryTest, LoadPluginJobRunsTheExportedJob) {
  auto wc = LoadPluginJob(LibDir() + "/libwordcount_plugin.so");
  ASSERT_TRUE(wc.ok()) << wc.status();
  EXPECT_THAT(RunMap(*(*wc)->job(), "f", {"Hello, world! it's 3am", "am"}),
              ElementsAre(Pair("Hello", "1"), Pair("am", "2"), Pair("it", "1"),
                          Pair("s", "1"), Pair("world", "1")));

  auto ix = LoadPluginJob(LibDir() + "/libindexer_plugin.so");
  ASSERT_TRUE(ix.ok()) << ix.status();
  FakeContext ctx;
  VectorValues r({"b", "a", "b"});
  (*ix)->job()->Reduce("w", r, ctx);
  EXPECT_THAT(ctx.emits, ElementsAre(Pair("w", "2 a,b")));
}

TEST(JobRegistryTest, LoadPluginJobRefusesPluginWithoutFactory) {
  const std::string path = LibDir() + "/libnoexport_plugin.so";
  auto job = LoadPluginJob(path);
  EXPECT_EQ(job.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(job.status().message(),
            "plugin " + path + " exports no mr_create_job (use MR_EXPORT_JOB)");
}

TEST(JobRegistryTest, LoadPluginJobReportsDlopenError) {
  const std::string path = LibDir() + "/libno_such_plugin.so";
  auto job = LoadPluginJob(path);
  EXPECT_EQ(job.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(job.status().message(),
            path + ": cannot open shared object file: No such file or directory");
}

}  // namespace
}  // namespace mr
