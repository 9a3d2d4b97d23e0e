// MapOutputLocator backed by the master: reports a fetch failure with
// ReportFetchFailure, then polls GetMapOutputs until the map has a new
// output (or the reduce attempt is no longer wanted).
//
// Thread-safety: thread-safe (fetch threads share one).
#ifndef MR_WORKER_INTERNAL_MASTER_LOCATOR_H_
#define MR_WORKER_INTERNAL_MASTER_LOCATOR_H_

#include <memory>
#include <string>

#include "proto/worker.grpc.pb.h"
#include "worker/internal/map_output_fetcher.h"

namespace mr {

class MasterLocator : public MapOutputLocator {
 public:
  // Default: poll every 200 ms, give up after 10 minutes.
  MasterLocator(const std::string& master_address, std::string job_id,
                uint32_t reduce_index, uint64_t reduce_attempt_id,
                int64_t poll_ms = 200, int64_t timeout_ms = 600000);

  absl::StatusOr<mrpb::MapOutputLocation> Relocate(
      const mrpb::MapOutputLocation& loc, const absl::Status& error) override;

 private:
  const std::unique_ptr<mrpb::MasterWorkerService::Stub> master_;
  const std::string job_id_;
  const uint32_t reduce_index_;
  const uint64_t reduce_attempt_id_;
  const int64_t poll_ms_;
  const int64_t timeout_ms_;
};

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_MASTER_LOCATOR_H_
