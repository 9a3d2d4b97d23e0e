// The master's gRPC services: thin handlers over JobTracker.
// MasterClientService answers clients (client.proto); MasterWorkerService
// answers workers (worker.proto). Both are served on the master's one port.
//
// Thread-safety: thread-safe (JobTracker is).
#ifndef MR_MASTER_MASTER_SERVICE_H_
#define MR_MASTER_MASTER_SERVICE_H_

#include "common/tls.h"
#include "master/client_auth.h"
#include "master/job_tracker.h"
#include "master/pipeline/pipeline_runner.h"
#include "master/plugin_store.h"
#include "proto/client.grpc.pb.h"
#include "proto/worker.grpc.pb.h"

namespace mr {

class MasterWorkerService final : public mrpb::MasterWorkerService::Service {
 public:
  // All must outlive the service. With TLS, every RPC needs a peer that
  // presented the cluster's certificate (mutual TLS): only daemons register,
  // take tasks, commit, or download plugins.
  MasterWorkerService(JobTracker* tracker, PluginStore* plugins,
                      const TlsConfig* tls)
      : tracker_(tracker), plugins_(plugins), tls_(tls) {}
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
  grpc::Status CheckPeer(const grpc::ServerContext& context,
                         const char* what) const;

  JobTracker* const tracker_;
  PluginStore* const plugins_;
  const TlsConfig* const tls_;
};

// Every RPC needs a caller that tracker->options().client_auth
// authenticates (master/client_auth.h), or gets UNAUTHENTICATED. Then:
//   status, list, workers, pipeline status/list   any role
//   SubmitJob, RunPipeline                        submit or admin; a job
//       that runs the caller's own code (a plugin, a streaming job; in a
//       pipeline, a streaming step) only a role of options().plugin_roles
//   KillJob                                       admin, or the job's owner
// and PERMISSION_DENIED otherwise, naming the caller's role and what it
// needed. The submitter's name is the job's (or run's) owner.
class MasterClientService final : public mrpb::MasterClientService::Service {
 public:
  // Both must outlive the service. The authenticator and the plugin roles
  // come from tracker->options().
  MasterClientService(JobTracker* tracker, PipelineRunner* pipelines);

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
  // The caller of `context`, or UNAUTHENTICATED (logged, with the peer).
  absl::StatusOr<ClientCaller> Authenticate(const grpc::ServerContext& context,
                                            const char* rpc) const;
  // OK when `caller` may run its own code on the workers (`what`: "a plugin
  // job", ...); PERMISSION_DENIED otherwise.
  absl::Status CheckMayRunOwnCode(const ClientCaller& caller,
                                  const std::string& what) const;

  JobTracker* const tracker_;
  PipelineRunner* const pipelines_;
  // tracker_->options().client_auth, or an authenticator without tokens.
  const std::shared_ptr<const ClientAuthenticator> auth_;
  const std::vector<ClientRole> plugin_roles_;
};

}  // namespace mr

#endif  // MR_MASTER_MASTER_SERVICE_H_
