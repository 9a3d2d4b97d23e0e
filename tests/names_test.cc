// Names that are byte strings, not UTF-8: a Latin-1 file name, output
// directory and job parameter go through the whole engine (wire, master
// state, task children, output), mrctl prints them escaped, and a master
// restarted on such a state comes back. And a state record that cannot be
// read is quarantined: the master starts and serves the rest.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "master/master_store.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;

// "caf\xe9" is café in Latin-1: not valid UTF-8.
constexpr char kLatin1[] = "caf\xe9";

class NamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok()) << cluster_.LogTails();
    in_ = cluster_.PathUnderRoot(absl::StrCat("in-", kLatin1));
    ASSERT_TRUE(MakeDirs(in_).ok());
    auto books = GutenbergFiles();
    ASSERT_TRUE(books.ok()) << books.status();
    // Two books under odd names, one under a plain one.
    const std::vector<std::string> names = {
        absl::StrCat(kLatin1, ".txt"), "tab\there.txt", "plain.txt"};
    for (size_t i = 0; i < names.size(); ++i) {
      auto text = ReadFileToString((*books)[i]);
      ASSERT_TRUE(text.ok());
      files_.push_back(in_ + "/" + names[i]);
      ASSERT_TRUE(WriteFileAtomically(files_.back(), *text).ok());
    }
  }

  CommandResult Mrctl(const std::vector<std::string>& args) {
    auto r = cluster_.RunMrctl(args);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : CommandResult{};
  }

  ExternalMiniCluster cluster_;
  std::string in_;
  std::vector<std::string> files_;
};

TEST_F(NamesTest, ALatin1FileNameWorksEndToEndAndSurvivesAMasterRestart) {
  const std::string out = cluster_.PathUnderRoot(absl::StrCat("out-", kLatin1));
  CommandResult r = Mrctl({"submit", "--app", "indexer", "--input", in_,
                           "--output", out, "--reduces", "3", "--name",
                           absl::StrCat("index ", kLatin1), "--wait"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << cluster_.LogTails();

  auto index = IndexerReference(files_);
  ASSERT_TRUE(index.ok()) << index.status();
  auto got = ReadJobOutput(out);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, SortLines(RenderIndex(*index)));
  // The output names the Latin-1 file by its bytes.
  EXPECT_THAT(*got, HasSubstr(absl::StrCat(kLatin1, ".txt")));

  const std::string escaped_out = absl::StrCat(cluster_.root_dir(), "/out-caf\\xe9");
  auto check_reports = [&](const std::string& when) {
    CommandResult list = Mrctl({"list"});
    EXPECT_EQ(list.exit_code, 0) << when << list.err;
    EXPECT_THAT(list.out, HasSubstr(escaped_out)) << when;
    CommandResult status = Mrctl({"status", "job-000001"});
    EXPECT_EQ(status.exit_code, 0) << when << status.err;
    EXPECT_THAT(status.out, HasSubstr("job job-000001 succeeded")) << when;
    EXPECT_THAT(status.out, HasSubstr(absl::StrCat("output: ", escaped_out,
                                                   " (3 part files)")))
        << when;
    CommandResult json = Mrctl({"status", "job-000001", "--json"});
    EXPECT_EQ(json.exit_code, 0) << when << json.err;
    EXPECT_THAT(json.out,
                HasSubstr(absl::StrCat("\"outputDir\": \"", cluster_.root_dir(),
                                       "/out-caf\\udce9\"")))
        << when;
    EXPECT_THAT(json.out, HasSubstr("/caf\\udce9.txt\"")) << when;
    EXPECT_THAT(json.out, HasSubstr("/tab\\there.txt\"")) << when;
    EXPECT_THAT(json.out, HasSubstr("\"name\": \"index caf\\udce9\"")) << when;
    auto parsed = ParseJobStatusJson(json.out);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->spec().output_dir(), out) << when;
    EXPECT_EQ(parsed->input_files(0), files_[0]) << when;
  };
  check_reports("before the restart");

  ASSERT_TRUE(cluster_.master()->Restart().ok()) << cluster_.LogTails();
  check_reports("after the restart");
}

TEST_F(NamesTest, ALatin1ParameterReachesTheJob) {
  const std::string out = cluster_.PathUnderRoot("grep-out");
  // One line holds the Latin-1 word; grep must see the byte as given.
  const std::string file = in_ + "/lines.txt";
  ASSERT_TRUE(WriteFileAtomically(
      file, absl::StrCat("un ", kLatin1, " noir\nun the vert\n")).ok());
  CommandResult r = Mrctl({"submit", "--app", "grep", "--param",
                           absl::StrCat("pattern=", kLatin1), "--input", file,
                           "--output", out, "--reduces", "1", "--wait"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << cluster_.LogTails();
  auto got = ReadJobOutput(out, {.expected_parts = 1, .check_key_order = false});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, absl::StrCat(file, ":1:un ", kLatin1, " noir\n"));
}

TEST_F(NamesTest, AnUnreadableStateRecordIsQuarantinedAndTheMasterServesTheRest) {
  const std::string out = cluster_.PathUnderRoot("wc-out");
  CommandResult r = Mrctl({"submit", "--app", "wordcount", "--input", in_,
                           "--output", out, "--wait"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  ASSERT_TRUE(cluster_.master()->Kill().ok());
  {
    auto store = MasterStore::Open(cluster_.root_dir() + "/master/db");
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->PutRawForTest("job/job-000077", "\x0a\xff").ok());
  }
  ASSERT_TRUE(cluster_.master()->Restart().ok()) << cluster_.LogTails();
  ASSERT_TRUE(cluster_.WaitForWorkerCount(2).ok()) << cluster_.LogTails();

  CommandResult list = Mrctl({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("job-000001"));
  EXPECT_THAT(list.out, ::testing::Not(HasSubstr("job-000077")));
  auto log = ReadFileToString(cluster_.master()->log_path());
  ASSERT_TRUE(log.ok());
  EXPECT_THAT(*log, HasSubstr("master state record job/job-000077 does not "
                              "parse (2 bytes); moved to "
                              "quarantine/job/job-000077 and left out"));
  // And it runs new jobs.
  const std::string out2 = cluster_.PathUnderRoot("wc-out-2");
  r = Mrctl({"submit", "--app", "wordcount", "--input", in_, "--output", out2,
             "--wait"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadJobOutput(out2).value_or("x"), ReadJobOutput(out).value_or("y"));
}

}  // namespace
}  // namespace test
}  // namespace mr
