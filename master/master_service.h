// The master's gRPC services: thin handlers over JobTracker.
// MasterClientService answers clients (client.proto); MasterWorkerService
// answers workers (worker.proto). Both are served on the master's one port.
//
// Thread-safety: thread-safe (JobTracker is).
#ifndef MR_MASTER_MASTER_SERVICE_H_
#define MR_MASTER_MASTER_SERVICE_H_

#include "master/job_tracker.h"
#include "master/pipeline/pipeline_runner.h"
#include "master/plugin_store.h"
#include "proto/client.grpc.pb.h"
#include "proto/worker.grpc.pb.h"

namespace mr {

class MasterWorkerService final : public mrpb::MasterWorkerService::Service {
 public:
  // Both must outlive the service.
  MasterWorkerService(JobTracker* tracker, PluginStore* plugins)
      : tracker_(tracker), plugins_(plugins) {}
  grpc::Status RegisterWorker(grpc::ServerContext*,
                              const mrpb::RegisterWorkerRequest* request,
                              mrpb::RegisterWorkerResponse* response) override;
  grpc::Status Heartbeat(grpc::ServerContext*,
                         const mrpb::HeartbeatRequest* request,
                         mrpb::HeartbeatResponse* response) override;
  grpc::Status CommitTask(grpc::ServerContext*,
                          const mrpb::CommitTaskRequest* request,
                          mrpb::CommitTaskResponse* response) override;
  grpc::Status GetPlugin(grpc::ServerContext*,
                         const mrpb::GetPluginRequest* request,
                         mrpb::GetPluginResponse* response) override;
  grpc::Status ReportFetchFailure(
      grpc::ServerContext*, const mrpb::ReportFetchFailureRequest* request,
      mrpb::ReportFetchFailureResponse* response) override;
  grpc::Status GetMapOutputs(grpc::ServerContext*,
                             const mrpb::GetMapOutputsRequest* request,
                             mrpb::GetMapOutputsResponse* response) override;
 private:
  JobTracker* const tracker_;
  PluginStore* const plugins_;
};

class MasterClientService final : public mrpb::MasterClientService::Service {
 public:
  // Both must outlive the service.
  MasterClientService(JobTracker* tracker, PipelineRunner* pipelines)
      : tracker_(tracker), pipelines_(pipelines) {}

  grpc::Status SubmitJob(grpc::ServerContext*,
                         const mrpb::SubmitJobRequest* request,
                         mrpb::SubmitJobResponse* response) override;
  grpc::Status GetJobStatus(grpc::ServerContext*,
                            const mrpb::GetJobStatusRequest* request,
                            mrpb::GetJobStatusResponse* response) override;
  grpc::Status ListJobs(grpc::ServerContext*,
                        const mrpb::ListJobsRequest* request,
                        mrpb::ListJobsResponse* response) override;
  grpc::Status KillJob(grpc::ServerContext*,
                       const mrpb::KillJobRequest* request,
                       mrpb::KillJobResponse* response) override;
  grpc::Status ListWorkers(grpc::ServerContext*,
                           const mrpb::ListWorkersRequest*,
                           mrpb::ListWorkersResponse* response) override;
  grpc::Status RunPipeline(grpc::ServerContext*,
                           const mrpb::RunPipelineRequest* request,
                           mrpb::RunPipelineResponse* response) override;
  grpc::Status GetPipelineRun(grpc::ServerContext*,
                              const mrpb::GetPipelineRunRequest* request,
                              mrpb::GetPipelineRunResponse* response) override;
  grpc::Status ListPipelineRuns(grpc::ServerContext*,
                                const mrpb::ListPipelineRunsRequest*,
                                mrpb::ListPipelineRunsResponse* response) override;

 private:
  JobTracker* const tracker_;
  PipelineRunner* const pipelines_;
};

}  // namespace mr

#endif  // MR_MASTER_MASTER_SERVICE_H_
