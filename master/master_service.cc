#include "master/master_service.h"

namespace mr {

grpc::Status MasterWorkerService::RegisterWorker(
    grpc::ServerContext*, const mrpb::RegisterWorkerRequest* request,
    mrpb::RegisterWorkerResponse* response) {
  if (request->address().empty() || request->slots() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "a worker registers with its address and slots");
  }
  *response = tracker_->Register(*request);
  return grpc::Status::OK;
}

grpc::Status MasterWorkerService::Heartbeat(grpc::ServerContext*,
                                      const mrpb::HeartbeatRequest* request,
                                      mrpb::HeartbeatResponse* response) {
  *response = tracker_->Heartbeat(*request);
  return grpc::Status::OK;
}

grpc::Status MasterWorkerService::CommitTask(grpc::ServerContext*,
                                       const mrpb::CommitTaskRequest* request,
                                       mrpb::CommitTaskResponse* response) {
  *response = tracker_->Commit(*request);
  return grpc::Status::OK;
}

grpc::Status MasterWorkerService::GetPlugin(grpc::ServerContext*,
                                      const mrpb::GetPluginRequest* request,
                                      mrpb::GetPluginResponse* response) {
  auto bytes = plugins_->Get(request->plugin_hash());
  response->set_found(bytes.ok());
  if (bytes.ok()) response->set_plugin(std::move(*bytes));
  return grpc::Status::OK;
}

grpc::Status MasterWorkerService::ReportFetchFailure(
    grpc::ServerContext*, const mrpb::ReportFetchFailureRequest* request,
    mrpb::ReportFetchFailureResponse*) {
  tracker_->ReportFetchFailure(*request);
  return grpc::Status::OK;
}

grpc::Status MasterWorkerService::GetMapOutputs(
    grpc::ServerContext*, const mrpb::GetMapOutputsRequest* request,
    mrpb::GetMapOutputsResponse* response) {
  *response = tracker_->GetMapOutputs(*request);
  return grpc::Status::OK;
}

grpc::Status MasterClientService::SubmitJob(grpc::ServerContext*,
                                      const mrpb::SubmitJobRequest* request,
                                      mrpb::SubmitJobResponse* response) {
  *response = tracker_->Submit(*request);
  return grpc::Status::OK;
}

grpc::Status MasterClientService::GetJobStatus(
    grpc::ServerContext*, const mrpb::GetJobStatusRequest* request,
    mrpb::GetJobStatusResponse* response) {
  auto status = tracker_->GetStatus(request->job_id());
  response->set_found(status.has_value());
  if (status) *response->mutable_status() = std::move(*status);
  return grpc::Status::OK;
}

grpc::Status MasterClientService::ListJobs(grpc::ServerContext*,
                                     const mrpb::ListJobsRequest* request,
                                     mrpb::ListJobsResponse* response) {
  for (auto& job : tracker_->ListJobs(request->all())) {
    *response->add_jobs() = std::move(job);
  }
  return grpc::Status::OK;
}

grpc::Status MasterClientService::KillJob(grpc::ServerContext*,
                                    const mrpb::KillJobRequest* request,
                                    mrpb::KillJobResponse* response) {
  *response = tracker_->Kill(request->job_id());
  return grpc::Status::OK;
}

grpc::Status MasterClientService::ListWorkers(grpc::ServerContext*,
                                        const mrpb::ListWorkersRequest*,
                                        mrpb::ListWorkersResponse* response) {
  for (auto& w : tracker_->ListWorkers()) *response->add_workers() = std::move(w);
  return grpc::Status::OK;
}

grpc::Status MasterClientService::RunPipeline(grpc::ServerContext*,
                                             const mrpb::RunPipelineRequest* request,
                                             mrpb::RunPipelineResponse* response) {
  *response = pipelines_->Run(*request);
  return grpc::Status::OK;
}

grpc::Status MasterClientService::GetPipelineRun(
    grpc::ServerContext*, const mrpb::GetPipelineRunRequest* request,
    mrpb::GetPipelineRunResponse* response) {
  std::optional<mrpb::PipelineRun> run = pipelines_->Get(request->run_id());
  response->set_found(run.has_value());
  if (run) *response->mutable_run() = std::move(*run);
  return grpc::Status::OK;
}

grpc::Status MasterClientService::ListPipelineRuns(
    grpc::ServerContext*, const mrpb::ListPipelineRunsRequest*,
    mrpb::ListPipelineRunsResponse* response) {
  for (auto& run : pipelines_->List()) *response->add_runs() = std::move(run);
  return grpc::Status::OK;
}

}  // namespace mr
