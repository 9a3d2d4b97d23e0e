#include "worker/heartbeater.h"

#include <unistd.h>

#include "absl/time/time.h"
#include "common/logging.h"

namespace mr {
namespace {

std::string Hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

}  // namespace

Heartbeater::Heartbeater(const WorkerOptions& options, std::string address,
                         mrpb::MasterWorkerService::StubInterface* master,
                         TaskRunner* runner, ShuffleStore* store)
    : options_(options), address_(std::move(address)), master_(master),
      runner_(runner), store_(store) {}

Heartbeater::~Heartbeater() { Stop(); }

void Heartbeater::Start() { thread_ = std::thread([this] { Loop(); }); }

void Heartbeater::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Heartbeater::Wake() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

void Heartbeater::SetDraining() {
  draining_ = true;
  Wake();
}

bool Heartbeater::connected() const {
  // One late heartbeat is no lost master.
  return failed_beats_ < 3;
}

void Heartbeater::Leave(std::vector<mrpb::TaskReport> reports) {
  Stop();
  if (worker_id_.empty()) return;  // never registered: nothing to tell
  mrpb::HeartbeatRequest request;
  request.set_worker_id(worker_id_);
  for (auto& r : reports) *request.add_reports() = std::move(r);
  request.set_draining(true);
  request.set_leaving(true);
  mrpb::HeartbeatResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::Status s = master_->Heartbeat(&ctx, request, &response);
  if (s.ok()) {
    MR_LOG(INFO) << "told master " << options_.master_address << " that "
                 << worker_id_ << " leaves";
  } else {
    MR_LOG(WARNING) << "cannot tell master " << options_.master_address
                    << " that " << worker_id_
                    << " leaves (it will notice the silence): "
                    << s.error_message();
  }
}

void Heartbeater::SleepMs(int64_t ms) {
  absl::MutexLock lock(&mu_);
  auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || wake_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&woken), absl::Milliseconds(ms));
  wake_ = false;
}

void Heartbeater::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    if (worker_id_.empty() && !Register()) {
      SleepMs(1000);
      continue;
    }
    SleepMs(Beat());
  }
}

bool Heartbeater::Register() {
  mrpb::RegisterWorkerRequest request;
  request.set_address(address_);
  request.set_slots(options_.slots);
  request.set_hostname(Hostname());
  request.set_pid(getpid());
  for (auto& held : store_->HeldOutputs()) *request.add_held_outputs() = held;
  mrpb::RegisterWorkerResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Status s = master_->RegisterWorker(&ctx, request, &response);
  if (!s.ok()) {
    if (failures_++ % 10 == 0) {
      MR_LOG(WARNING) << "cannot register with master " << options_.master_address
                      << ": " << s.error_message();
    }
    return false;
  }
  failures_ = 0;
  worker_id_ = response.worker_id();
  interval_ms_ = response.heartbeat_interval_ms();
  runner_->set_worker_id(worker_id_);
  MR_LOG(INFO) << "registered with master " << options_.master_address
               << " as " << worker_id_;
  return true;
}

int64_t Heartbeater::Beat() {
  mrpb::HeartbeatRequest request;
  request.set_worker_id(worker_id_);
  // Running first, then reports: an attempt that ends in between is in the
  // reports (an attempt in neither would look lost to the master).
  for (uint64_t id : runner_->RunningAttempts()) request.add_running_attempts(id);
  std::vector<mrpb::TaskReport> reports = runner_->TakeReports();
  for (const auto& r : reports) *request.add_reports() = r;
  const size_t running = request.running_attempts_size();
  const bool draining = draining_;
  request.set_draining(draining);
  request.set_free_slots(running < options_.slots && !draining
                             ? options_.slots - running
                             : 0);

  mrpb::HeartbeatResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Status s = master_->Heartbeat(&ctx, request, &response);
  if (!s.ok()) {
    // The master may or may not have seen the reports; it ignores repeats.
    runner_->ReturnReports(std::move(reports));
    ++failed_beats_;
    if (failures_++ % 10 == 0) {
      MR_LOG(WARNING) << "heartbeat to master " << options_.master_address
                      << " failed: " << s.error_message();
    }
    return interval_ms_;
  }
  failures_ = 0;
  failed_beats_ = 0;
  if (response.status() == mrpb::HeartbeatResponse::UNKNOWN_WORKER) {
    // Its running attempts were re-queued; its map outputs may still serve
    // (after a master restart), so they are reported on registering.
    MR_LOG(WARNING) << "the master no longer knows " << worker_id_
                    << "; killing its attempts and registering again";
    runner_->KillAll();
    runner_->TakeReports();
    worker_id_.clear();
    return 0;
  }
  for (uint64_t id : response.kill_attempts()) runner_->Kill(id);
  for (const std::string& job_id : response.finished_jobs()) {
    if (absl::Status d = store_->DropJob(job_id); !d.ok()) {
      MR_LOG(WARNING) << "cannot drop map output of " << job_id << ": " << d;
    }
  }
  for (const mrpb::TaskAssignment& a : response.assignments()) {
    if (draining_) {
      // Assigned by a heartbeat that left before the drain began: not
      // started. The next heartbeat does not list it as running, so the
      // master takes it back (as a lost assignment, not a failure).
      MR_LOG(INFO) << "draining: not starting attempt " << a.attempt_id();
      continue;
    }
    runner_->Start(a);
  }
  return response.next_heartbeat_ms() > 0 ? response.next_heartbeat_ms()
                                          : interval_ms_;
}

}  // namespace mr
