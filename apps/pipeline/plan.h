// What a pipeline step compiles to: the MapReduce jobs that run it on the
// cluster (issue #8). The master's pipeline runner (master/pipeline/) calls
// these for validate and transform steps and runs the jobs one after the
// other; extract and load steps run in the runner itself.
//
// Staged data. Steps pass data through directories in the run's staging
// area, never through memory: a staged table is a job's committed output
// directory, whose part files ("part-*") hold JSON Lines, one JSON object
// per row, column name -> value, typed: int64 and decimal as JSON numbers
// (decimals with exactly their scale's digits), double as a number, bool as
// true/false, string, date ("2026-11-01") and timestamp (UTC,
// "2026-11-01T12:34:56Z") as strings, a missing value as null. Jobs write
// them with the default text output format, the JSON object as the key and
// an empty value (so each line is the object and "\n").
#ifndef MR_APPS_PIPELINE_PLAN_H_
#define MR_APPS_PIPELINE_PLAN_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/pipeline_spec.h"
#include "proto/job.pb.h"

namespace mr {
namespace pipeline {

// Where a step reads one of its inputs from.
struct StagedInput {
  // Job inputs: an extract step's files glob (with {{dt}} replaced), or a
  // staged table's "DIR/part-*".
  std::vector<std::string> inputs;
  // How they are read: the extract step's format (csv with a header row,
  // jsonl, text), or JSON Lines for a staged table.
  mrpb::InputFormat format;
  bool staged = false;  // a staged table (typed JSON Lines)
};

struct StepContext {
  std::string pipeline_yaml;  // the pipeline file's text, as submitted
  std::string pipeline_file;  // its name, for errors
  std::string dt;             // the run's logical date, "2026-11-01"
  std::string run_id;
  // Each step this one reads (PipelineStep::depends_on that hold data), by
  // name.
  std::map<std::string, StagedInput> inputs;
  // Where the step's staged table goes: the last job's output directory.
  std::string output_dir;
  // A directory for the outputs of the step's intermediate jobs (a step
  // that compiles to several jobs), created by the runner, removed with the
  // run's staging area.
  std::string scratch_dir;
  uint32_t num_reduces = 0;  // 0: the engine's default
};

// The jobs a step runs, in order; each job's output_dir is set, and the
// last one's is ctx.output_dir. Every job carries the parameters
// "pipeline" (the YAML text), "step" (the step's name) and "dt", so its
// code re-parses the pipeline (ParsePipeline()) and finds its step.
// InvalidArgument when the step cannot be compiled (a step kind that runs
// no job, an input missing from ctx.inputs).
absl::StatusOr<std::vector<mrpb::JobSpec>> PlanValidate(const PipelineSpec& spec,
                                                        const PipelineStep& step,
                                                        const StepContext& ctx);
absl::StatusOr<std::vector<mrpb::JobSpec>> PlanTransform(const PipelineSpec& spec,
                                                         const PipelineStep& step,
                                                         const StepContext& ctx);

}  // namespace pipeline
}  // namespace mr

#endif  // MR_APPS_PIPELINE_PLAN_H_
