// MasterClient: the client side of the Master service's client RPCs
// (proto/client.proto: SubmitJob, GetJobStatus, ListJobs, KillJob, ListWorkers),
// used by `mrctl` and by tests that drive a cluster.
//
//   mr::MasterClient client("127.0.0.1:7070");
//   mrpb::JobSpec spec;  // app, inputs, output_dir, ...
//   ASSIGN_OR_RETURN(mrpb::SubmitJobResponse r, client.Submit(spec, ""));
//   if (r.error() != mrpb::SubmitJobResponse::OK) { ... refused: r.message() }
//   ASSIGN_OR_RETURN(mrpb::JobStatus done,
//                    client.WaitForJob(r.job_id(), absl::Milliseconds(250),
//                                      [](const mrpb::JobStatus&) {}));
//
// Errors. Two kinds, kept apart as the wire contract keeps them:
//  - Typed refusals travel in the response protos (SubmitJobResponse.error,
//    GetJobStatusResponse.found, KillJobResponse.error): the methods return
//    OK with the response, and the caller branches on the enum.
//  - Transport failures (the master is down, the deadline passed, ...) come
//    back as a non-OK absl::Status with the gRPC code unchanged (UNAVAILABLE,
//    DEADLINE_EXCEEDED, ...) and the message "master HOST:PORT: <gRPC text>".
//
// Security (MasterClientOptions): every RPC carries the bearer token, when
// one is given, as the metadata `authorization: Bearer TOKEN`
// (master/client_auth.h); the channel uses TLS when a CA is given
// (common/tls.h). A master that refuses the token answers UNAUTHENTICATED,
// one that refuses the caller's role PERMISSION_DENIED: transport failures
// as above, never retried.
//
// Every RPC carries a deadline (MasterClientOptions) and fails fast, without
// waiting for a connection, when the master cannot be reached
// (wait_for_ready false). Messages up to 256 MiB are allowed both ways,
// because plugins travel inside SubmitJob.
//
// Thread-safety: all methods may be called concurrently from any thread.
#ifndef MR_CLIENT_MASTER_CLIENT_H_
#define MR_CLIENT_MASTER_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/tls.h"
#include "proto/client.grpc.pb.h"

namespace mr {

struct MasterClientOptions {
  // Sent on every RPC as `authorization: Bearer TOKEN`.
  // Default: "" (nothing sent: a master without a tokens file).
  std::string token;

  // The channel's security: TlsConfig::Load() with the cluster's CA
  // (a client needs no certificate of its own). The master's certificate
  // must name the host of `target`.
  // Default: plaintext.
  TlsConfig tls;

  // Deadline of each RPC other than SubmitJob.
  // Default: 10 s.
  absl::Duration rpc_timeout = absl::Seconds(10);

  // Deadline of SubmitJob, which ships the plugin and makes the master
  // resolve the inputs into splits.
  // Default: 120 s.
  absl::Duration submit_timeout = absl::Seconds(120);

  // Submit: how many times a submission whose answer was lost is sent again
  // (with the same request id), waiting as WaitForJob does in between.
  // Default: 3.
  int submit_retries = 3;

  // WaitForJob: while the master is unreachable (UNAVAILABLE or
  // DEADLINE_EXCEEDED), wait this long before the first retry, then double
  // the wait after each failed retry up to `retry_max_backoff`.
  // Default: 200 ms, doubling to 5 s.
  absl::Duration retry_initial_backoff = absl::Milliseconds(200);
  absl::Duration retry_max_backoff = absl::Seconds(5);

  // WaitForJob gives up once the master has been unreachable for this long
  // without a single successful poll in between. A successful poll resets
  // both the budget and the backoff.
  // Default: 120 s.
  absl::Duration unreachable_limit = absl::Seconds(120);

  // Where WaitForJob reads the time (its monotonic clock) and how it sleeps.
  // Tests pass a ManualClock and a sleep that advances it.
  // Default: the real clock; absl::SleepFor.
  Clock* clock = nullptr;
  std::function<void(absl::Duration)> sleep;
};

class MasterClient {
 public:
  // `target` is "HOST:PORT". Creating the client does not connect; the
  // channel connects on the first RPC and reconnects by itself after the
  // master restarts.
  explicit MasterClient(std::string target, MasterClientOptions options = {});

  MasterClient(const MasterClient&) = delete;
  MasterClient& operator=(const MasterClient&) = delete;

  // "HOST:PORT", as given.
  const std::string& target() const { return target_; }

  // Submits `spec`. With a non-empty `plugin_path` the file's bytes travel in
  // the request and spec.plugin_name is set to the file's base name;
  // otherwise spec.app names a built-in app. The caller makes inputs and
  // output_dir absolute (the master resolves globs in its own cwd).
  // Before any RPC: NotFound / PermissionDenied naming the path when the
  // plugin file is missing / unreadable, InvalidArgument when it is not a
  // regular file. A refusal (OUTPUT_EXISTS, ...) is an OK result whose
  // error() is not OK.
  //
  // The request carries `request_id` (a random one when empty). A submission
  // whose answer is lost (UNAVAILABLE, DEADLINE_EXCEEDED) is sent again with
  // the same id, up to `submit_retries` times: the master answers a retry
  // with the job the first request created, so a job never starts twice.
  //
  // `side_files` (paths) travel in the request too, each named by its base
  // name, executable when any execute bit is set; the same errors name them
  // ("side file PATH: ..."), and InvalidArgument when two share a base name.
  absl::StatusOr<mrpb::SubmitJobResponse> Submit(
      const mrpb::JobSpec& spec, const std::string& plugin_path,
      const std::string& request_id = "",
      const std::vector<std::string>& side_files = {});

  // found() is false for a job the master does not know.
  absl::StatusOr<mrpb::GetJobStatusResponse> GetJobStatus(
      const std::string& job_id);

  // With `all`, also the finished jobs retired from the scheduler.
  absl::StatusOr<mrpb::ListJobsResponse> ListJobs(bool all = false);

  // error() is NOT_FOUND / ALREADY_FINISHED when there is nothing to kill.
  absl::StatusOr<mrpb::KillJobResponse> KillJob(const std::string& job_id);

  absl::StatusOr<mrpb::ListWorkersResponse> ListWorkers();

  // Pipelines. RunPipeline sends the pipeline file's text (`file` names it
  // in errors) with `request_id` (a random one when empty), sent again
  // like a submission when its answer is lost. A refusal (INVALID_PIPELINE,
  // ...) is an OK result whose error() is not OK; found() is false for a
  // run the master does not know.
  absl::StatusOr<mrpb::RunPipelineResponse> RunPipeline(
      const std::string& yaml, const std::string& file, const std::string& dt,
      const std::string& request_id = "");
  absl::StatusOr<mrpb::GetPipelineRunResponse> GetPipelineRun(
      const std::string& run_id);
  absl::StatusOr<mrpb::ListPipelineRunsResponse> ListPipelineRuns();
  // Polls GetPipelineRun until the run ends, as WaitForJob does a job
  // (same backoff while the master is unreachable); `on_run` sees every
  // answer.
  absl::StatusOr<mrpb::PipelineRun> WaitForPipelineRun(
      const std::string& run_id, absl::Duration poll_interval,
      const std::function<void(const mrpb::PipelineRun&)>& on_run);

  // Polls GetJobStatus every `poll_interval` until the job reaches a
  // terminal state (JOB_SUCCEEDED, JOB_FAILED, JOB_KILLED) and returns that
  // last status, whatever the state (a failed job is an OK result).
  // `on_status` (may be empty) is called with every status received,
  // including the terminal one, on the calling thread.
  //
  // While the master is unreachable (UNAVAILABLE / DEADLINE_EXCEEDED) the
  // poll is retried with exponential backoff, so a master restart does not
  // end the wait; after options.unreachable_limit of continuous failure the
  // last such error is returned, its message ending in
  // " (unreachable for N s, gave up)". Any other transport error is returned
  // at once. NotFound ("master HOST:PORT: no job JOB") when the master does
  // not know the job.
  absl::StatusOr<mrpb::JobStatus> WaitForJob(
      const std::string& job_id, absl::Duration poll_interval,
      const std::function<void(const mrpb::JobStatus&)>& on_status);

  // True for the codes that mean "the master did not answer": UNAVAILABLE
  // and DEADLINE_EXCEEDED.
  static bool IsUnreachable(const absl::Status& status);

  // True for JOB_SUCCEEDED, JOB_FAILED and JOB_KILLED.
  static bool IsTerminal(mrpb::JobState state);

 private:
  // Prepares `ctx` with a deadline `timeout` from now, fail-fast, and the
  // token.
  void PrepareContext(grpc::ClientContext* ctx, absl::Duration timeout) const;
  // OK, or `s` converted to absl::Status with "master HOST:PORT: " prepended.
  absl::Status Convert(const grpc::Status& s) const;
  // Makes the RPC `call` (each try with a fresh context, deadline `timeout`)
  // and sends it again while the master is unreachable, up to
  // submit_retries times with backoff: for requests that carry a request
  // id, so that a retry never acts twice.
  absl::Status SendWithRetries(
      absl::Duration timeout, const std::function<grpc::Status(grpc::ClientContext*)>& call);
  // Calls `poll` every `poll_interval` until it returns true, retrying
  // with backoff while the master is unreachable (see WaitForJob()); any
  // other error is returned at once.
  absl::Status PollUntilDone(absl::Duration poll_interval,
                             const std::function<absl::StatusOr<bool>()>& poll);
  // Sleeps `d` with options_.sleep, or for real.
  void Sleep(absl::Duration d) const;
  static std::string NewRequestId();

  // Constant after construction.
  const std::string target_;
  const MasterClientOptions options_;
  Clock* const clock_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<mrpb::MasterClientService::Stub> stub_;
};

}  // namespace mr

#endif  // MR_CLIENT_MASTER_CLIENT_H_
