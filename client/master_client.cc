#include "client/master_client.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace mr {
namespace {

constexpr int kMaxMessageBytes = 256 << 20;

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                          const TlsConfig& tls) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // gRPC's reconnect backoff grows to 120 s by default; keep it short so the
  // channel notices a restarted master within WaitForJob's retry cadence.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  return grpc::CreateCustomChannel(target, tls.ChannelCredentials(), args);
}

std::string BaseName(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// Reads the plugin, with errors that name the path.
// Reads a file the request ships: `what` is "plugin" or "side file".
absl::StatusOr<std::string> ReadShipped(const char* what,
                                        const std::string& path,
                                        bool* executable = nullptr) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    const int err = errno;
    const std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(err));
    if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(msg);
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
    return absl::InternalError(msg);
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " is not a regular file"));
  }
  if (executable != nullptr) *executable = (st.st_mode & 0111) != 0;
  return ReadFileToString(path);  // its errors name the path too
}

}  // namespace

MasterClient::MasterClient(std::string target, MasterClientOptions options)
    : target_(std::move(target)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      channel_(MakeChannel(target_, options_.tls)),
      stub_(mrpb::MasterClientService::NewStub(channel_)) {}

void MasterClient::PrepareContext(grpc::ClientContext* ctx,
                                  absl::Duration timeout) const {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ctx->set_wait_for_ready(false);
  if (!options_.token.empty()) {
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  }
}

absl::Status MasterClient::Convert(const grpc::Status& s) const {
  return Prepend(FromGrpcStatus(s), absl::StrCat("master ", target_));
}

absl::StatusOr<mrpb::SubmitJobResponse> MasterClient::Submit(
    const mrpb::JobSpec& spec, const std::string& plugin_path,
    const std::string& request_id, const std::vector<std::string>& side_files) {
  mrpb::SubmitJobRequest request;
  *request.mutable_spec() = spec;
  request.set_request_id(request_id.empty() ? NewRequestId() : request_id);
  if (!plugin_path.empty()) {
    ASSIGN_OR_RETURN(*request.mutable_plugin(),
                     ReadShipped("plugin", plugin_path));
    request.mutable_spec()->set_plugin_name(BaseName(plugin_path));
  }
  std::set<std::string> names;
  for (const std::string& path : side_files) {
    mrpb::SideFileUpload* file = request.add_files();
    bool executable = false;
    ASSIGN_OR_RETURN(*file->mutable_content(),
                     ReadShipped("side file", path, &executable));
    file->set_name(BaseName(path));
    file->set_executable(executable);
    if (!names.insert(file->name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "two side files are named ", file->name(), " (", path, ")"));
    }
  }
  mrpb::SubmitJobResponse response;
  RETURN_IF_ERROR(SendWithRetries(options_.submit_timeout, [&](grpc::ClientContext* ctx) {
    return stub_->SubmitJob(ctx, request, &response);
  }));
  return response;
}

absl::StatusOr<mrpb::GetJobStatusResponse> MasterClient::GetJobStatus(
    const std::string& job_id) {
  mrpb::GetJobStatusRequest request;
  request.set_job_id(job_id);
  grpc::ClientContext ctx;
  PrepareContext(&ctx, options_.rpc_timeout);
  mrpb::GetJobStatusResponse response;
  RETURN_IF_ERROR(Convert(stub_->GetJobStatus(&ctx, request, &response)));
  return response;
}

absl::StatusOr<mrpb::ListJobsResponse> MasterClient::ListJobs(bool all) {
  grpc::ClientContext ctx;
  PrepareContext(&ctx, options_.rpc_timeout);
  mrpb::ListJobsRequest request;
  request.set_all(all);
  mrpb::ListJobsResponse response;
  RETURN_IF_ERROR(Convert(stub_->ListJobs(&ctx, request, &response)));
  return response;
}

absl::StatusOr<mrpb::KillJobResponse> MasterClient::KillJob(
    const std::string& job_id) {
  mrpb::KillJobRequest request;
  request.set_job_id(job_id);
  grpc::ClientContext ctx;
  PrepareContext(&ctx, options_.rpc_timeout);
  mrpb::KillJobResponse response;
  RETURN_IF_ERROR(Convert(stub_->KillJob(&ctx, request, &response)));
  return response;
}

absl::StatusOr<mrpb::ListWorkersResponse> MasterClient::ListWorkers() {
  grpc::ClientContext ctx;
  PrepareContext(&ctx, options_.rpc_timeout);
  mrpb::ListWorkersResponse response;
  RETURN_IF_ERROR(Convert(
      stub_->ListWorkers(&ctx, mrpb::ListWorkersRequest(), &response)));
  return response;
}

absl::Status MasterClient::PollUntilDone(
    absl::Duration poll_interval,
    const std::function<absl::StatusOr<bool>()>& poll) {
  const int64_t limit_ms = absl::ToInt64Milliseconds(options_.unreachable_limit);
  absl::Duration backoff = options_.retry_initial_backoff;
  int64_t outage_start_ms = -1;  // -1: the last poll succeeded
  while (true) {
    absl::StatusOr<bool> done = poll();
    if (!done.ok()) {
      if (!IsUnreachable(done.status())) return done.status();
      const int64_t now_ms = clock_->MonotonicMs();
      if (outage_start_ms < 0) outage_start_ms = now_ms;
      const int64_t down_ms = now_ms - outage_start_ms;
      if (down_ms >= limit_ms) {
        return absl::Status(
            done.status().code(),
            absl::StrFormat("%s (unreachable for %.1f s, gave up)",
                            done.status().message(), down_ms / 1000.0));
      }
      // Never sleep past the budget: the last retry happens at the limit.
      Sleep(std::min(backoff, absl::Milliseconds(limit_ms - down_ms)));
      backoff = std::min(backoff * 2, options_.retry_max_backoff);
      continue;
    }
    outage_start_ms = -1;
    backoff = options_.retry_initial_backoff;
    if (*done) return absl::OkStatus();
    Sleep(poll_interval);
  }
}

absl::StatusOr<mrpb::JobStatus> MasterClient::WaitForJob(
    const std::string& job_id, absl::Duration poll_interval,
    const std::function<void(const mrpb::JobStatus&)>& on_status) {
  mrpb::JobStatus last;
  RETURN_IF_ERROR(PollUntilDone(poll_interval, [&]() -> absl::StatusOr<bool> {
    absl::StatusOr<mrpb::GetJobStatusResponse> r = GetJobStatus(job_id);
    if (!r.ok()) return r.status();
    if (!r->found()) {
      return absl::NotFoundError(
          absl::StrCat("master ", target_, ": no job ", job_id));
    }
    if (on_status) on_status(r->status());
    last = r->status();
    return IsTerminal(last.state());
  }));
  return last;
}

absl::StatusOr<mrpb::PipelineRun> MasterClient::WaitForPipelineRun(
    const std::string& run_id, absl::Duration poll_interval,
    const std::function<void(const mrpb::PipelineRun&)>& on_run) {
  mrpb::PipelineRun last;
  RETURN_IF_ERROR(PollUntilDone(poll_interval, [&]() -> absl::StatusOr<bool> {
    absl::StatusOr<mrpb::GetPipelineRunResponse> r = GetPipelineRun(run_id);
    if (!r.ok()) return r.status();
    if (!r->found()) {
      return absl::NotFoundError(
          absl::StrCat("master ", target_, ": no pipeline run ", run_id));
    }
    if (on_run) on_run(r->run());
    last = r->run();
    return last.state() == mrpb::PIPELINE_SUCCEEDED ||
           last.state() == mrpb::PIPELINE_FAILED;
  }));
  return last;
}

absl::StatusOr<mrpb::RunPipelineResponse> MasterClient::RunPipeline(
    const std::string& yaml, const std::string& file, const std::string& dt,
    const std::string& request_id) {
  mrpb::RunPipelineRequest request;
  request.set_yaml(yaml);
  request.set_file(file);
  request.set_dt(dt);
  request.set_request_id(request_id.empty() ? NewRequestId() : request_id);
  mrpb::RunPipelineResponse response;
  RETURN_IF_ERROR(SendWithRetries(options_.rpc_timeout, [&](grpc::ClientContext* ctx) {
    return stub_->RunPipeline(ctx, request, &response);
  }));
  return response;
}

absl::Status MasterClient::SendWithRetries(
    absl::Duration timeout, const std::function<grpc::Status(grpc::ClientContext*)>& call) {
  absl::Duration backoff = options_.retry_initial_backoff;
  for (int attempt = 0;; ++attempt) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, timeout);
    absl::Status s = Convert(call(&ctx));
    if (s.ok() || !IsUnreachable(s) || attempt >= options_.submit_retries) return s;
    Sleep(backoff);
    backoff = std::min(backoff * 2, options_.retry_max_backoff);
  }
}

absl::StatusOr<mrpb::GetPipelineRunResponse> MasterClient::GetPipelineRun(
    const std::string& run_id) {
  mrpb::GetPipelineRunRequest request;
  request.set_run_id(run_id);
  grpc::ClientContext ctx;
  PrepareContext(&ctx, options_.rpc_timeout);
  mrpb::GetPipelineRunResponse response;
  RETURN_IF_ERROR(Convert(stub_->GetPipelineRun(&ctx, request, &response)));
  return response;
}

absl::StatusOr<mrpb::ListPipelineRunsResponse> MasterClient::ListPipelineRuns() {
  grpc::ClientContext ctx;
  PrepareContext(&ctx, options_.rpc_timeout);
  mrpb::ListPipelineRunsResponse response;
  RETURN_IF_ERROR(Convert(
      stub_->ListPipelineRuns(&ctx, mrpb::ListPipelineRunsRequest(), &response)));
  return response;
}

void MasterClient::Sleep(absl::Duration d) const {
  if (d <= absl::ZeroDuration()) return;
  if (options_.sleep) {
    options_.sleep(d);
  } else {
    absl::SleepFor(d);
  }
}

std::string MasterClient::NewRequestId() {
  // 128 random bits: ids of different submissions never meet.
  absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
}

bool MasterClient::IsUnreachable(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

bool MasterClient::IsTerminal(mrpb::JobState state) {
  return state == mrpb::JOB_SUCCEEDED || state == mrpb::JOB_FAILED ||
         state == mrpb::JOB_KILLED;
}

}  // namespace mr
