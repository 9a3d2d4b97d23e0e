// MasterClientService's authentication and authorization, through its
// handlers with the metadata a client would send (the cluster test,
// tests/auth_test.cc, covers the same through mrctl and real daemons).
#include "master/master_service.h"

#include <grpcpp/test/server_context_test_spouse.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "master/master_store.h"

namespace mr {
namespace {

constexpr char kSubmitToken[] = "submit-token-0123456789";
constexpr char kOtherSubmitToken[] = "submit-token-abcdefghij";
constexpr char kAdminToken[] = "admin-token-0123456789";

class MasterClientServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            absl::StrCat("master_service_test_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()
                             ->current_test_info()
                             ->name());
    ASSERT_TRUE(MakeDirs(root_ + "/in").ok());
    ASSERT_TRUE(WriteFileAtomically(root_ + "/in/a.txt", "a b\nc d\n").ok());
    auto auth = ClientAuthenticator::Parse(
        absl::StrCat(kSubmitToken, " submit etl\n", kOtherSubmitToken,
                     " submit bob\n", kAdminToken, " admin alice\n"),
        "tokens");
    ASSERT_TRUE(auth.ok()) << auth.status();
    options_.client_auth =
        std::make_shared<const ClientAuthenticator>(std::move(*auth));
    options_.state_dir = root_ + "/state";
    Start();
  }
  void TearDown() override {
    Stop();
    RemoveAll(root_).IgnoreError();
  }

  // (Re)starts the master's parts on the same state directory.
  void Start() {
    plugins_ = std::make_unique<PluginStore>(root_ + "/state/plugins");
    ASSERT_TRUE(plugins_->Init().ok());
    auto store = MasterStore::Open(root_ + "/state/db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    tracker_ = std::make_unique<JobTracker>(options_, plugins_.get(), store_.get());
    ASSERT_TRUE(tracker_->Restore().ok());
    PipelineRunnerOptions pipeline_options;
    pipeline_options.staging_dir = root_ + "/staging";
    pipelines_ = std::make_unique<PipelineRunner>(pipeline_options,
                                                  tracker_.get(), store_.get());
    ASSERT_TRUE(pipelines_->Restore().ok());
    service_ = std::make_unique<MasterClientService>(tracker_.get(),
                                                     pipelines_.get());
  }
  void Stop() {
    service_.reset();
    pipelines_.reset();
    tracker_.reset();
    store_.reset();
    plugins_.reset();
  }

  // A server context whose client sent `token` ("": no authorization).
  struct Context {
    explicit Context(const std::string& token) : spouse(&ctx) {
      if (!token.empty()) {
        spouse.AddClientMetadata("authorization",
                                 absl::StrCat("Bearer ", token));
      }
    }
    grpc::ServerContext ctx;
    grpc::testing::ServerContextTestSpouse spouse;
  };

  mrpb::SubmitJobRequest WordCount(const std::string& out) {
    mrpb::SubmitJobRequest r;
    r.mutable_spec()->set_app("wordcount");
    r.mutable_spec()->add_inputs(root_ + "/in/a.txt");
    r.mutable_spec()->set_output_dir(root_ + "/" + out);
    return r;
  }

  grpc::Status Submit(const std::string& token,
                      const mrpb::SubmitJobRequest& request,
                      mrpb::SubmitJobResponse* response) {
    Context c(token);
    return service_->SubmitJob(&c.ctx, &request, response);
  }

  // Submits word count as `token`'s holder; returns the job id.
  std::string SubmitOk(const std::string& token, const std::string& out) {
    mrpb::SubmitJobResponse r;
    grpc::Status s = Submit(token, WordCount(out), &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::OK) << r.message();
    return r.job_id();
  }

  grpc::Status Kill(const std::string& token, const std::string& job_id,
                    mrpb::KillJobResponse* response) {
    Context c(token);
    mrpb::KillJobRequest request;
    request.set_job_id(job_id);
    return service_->KillJob(&c.ctx, &request, response);
  }

  std::string root_;
  MasterOptions options_;
  std::unique_ptr<PluginStore> plugins_;
  std::unique_ptr<MasterStore> store_;
  std::unique_ptr<JobTracker> tracker_;
  std::unique_ptr<PipelineRunner> pipelines_;
  std::unique_ptr<MasterClientService> service_;
};

void ExpectStatus(const grpc::Status& s, grpc::StatusCode code,
                  const std::string& message) {
  EXPECT_EQ(s.error_code(), code) << s.error_message();
  EXPECT_EQ(s.error_message(), message);
}

constexpr char kPipeline[] = R"yaml(pipeline: words
partition: {column: dt, timezone: UTC}
steps:
  - name: books
    extract: {files: "/data/books/dt={{dt}}/*.txt", format: text}
  - name: counts
    transform:
      input: books
      job: {app: APP, params: {mapper: cat, pattern: x}}
)yaml";

mrpb::RunPipelineRequest Pipeline(const std::string& app) {
  std::string yaml = kPipeline;
  yaml.replace(yaml.find("APP"), 3, app);
  mrpb::RunPipelineRequest r;
  r.set_yaml(yaml);
  r.set_file("words.yaml");
  r.set_dt("2024-05-01");
  return r;
}

TEST_F(MasterClientServiceTest, EveryRpcNeedsAKnownToken) {
  for (const std::string& token : {std::string(), std::string("not-a-token-at-all")}) {
    SCOPED_TRACE(token);
    const std::string message =
        token.empty() ? "missing bearer token" : "unknown bearer token";
    auto expect = [&](const grpc::Status& s) {
      ExpectStatus(s, grpc::StatusCode::UNAUTHENTICATED, message);
    };
    mrpb::SubmitJobResponse submit;
    expect(Submit(token, WordCount("out"), &submit));
    mrpb::KillJobResponse kill;
    expect(Kill(token, "job-000001", &kill));
    {
      Context c(token);
      mrpb::GetJobStatusRequest req;
      mrpb::GetJobStatusResponse resp;
      expect(service_->GetJobStatus(&c.ctx, &req, &resp));
    }
    {
      Context c(token);
      mrpb::ListJobsRequest req;
      mrpb::ListJobsResponse resp;
      expect(service_->ListJobs(&c.ctx, &req, &resp));
    }
    {
      Context c(token);
      mrpb::ListWorkersRequest req;
      mrpb::ListWorkersResponse resp;
      expect(service_->ListWorkers(&c.ctx, &req, &resp));
    }
    {
      Context c(token);
      mrpb::RunPipelineRequest req = Pipeline("grep");
      mrpb::RunPipelineResponse resp;
      expect(service_->RunPipeline(&c.ctx, &req, &resp));
    }
    {
      Context c(token);
      mrpb::GetPipelineRunRequest req;
      mrpb::GetPipelineRunResponse resp;
      expect(service_->GetPipelineRun(&c.ctx, &req, &resp));
    }
    {
      Context c(token);
      mrpb::ListPipelineRunsRequest req;
      mrpb::ListPipelineRunsResponse resp;
      expect(service_->ListPipelineRuns(&c.ctx, &req, &resp));
    }
  }
  // Nothing was submitted.
  EXPECT_TRUE(tracker_->ListJobs(true).empty());
}

TEST_F(MasterClientServiceTest, AnyRoleReadsAndTheSubmitterOwnsItsJob) {
  const std::string id = SubmitOk(kSubmitToken, "out");
  Context c(kOtherSubmitToken);
  mrpb::GetJobStatusRequest req;
  req.set_job_id(id);
  mrpb::GetJobStatusResponse resp;
  ASSERT_TRUE(service_->GetJobStatus(&c.ctx, &req, &resp).ok());
  ASSERT_TRUE(resp.found());
  EXPECT_EQ(resp.status().owner(), "etl");

  Context list_ctx(kAdminToken);
  mrpb::ListJobsRequest list_req;
  mrpb::ListJobsResponse list;
  ASSERT_TRUE(service_->ListJobs(&list_ctx.ctx, &list_req, &list).ok());
  ASSERT_EQ(list.jobs_size(), 1);
  EXPECT_EQ(list.jobs(0).owner(), "etl");
}

TEST_F(MasterClientServiceTest, TheOwnerSurvivesARestart) {
  const std::string id = SubmitOk(kAdminToken, "out");
  Stop();
  Start();
  std::optional<mrpb::JobStatus> status = tracker_->GetStatus(id);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->owner(), "alice");
}

TEST_F(MasterClientServiceTest, OnlyPluginRolesShipCode) {
  mrpb::SubmitJobRequest plugin = WordCount("p");
  plugin.mutable_spec()->clear_app();
  plugin.mutable_spec()->set_plugin_name("libwc.so");
  plugin.set_plugin("\x7f" "ELF...");
  mrpb::SubmitJobRequest streaming = WordCount("s");
  streaming.mutable_spec()->set_app("streaming");
  mrpb::Param* p = streaming.mutable_spec()->add_params();
  p->set_key("mapper");
  p->set_value("cat");
  // An app with a stored plugin's hash would load that plugin.
  mrpb::SubmitJobRequest by_hash = WordCount("h");
  by_hash.mutable_spec()->set_plugin_hash("0123abcd");

  const std::string tail =
      ": it runs code of its own on the workers, which only the roles of the "
      "master's --plugin_roles (admin) may";
  mrpb::SubmitJobResponse r;
  ExpectStatus(Submit(kSubmitToken, plugin, &r),
               grpc::StatusCode::PERMISSION_DENIED,
               "role 'submit' (etl) may not submit a plugin job" + tail);
  ExpectStatus(Submit(kSubmitToken, by_hash, &r),
               grpc::StatusCode::PERMISSION_DENIED,
               "role 'submit' (etl) may not submit a plugin job" + tail);
  ExpectStatus(Submit(kSubmitToken, streaming, &r),
               grpc::StatusCode::PERMISSION_DENIED,
               "role 'submit' (etl) may not submit a streaming job" + tail);
  EXPECT_TRUE(tracker_->ListJobs(true).empty());

  // An admin passes: this master has no plugin validator, so the plugin is
  // refused for that reason, and the streaming job runs.
  ASSERT_TRUE(Submit(kAdminToken, plugin, &r).ok());
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::BAD_PLUGIN) << r.message();
  ASSERT_TRUE(Submit(kAdminToken, streaming, &r).ok());
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::OK) << r.message();
}

TEST_F(MasterClientServiceTest, PluginRolesMayIncludeSubmit) {
  Stop();
  options_.plugin_roles = {ClientRole::kSubmit, ClientRole::kAdmin};
  Start();
  mrpb::SubmitJobRequest streaming = WordCount("s");
  streaming.mutable_spec()->set_app("streaming");
  mrpb::Param* p = streaming.mutable_spec()->add_params();
  p->set_key("mapper");
  p->set_value("cat");
  mrpb::SubmitJobResponse r;
  ASSERT_TRUE(Submit(kSubmitToken, streaming, &r).ok());
  EXPECT_EQ(r.error(), mrpb::SubmitJobResponse::OK) << r.message();

  // And may be empty: nobody, not even an admin.
  Stop();
  options_.plugin_roles = {};
  Start();
  ExpectStatus(Submit(kAdminToken, WordCount("s2"), &r), grpc::StatusCode::OK, "");
  streaming.mutable_spec()->set_output_dir(root_ + "/s3");
  ExpectStatus(Submit(kAdminToken, streaming, &r),
               grpc::StatusCode::PERMISSION_DENIED,
               "role 'admin' (alice) may not submit a streaming job: it runs "
               "code of its own on the workers, which only the roles of the "
               "master's --plugin_roles (none) may");
}

TEST_F(MasterClientServiceTest, KillNeedsAdminOrTheOwner) {
  const std::string admins = SubmitOk(kAdminToken, "a");
  const std::string etls = SubmitOk(kSubmitToken, "e");
  const std::string bobs = SubmitOk(kOtherSubmitToken, "b");
  mrpb::KillJobResponse r;
  ExpectStatus(Kill(kSubmitToken, admins, &r),
               grpc::StatusCode::PERMISSION_DENIED,
               "role 'submit' (etl) may not kill " + admins +
                   " (owner alice): that needs role 'admin' or to own the job");
  ExpectStatus(Kill(kOtherSubmitToken, etls, &r),
               grpc::StatusCode::PERMISSION_DENIED,
               "role 'submit' (bob) may not kill " + etls +
                   " (owner etl): that needs role 'admin' or to own the job");
  EXPECT_EQ(tracker_->GetStatus(admins)->state(), mrpb::JOB_RUNNING);
  EXPECT_EQ(tracker_->GetStatus(etls)->state(), mrpb::JOB_RUNNING);

  ASSERT_TRUE(Kill(kSubmitToken, etls, &r).ok());
  EXPECT_EQ(r.error(), mrpb::KillJobResponse::OK);
  ASSERT_TRUE(Kill(kAdminToken, bobs, &r).ok());
  EXPECT_EQ(r.error(), mrpb::KillJobResponse::OK);
  EXPECT_EQ(tracker_->GetStatus(etls)->state(), mrpb::JOB_KILLED);
  EXPECT_EQ(tracker_->GetStatus(bobs)->state(), mrpb::JOB_KILLED);
  // An unknown job is not found, whoever asks.
  ASSERT_TRUE(Kill(kSubmitToken, "job-999999", &r).ok());
  EXPECT_EQ(r.error(), mrpb::KillJobResponse::NOT_FOUND);
}

TEST_F(MasterClientServiceTest, PipelinesWithStreamingStepsNeedAPluginRole) {
  Context denied(kSubmitToken);
  mrpb::RunPipelineRequest streaming = Pipeline("streaming");
  mrpb::RunPipelineResponse r;
  ExpectStatus(
      service_->RunPipeline(&denied.ctx, &streaming, &r),
      grpc::StatusCode::PERMISSION_DENIED,
      "role 'submit' (etl) may not submit a pipeline with a streaming step "
      "('counts'): it runs code of its own on the workers, which only the "
      "roles of the master's --plugin_roles (admin) may");

  Context allowed(kSubmitToken);
  mrpb::RunPipelineRequest grep = Pipeline("grep");
  ASSERT_TRUE(service_->RunPipeline(&allowed.ctx, &grep, &r).ok());
  ASSERT_EQ(r.error(), mrpb::RunPipelineResponse::OK) << r.message();
  std::optional<mrpb::PipelineRun> run = pipelines_->Get(r.run_id());
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->owner(), "etl");

  Context admin(kAdminToken);
  streaming.set_dt("2024-05-02");
  ASSERT_TRUE(service_->RunPipeline(&admin.ctx, &streaming, &r).ok());
  EXPECT_EQ(r.error(), mrpb::RunPipelineResponse::OK) << r.message();
}

TEST_F(MasterClientServiceTest, WithoutTokensEveryoneIsAnAnonymousAdmin) {
  Stop();
  options_.client_auth = nullptr;
  Start();
  const std::string id = SubmitOk("", "out");
  EXPECT_EQ(tracker_->GetStatus(id)->owner(), "anonymous");
  mrpb::KillJobResponse r;
  ASSERT_TRUE(Kill("", id, &r).ok());
  EXPECT_EQ(r.error(), mrpb::KillJobResponse::OK);
}

}  // namespace
}  // namespace mr
