// PlanValidate() (plan.h): a validate step is one pipeline_validate job
// (apps/pipeline/validate.h) over the step's input.
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "apps/pipeline/plan.h"
#include "apps/pipeline/validate.h"
#include "common/names.h"

namespace mr {
namespace pipeline {
namespace {

// The name of the step a validate step reads, when it has staged data.
absl::StatusOr<std::string> ValidateInput(const PipelineStep& step,
                                          const StepContext& ctx) {
  if (ctx.inputs.count(step.input) > 0) return step.input;
  return absl::InvalidArgumentError(
      absl::StrCat("validate step '", step.name, "': its input '", EscapeName(step.input),
                   "' has no staged data to read"));
}

}  // namespace

absl::StatusOr<std::vector<mrpb::JobSpec>> PlanValidate(const PipelineSpec& spec,
                                                        const PipelineStep& step,
                                                        const StepContext& ctx) {
  if (step.kind != PipelineStep::Kind::kValidate) {
    return absl::InvalidArgumentError(
        absl::StrCat("step '", step.name, "' is ",
                     step.kind == PipelineStep::Kind::kExtract ? "an " : "a ",
                     StepKindName(step.kind),
                     " step, not a validate step"));
  }
  absl::StatusOr<std::string> input_name = ValidateInput(step, ctx);
  if (!input_name.ok()) return input_name.status();
  const StagedInput& input = ctx.inputs.at(*input_name);
  const std::string where =
      absl::StrCat("validate step '", step.name, "': input '", *input_name, "'");
  std::string format;
  switch (input.format.kind()) {
    case mrpb::InputFormat::CSV:
      if (!input.format.header()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, " is CSV without a header row: its columns have no names"));
      }
      format = "csv";
      break;
    case mrpb::InputFormat::JSONL:
      format = "jsonl";
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          where, " is not CSV or JSON Lines: text has no columns to validate"));
  }
  if (input.inputs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " has no files"));
  }

  const std::map<std::string, std::string> params = {
      {"pipeline", ctx.pipeline_yaml},
      {"pipeline_file", ctx.pipeline_file},
      {"step", step.name},
      {"dt", ctx.dt},
      {"input_format", format},
  };
  // The job's own checks (one unique rule, range on numbers, ...), so that a
  // step it would refuse fails here, before anything runs.
  PipelineValidate job;
  if (std::string error = job.Setup(params); !error.empty()) {
    return absl::InvalidArgumentError(error);
  }

  mrpb::JobSpec job_spec;
  job_spec.set_name(absl::StrCat(spec.name, "/", ctx.run_id, "/", step.name));
  job_spec.set_app("pipeline_validate");
  for (const std::string& path : input.inputs) {
    job_spec.add_inputs(path);
    *job_spec.add_input_formats() = input.format;
  }
  job_spec.set_output_dir(ctx.output_dir);
  job_spec.set_num_reduces(ctx.num_reduces);
  // A retried or rerun step replaces what an earlier attempt committed.
  job_spec.set_overwrite(true);
  for (const auto& [key, value] : params) {
    mrpb::Param* p = job_spec.add_params();
    p->set_key(key);
    p->set_value(value);
  }
  return std::vector<mrpb::JobSpec>{std::move(job_spec)};
}

}  // namespace pipeline
}  // namespace mr
