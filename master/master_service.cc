#include "master/master_service.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/names.h"
#include "common/pipeline_spec.h"

namespace mr {

grpc::Status MasterWorkerService::CheckPeer(const grpc::ServerContext& context,
                                            const char* what) const {
  return ToGrpcStatus(RequireClusterPeer(*tls_, context, what));
}

grpc::Status MasterWorkerService::RegisterWorker(
    grpc::ServerContext* context, const mrpb::RegisterWorkerRequest* request,
    mrpb::RegisterWorkerResponse* response) {
  grpc::Status peer = CheckPeer(*context, "registering as a worker");
  if (!peer.ok()) return peer;
  if (request->address().empty() || request->slots() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "a worker registers with its address and slots");
  }
  *response = tracker_->Register(*request);
  return grpc::Status::OK;
}

grpc::Status MasterWorkerService::Heartbeat(grpc::ServerContext* context,
                                      const mrpb::HeartbeatRequest* request,
                                      mrpb::HeartbeatResponse* response) {
  grpc::Status peer = CheckPeer(*context, "a worker heartbeat");
  if (!peer.ok()) return peer;
  *response = tracker_->Heartbeat(*request);
  return grpc::Status::OK;
}

grpc::Status MasterWorkerService::CommitTask(grpc::ServerContext* context,
                                       const mrpb::CommitTaskRequest* request,
                                       mrpb::CommitTaskResponse* response) {
  grpc::Status peer = CheckPeer(*context, "committing a task");
  if (!peer.ok()) return peer;
  *response = tracker_->Commit(*request);
  return grpc::Status::OK;
}

grpc::Status MasterWorkerService::GetPlugin(grpc::ServerContext* context,
                                      const mrpb::GetPluginRequest* request,
                                      mrpb::GetPluginResponse* response) {
  grpc::Status peer = CheckPeer(*context, "downloading a plugin");
  if (!peer.ok()) return peer;
  auto bytes = plugins_->Get(request->plugin_hash());
  response->set_found(bytes.ok());
  if (bytes.ok()) response->set_plugin(std::move(*bytes));
  return grpc::Status::OK;
}

grpc::Status MasterWorkerService::ReportFetchFailure(
    grpc::ServerContext* context, const mrpb::ReportFetchFailureRequest* request,
    mrpb::ReportFetchFailureResponse*) {
  grpc::Status peer = CheckPeer(*context, "reporting a fetch failure");
  if (!peer.ok()) return peer;
  tracker_->ReportFetchFailure(*request);
  return grpc::Status::OK;
}

grpc::Status MasterWorkerService::GetMapOutputs(
    grpc::ServerContext* context, const mrpb::GetMapOutputsRequest* request,
    mrpb::GetMapOutputsResponse* response) {
  grpc::Status peer = CheckPeer(*context, "asking for map outputs");
  if (!peer.ok()) return peer;
  *response = tracker_->GetMapOutputs(*request);
  return grpc::Status::OK;
}

// ------------------------------------------------------------------ clients

namespace {

// The built-in app that runs the job's own shell commands (apps/streaming.h).
constexpr char kStreamingApp[] = "streaming";

// What of its own a submission would make the workers run: "a plugin job"
// (native code), "a streaming job" (shell commands), or "" (a built-in app
// only). A plugin_hash counts too: it names a stored plugin to load.
std::string OwnCodeOf(const mrpb::SubmitJobRequest& request) {
  const mrpb::JobSpec& spec = request.spec();
  if (!request.plugin().empty() || !spec.plugin_name().empty() ||
      !spec.plugin_hash().empty()) {
    return "a plugin job";
  }
  if (spec.app() == kStreamingApp) return "a streaming job";
  return "";
}

// The same for a pipeline: its streaming steps. A pipeline that does not
// parse runs nothing; PipelineRunner::Run() says why.
std::string OwnCodeOf(const mrpb::RunPipelineRequest& request) {
  absl::StatusOr<PipelineSpec> spec =
      ParsePipeline(request.yaml(), request.file());
  if (!spec.ok()) return "";
  for (const PipelineStep& step : spec->steps) {
    if (step.transform.job.has_value() &&
        step.transform.job->app == kStreamingApp) {
      return absl::StrCat("a pipeline with a streaming step ('",
                          EscapeName(step.name), "')");
    }
  }
  return "";
}

std::string RoleList(const std::vector<ClientRole>& roles) {
  if (roles.empty()) return "none";
  std::vector<std::string> names;
  for (ClientRole r : roles) names.push_back(ClientRoleName(r));
  return absl::StrJoin(names, ",");
}

std::string Describe(const ClientCaller& caller) {
  return absl::StrCat("role '", ClientRoleName(caller.role), "' (",
                      EscapeName(caller.name), ")");
}

grpc::Status Denied(const ClientCaller& caller, const char* rpc,
                    const std::string& message) {
  MR_LOG(WARNING) << rpc << " by " << EscapeName(caller.name)
                  << " refused: " << message;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, message);
}

}  // namespace

MasterClientService::MasterClientService(JobTracker* tracker,
                                         PipelineRunner* pipelines)
    : tracker_(tracker),
      pipelines_(pipelines),
      auth_(tracker->options().client_auth != nullptr
                ? tracker->options().client_auth
                : std::make_shared<const ClientAuthenticator>()),
      plugin_roles_(tracker->options().plugin_roles) {}

absl::StatusOr<ClientCaller> MasterClientService::Authenticate(
    const grpc::ServerContext& context, const char* rpc) const {
  absl::StatusOr<ClientCaller> caller = auth_->Authenticate(context);
  if (!caller.ok()) {
    // The message names no token; neither does this line.
    MR_LOG(WARNING) << rpc << " from " << context.peer()
                    << " refused: " << caller.status().message();
  }
  return caller;
}

absl::Status MasterClientService::CheckMayRunOwnCode(
    const ClientCaller& caller, const std::string& what) const {
  if (std::find(plugin_roles_.begin(), plugin_roles_.end(), caller.role) !=
      plugin_roles_.end()) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      Describe(caller), " may not submit ", what,
      ": it runs code of its own on the workers, which only the roles of "
      "the master's --plugin_roles (",
      RoleList(plugin_roles_), ") may"));
}

grpc::Status MasterClientService::SubmitJob(grpc::ServerContext* context,
                                      const mrpb::SubmitJobRequest* request,
                                      mrpb::SubmitJobResponse* response) {
  absl::StatusOr<ClientCaller> caller = Authenticate(*context, "SubmitJob");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  // Both roles submit today; the check stays for roles to come.
  if (caller->role != ClientRole::kSubmit && caller->role != ClientRole::kAdmin) {
    return Denied(*caller, "SubmitJob",
                  absl::StrCat(Describe(*caller),
                               " may not submit jobs: that needs role "
                               "'submit' or 'admin'"));
  }
  // Before the validator: it loads a plugin (in a child process) to check it.
  const std::string own_code = OwnCodeOf(*request);
  if (!own_code.empty()) {
    absl::Status s = CheckMayRunOwnCode(*caller, own_code);
    if (!s.ok()) return Denied(*caller, "SubmitJob", std::string(s.message()));
  }
  *response = tracker_->Submit(*request, caller->name);
  return grpc::Status::OK;
}

grpc::Status MasterClientService::GetJobStatus(
    grpc::ServerContext* context, const mrpb::GetJobStatusRequest* request,
    mrpb::GetJobStatusResponse* response) {
  absl::StatusOr<ClientCaller> caller = Authenticate(*context, "GetJobStatus");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto status = tracker_->GetStatus(request->job_id());
  response->set_found(status.has_value());
  if (status) *response->mutable_status() = std::move(*status);
  return grpc::Status::OK;
}

grpc::Status MasterClientService::ListJobs(grpc::ServerContext* context,
                                     const mrpb::ListJobsRequest* request,
                                     mrpb::ListJobsResponse* response) {
  absl::StatusOr<ClientCaller> caller = Authenticate(*context, "ListJobs");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  for (auto& job : tracker_->ListJobs(request->all())) {
    *response->add_jobs() = std::move(job);
  }
  return grpc::Status::OK;
}

grpc::Status MasterClientService::KillJob(grpc::ServerContext* context,
                                    const mrpb::KillJobRequest* request,
                                    mrpb::KillJobResponse* response) {
  absl::StatusOr<ClientCaller> caller = Authenticate(*context, "KillJob");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (caller->role != ClientRole::kAdmin) {
    // An unknown job falls through: Kill() answers NOT_FOUND. A job's owner
    // never changes, so reading it before the kill is not a race.
    std::optional<mrpb::JobStatus> job = tracker_->GetStatus(request->job_id());
    if (job.has_value() && job->owner() != caller->name) {
      return Denied(
          *caller, "KillJob",
          absl::StrCat(Describe(*caller), " may not kill ", job->job_id(),
                       job->owner().empty()
                           ? ""
                           : absl::StrCat(" (owner ", EscapeName(job->owner()), ")"),
                       ": that needs role 'admin' or to own the job"));
    }
  }
  *response = tracker_->Kill(request->job_id());
  if (response->error() == mrpb::KillJobResponse::OK) {
    MR_LOG(INFO) << request->job_id() << " killed by " << EscapeName(caller->name);
  }
  return grpc::Status::OK;
}

grpc::Status MasterClientService::ListWorkers(grpc::ServerContext* context,
                                        const mrpb::ListWorkersRequest*,
                                        mrpb::ListWorkersResponse* response) {
  absl::StatusOr<ClientCaller> caller = Authenticate(*context, "ListWorkers");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  for (auto& w : tracker_->ListWorkers()) *response->add_workers() = std::move(w);
  return grpc::Status::OK;
}

grpc::Status MasterClientService::RunPipeline(grpc::ServerContext* context,
                                             const mrpb::RunPipelineRequest* request,
                                             mrpb::RunPipelineResponse* response) {
  absl::StatusOr<ClientCaller> caller = Authenticate(*context, "RunPipeline");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (caller->role != ClientRole::kSubmit && caller->role != ClientRole::kAdmin) {
    return Denied(*caller, "RunPipeline",
                  absl::StrCat(Describe(*caller),
                               " may not run pipelines: that needs role "
                               "'submit' or 'admin'"));
  }
  const std::string own_code = OwnCodeOf(*request);
  if (!own_code.empty()) {
    absl::Status s = CheckMayRunOwnCode(*caller, own_code);
    if (!s.ok()) return Denied(*caller, "RunPipeline", std::string(s.message()));
  }
  *response = pipelines_->Run(*request, caller->name);
  return grpc::Status::OK;
}

grpc::Status MasterClientService::GetPipelineRun(
    grpc::ServerContext* context, const mrpb::GetPipelineRunRequest* request,
    mrpb::GetPipelineRunResponse* response) {
  absl::StatusOr<ClientCaller> caller = Authenticate(*context, "GetPipelineRun");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  std::optional<mrpb::PipelineRun> run = pipelines_->Get(request->run_id());
  response->set_found(run.has_value());
  if (run) *response->mutable_run() = std::move(*run);
  return grpc::Status::OK;
}

grpc::Status MasterClientService::ListPipelineRuns(
    grpc::ServerContext* context, const mrpb::ListPipelineRunsRequest*,
    mrpb::ListPipelineRunsResponse* response) {
  absl::StatusOr<ClientCaller> caller =
      Authenticate(*context, "ListPipelineRuns");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  for (auto& run : pipelines_->List()) *response->add_runs() = std::move(run);
  return grpc::Status::OK;
}

}  // namespace mr
