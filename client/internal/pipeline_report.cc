#include "client/internal/pipeline_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/internal/text_table.h"
#include "common/names.h"

namespace mr {
namespace client_internal {

const char* PipelineStateName(mrpb::PipelineState state) {
  switch (state) {
    case mrpb::PIPELINE_PENDING: return "PENDING";
    case mrpb::PIPELINE_RUNNING: return "RUNNING";
    case mrpb::PIPELINE_SUCCEEDED: return "SUCCEEDED";
    case mrpb::PIPELINE_FAILED: return "FAILED";
    case mrpb::PIPELINE_SKIPPED: return "SKIPPED";
    default: return "?";
  }
}

namespace {

std::string Seconds(int64_t ms) { return absl::StrFormat("%.1f s", ms / 1000.0); }

std::string StepTime(const mrpb::PipelineStepStatus& s, int64_t now_ms) {
  if (s.try_start_ms() == 0) return "";
  if (s.finish_time_ms() != 0) return Seconds(s.finish_time_ms() - s.start_ms());
  if (s.state() == mrpb::PIPELINE_RUNNING) return Seconds(now_ms - s.start_ms());
  return "";
}

}  // namespace

std::string FormatPipelineRun(const mrpb::PipelineRun& run, int64_t now_ms) {
  std::string out = absl::StrCat(run.run_id(), "  ", EscapeName(run.pipeline()), "  ",
                                 run.dt(), "  ", PipelineStateName(run.state()), "  (",
                                 EscapeName(run.file()), ")\n");
  if (!run.error().empty()) absl::StrAppend(&out, "error: ", EscapeName(run.error()), "\n");
  absl::StrAppend(&out, "\n");
  TextTable steps({{"STEP"},
                   {"KIND"},
                   {"STATE"},
                   {"TRIES", TextTable::kRight},
                   {"TIME", TextTable::kRight},
                   {"DETAIL"}});
  for (const mrpb::PipelineStepStatus& s : run.steps()) {
    std::string detail = !s.error().empty() ? s.error() : s.summary();
    if (s.state() == mrpb::PIPELINE_PENDING && s.next_try_ms() > 0 && !s.error().empty()) {
      detail = absl::StrCat("retry ", s.tries() + 1, " in ",
                            Seconds(std::max<int64_t>(0, s.next_try_ms() - now_ms)),
                            " after: ", s.error());
    }
    if (s.state() == mrpb::PIPELINE_RUNNING && !s.job_ids().empty()) {
      detail = absl::StrCat("job ", s.job_ids(s.job_ids_size() - 1));
    }
    steps.AddRow({EscapeName(s.name()), s.kind(), PipelineStateName(s.state()),
                  absl::StrCat(s.tries()), StepTime(s, now_ms), EscapeName(detail)});
  }
  absl::StrAppend(&out, steps.Render());
  for (const mrpb::PipelineStepStatus& s : run.steps()) {
    if (s.rules().empty()) continue;
    absl::StrAppend(&out, "\nrules of ", EscapeName(s.name()), " (", s.rows(), " rows, ",
                    s.rows_failed(), " failed",
                    s.dead_letter().empty()
                        ? ""
                        : absl::StrCat(", dead letters: ", EscapeName(s.dead_letter())),
                    ")\n");
    for (const std::string& w : s.warnings()) {
      absl::StrAppend(&out, "warning: ", EscapeName(w), "\n");
    }
    TextTable rules({{"RULE"}, {"FAILED", TextTable::kRight}, {"DETAIL"}});
    for (const mrpb::PipelineRuleResult& r : s.rules()) {
      rules.AddRow({EscapeName(r.rule()),
                    r.violated() ? "VIOLATED" : absl::StrCat(r.failed()),
                    EscapeName(r.detail())});
    }
    absl::StrAppend(&out, rules.Render());
    for (const mrpb::PipelineRuleResult& r : s.rules()) {
      if (r.samples().empty()) continue;
      absl::StrAppend(&out, "samples failing ", EscapeName(r.rule()), ":\n");
      for (const std::string& sample : r.samples()) {
        absl::StrAppend(&out, "  ", EscapeName(sample), "\n");
      }
    }
  }
  return out;
}

std::string FormatPipelineRunTable(const mrpb::ListPipelineRunsResponse& runs) {
  TextTable table({{"RUN ID"}, {"PIPELINE"}, {"DATE"}, {"STATE"}, {"STEPS"}, {"FILE"}});
  for (const mrpb::PipelineRun& r : runs.runs()) {
    int done = 0;
    for (const mrpb::PipelineStepStatus& s : r.steps()) {
      done += s.state() == mrpb::PIPELINE_SUCCEEDED ? 1 : 0;
    }
    table.AddRow({r.run_id(), EscapeName(r.pipeline()), r.dt(), PipelineStateName(r.state()),
                  absl::StrCat(done, "/", r.steps_size()), EscapeName(r.file())});
  }
  return table.Render();
}

}  // namespace client_internal
}  // namespace mr
