// Test only: an in-process Master service on 127.0.0.1 (a port the OS
// picks) that answers the client RPCs from canned responses and records what
// it was sent. The worker RPCs are left unimplemented.
//
// Thread-safe: the setters may be called while RPCs are in flight.
#ifndef MR_CLIENT_INTERNAL_FAKE_MASTER_H_
#define MR_CLIENT_INTERNAL_FAKE_MASTER_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "proto/client.grpc.pb.h"

namespace mr {
namespace client_internal {

class FakeMaster final : public mrpb::MasterClientService::Service {
 public:
  // One answer to GetJobStatus: `error` when not OK, else `response`.
  struct StatusAnswer {
    grpc::Status error = grpc::Status::OK;
    mrpb::GetJobStatusResponse response;
  };

  // Starts serving; "127.0.0.1:PORT" is address().
  FakeMaster();
  ~FakeMaster() override;

  const std::string& address() const { return address_; }

  // GetJobStatus answers, consumed in order; the last one repeats.
  void AddStatusAnswer(StatusAnswer answer);
  void set_submit_response(mrpb::SubmitJobResponse r);
  void set_list_jobs_response(mrpb::ListJobsResponse r);
  void set_kill_response(mrpb::KillJobResponse r);
  void set_list_workers_response(mrpb::ListWorkersResponse r);

  // Every RPC answers `refusal` when it is not OK (UNAUTHENTICATED, ...).
  void set_refusal(grpc::Status refusal);

  mrpb::SubmitJobRequest last_submit();
  int status_calls();
  // The `authorization` metadata of every RPC received, in order ("" for
  // an RPC without one).
  std::vector<std::string> authorizations();

  grpc::Status SubmitJob(grpc::ServerContext*, const mrpb::SubmitJobRequest*,
                         mrpb::SubmitJobResponse*) override;
  grpc::Status GetJobStatus(grpc::ServerContext*,
                            const mrpb::GetJobStatusRequest*,
                            mrpb::GetJobStatusResponse*) override;
  grpc::Status ListJobs(grpc::ServerContext*, const mrpb::ListJobsRequest*,
                        mrpb::ListJobsResponse*) override;
  grpc::Status KillJob(grpc::ServerContext*, const mrpb::KillJobRequest*,
                       mrpb::KillJobResponse*) override;
  grpc::Status ListWorkers(grpc::ServerContext*,
                           const mrpb::ListWorkersRequest*,
                           mrpb::ListWorkersResponse*) override;

 private:
  // Records the RPC's metadata; returns refusal_.
  grpc::Status Receive(const grpc::ServerContext& ctx)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::unique_ptr<grpc::Server> server_;
  std::string address_;

  absl::Mutex mu_;
  std::deque<StatusAnswer> status_answers_ ABSL_GUARDED_BY(mu_);
  int status_calls_ ABSL_GUARDED_BY(mu_) = 0;
  mrpb::SubmitJobRequest last_submit_ ABSL_GUARDED_BY(mu_);
  mrpb::SubmitJobResponse submit_response_ ABSL_GUARDED_BY(mu_);
  mrpb::ListJobsResponse list_jobs_response_ ABSL_GUARDED_BY(mu_);
  mrpb::KillJobResponse kill_response_ ABSL_GUARDED_BY(mu_);
  mrpb::ListWorkersResponse list_workers_response_ ABSL_GUARDED_BY(mu_);
  grpc::Status refusal_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> authorizations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace client_internal
}  // namespace mr

#endif  // MR_CLIENT_INTERNAL_FAKE_MASTER_H_
