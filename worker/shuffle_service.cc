#include "worker/shuffle_service.h"

#include <memory>
#include <string>

#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/sanitizers.h"

namespace mr {
namespace {

// gRPC runs a reactor's reactions one at a time, each after the operation
// that the previous one started, but often on another of its threads, and
// orders them with atomics that TSan does not see in Debian's uninstrumented
// gRPC. So each reaction starts with TsanAcquire(this), and TsanRelease(this)
// comes right before every StartWrite and Finish (EndWith), after which the reactor
// touches nothing until its next reaction.
class FetchReactor : public grpc::ServerWriteReactor<mrpb::FetchBatch> {
 public:
  FetchReactor(ShuffleStore* store, const mrpb::FetchRequest* request,
               const std::string& peer, std::atomic<int>* corrupt_batches)
      : corrupt_batches_(corrupt_batches) {
    // Only a fetch that carries the job's secret reads its output.
    if (absl::Status s =
            store->CheckSecret(request->job_id(), request->map_index(),
                               request->attempt_id(), request->secret());
        !s.ok()) {
      if (absl::IsPermissionDenied(s)) {
        MR_LOG(WARNING) << "refused a fetch of " << request->job_id()
                        << " map " << request->map_index() << " from "
                        << peer << ": " << s.message();
      }
      EndWith(ToGrpcStatus(s));
      return;
    }
    auto reader = store->ReadPartition(request->job_id(), request->map_index(),
                                       request->attempt_id(),
                                       request->partition());
    if (!reader.ok()) {
      EndWith(ToGrpcStatus(reader.status()));
      return;
    }
    reader_ = std::move(*reader);
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    TsanAcquire(this);
    if (!ok) {
      EndWith(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    WriteNext();
  }

  void OnDone() override {
    TsanAcquire(this);
    delete this;
  }

 private:
  void WriteNext() {
    StoredBlock block;
    absl::StatusOr<bool> more = reader_->Next(&block);
    if (!more.ok()) {
      EndWith(ToGrpcStatus(more.status()));
      return;
    }
    if (!*more) {
      EndWith(grpc::Status::OK);
      return;
    }
    batch_.set_run(block.run);
    batch_.set_raw_size(block.raw_size);
    batch_.set_crc32c(block.crc32c);
    batch_.set_data(std::move(block.data));
    if (!batch_.data().empty() && corrupt_batches_->load() > 0 &&
        corrupt_batches_->fetch_sub(1) > 0) {
      (*batch_.mutable_data())[0] ^= 0x5a;  // injected: corrupt in transit
    }
    TsanRelease(this);
    StartWrite(&batch_);
  }

  void EndWith(grpc::Status status) {
    TsanRelease(this);
    Finish(std::move(status));
  }

  std::atomic<int>* const corrupt_batches_;
  std::unique_ptr<PartitionReader> reader_;
  mrpb::FetchBatch batch_;
};

}  // namespace

grpc::ServerWriteReactor<mrpb::FetchBatch>* ShuffleService::FetchMapOutput(
    grpc::CallbackServerContext* context, const mrpb::FetchRequest* request) {
  return new FetchReactor(store_, request, context->peer(), &corrupt_batches_);
}

}  // namespace mr
