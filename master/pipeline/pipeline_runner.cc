#include "master/pipeline/pipeline_runner.h"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "apps/pipeline/plan.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/names.h"
#include "common/proto_maps.h"
#include "common/status_macros.h"
#include "master/pipeline/postgres_extract.h"
#include "master/pipeline/postgres_load.h"
#include "master/pipeline/file_load.h"

namespace mr {
namespace {

using Kind = PipelineStep::Kind;

constexpr size_t kSamplesPerRule = 3;
// The most dead-letter bytes read for samples.
constexpr uint64_t kSampleScanBytes = 8 << 20;

bool Terminal(mrpb::PipelineState s) {
  return s == mrpb::PIPELINE_SUCCEEDED || s == mrpb::PIPELINE_FAILED ||
         s == mrpb::PIPELINE_SKIPPED;
}

std::string Percent(uint64_t part, uint64_t whole) {
  return whole == 0 ? "0%" : absl::StrFormat("%.3g%%", 100.0 * part / whole);
}

// Whether `failed` of `rows` is above `t`.
bool Above(const RowThreshold& t, uint64_t failed, uint64_t rows) {
  if (!t.percent) return static_cast<double>(failed) > t.value;
  return rows > 0 && 100.0 * failed / rows > t.value;
}

std::string ThresholdText(const RowThreshold& t) {
  return t.percent ? absl::StrCat("> ", t.value, "%") : absl::StrCat("> ", t.value);
}

// Counter `name` of `counters`, 0 when absent.
int64_t CounterOf(const CounterMap& counters, const std::string& name) {
  auto it = counters.find(name);
  return it == counters.end() ? 0 : it->second;
}

// A rule as `mrctl pipeline status` names it: "not_null(order_id, user_id)",
// "range(amount)", "row_count".
std::string RuleName(const PipelineStep::Rule& rule) {
  if (rule.columns.empty()) return rule.kind;
  return absl::StrCat(rule.kind, "(", absl::StrJoin(rule.columns, ", "), ")");
}

// How the rule's failures begin in a dead-letter row's "rules" (the labels
// of apps/pipeline/validate.h).
std::vector<std::string> DeadLetterPrefixes(const PipelineStep::Rule& rule) {
  if (rule.kind == "not_null") {
    std::vector<std::string> out;
    for (const std::string& c : rule.columns) out.push_back(absl::StrCat("not_null(", c, ")"));
    return out;
  }
  if (rule.kind == "unique") return {RuleName(rule)};
  return {RuleName(rule) + ":"};
}

// Errors no retry mends.
bool Permanent(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInvalidArgument ||
         s.code() == absl::StatusCode::kFailedPrecondition ||
         s.code() == absl::StatusCode::kPermissionDenied;
}

}  // namespace

struct PipelineRunner::Active {
  mrpb::PipelineRun* run = nullptr;  // in runs_
  PipelineSpec spec;
  // Steps running in the master, by index: set when their thread ends.
  struct Native {
    bool done = false;
    NativeResult result;
  };
  std::map<int, std::shared_ptr<Native>> native;
  // The planned jobs of steps that run jobs, by index (planned again after
  // a restart: planning is a function of the run).
  std::map<int, std::vector<mrpb::JobSpec>> plans;

  int Index(const std::string& name) const {
    for (size_t i = 0; i < spec.steps.size(); ++i) {
      if (spec.steps[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
};

PipelineRunner::PipelineRunner(PipelineRunnerOptions options,
                               JobTracker* tracker, MasterStore* store)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      tracker_(tracker),
      store_(store) {}

PipelineRunner::~PipelineRunner() { Stop(); }

absl::Status PipelineRunner::Restore() {
  if (store_ == nullptr) return absl::OkStatus();
  absl::StatusOr<std::vector<mrpb::PipelineRun>> runs = store_->LoadPipelineRuns();
  if (!runs.ok()) return runs.status();
  absl::MutexLock lock(&mu_);
  for (mrpb::PipelineRun& run : *runs) {
    uint64_t seq = 0;
    absl::string_view id = run.run_id();
    if (absl::ConsumePrefix(&id, "run-") && absl::SimpleAtoi(id, &seq)) {
      next_run_seq_ = std::max(next_run_seq_, seq + 1);
    }
    if (!run.request_id().empty()) requests_[run.request_id()] = run.run_id();
    const std::string run_id = run.run_id();
    mrpb::PipelineRun& stored = runs_[run_id] = std::move(run);
    if (Terminal(stored.state())) continue;
    absl::StatusOr<PipelineSpec> spec = ParsePipeline(stored.yaml(), stored.file());
    std::string why;
    if (!spec.ok()) {
      why = absl::StrCat("the stored pipeline does not parse: ", spec.status().message());
    } else if (spec->steps.size() != static_cast<size_t>(stored.steps_size())) {
      why = "its steps are not the stored ones";
    } else {
      for (size_t i = 0; i < spec->steps.size() && why.empty(); ++i) {
        if (spec->steps[i].name != stored.steps(i).name() ||
            StepKindName(spec->steps[i].kind) != stored.steps(i).kind()) {
          why = "its steps are not the stored ones";
        }
      }
    }
    if (!why.empty()) {
      // Written by another version whose parser reads the file otherwise:
      // end the run rather than apply stored states to other steps.
      const int64_t now = clock_->WallMs();
      for (mrpb::PipelineStepStatus& s : *stored.mutable_steps()) {
        for (const std::string& job : s.job_ids()) tracker_->Kill(job);
        if (!Terminal(s.state())) {
          s.set_state(mrpb::PIPELINE_SKIPPED);
          s.set_finish_time_ms(now);
        }
      }
      stored.set_state(mrpb::PIPELINE_FAILED);
      stored.set_error(absl::StrCat("cannot resume after a restart: ", why));
      stored.set_finish_time_ms(now);
      Persist(stored);
      continue;
    }
    auto active = std::make_unique<Active>();
    active->run = &stored;
    active->spec = *std::move(spec);
    MR_LOG(INFO) << "pipeline run " << run_id << " resumes";
    active_[run_id] = std::move(active);
  }
  return absl::OkStatus();
}

void PipelineRunner::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void PipelineRunner::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
  std::vector<std::pair<std::thread, std::shared_ptr<const bool>>> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(native_threads_);
  }
  for (auto& [thread, done] : threads) thread.join();
}

void PipelineRunner::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(absl::Milliseconds(options_.poll_ms))) {
    AdvanceAll();
  }
}

mrpb::RunPipelineResponse PipelineRunner::Run(const mrpb::RunPipelineRequest& request,
                                              const std::string& owner) {
  using R = mrpb::RunPipelineResponse;
  R response;
  auto refuse = [&](R::Error error, std::string message) {
    response.set_error(error);
    response.set_message(std::move(message));
    return response;
  };
  if (options_.staging_dir.empty()) {
    return refuse(R::UNAVAILABLE,
                  "this master runs no pipelines: start it with --pipeline_staging_dir "
                  "(a directory every worker can read and write)");
  }
  absl::StatusOr<PipelineSpec> spec = ParsePipeline(request.yaml(), request.file());
  if (!spec.ok()) return refuse(R::INVALID_PIPELINE, std::string(spec.status().message()));
  if (!IsIsoDate(request.dt())) {
    return refuse(R::BAD_DATE, absl::StrCat("bad date '", EscapeName(request.dt()),
                                            "' (expected YYYY-MM-DD, a calendar date)"));
  }
  absl::MutexLock lock(&mu_);
  if (!request.request_id().empty()) {
    auto it = requests_.find(request.request_id());
    if (it != requests_.end()) {
      response.set_run_id(it->second);
      response.set_duplicate(true);
      return response;
    }
  }
  for (const auto& [id, active] : active_) {
    if (active->run->pipeline() == spec->name && active->run->dt() == request.dt()) {
      return refuse(R::ALREADY_RUNNING,
                    absl::StrCat("pipeline ", EscapeName(spec->name), " for ",
                                 request.dt(), " is already running as ", id,
                                 "; wait for it to end"));
    }
  }
  const std::string run_id = absl::StrFormat("run-%06d", next_run_seq_++);
  mrpb::PipelineRun& run = runs_[run_id];
  run.set_run_id(run_id);
  run.set_pipeline(spec->name);
  run.set_file(request.file());
  run.set_yaml(request.yaml());
  run.set_dt(request.dt());
  run.set_state(mrpb::PIPELINE_RUNNING);
  run.set_submit_time_ms(clock_->WallMs());
  run.set_request_id(request.request_id());
  run.set_owner(owner);
  run.set_staging_dir(absl::StrCat(options_.staging_dir, "/", spec->name, "/",
                                   request.dt(), "/", run_id));
  for (const PipelineStep& step : spec->steps) {
    mrpb::PipelineStepStatus* s = run.add_steps();
    s->set_name(step.name);
    s->set_kind(StepKindName(step.kind));
    s->set_state(mrpb::PIPELINE_PENDING);
  }
  if (store_ != nullptr) {
    if (absl::Status s = store_->PutPipelineRun(run); !s.ok()) {
      runs_.erase(run_id);
      return refuse(R::UNAVAILABLE, absl::StrCat("cannot record the run: ", s.message()));
    }
  }
  if (!request.request_id().empty()) requests_[request.request_id()] = run_id;
  auto active = std::make_unique<Active>();
  active->run = &run;
  active->spec = *std::move(spec);
  active_[run_id] = std::move(active);
  MR_LOG(INFO) << "pipeline run " << run_id << ": " << EscapeName(run.pipeline())
               << " for " << run.dt() << ", " << run.steps_size() << " steps";
  response.set_run_id(run_id);
  return response;
}

std::optional<mrpb::PipelineRun> PipelineRunner::Get(const std::string& run_id) {
  absl::MutexLock lock(&mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return std::nullopt;
  mrpb::PipelineRun run = it->second;
  run.clear_yaml();  // the client has the file; status stays small
  return run;
}

std::vector<mrpb::PipelineRun> PipelineRunner::List() {
  absl::MutexLock lock(&mu_);
  std::vector<mrpb::PipelineRun> out;
  for (const auto& [id, run] : runs_) {
    out.push_back(run);
    out.back().clear_yaml();
    out.back().clear_steps();
    for (const mrpb::PipelineStepStatus& s : run.steps()) {
      mrpb::PipelineStepStatus* brief = out.back().add_steps();
      brief->set_name(s.name());
      brief->set_kind(s.kind());
      brief->set_state(s.state());
    }
  }
  return out;
}

void PipelineRunner::AdvanceAll() {
  absl::MutexLock lock(&mu_);
  for (auto it = native_threads_.begin(); it != native_threads_.end();) {
    if (*it->second) {
      it->first.join();
      it = native_threads_.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<std::string> ids;
  for (const auto& [id, active] : active_) ids.push_back(id);
  for (const std::string& id : ids) {
    auto it = active_.find(id);
    if (it != active_.end()) Advance(it->second.get());
  }
}

std::string PipelineRunner::StepDir(const mrpb::PipelineRun& run,
                                    const std::string& step) const {
  return absl::StrCat(run.staging_dir(), "/", step);
}

void PipelineRunner::Advance(Active* active) {
  mrpb::PipelineRun& run = *active->run;
  const int64_t now = clock_->WallMs();
  for (int i = 0; i < run.steps_size(); ++i) {
    mrpb::PipelineStepStatus* st = run.mutable_steps(i);
    const PipelineStep& step = active->spec.steps[i];
    if (st->state() == mrpb::PIPELINE_PENDING) {
      bool ready = true;
      std::string blocked_by;
      for (const std::string& dep : step.depends_on) {
        const int j = active->Index(dep);
        const mrpb::PipelineState ds = run.steps(j).state();
        if (ds == mrpb::PIPELINE_FAILED || ds == mrpb::PIPELINE_SKIPPED) {
          blocked_by = dep;
          break;
        }
        ready = ready && ds == mrpb::PIPELINE_SUCCEEDED;
      }
      if (!blocked_by.empty()) {
        st->set_state(mrpb::PIPELINE_SKIPPED);
        st->set_error(absl::StrCat("not run: step '", blocked_by, "' did not succeed"));
        st->set_finish_time_ms(now);
        Persist(run);
      } else if (ready && now >= st->next_try_ms()) {
        StartTry(active, i);
      }
    } else if (st->state() == mrpb::PIPELINE_RUNNING) {
      const bool runs_jobs = step.kind == Kind::kValidate || step.kind == Kind::kTransform;
      if (runs_jobs) {
        WatchJobs(active, i);
      } else {
        auto it = active->native.find(i);
        if (it == active->native.end()) {
          // Running when the master stopped: run it again (idempotent), as
          // a new try, so that a step that keeps killing the master ends.
          if (st->tries() > static_cast<uint32_t>(step.retries)) {
            FailTry(active, i, "the master stopped during every try of this step", true);
            continue;
          }
          st->set_tries(st->tries() + 1);
          st->set_try_start_ms(now);
          Persist(run);
          StartNative(active, i);
        } else if (it->second->done) {
          NativeResult result = std::move(it->second->result);
          active->native.erase(it);
          if (result.status.ok()) {
            st->set_rows_loaded(result.rows);
            st->set_summary(result.summary);
            SucceedStep(active, i);
          } else {
            FailTry(active, i, std::string(result.status.message()),
                    Permanent(result.status));
          }
        }
      }
    }
  }
  bool all_done = true;
  for (const mrpb::PipelineStepStatus& s : run.steps()) {
    all_done = all_done && Terminal(s.state());
  }
  if (all_done) FinishRun(active);
}

void PipelineRunner::StartTry(Active* active, int i) {
  mrpb::PipelineRun& run = *active->run;
  mrpb::PipelineStepStatus* st = run.mutable_steps(i);
  const PipelineStep& step = active->spec.steps[i];
  const int64_t now = clock_->WallMs();
  st->set_state(mrpb::PIPELINE_RUNNING);
  st->set_tries(st->tries() + 1);
  if (st->start_ms() == 0) st->set_start_ms(now);
  st->set_try_start_ms(now);
  st->clear_job_ids();
  st->clear_error();
  MR_LOG(INFO) << "pipeline run " << run.run_id() << ": step " << step.name
               << " try " << st->tries();
  switch (step.kind) {
    case Kind::kExtract:
      if (!step.files.empty()) {
        const std::string glob = ExpandTemplate(step.files, active->spec, run.dt());
        st->set_output(glob);
        absl::StatusOr<std::vector<std::string>> files = ExpandInputs({glob});
        if (!files.ok()) {
          FailTry(active, i, std::string(files.status().message()), false);
          return;
        }
        st->set_summary(absl::StrCat(files->size(), " files"));
        SucceedStep(active, i);
        return;
      }
      StartNative(active, i);
      break;
    case Kind::kLoad:
      StartNative(active, i);
      break;
    case Kind::kValidate:
    case Kind::kTransform: {
      absl::StatusOr<std::vector<mrpb::JobSpec>> plan = PlanJobs(*active, i);
      if (!plan.ok()) {
        FailTry(active, i, std::string(plan.status().message()), Permanent(plan.status()));
        return;
      }
      active->plans[i] = *std::move(plan);
      st->set_output(StepDir(run, step.name));
      if (absl::Status s = SubmitJob(active, i, 0); !s.ok()) {
        FailTry(active, i, std::string(s.message()), Permanent(s));
        return;
      }
      break;
    }
  }
  Persist(run);
}

absl::StatusOr<std::vector<mrpb::JobSpec>> PipelineRunner::PlanJobs(const Active& active,
                                                                    int i) {
  const mrpb::PipelineRun& run = *active.run;
  const PipelineStep& step = active.spec.steps[i];
  pipeline::StepContext ctx;
  ctx.pipeline_yaml = run.yaml();
  ctx.pipeline_file = run.file();
  ctx.dt = run.dt();
  ctx.run_id = run.run_id();
  ctx.output_dir = StepDir(run, step.name);
  ctx.scratch_dir = StepDir(run, step.name + ".scratch");
  ctx.num_reduces = options_.num_reduces;
  for (const std::string& dep : step.depends_on) {
    const PipelineStep& d = active.spec.steps[active.Index(dep)];
    if (d.kind == Kind::kLoad) continue;  // an ordering dependency only
    pipeline::StagedInput in;
    if (d.kind == Kind::kExtract && !d.files.empty()) {
      in.inputs.push_back(ExpandTemplate(d.files, active.spec, run.dt()));
      if (d.format == "jsonl") {
        in.format.set_kind(mrpb::InputFormat::JSONL);
      } else if (d.format == "text") {
        in.format.set_kind(mrpb::InputFormat::TEXT);
      } else {
        in.format.set_kind(mrpb::InputFormat::CSV);
        in.format.set_header(true);
      }
    } else {
      in.inputs.push_back(StepDir(run, dep) + "/part-*");
      in.format.set_kind(mrpb::InputFormat::JSONL);
      in.staged = true;
    }
    ctx.inputs[dep] = std::move(in);
  }
  absl::StatusOr<std::vector<mrpb::JobSpec>> jobs =
      step.kind == Kind::kValidate ? pipeline::PlanValidate(active.spec, step, ctx)
                                   : pipeline::PlanTransform(active.spec, step, ctx);
  if (!jobs.ok()) return jobs.status();
  if (jobs->empty()) return absl::InvalidArgumentError("the step compiles to no job");
  for (mrpb::JobSpec& job : *jobs) {
    job.set_overwrite(true);  // a retried try replaces what an earlier one left
    if (job.name().empty()) {
      job.set_name(absl::StrCat(run.pipeline(), " ", run.dt(), " ", run.run_id(), " ",
                                step.name));
    }
  }
  if (jobs->size() > 1 && !PathExists(ctx.scratch_dir)) {
    if (absl::Status s = MakeDirs(ctx.scratch_dir); !s.ok()) return s;
  }
  return jobs;
}

absl::Status PipelineRunner::SubmitJob(Active* active, int i, size_t k) {
  mrpb::PipelineRun& run = *active->run;
  mrpb::PipelineStepStatus* st = run.mutable_steps(i);
  if (k >= active->plans[i].size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the step's plan has ", active->plans[i].size(), " jobs, not ", k + 1,
        " (did the pipeline's compilation change across a restart?)"));
  }
  mrpb::SubmitJobRequest request;
  *request.mutable_spec() = active->plans[i][k];
  // The submission time makes the id unique even if a run id were handed
  // out twice (a run record lost with the master's last writes).
  request.set_request_id(absl::StrCat("pipeline/", run.run_id(), "/", run.submit_time_ms(),
                                      "/", st->name(), "/try", st->tries(), "/job", k));
  if (absl::Status s = MakeDirs(run.staging_dir()); !s.ok()) return s;
  mrpb::SubmitJobResponse response = tracker_->Submit(request, run.owner());
  if (response.error() != mrpb::SubmitJobResponse::OK) {
    const std::string message =
        absl::StrCat("job ", k + 1, " of ", active->plans[i].size(),
                     " refused: ", response.message());
    using R = mrpb::SubmitJobResponse;
    if (response.error() == R::PERMISSION_DENIED) {
      return absl::PermissionDeniedError(message);  // no retry mends it
    }
    const bool permanent = response.error() == R::INVALID_SPEC ||
                           response.error() == R::UNKNOWN_APP ||
                           response.error() == R::BAD_PARAMS;
    return permanent ? absl::InvalidArgumentError(message)
                     : absl::UnavailableError(message);
  }
  while (static_cast<size_t>(st->job_ids_size()) > k) st->mutable_job_ids()->RemoveLast();
  st->add_job_ids(response.job_id());
  return absl::OkStatus();
}

void PipelineRunner::WatchJobs(Active* active, int i) {
  mrpb::PipelineRun& run = *active->run;
  mrpb::PipelineStepStatus* st = run.mutable_steps(i);
  const PipelineStep& step = active->spec.steps[i];
  if (active->plans.count(i) == 0) {  // resumed after a restart
    absl::StatusOr<std::vector<mrpb::JobSpec>> plan = PlanJobs(*active, i);
    if (!plan.ok()) {
      FailTry(active, i, std::string(plan.status().message()), Permanent(plan.status()));
      return;
    }
    active->plans[i] = *std::move(plan);
  }
  const std::vector<mrpb::JobSpec>& plan = active->plans[i];
  if (st->job_ids_size() == 0) {
    if (absl::Status s = SubmitJob(active, i, 0); !s.ok()) {
      FailTry(active, i, std::string(s.message()), Permanent(s));
    } else {
      Persist(run);
    }
    return;
  }
  const size_t k = st->job_ids_size() - 1;
  const std::string job_id = st->job_ids(k);
  std::optional<mrpb::JobStatus> job = tracker_->GetStatus(job_id);
  if (!job.has_value()) {
    // Not in the tracker's state (lost with the master's last writes):
    // submit it again under the same request id.
    if (absl::Status s = SubmitJob(active, i, k); !s.ok()) {
      FailTry(active, i, std::string(s.message()), Permanent(s));
    } else {
      Persist(run);
    }
    return;
  }
  const int64_t now = clock_->WallMs();
  switch (job->state()) {
    case mrpb::JOB_RUNNING:
      if (now - st->try_start_ms() > absl::ToInt64Milliseconds(step.timeout)) {
        // A job already committing cannot be killed: the next look sees
        // how it ended.
        if (tracker_->Kill(job_id).error() != mrpb::KillJobResponse::OK) return;
        FailTry(active, i,
                absl::StrCat("timed out after ", absl::FormatDuration(step.timeout),
                             " (job ", job_id, " killed)"),
                false);
      }
      return;
    case mrpb::JOB_SUCCEEDED:
      if (k + 1 < plan.size()) {
        if (absl::Status s = SubmitJob(active, i, k + 1); !s.ok()) {
          FailTry(active, i, std::string(s.message()), Permanent(s));
        } else {
          Persist(run);
        }
        return;
      }
      if (step.kind == Kind::kValidate) {
        if (absl::Status s = FinishValidate(active, i, *job); !s.ok()) {
          FailTry(active, i, std::string(s.message()), true);
          return;
        }
      } else {
        const char* output = job->spec().map_only() ? "map output records"
                                                    : "reduce output records";
        st->set_summary(
            absl::StrCat(CounterOf(CountersFromProto(job->counters()), output), " rows"));
      }
      SucceedStep(active, i);
      return;
    default:
      FailTry(active, i,
              absl::StrCat("job ", job_id, " ",
                           job->state() == mrpb::JOB_KILLED ? "was killed" : "failed",
                           job->error().empty() ? "" : ": ", job->error()),
              false);
      return;
  }
}

absl::Status PipelineRunner::FinishValidate(Active* active, int i,
                                            const mrpb::JobStatus& job) {
  mrpb::PipelineRun& run = *active->run;
  mrpb::PipelineStepStatus* st = run.mutable_steps(i);
  const PipelineStep& step = active->spec.steps[i];
  // Records the engine refused before the job saw them (an unterminated
  // CSV quote, a line longer than max_record_bytes) fail the schema rule:
  // they are counted here and listed by `mrctl status JOB`.
  const CounterMap counters = CountersFromProto(job.counters());
  const uint64_t malformed = CounterOf(counters, "malformed records");
  const uint64_t rows = CounterOf(counters, "rows") + malformed;
  const uint64_t failed = CounterOf(counters, "rows failed") + malformed;
  st->set_rows(rows);
  st->set_rows_failed(failed);
  st->clear_rules();
  st->clear_warnings();
  const std::string dir = StepDir(run, step.name);
  // A map-only validate (no unique rule) writes dead_letter-m-*.
  if (step.dead_letter) st->set_dead_letter(dir + "/dead_letter-*");

  // Samples: the first dead-letter rows naming each rule. Labels 0 is the
  // schema's, r + 1 rule r's.
  std::vector<std::string> labels = {"schema"};
  std::vector<std::vector<std::string>> prefixes = {{"schema: "}};
  for (const PipelineStep::Rule& rule : step.rules) {
    labels.push_back(RuleName(rule));
    prefixes.push_back(DeadLetterPrefixes(rule));
  }
  std::vector<std::vector<std::string>> samples(labels.size());
  if (step.dead_letter) {
    absl::StatusOr<std::vector<std::string>> files =
        ExpandInputs({dir + "/dead_letter-*"});
    uint64_t scanned = 0;
    for (const std::string& f : files.ok() ? *files : std::vector<std::string>()) {
      std::ifstream in(f);
      std::string line;
      while (scanned < kSampleScanBytes && std::getline(in, line)) {
        scanned += line.size() + 1;
        for (size_t l = 0; l < labels.size(); ++l) {
          if (samples[l].size() >= kSamplesPerRule) continue;
          for (const std::string& p : prefixes[l]) {
            if (absl::StrContains(line, absl::StrCat("\"", p))) {
              samples[l].push_back(line);
              break;
            }
          }
        }
      }
    }
  }
  std::vector<std::string> violations;
  auto add_rule = [&](size_t l, uint64_t n) {
    mrpb::PipelineRuleResult* r = st->add_rules();
    r->set_rule(labels[l]);
    r->set_failed(n);
    for (const std::string& s : samples[l]) r->add_samples(s);
    return r;
  };
  mrpb::PipelineRuleResult* schema = add_rule(0, CounterOf(counters, "rule schema failed") + malformed);
  for (const mrpb::RecordLocation& m : job.malformed_records()) {
    if (static_cast<size_t>(schema->samples_size()) >= kSamplesPerRule) break;
    schema->add_samples(absl::StrCat("malformed record at byte ", m.offset(), " of ", m.path(),
                                     ": ", m.reason()));
  }
  for (size_t r = 0; r < step.rules.size(); ++r) {
    const PipelineStep::Rule& rule = step.rules[r];
    const std::string& label = labels[r + 1];
    if (rule.kind == "row_count") {
      mrpb::PipelineRuleResult* res = add_rule(r + 1, 0);
      std::string why;
      if (rule.min && rows < *rule.min) {
        why = absl::StrCat(rows, " rows, fewer than min ", *rule.min);
      } else if (rule.max && rows > *rule.max) {
        why = absl::StrCat(rows, " rows, more than max ", *rule.max);
      } else if (rule.max_growth) {
        // The last successful run of this pipeline, another date or not.
        const mrpb::PipelineRun* last = nullptr;
        for (const auto& [id, other] : runs_) {
          if (other.pipeline() == run.pipeline() && id != run.run_id() &&
              other.state() == mrpb::PIPELINE_SUCCEEDED &&
              (last == nullptr || other.finish_time_ms() > last->finish_time_ms())) {
            last = &other;
          }
        }
        const mrpb::PipelineStepStatus* prev = nullptr;
        if (last != nullptr) {
          for (const mrpb::PipelineStepStatus& s : last->steps()) {
            if (s.name() == step.name) prev = &s;
          }
        }
        if (prev != nullptr && prev->rows() > 0 &&
            rows > *rule.max_growth * static_cast<double>(prev->rows())) {
          why = absl::StrCat(rows, " rows, more than ", *rule.max_growth,
                             "x the ", prev->rows(), " of ", last->run_id(), " (",
                             last->dt(), ")");
        }
      }
      res->set_detail(why.empty() ? absl::StrCat(rows, " rows") : why);
      if (!why.empty()) {
        res->set_violated(true);
        violations.push_back(absl::StrCat(label, ": ", why));
      }
    } else if (rule.kind == "freshness") {
      mrpb::PipelineRuleResult* res = add_rule(r + 1, 0);
      const auto newest_it = counters.find(absl::StrCat("max freshness ", r, " epoch seconds"));
      const bool found = newest_it != counters.end();
      const int64_t newest = found ? newest_it->second : 0;
      // The end of the logical date, in the pipeline's time zone.
      absl::TimeZone tz;
      absl::CivilDay day;
      absl::ParseCivilTime(run.dt(), &day);
      if (!absl::LoadTimeZone(active->spec.timezone, &tz)) tz = absl::UTCTimeZone();
      const absl::Time end = absl::FromCivil(day + 1, tz);
      const absl::Time oldest_ok = end - rule.max_age;
      std::string why;
      if (!found) {
        why = "no value to measure";
      } else if (absl::FromUnixSeconds(newest) < oldest_ok) {
        why = absl::StrCat("newest ", rule.columns.at(0), " ",
                           absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(newest),
                                            absl::UTCTimeZone()),
                           " is older than ", absl::FormatDuration(rule.max_age),
                           " before the end of ", run.dt());
      }
      res->set_detail(why.empty() ? absl::StrCat("newest ",
                                                  absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                                                   absl::FromUnixSeconds(newest),
                                                                   absl::UTCTimeZone()))
                                  : why);
      if (!why.empty()) {
        res->set_violated(true);
        violations.push_back(absl::StrCat(label, ": ", why));
      }
    } else {
      add_rule(r + 1, CounterOf(counters, absl::StrCat("rule ", r, " failed")));
    }
  }

  const RowThreshold error_if = step.error_if.value_or(RowThreshold{false, 0});
  if (step.warn_if && Above(*step.warn_if, failed, rows)) {
    st->add_warnings(absl::StrCat(failed, " of ", rows, " rows (", Percent(failed, rows),
                                  ") failed a rule: warn_if ",
                                  ThresholdText(*step.warn_if)));
  }
  if (Above(error_if, failed, rows)) {
    violations.insert(violations.begin(),
                      absl::StrCat(failed, " of ", rows, " rows (", Percent(failed, rows),
                                   ") failed a rule: error_if ", ThresholdText(error_if),
                                   step.error_if ? "" : " (the default)"));
  }
  if (!violations.empty()) {
    std::string message = "quality gate failed: ";
    for (size_t v = 0; v < violations.size(); ++v) {
      absl::StrAppend(&message, v == 0 ? "" : "; ", violations[v]);
    }
    return absl::FailedPreconditionError(message);
  }
  st->set_summary(absl::StrCat(rows - failed, " of ", rows, " rows passed"));
  return absl::OkStatus();
}

void PipelineRunner::StartNative(Active* active, int i) {
  auto slot = std::make_shared<Active::Native>();
  active->native[i] = slot;
  const mrpb::PipelineRun run = *active->run;
  const PipelineSpec spec = active->spec;
  const PipelineStep step = spec.steps[i];
  auto finished = std::make_shared<bool>(false);
  std::thread thread([this, slot, finished, run, spec, step] {
    NativeResult result = RunNative(run, spec, step);
    absl::MutexLock lock(&mu_);
    slot->result = std::move(result);
    slot->done = true;
    *finished = true;
  });
  native_threads_.emplace_back(std::move(thread), finished);
}

PipelineRunner::NativeResult PipelineRunner::RunNative(const mrpb::PipelineRun& run,
                                                       const PipelineSpec& spec,
                                                       const PipelineStep& step) {
  NativeResult result;
  std::string dsn;
  if (!step.postgres_dsn_env.empty()) {
    const char* v = getenv(step.postgres_dsn_env.c_str());
    if (v == nullptr || *v == '\0') {
      result.status = absl::FailedPreconditionError(
          absl::StrCat(step.postgres_dsn_env,
                       " is not set in the master's environment (the PostgreSQL "
                       "connection string of step '", step.name, "')"));
      return result;
    }
    dsn = v;
  }
  if (step.kind == Kind::kExtract) {
    pipeline::PostgresExtract extract;
    extract.dsn = dsn;
    extract.table = ExpandTemplate(step.postgres_table, spec, run.dt());
    extract.query = ExpandTemplate(step.postgres_query, spec, run.dt());
    extract.out_dir = StepDir(run, step.name);
    absl::StatusOr<pipeline::ExtractStats> stats = pipeline::ExtractFromPostgres(extract);
    if (!stats.ok()) {
      result.status = stats.status();
      return result;
    }
    result.rows = stats->rows;
    result.summary = absl::StrCat(stats->rows, " rows extracted");
    return result;
  }
  // A load: the input step's staged rows.
  for (const PipelineStep& s : spec.steps) {
    if (s.name == step.input && s.kind == Kind::kExtract && !s.files.empty()) {
      result.status = absl::InvalidArgumentError(absl::StrCat(
          "load step '", step.name, "' reads '", s.name,
          "', an extract of files: a load takes typed rows, from a validate, "
          "transform or PostgreSQL extract step"));
      return result;
    }
  }
  absl::StatusOr<std::vector<std::string>> files =
      ExpandInputs({StepDir(run, step.input) + "/part-*"});
  if (!files.ok()) {
    result.status = files.status();
    return result;
  }
  if (!step.postgres_table.empty()) {
    pipeline::PostgresLoad load;
    load.dsn = dsn;
    load.table = ExpandTemplate(step.postgres_table, spec, run.dt());
    load.mode = step.mode;
    load.key = step.key;
    load.partition_column = spec.partition_column;
    load.dt = run.dt();
    load.run_id = run.run_id();
    load.files = *files;
    absl::StatusOr<pipeline::LoadStats> stats = pipeline::LoadIntoPostgres(load);
    if (!stats.ok()) {
      result.status = stats.status();
      return result;
    }
    result.rows = stats->rows_staged;
    result.summary = absl::StrCat(stats->rows_staged, " rows loaded into ", load.table,
                                  " (", step.mode, ")");
    return result;
  }
  pipeline::FileLoad load;
  load.files = *files;
  load.target_root = ExpandTemplate(step.path, spec, run.dt());
  // The master writes there itself: the same roots as jobs' outputs.
  if (absl::Status s = options_.path_policy.CheckOutput(load.target_root);
      !s.ok()) {
    MR_LOG(WARNING) << "pipeline run " << run.run_id() << ": load step '"
                    << step.name << "' refused: " << s.message();
    result.status = Prepend(s, absl::StrCat("load step '", step.name, "'"));
    return result;
  }
  load.format = step.format.empty() ? "jsonl" : step.format;
  load.mode = step.mode;
  load.partition_column = spec.partition_column;
  load.dt = run.dt();
  load.run_id = run.run_id();
  absl::StatusOr<pipeline::FileLoadStats> stats = pipeline::LoadIntoFiles(load);
  if (!stats.ok()) {
    result.status = stats.status();
    return result;
  }
  result.rows = stats->rows;
  result.summary = absl::StrCat(stats->rows, " rows written to ", stats->partition_dir);
  return result;
}

void PipelineRunner::FailTry(Active* active, int i, const std::string& error,
                             bool permanent) {
  mrpb::PipelineRun& run = *active->run;
  mrpb::PipelineStepStatus* st = run.mutable_steps(i);
  const PipelineStep& step = active->spec.steps[i];
  const int64_t now = clock_->WallMs();
  st->set_error(error);
  if (!permanent && st->tries() <= static_cast<uint32_t>(step.retries)) {
    // Doubling, up to an hour (or retry_delay, when longer).
    const absl::Duration delay = std::min(
        step.retry_delay * std::pow(2.0, static_cast<double>(std::min<uint32_t>(st->tries(), 40) - 1)),
        std::max(step.retry_delay, absl::Hours(1)));
    st->set_state(mrpb::PIPELINE_PENDING);
    st->set_next_try_ms(now + absl::ToInt64Milliseconds(delay));
    MR_LOG(WARNING) << "pipeline run " << run.run_id() << ": step " << step.name
                    << " try " << st->tries() << " failed (" << EscapeName(error)
                    << "); retrying in " << absl::FormatDuration(delay);
  } else {
    st->set_state(mrpb::PIPELINE_FAILED);
    st->set_finish_time_ms(now);
    MR_LOG(WARNING) << "pipeline run " << run.run_id() << ": step " << step.name
                    << " failed: " << EscapeName(error);
  }
  Persist(run);
}

void PipelineRunner::SucceedStep(Active* active, int i) {
  mrpb::PipelineRun& run = *active->run;
  mrpb::PipelineStepStatus* st = run.mutable_steps(i);
  st->set_state(mrpb::PIPELINE_SUCCEEDED);
  st->set_finish_time_ms(clock_->WallMs());
  st->clear_error();
  MR_LOG(INFO) << "pipeline run " << run.run_id() << ": step " << st->name()
               << " succeeded: " << EscapeName(st->summary());
  Persist(run);
}

void PipelineRunner::FinishRun(Active* active) {
  mrpb::PipelineRun& run = *active->run;
  bool ok = true;
  for (const mrpb::PipelineStepStatus& s : run.steps()) {
    if (s.state() == mrpb::PIPELINE_FAILED && ok) {
      ok = false;
      run.set_error(absl::StrCat("step '", s.name(), "' failed: ", s.error()));
    }
  }
  run.set_state(ok ? mrpb::PIPELINE_SUCCEEDED : mrpb::PIPELINE_FAILED);
  run.set_finish_time_ms(clock_->WallMs());
  Persist(run);
  MR_LOG(INFO) << "pipeline run " << run.run_id() << (ok ? " succeeded" : " failed: ")
               << EscapeName(run.error());
  if (ok) {
    // The date's earlier runs: their staged data is superseded.
    for (auto& [id, other] : runs_) {
      // Only a directory this runner names (a damaged record must not
      // point the removal elsewhere).
      const std::string expected = absl::StrCat(options_.staging_dir, "/", run.pipeline(),
                                                "/", run.dt(), "/", id);
      if (id != run.run_id() && other.pipeline() == run.pipeline() &&
          other.dt() == run.dt() && Terminal(other.state()) &&
          other.staging_dir() == expected && PathExists(expected)) {
        RemoveAll(expected).IgnoreError();
      }
    }
  }
  active_.erase(run.run_id());
}

void PipelineRunner::Persist(const mrpb::PipelineRun& run) {
  if (store_ == nullptr) return;
  if (absl::Status s = store_->PutPipelineRun(run); !s.ok()) {
    MR_LOG(ERROR) << "cannot record pipeline run " << run.run_id() << ": " << s;
  }
}

}  // namespace mr
