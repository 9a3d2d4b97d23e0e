// PlanTransform() (plan.h): a transform step is one pipeline_transform job
// per phase (TransformPhases(), apps/pipeline/transform.h), each reading
// the previous one's output from the step's scratch directory.
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "apps/pipeline/plan.h"
#include "apps/pipeline/transform.h"
#include "common/names.h"
#include "common/proto_maps.h"

namespace mr {
namespace pipeline {
namespace {

std::string Where(const PipelineStep& step, const std::string& name) {
  return absl::StrCat("transform step '", step.name, "': input '", name, "'");
}

// The staged input named `name`, with files.
absl::StatusOr<const StagedInput*> Staged(const PipelineStep& step, const StepContext& ctx,
                                          const std::string& name) {
  auto it = ctx.inputs.find(name);
  if (it == ctx.inputs.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(step, name), " has no staged data to read"));
  }
  if (it->second.inputs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(Where(step, name), " has no files"));
  }
  return &it->second;
}

// The staged input named `name`, checked: rows with named columns.
absl::StatusOr<const StagedInput*> Input(const PipelineStep& step,
                                         const StepContext& ctx,
                                         const std::string& name) {
  absl::StatusOr<const StagedInput*> input = Staged(step, ctx, name);
  if (!input.ok()) return input.status();
  const mrpb::InputFormat& format = (*input)->format;
  if (format.kind() != mrpb::InputFormat::JSONL &&
      !(format.kind() == mrpb::InputFormat::CSV && format.header())) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(step, name),
        " is not JSON Lines or CSV with a header: its rows have no named columns"));
  }
  return input;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return absl::StrCat(dir, "/", name);
}

// A transform with a job: that app over the input, as it is (any format),
// writing JSON Lines rows {"key": K, "value": V}.
absl::StatusOr<mrpb::JobSpec> JobStep(const PipelineSpec& spec, const PipelineStep& step,
                                      const StepContext& ctx) {
  const PipelineStep::Transform::Job& j = *step.transform.job;
  absl::StatusOr<const StagedInput*> input = Staged(step, ctx, step.transform.input);
  if (!input.ok()) return input.status();
  mrpb::JobSpec job;
  job.set_app(j.app);
  for (const std::string& in : (*input)->inputs) {
    job.add_inputs(in);
    *job.add_input_formats() = (*input)->format;
  }
  for (const auto& [key, value] : j.params) {
    SetParam(&job, key, ExpandTemplate(value, spec, ctx.dt));
  }
  SetParam(&job, "dt", ctx.dt);
  job.set_num_reduces(j.reduces > 0 ? j.reduces : ctx.num_reduces);
  job.set_output_format(mrpb::OUTPUT_JSONL);
  job.set_output_dir(ctx.output_dir);
  job.set_overwrite(true);
  job.set_name(absl::StrCat(ctx.run_id, "/", step.name, "/", j.app));
  return job;
}

}  // namespace

absl::StatusOr<std::vector<mrpb::JobSpec>> PlanTransform(const PipelineSpec& spec,
                                                         const PipelineStep& step,
                                                         const StepContext& ctx) {
  if (step.kind != PipelineStep::Kind::kTransform) {
    return absl::InvalidArgumentError(
        absl::StrCat("step '", step.name, "' is ",
                     step.kind == PipelineStep::Kind::kExtract ? "an " : "a ",
                     StepKindName(step.kind), " step, not a transform step"));
  }
  const PipelineStep::Transform& t = step.transform;
  if (t.job) {
    absl::StatusOr<mrpb::JobSpec> job = JobStep(spec, step, ctx);
    if (!job.ok()) return job.status();
    return std::vector<mrpb::JobSpec>{*std::move(job)};
  }
  // What the first job reads: the left side, then the right one, for a
  // join (the job tells them apart by input index: "left_inputs").
  std::vector<const StagedInput*> first;
  for (const std::string& name :
       t.join ? std::vector<std::string>{t.join->left, t.join->right}
              : std::vector<std::string>{t.input}) {
    absl::StatusOr<const StagedInput*> input = Input(step, ctx, name);
    if (!input.ok()) return input.status();
    first.push_back(*input);
  }
  const std::vector<std::string> phases = TransformPhases(t);
  if (phases.size() > 1 && ctx.scratch_dir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "transform step '", step.name, "' runs ", phases.size(),
        " jobs and needs a scratch directory for all but the last one's output"));
  }

  std::vector<mrpb::JobSpec> jobs;
  for (size_t i = 0; i < phases.size(); ++i) {
    const std::string& phase = phases[i];
    std::map<std::string, std::string> params = {
        {"pipeline", ctx.pipeline_yaml},
        {"pipeline_file", ctx.pipeline_file},
        {"step", step.name},
        {"dt", ctx.dt},
        {"phase", phase},
    };
    if (phase == "join") {
      params["left_inputs"] = absl::StrCat(first[0]->inputs.size());
    }
    // The job's own checks, so that a step it would refuse fails here,
    // before anything runs.
    PipelineTransform job;
    if (std::string error = job.Setup(params); !error.empty()) {
      return absl::InvalidArgumentError(error);
    }
    const bool map_only = job.Traits().map_only;

    mrpb::JobSpec job_spec;
    job_spec.set_name(absl::StrCat(spec.name, "/", ctx.run_id, "/", step.name, "/", phase));
    job_spec.set_app("pipeline_transform");
    if (i == 0) {
      for (const StagedInput* input : first) {
        for (const std::string& path : input->inputs) {
          job_spec.add_inputs(path);
          *job_spec.add_input_formats() = input->format;
        }
      }
    } else {
      job_spec.add_inputs(JoinPath(JoinPath(ctx.scratch_dir, phases[i - 1]), "part-*"));
      job_spec.add_input_formats()->set_kind(mrpb::InputFormat::JSONL);
    }
    job_spec.set_output_dir(i + 1 == phases.size()
                                ? ctx.output_dir
                                : JoinPath(ctx.scratch_dir, phase));
    job_spec.set_map_only(map_only);
    job_spec.set_num_reduces(map_only ? 0 : ctx.num_reduces);
    // A retried or rerun step replaces what an earlier attempt committed.
    job_spec.set_overwrite(true);
    for (const auto& [key, value] : params) {
      mrpb::Param* p = job_spec.add_params();
      p->set_key(key);
      p->set_value(value);
    }
    jobs.push_back(std::move(job_spec));
  }
  return jobs;
}

}  // namespace pipeline
}  // namespace mr
