#include "worker/internal/master_locator.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/tls.h"

namespace mr {

MasterLocator::MasterLocator(const std::string& master_address,
                             std::string job_id, uint32_t reduce_index,
                             uint64_t reduce_attempt_id, int64_t poll_ms,
                             int64_t timeout_ms)
    : master_(
          mrpb::MasterWorkerService::NewStub(NewClusterChannel(master_address))),
      job_id_(std::move(job_id)),
      reduce_index_(reduce_index),
      reduce_attempt_id_(reduce_attempt_id),
      poll_ms_(poll_ms),
      timeout_ms_(timeout_ms) {}

absl::StatusOr<mrpb::MapOutputLocation> MasterLocator::Relocate(
    const mrpb::MapOutputLocation& loc, const absl::Status& error) {
  Clock* clock = Clock::Real();
  const int64_t deadline = clock->MonotonicMs() + timeout_ms_;
  bool reported = false;
  while (clock->MonotonicMs() < deadline) {
    if (!reported) {
      mrpb::ReportFetchFailureRequest report;
      report.set_job_id(job_id_);
      report.set_reduce_index(reduce_index_);
      report.set_reduce_attempt_id(reduce_attempt_id_);
      *report.mutable_location() = loc;
      report.set_error(std::string(error.message()));
      mrpb::ReportFetchFailureResponse ignored;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
      reported = master_->ReportFetchFailure(&ctx, report, &ignored).ok();
    }
    mrpb::GetMapOutputsRequest request;
    request.set_job_id(job_id_);
    request.set_reduce_index(reduce_index_);
    request.set_reduce_attempt_id(reduce_attempt_id_);
    mrpb::GetMapOutputsResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (master_->GetMapOutputs(&ctx, request, &response).ok()) {
      if (!response.attempt_current()) {
        return absl::AbortedError("this reduce attempt is no longer wanted");
      }
      if (loc.map_index() < static_cast<uint32_t>(response.map_outputs_size())) {
        const mrpb::MapOutputLocation& now =
            response.map_outputs(loc.map_index());
        if (now.attempt_id() != 0 && now.attempt_id() != loc.attempt_id()) {
          return now;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms_));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "map ", loc.map_index(), " output was not recomputed in time after: ",
      error.message()));
}

}  // namespace mr
