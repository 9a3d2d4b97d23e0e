#include "client/internal/fake_master.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace mr {
namespace client_internal {

FakeMaster::FakeMaster() {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.SetMaxReceiveMessageSize(256 << 20);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  address_ = absl::StrCat("127.0.0.1:", port);
}

FakeMaster::~FakeMaster() { server_->Shutdown(); }

void FakeMaster::AddStatusAnswer(StatusAnswer answer) {
  absl::MutexLock l(&mu_);
  status_answers_.push_back(std::move(answer));
}
void FakeMaster::set_submit_response(mrpb::SubmitJobResponse r) {
  absl::MutexLock l(&mu_);
  submit_response_ = std::move(r);
}
void FakeMaster::set_list_jobs_response(mrpb::ListJobsResponse r) {
  absl::MutexLock l(&mu_);
  list_jobs_response_ = std::move(r);
}
void FakeMaster::set_kill_response(mrpb::KillJobResponse r) {
  absl::MutexLock l(&mu_);
  kill_response_ = std::move(r);
}
void FakeMaster::set_list_workers_response(mrpb::ListWorkersResponse r) {
  absl::MutexLock l(&mu_);
  list_workers_response_ = std::move(r);
}
void FakeMaster::set_refusal(grpc::Status refusal) {
  absl::MutexLock l(&mu_);
  refusal_ = std::move(refusal);
}
std::vector<std::string> FakeMaster::authorizations() {
  absl::MutexLock l(&mu_);
  return authorizations_;
}
mrpb::SubmitJobRequest FakeMaster::last_submit() {
  absl::MutexLock l(&mu_);
  return last_submit_;
}
int FakeMaster::status_calls() {
  absl::MutexLock l(&mu_);
  return status_calls_;
}

grpc::Status FakeMaster::Receive(const grpc::ServerContext& ctx) {
  auto it = ctx.client_metadata().find("authorization");
  authorizations_.push_back(it == ctx.client_metadata().end()
                                ? ""
                                : std::string(it->second.data(),
                                              it->second.size()));
  return refusal_;
}

grpc::Status FakeMaster::SubmitJob(grpc::ServerContext* ctx,
                                   const mrpb::SubmitJobRequest* req,
                                   mrpb::SubmitJobResponse* resp) {
  absl::MutexLock l(&mu_);
  if (grpc::Status r = Receive(*ctx); !r.ok()) return r;
  last_submit_ = *req;
  *resp = submit_response_;
  return grpc::Status::OK;
}

grpc::Status FakeMaster::GetJobStatus(grpc::ServerContext* ctx,
                                      const mrpb::GetJobStatusRequest* req,
                                      mrpb::GetJobStatusResponse* resp) {
  absl::MutexLock l(&mu_);
  if (grpc::Status r = Receive(*ctx); !r.ok()) return r;
  ++status_calls_;
  if (status_answers_.empty()) return grpc::Status::OK;  // found = false
  StatusAnswer a = status_answers_.front();
  if (status_answers_.size() > 1) status_answers_.pop_front();
  if (!a.error.ok()) return a.error;
  *resp = a.response;
  return grpc::Status::OK;
}

grpc::Status FakeMaster::ListJobs(grpc::ServerContext* ctx,
                                  const mrpb::ListJobsRequest*,
                                  mrpb::ListJobsResponse* resp) {
  absl::MutexLock l(&mu_);
  if (grpc::Status r = Receive(*ctx); !r.ok()) return r;
  *resp = list_jobs_response_;
  return grpc::Status::OK;
}

grpc::Status FakeMaster::KillJob(grpc::ServerContext* ctx,
                                 const mrpb::KillJobRequest*,
                                 mrpb::KillJobResponse* resp) {
  absl::MutexLock l(&mu_);
  if (grpc::Status r = Receive(*ctx); !r.ok()) return r;
  *resp = kill_response_;
  return grpc::Status::OK;
}

grpc::Status FakeMaster::ListWorkers(grpc::ServerContext* ctx,
                                     const mrpb::ListWorkersRequest*,
                                     mrpb::ListWorkersResponse* resp) {
  absl::MutexLock l(&mu_);
  if (grpc::Status r = Receive(*ctx); !r.ok()) return r;
  *resp = list_workers_response_;
  return grpc::Status::OK;
}

}  // namespace client_internal
}  // namespace mr
