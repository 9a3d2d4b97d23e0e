// Path confinement (common/path_policy.h) end to end: a master started with
// --allowed_input_roots / --allowed_output_roots refuses submissions whose
// paths lie elsewhere (by "..", by a symbolic link in a root, by a glob over
// a directory outside) with PERMISSION_DENIED and exit code 2, writes
// nothing outside, and keeps serving; a worker with roots of its own
// refuses tasks the master allowed, which fails the job at once with the
// worker's reason, and nothing is written outside.
//
// The tree, outside the cluster's own directory:
//   DIR/in/book-*.txt        inputs (the input root)
//   DIR/in/links/leak.txt    -> DIR/private.txt
//   DIR/out/                 the output root
//   DIR/out/escape           -> DIR/outside
//   DIR/outside/             must stay empty
//   DIR/private.txt          an input outside the roots
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"

namespace mr {
namespace test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PathConfinementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TMPDIR");
    std::string templ = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp",
                                     "/path_confinement_test.XXXXXX");
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    auto real = ResolvePath(templ);
    ASSERT_TRUE(real.ok()) << real.status();
    dir_ = *real;
    for (const char* d : {"/in/links", "/out", "/outside"}) {
      ASSERT_TRUE(MakeDirs(dir_ + d).ok());
    }
    absl::StatusOr<std::vector<std::string>> books = GutenbergFiles();
    ASSERT_TRUE(books.ok()) << books.status();
    ASSERT_GE(books->size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      const std::string copy = absl::StrCat(dir_, "/in/book-", i, ".txt");
      ASSERT_TRUE(CopyFile((*books)[i], copy, 0644).ok());
      inputs_.push_back(copy);
    }
    auto counts = WordCountReference(inputs_);
    ASSERT_TRUE(counts.ok()) << counts.status();
    expected_ = RenderWordCount(*counts);
    ASSERT_TRUE(
        WriteFileAtomically(dir_ + "/private.txt", "private words\n").ok());
    ASSERT_EQ(symlink((dir_ + "/private.txt").c_str(),
                      (dir_ + "/in/links/leak.txt").c_str()),
              0);
    ASSERT_EQ(
        symlink((dir_ + "/outside").c_str(), (dir_ + "/out/escape").c_str()),
        0);
  }

  void TearDown() override {
    cluster_.reset();
    if (getenv("MR_KEEP_TEST_DIRS") == nullptr) {
      EXPECT_TRUE(RemoveAll(dir_).ok());
    }
  }

  std::vector<std::string> RootFlags() const {
    return {"--allowed_input_roots=" + dir_ + "/in",
            "--allowed_output_roots=" + dir_ + "/out"};
  }

  void StartCluster(ExternalMiniClusterOptions options) {
    cluster_ = std::make_unique<ExternalMiniCluster>(options);
    absl::Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s;
  }

  // `mrctl submit --app wordcount --input INPUT --output OUTPUT` is refused
  // with exactly "mrctl: submission refused (PERMISSION_DENIED): REASON".
  void ExpectDenied(const std::string& input, const std::string& output,
                    const std::string& reason) {
    absl::StatusOr<CommandResult> r = cluster_->RunMrctl(
        {"submit", "--app", "wordcount", "--input", input, "--output", output});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, 2) << r->err;
    EXPECT_EQ(r->out, "");
    EXPECT_EQ(r->err, absl::StrCat("mrctl: submission refused "
                                   "(PERMISSION_DENIED): ",
                                   reason, "\n"));
  }

  // Submits a word count without waiting; its job id.
  std::string Submit(const std::string& input, const std::string& output) {
    absl::StatusOr<CommandResult> r = cluster_->RunMrctl(
        {"submit", "--app", "wordcount", "--input", input, "--output", output});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << r->err;
    return std::string(absl::StripSuffix(r->out, "\n"));
  }

  // A word count of the inputs into `output` succeeds, output as expected.
  void ExpectGoodJob(const std::string& output) {
    absl::StatusOr<CommandResult> r = cluster_->RunMrctl(
        {"submit", "--app", "wordcount", "--input", dir_ + "/in/book-*.txt",
         "--output", output, "--wait"});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << r->err << cluster_->LogTails();
    absl::StatusOr<std::string> got = ReadJobOutput(output);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == expected_) << "word count output differs";
  }

  // Nothing regular (a part file, a staged file) was ever left in `dir`.
  void ExpectNoFilesUnder(const std::string& dir) {
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(dir)) {
      EXPECT_FALSE(e.is_regular_file()) << e.path() << " written outside";
    }
  }

  std::string dir_;
  std::vector<std::string> inputs_;
  std::string expected_;
  std::unique_ptr<ExternalMiniCluster> cluster_;
};

TEST_F(PathConfinementTest, MasterRefusesPathsOutsideItsRoots) {
  ExternalMiniClusterOptions options;
  options.extra_master_flags = RootFlags();
  StartCluster(options);
  ASSERT_FALSE(HasFatalFailure());
  const std::string in = dir_ + "/in/book-*.txt";
  const std::string out_roots =
      absl::StrCat("the allowed output roots ", dir_,
                   "/out (--allowed_output_roots)");
  const std::string in_roots = absl::StrCat(
      "the allowed input roots ", dir_, "/in (--allowed_input_roots)");

  // The output escapes by ".." (mrctl sends the path made absolute, with
  // ".." applied; master_test checks a ".." the master receives).
  ExpectDenied(in, dir_ + "/out/../outside/dotdot",
               absl::StrCat("output ", dir_, "/outside/dotdot is outside ",
                            out_roots));
  // ... by a symbolic link inside the root that leads out.
  ExpectDenied(in, dir_ + "/out/escape/job",
               absl::StrCat("output ", dir_, "/out/escape/job resolves to ",
                            dir_, "/outside/job, outside ", out_roots));
  // ... by being elsewhere altogether, or a sibling sharing the prefix.
  ExpectDenied(in, dir_ + "/outside/job",
               absl::StrCat("output ", dir_, "/outside/job is outside ",
                            out_roots));
  // The root itself: the job would stage its output beside it.
  ExpectDenied(in, dir_ + "/out",
               absl::StrCat("output ", dir_, "/out is an allowed output root "
                            "itself: a job builds its output beside it, in ",
                            dir_, ", outside the allowed output roots ", dir_,
                            "/out (--allowed_output_roots); write to a "
                            "directory inside the root"));
  // An input outside the input roots.
  ExpectDenied(dir_ + "/private.txt", dir_ + "/out/job",
               absl::StrCat("input ", dir_, "/private.txt is outside ",
                            in_roots));
  // ... reached through a link in the input root.
  ExpectDenied(dir_ + "/in/links", dir_ + "/out/job",
               absl::StrCat("input ", dir_, "/in/links/leak.txt resolves to ",
                            dir_, "/private.txt, outside ", in_roots));
  // ... or listed by a glob over a directory outside.
  ExpectDenied(dir_ + "/*.txt", dir_ + "/out/job",
               absl::StrCat("the glob ", dir_, "/*.txt lists ", dir_,
                            ": input ", dir_, " is outside ", in_roots));
  ExpectNoFilesUnder(dir_ + "/outside");
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/outside"));
  EXPECT_FALSE(PathExists(dir_ + "/out/job"));

  // The cluster keeps serving: a job inside the roots succeeds.
  ExpectGoodJob(dir_ + "/out/good");
  ASSERT_FALSE(HasFatalFailure());
  // The job's shuffle secret is nowhere in what clients see.
  const std::string id = Submit(in, dir_ + "/out/good2");
  ASSERT_FALSE(id.empty());
  absl::StatusOr<mrpb::JobStatus> done = cluster_->WaitForJob(id);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), mrpb::JOB_SUCCEEDED) << done->error();
  absl::StatusOr<CommandResult> json =
      cluster_->RunMrctl({"status", id, "--json"});
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->exit_code, 0);
  EXPECT_THAT(json->out, HasSubstr(absl::StrCat("\"jobId\": \"", id)));
  EXPECT_THAT(json->out, Not(HasSubstr("secret")));
}

TEST_F(PathConfinementTest, WorkerRefusesWhatTheMasterAllowed) {
  ExternalMiniClusterOptions options;
  options.extra_worker_flags = RootFlags();  // the master has none
  StartCluster(options);
  ASSERT_FALSE(HasFatalFailure());
  const std::string in = dir_ + "/in/book-*.txt";

  // The output escapes through the link (the master, without roots, takes
  // its real path): the maps run, the first reduce is refused, and the job
  // fails at once, without retries.
  std::string id = Submit(in, dir_ + "/out/escape/job");
  ASSERT_FALSE(id.empty());
  absl::StatusOr<mrpb::JobStatus> status = cluster_->WaitForJob(id);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_FAILED);
  EXPECT_THAT(status->error(),
              HasSubstr(" failed 1 times; last error: worker "));
  EXPECT_THAT(status->error(),
              HasSubstr(absl::StrCat(
                  " refuses the task: output ", dir_,
                  "/outside/job is outside the allowed output roots ", dir_,
                  "/out (--allowed_output_roots)")));
  EXPECT_TRUE(absl::StartsWith(status->error(), "reduce task "))
      << status->error();
  ExpectNoFilesUnder(dir_ + "/outside");
  EXPECT_FALSE(PathExists(dir_ + "/outside/job"));

  // An input the worker may not read: the map is refused.
  id = Submit(dir_ + "/private.txt", dir_ + "/out/private");
  ASSERT_FALSE(id.empty());
  status = cluster_->WaitForJob(id);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), mrpb::JOB_FAILED);
  EXPECT_THAT(status->error(),
              HasSubstr(absl::StrCat(
                  "map task 0 failed 1 times; last error: worker ")));
  EXPECT_THAT(status->error(),
              HasSubstr(absl::StrCat(" refuses the task: input ", dir_,
                                     "/private.txt is outside the allowed "
                                     "input roots ",
                                     dir_, "/in (--allowed_input_roots)")));
  EXPECT_FALSE(PathExists(dir_ + "/out/private/_SUCCESS"));

  // The refusals are in the workers' logs.
  std::string logs;
  for (int i = 0; i < options.num_workers; ++i) {
    logs += ReadFileToString(cluster_->worker(i)->log_path()).value_or("");
  }
  EXPECT_THAT(logs, HasSubstr("refused by the path policy: output "));
  EXPECT_THAT(logs, HasSubstr("refused by the path policy: input "));

  // And the cluster still runs jobs inside the roots.
  ExpectGoodJob(dir_ + "/out/good");
}

}  // namespace
}  // namespace test
}  // namespace mr
