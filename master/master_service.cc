#include "master/master_service.h"

namespace mr {

grpc::Status MasterService::RegisterWorker(
    grpc::ServerContext*, const mrpb::RegisterWorkerRequest* request,
    mrpb::RegisterWorkerResponse* response) {
  if (request->address().empty() || request->slots() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "a worker registers with its address and slots");
  }
  *response = tracker_->Register(*request);
  return grpc::Status::OK;
}

grpc::Status MasterService::Heartbeat(grpc::ServerContext*,
                                      const mrpb::HeartbeatRequest* request,
                                      mrpb::HeartbeatResponse* response) {
  *response = tracker_->Heartbeat(*request);
  return grpc::Status::OK;
}

grpc::Status MasterService::CommitTask(grpc::ServerContext*,
                                       const mrpb::CommitTaskRequest* request,
                                       mrpb::CommitTaskResponse* response) {
  *response = tracker_->Commit(*request);
  return grpc::Status::OK;
}

grpc::Status MasterService::GetPlugin(grpc::ServerContext*,
                                      const mrpb::GetPluginRequest* request,
                                      mrpb::GetPluginResponse* response) {
  auto bytes = plugins_->Get(request->plugin_hash());
  response->set_found(bytes.ok());
  if (bytes.ok()) response->set_plugin(std::move(*bytes));
  return grpc::Status::OK;
}

grpc::Status MasterService::ReportFetchFailure(
    grpc::ServerContext*, const mrpb::ReportFetchFailureRequest* request,
    mrpb::ReportFetchFailureResponse*) {
  tracker_->ReportFetchFailure(*request);
  return grpc::Status::OK;
}

grpc::Status MasterService::GetMapOutputs(
    grpc::ServerContext*, const mrpb::GetMapOutputsRequest* request,
    mrpb::GetMapOutputsResponse* response) {
  *response = tracker_->GetMapOutputs(*request);
  return grpc::Status::OK;
}

grpc::Status MasterService::SubmitJob(grpc::ServerContext*,
                                      const mrpb::SubmitJobRequest* request,
                                      mrpb::SubmitJobResponse* response) {
  *response = tracker_->Submit(*request);
  return grpc::Status::OK;
}

grpc::Status MasterService::GetJobStatus(
    grpc::ServerContext*, const mrpb::GetJobStatusRequest* request,
    mrpb::GetJobStatusResponse* response) {
  auto status = tracker_->GetStatus(request->job_id());
  response->set_found(status.has_value());
  if (status) *response->mutable_status() = std::move(*status);
  return grpc::Status::OK;
}

grpc::Status MasterService::ListJobs(grpc::ServerContext*,
                                     const mrpb::ListJobsRequest*,
                                     mrpb::ListJobsResponse* response) {
  for (auto& job : tracker_->ListJobs()) *response->add_jobs() = std::move(job);
  return grpc::Status::OK;
}

grpc::Status MasterService::KillJob(grpc::ServerContext*,
                                    const mrpb::KillJobRequest* request,
                                    mrpb::KillJobResponse* response) {
  *response = tracker_->Kill(request->job_id());
  return grpc::Status::OK;
}

grpc::Status MasterService::ListWorkers(grpc::ServerContext*,
                                        const mrpb::ListWorkersRequest*,
                                        mrpb::ListWorkersResponse* response) {
  for (auto& w : tracker_->ListWorkers()) *response->add_workers() = std::move(w);
  return grpc::Status::OK;
}

}  // namespace mr
