// The Shuffle gRPC service: streams one partition of one map attempt's output
// to a reducer, one LZ4 block per message, as stored (no re-compression).
// Only to a fetch carrying the job's shuffle secret (ShuffleStore::
// CheckSecret()): another job's reducer, or a stranger, gets
// PERMISSION_DENIED, logged with the peer's address.
//
// Uses the callback API: one reactor per fetch, flow-controlled by gRPC (the
// next block is read only once the previous write completed).
//
// Thread-safety: thread-safe.
#ifndef MR_WORKER_SHUFFLE_SERVICE_H_
#define MR_WORKER_SHUFFLE_SERVICE_H_

#include <atomic>

#include "proto/shuffle.grpc.pb.h"
#include "worker/shuffle_store.h"

namespace mr {

class ShuffleService final : public mrpb::Shuffle::CallbackService {
 public:
  // `store` must outlive the service. The first `corrupt_batches` batches
  // sent get a flipped byte (test-only fault injection).
  explicit ShuffleService(ShuffleStore* store, int corrupt_batches = 0)
      : store_(store), corrupt_batches_(corrupt_batches) {}

  grpc::ServerWriteReactor<mrpb::FetchBatch>* FetchMapOutput(
      grpc::CallbackServerContext* context,
      const mrpb::FetchRequest* request) override;

 private:
  ShuffleStore* const store_;
  std::atomic<int> corrupt_batches_;
};

}  // namespace mr

#endif  // MR_WORKER_SHUFFLE_SERVICE_H_
