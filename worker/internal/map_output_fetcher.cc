#include "worker/internal/map_output_fetcher.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crc32c.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/tls.h"
#include "proto/shuffle.grpc.pb.h"
#include "proto/worker.grpc.pb.h"
#include "worker/internal/run_file.h"

namespace mr {
namespace {

constexpr int kTriesPerOutput = 3;
// How many times one map's output may move (be recomputed) during a fetch.
constexpr int kMaxRelocations = 10;

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  // A peer that stops answering (paused, wedged, its host gone) fails the
  // fetch within seconds, however long a healthy fetch may take: HTTP/2
  // pings every 2 s, dead after 3 s without an answer.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 3000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  return NewClusterChannel(address, args);
}

// One try at one map output. Writes its runs to dir/m<map>-r<run>.
absl::Status FetchOnce(mrpb::Shuffle::Stub* stub, const std::string& job_id,
                       const std::string& secret, uint32_t partition,
                       const mrpb::MapOutputLocation& loc,
                       const std::string& dir,
                       std::vector<std::string>* run_files, int64_t* bytes) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
  mrpb::FetchRequest request;
  request.set_job_id(job_id);
  request.set_map_index(loc.map_index());
  request.set_attempt_id(loc.attempt_id());
  request.set_partition(partition);
  request.set_secret(secret);
  std::unique_ptr<grpc::ClientReader<mrpb::FetchBatch>> reader =
      stub->FetchMapOutput(&ctx, request);
  mrpb::FetchBatch batch;
  std::unique_ptr<RunFileWriter> writer;
  int64_t current_run = -1;
  while (reader->Read(&batch)) {
    if (Crc32c(batch.data().data(), batch.data().size()) != batch.crc32c()) {
      ctx.TryCancel();
      (void)reader->Finish();
      return absl::DataLossError(absl::StrCat(
          "batch of run ", batch.run(), " fails its checksum"));
    }
    if (batch.run() != current_run) {
      if (writer) {
        if (absl::Status s = writer->Close(); !s.ok()) return s;
      }
      current_run = batch.run();
      const std::string path = absl::StrFormat("%s/m%06d-r%06d", dir,
                                               loc.map_index(), batch.run());
      writer = std::make_unique<RunFileWriter>();
      if (absl::Status s = writer->Open(path); !s.ok()) return s;
      run_files->push_back(path);
    }
    if (absl::Status s =
            writer->Append(batch.raw_size(), batch.crc32c(), batch.data());
        !s.ok()) {
      return s;
    }
    *bytes += batch.data().size();
  }
  if (writer) {
    if (absl::Status s = writer->Close(); !s.ok()) return s;
  }
  return FromGrpcStatus(reader->Finish());
}

}  // namespace

absl::StatusOr<FetchResult> FetchPartition(
    const std::string& job_id, const std::string& secret, uint32_t partition,
    const std::vector<mrpb::MapOutputLocation>& outputs, const std::string& dir,
    uint32_t parallelism, MapOutputLocator* locator) {
  std::mutex stubs_mu;
  std::map<std::string, std::unique_ptr<mrpb::Shuffle::Stub>> stubs;
  auto stub_for = [&](const std::string& address) {
    std::lock_guard<std::mutex> lock(stubs_mu);
    auto& stub = stubs[address];
    if (!stub) stub = mrpb::Shuffle::NewStub(NewChannel(address));
    return stub.get();
  };
  std::vector<std::vector<std::string>> runs(outputs.size());
  std::atomic<size_t> next{0};
  std::atomic<int64_t> bytes{0};
  std::mutex mu;
  absl::Status first_error;  // guarded by mu

  auto work = [&] {
    while (true) {
      const size_t i = next++;
      if (i >= outputs.size()) return;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!first_error.ok()) return;
      }
      mrpb::MapOutputLocation loc = outputs[i];
      absl::Status s;
      for (int relocations = 0; relocations <= kMaxRelocations; ++relocations) {
        if (loc.worker_address().empty()) {
          s = absl::UnavailableError("the map's output is being recomputed");
        }
        for (int attempt = 1; attempt <= kTriesPerOutput && !loc.worker_address().empty();
             ++attempt) {
          std::vector<std::string> files;
          int64_t got = 0;
          s = FetchOnce(stub_for(loc.worker_address()), job_id, secret,
                        partition, loc, dir, &files, &got);
          if (s.ok()) {
            runs[i] = std::move(files);
            bytes += got;
            break;
          }
          MR_LOG(WARNING) << "fetch of map " << loc.map_index() << " from "
                          << loc.worker_address() << " (try " << attempt
                          << "): " << s;
          if (absl::IsNotFound(s)) break;  // that worker does not hold it
          if (absl::IsPermissionDenied(s)) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
        }
        // A refused secret (PERMISSION_DENIED) is handed on too: that copy
        // was stored under another secret (a worker from before secrets, a
        // restored job given a new one); a map run again is stored under
        // the job's.
        if (s.ok() || locator == nullptr) break;
        auto moved = locator->Relocate(loc, s);
        if (!moved.ok()) {
          s = moved.status();
          break;
        }
        MR_LOG(INFO) << "map " << loc.map_index() << " output now at "
                     << moved->worker_address() << " (attempt "
                     << moved->attempt_id() << ")";
        loc = *moved;
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) {
          first_error = absl::Status(
              s.code(), absl::StrCat("cannot fetch map ", loc.map_index(),
                                     " output from ", loc.worker_address(),
                                     ": ", s.message()));
        }
      }
    }
  };
  std::vector<std::thread> threads;
  const uint32_t n = std::max<uint32_t>(
      1, std::min<uint32_t>(parallelism, outputs.size()));
  for (uint32_t t = 0; t < n; ++t) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  if (!first_error.ok()) return first_error;

  FetchResult result;
  for (auto& files : runs) {
    for (auto& f : files) result.run_files.push_back(std::move(f));
  }
  result.shuffle_bytes = bytes;
  return result;
}

}  // namespace mr
