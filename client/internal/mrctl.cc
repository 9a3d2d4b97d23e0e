#include "client/internal/mrctl.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "client/internal/job_report.h"
#include "client/internal/json_writer.h"
#include "client/internal/pipeline_report.h"
#include "client/internal/progress_printer.h"
#include "common/file_util.h"
#include "common/names.h"
#include "common/pipeline_spec.h"

namespace mr {
namespace client_internal {

Mrctl::Mrctl(MasterClient* client, std::ostream* out, std::ostream* err,
             MrctlOptions options)
    : client_(client),
      out_(out),
      err_(err),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : Clock::Real()) {}

int Mrctl::Run(const CommandLine& cl) {
  switch (cl.command) {
    case Command::kSubmit: return Submit(cl);
    case Command::kStatus: return Status(cl);
    case Command::kList: return List(cl);
    case Command::kKill: return Kill(cl);
    case Command::kWorkers: return Workers(cl);
    case Command::kPipelineCheck: return PipelineCheck(cl);
    case Command::kPipelineRun: return PipelineRun(cl);
    case Command::kPipelineStatus: return PipelineStatus(cl);
    case Command::kPipelineList: return PipelineList(cl);
    case Command::kHelp: break;
  }
  *out_ << UsageText();
  return kExitOk;
}

int Mrctl::Refuse(const std::string& reason) {
  *err_ << "mrctl: " << reason << "\n" << std::flush;
  return kExitUsage;
}

int Mrctl::Fail(const absl::Status& status) {
  const std::string prefix = absl::StrCat("master ", client_->target(), ": ");
  const bool from_master = absl::StartsWith(status.message(), prefix);
  const absl::string_view detail = absl::StripPrefix(status.message(), prefix);
  if (MasterClient::IsUnreachable(status)) {
    // A plaintext client's handshake with a TLS master ends in a closed
    // connection ("Socket closed"), which says nothing about TLS by itself;
    // a refused connection means nothing listens, TLS or not.
    const bool hint = !options_.tls &&
                      !absl::StrContains(detail, "Connection refused");
    *err_ << "mrctl: cannot reach master at " << client_->target() << ": "
          << EscapeName(std::string(detail))
          << (hint ? " (if the master uses TLS, give --tls_ca FILE or set "
                     "MR_TLS_CA)"
                   : "")
          << "\n" << std::flush;
    return kExitUnreachable;
  }
  if (from_master && status.code() == absl::StatusCode::kUnauthenticated) {
    *err_ << "mrctl: master " << client_->target()
          << " did not accept the token: " << EscapeName(std::string(detail))
          << (options_.has_token
                  ? ""
                  : " (give one with --token_file FILE, $MR_TOKEN_FILE or "
                    "$MR_TOKEN)")
          << "\n" << std::flush;
    return kExitDenied;
  }
  if (from_master && status.code() == absl::StatusCode::kPermissionDenied) {
    *err_ << "mrctl: master " << client_->target() << " denied this: "
          << EscapeName(std::string(detail)) << "\n" << std::flush;
    return kExitDenied;
  }
  *err_ << "mrctl: " << EscapeName(std::string(status.message())) << "\n"
        << std::flush;
  // Errors raised before any RPC (an unreadable plugin) are the user's.
  return from_master ? kExitUnreachable : kExitUsage;
}

int Mrctl::Submit(const CommandLine& cl) {
  absl::StatusOr<mrpb::SubmitJobResponse> r =
      client_->Submit(cl.spec, cl.plugin_path, cl.request_id, cl.side_files);
  if (!r.ok()) return Fail(r.status());
  if (r->error() != mrpb::SubmitJobResponse::OK) {
    return Refuse(absl::StrCat("submission refused (",
                               mrpb::SubmitJobResponse::Error_Name(r->error()),
                               "): ", EscapeName(r->message())));
  }
  if (!cl.wait) {
    *out_ << (cl.json ? ToJson(*r) : r->job_id() + "\n") << std::flush;
    return kExitOk;
  }

  *err_ << "submitted " << r->job_id() << " (" << r->num_maps()
        << (r->num_maps() == 1 ? " map)\n" : " maps)\n") << std::flush;
  ProgressPrinter progress(err_, options_.err_is_tty);
  absl::StatusOr<mrpb::JobStatus> done = client_->WaitForJob(
      r->job_id(), options_.poll_interval,
      [&progress](const mrpb::JobStatus& s) { progress.Update(s); });
  progress.Finish();
  if (!done.ok()) return Fail(done.status());

  *out_ << (cl.json ? ToJson(*done)
                    : FormatJobReport(*done, clock_->WallMs()))
        << std::flush;
  // A job whose checks failed (teravalidate's order check) committed its
  // report, but the caller's script must see the verdict.
  return done->state() == mrpb::JOB_SUCCEEDED && CheckFailures(*done) == 0
             ? kExitOk
             : kExitJobFailed;
}

int Mrctl::Status(const CommandLine& cl) {
  absl::StatusOr<mrpb::GetJobStatusResponse> r =
      client_->GetJobStatus(cl.job_id);
  if (!r.ok()) return Fail(r.status());
  if (!r->found()) return Refuse(absl::StrCat("no job ", cl.job_id));
  *out_ << (cl.json ? ToJson(r->status())
                    : FormatJobReport(r->status(), clock_->WallMs()))
        << std::flush;
  return kExitOk;
}

int Mrctl::List(const CommandLine& cl) {
  absl::StatusOr<mrpb::ListJobsResponse> r = client_->ListJobs(cl.all);
  if (!r.ok()) return Fail(r.status());
  *out_ << (cl.json ? ToJson(*r) : FormatJobTable(*r)) << std::flush;
  return kExitOk;
}

int Mrctl::Kill(const CommandLine& cl) {
  absl::StatusOr<mrpb::KillJobResponse> r = client_->KillJob(cl.job_id);
  if (!r.ok()) return Fail(r.status());
  if (r->error() != mrpb::KillJobResponse::OK) {
    return Refuse(absl::StrCat(
        "cannot kill ", cl.job_id, " (",
        mrpb::KillJobResponse::Error_Name(r->error()), ")",
        r->message().empty() ? "" : ": ", EscapeName(r->message())));
  }
  *out_ << "killed " << cl.job_id << "\n" << std::flush;
  return kExitOk;
}

int Mrctl::Workers(const CommandLine& cl) {
  absl::StatusOr<mrpb::ListWorkersResponse> r = client_->ListWorkers();
  if (!r.ok()) return Fail(r.status());
  *out_ << (cl.json ? ToJson(*r) : FormatWorkerTable(*r)) << std::flush;
  return kExitOk;
}

// Prints the steps in the order they run:
//   pipeline orders_daily: 5 steps, partition dt (dates in UTC)
//     orders     extract
//     orders_ok  validate   after orders
int Mrctl::PipelineCheck(const CommandLine& cl) {
  absl::StatusOr<PipelineSpec> spec = LoadPipelineFile(cl.pipeline_file);
  if (!spec.ok()) {
    // Already one escaped line (pipeline_spec.h).
    *err_ << "mrctl: " << spec.status().message() << "\n" << std::flush;
    return kExitUsage;
  }
  size_t width = 0;
  for (const PipelineStep& step : spec->steps) {
    width = std::max(width, step.name.size());
  }
  *out_ << "pipeline " << spec->name << ": " << spec->steps.size()
        << (spec->steps.size() == 1 ? " step" : " steps") << ", partition "
        << spec->partition_column << " (dates in " << spec->timezone << ")\n";
  for (const PipelineStep& step : spec->steps) {
    std::string line = absl::StrCat("  ", step.name,
                                    std::string(width - step.name.size() + 2, ' '),
                                    StepKindName(step.kind));
    if (!step.depends_on.empty()) {
      line += std::string(11 - std::string(StepKindName(step.kind)).size(), ' ');
      line += absl::StrCat("after ", absl::StrJoin(step.depends_on, ", "));
    }
    *out_ << line << "\n";
  }
  *out_ << std::flush;
  return kExitOk;
}

// Checks the file here first (its errors name lines the user can open),
// then sends its text: the master runs what it was sent, whatever happens
// to the file later.
int Mrctl::PipelineRun(const CommandLine& cl) {
  // One read: what is checked here is what the master runs.
  absl::StatusOr<std::string> yaml = ReadFileToString(cl.pipeline_file);
  absl::StatusOr<PipelineSpec> spec =
      yaml.ok() ? ParsePipeline(*yaml, cl.pipeline_file) : LoadPipelineFile(cl.pipeline_file);
  if (!spec.ok()) {
    *err_ << "mrctl: " << spec.status().message() << "\n" << std::flush;
    return kExitUsage;
  }
  absl::StatusOr<mrpb::RunPipelineResponse> r =
      client_->RunPipeline(*yaml, cl.pipeline_file, cl.date, cl.request_id);
  if (!r.ok()) return Fail(r.status());
  if (r->error() != mrpb::RunPipelineResponse::OK) {
    return Refuse(absl::StrCat("pipeline run refused (",
                               mrpb::RunPipelineResponse::Error_Name(r->error()),
                               "): ", EscapeName(r->message())));
  }
  if (!cl.wait) {
    *out_ << (cl.json ? ToJson(*r) : EscapeName(r->run_id()) + "\n") << std::flush;
    return kExitOk;
  }
  *err_ << "started " << EscapeName(r->run_id()) << " (" << EscapeName(spec->name)
        << " for " << cl.date << ")\n" << std::flush;
  // One line per step state change.
  std::map<std::string, mrpb::PipelineState> seen;
  absl::StatusOr<mrpb::PipelineRun> done = client_->WaitForPipelineRun(
      r->run_id(), options_.poll_interval, [&](const mrpb::PipelineRun& run) {
        for (const mrpb::PipelineStepStatus& s : run.steps()) {
          auto [it, added] = seen.emplace(s.name(), s.state());
          if (!added && it->second == s.state()) continue;
          it->second = s.state();
          if (s.state() == mrpb::PIPELINE_PENDING && s.tries() == 0) continue;
          *err_ << "  " << EscapeName(s.name()) << ": " << PipelineStateName(s.state());
          if (!s.error().empty()) *err_ << ": " << EscapeName(s.error());
          *err_ << "\n" << std::flush;
        }
      });
  if (!done.ok()) return Fail(done.status());
  *out_ << (cl.json ? ToJson(*done) : FormatPipelineRun(*done, clock_->WallMs()))
        << std::flush;
  return done->state() == mrpb::PIPELINE_SUCCEEDED ? kExitOk : kExitJobFailed;
}

int Mrctl::PipelineStatus(const CommandLine& cl) {
  absl::StatusOr<mrpb::GetPipelineRunResponse> r = client_->GetPipelineRun(cl.run_id);
  if (!r.ok()) return Fail(r.status());
  if (!r->found()) return Refuse(absl::StrCat("no pipeline run ", cl.run_id));
  *out_ << (cl.json ? ToJson(r->run()) : FormatPipelineRun(r->run(), clock_->WallMs()))
        << std::flush;
  return kExitOk;
}

int Mrctl::PipelineList(const CommandLine& cl) {
  absl::StatusOr<mrpb::ListPipelineRunsResponse> r = client_->ListPipelineRuns();
  if (!r.ok()) return Fail(r.status());
  *out_ << (cl.json ? ToJson(*r) : FormatPipelineRunTable(*r)) << std::flush;
  return kExitOk;
}

}  // namespace client_internal
}  // namespace mr
