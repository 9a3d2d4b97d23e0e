#include "worker/shuffle_service.h"

#include <memory>

#include "common/grpc_status.h"

namespace mr {
namespace {

class FetchReactor : public grpc::ServerWriteReactor<mrpb::FetchBatch> {
 public:
  FetchReactor(ShuffleStore* store, const mrpb::FetchRequest* request,
               std::atomic<int>* corrupt_batches)
      : corrupt_batches_(corrupt_batches) {
    auto reader = store->ReadPartition(request->job_id(), request->map_index(),
                                       request->attempt_id(),
                                       request->partition());
    if (!reader.ok()) {
      Finish(ToGrpcStatus(reader.status()));
      return;
    }
    reader_ = std::move(*reader);
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    WriteNext();
  }

  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    StoredBlock block;
    absl::StatusOr<bool> more = reader_->Next(&block);
    if (!more.ok()) {
      Finish(ToGrpcStatus(more.status()));
      return;
    }
    if (!*more) {
      Finish(grpc::Status::OK);
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
    StartWrite(&batch_);
  }

  std::atomic<int>* const corrupt_batches_;
  std::unique_ptr<PartitionReader> reader_;
  mrpb::FetchBatch batch_;
};

}  // namespace

grpc::ServerWriteReactor<mrpb::FetchBatch>* ShuffleService::FetchMapOutput(
    grpc::CallbackServerContext* context, const mrpb::FetchRequest* request) {
  return new FetchReactor(store_, request, &corrupt_batches_);
}

}  // namespace mr
