// Checks a shipped plugin in a child process, so a plugin that crashes or
// hangs while loading cannot take the master down.
//
// The child is the master binary itself, started with --validate_plugin;
// RunPluginValidation() is what that child runs.
#ifndef MR_MASTER_PLUGIN_VALIDATOR_H_
#define MR_MASTER_PLUGIN_VALIDATOR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mr/mapreduce.h"
#include "proto/job.pb.h"

namespace mr {

// Exit codes of the validation child.
inline constexpr int kPluginOk = 0;
inline constexpr int kPluginDoesNotLoad = 3;
inline constexpr int kPluginRefusesParams = 4;

// Starts `self_exe --validate_plugin=PATH --validate_spec=FILE` and waits up
// to 30 s. The job's traits; FailedPrecondition when the plugin does not
// load, has no job, crashes or hangs; InvalidArgument when its Setup()
// refuses the parameters. `scratch_dir` holds the spec and output files.
absl::StatusOr<mrpb::JobTraits> ValidatePluginInChild(
    const std::string& self_exe, const std::string& scratch_dir,
    const std::string& plugin_path, const mrpb::JobSpec& spec);

// The job's traits (Job::Traits()) as the engine keeps them.
mrpb::JobTraits TraitsToProto(const JobTraits& traits);

// The child's side: loads the plugin, calls Setup() with the spec's params,
// prints the reason for a refusal on stdout and returns the exit code; on
// success, rewrites the spec file with the job's traits filled in.
int RunPluginValidation(const std::string& plugin_path,
                        const std::string& spec_path);

}  // namespace mr

#endif  // MR_MASTER_PLUGIN_VALIDATOR_H_
