// What the master checks of a submission before it takes its scheduler
// lock: the spec's fields (with the defaults of common/job_limits.h filled
// in), the app or plugin and whether it accepts the job's parameters, and
// the inputs, resolved into files and splits, with the real paths the job
// will claim (master/path_claims.h); and that the output and every input
// lie inside the master's allowed roots (MasterOptions::path_policy):
// PERMISSION_DENIED otherwise.
//
// Thread-safety: thread-safe (const after construction; PluginStore is).
#ifndef MR_MASTER_JOB_VALIDATOR_H_
#define MR_MASTER_JOB_VALIDATOR_H_

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "master/master_options.h"
#include "master/path_claims.h"
#include "master/plugin_store.h"
#include "proto/client.pb.h"

namespace mr {

class JobValidator {
 public:
  // Why a submission is refused.
  struct Refusal {
    mrpb::SubmitJobResponse::Error error;
    std::string message;
  };

  // A submission that passed.
  struct Checked {
    mrpb::JobSpec spec;              // defaults filled in; output_dir resolved
    std::vector<std::string> files;  // the inputs, resolved
    std::vector<mrpb::InputSplit> splits;
    PathClaims::Paths paths;   // staging not yet set
    std::string given_output;  // output_dir as the user gave it

    // `message` about the output, naming it as given when that differs
    // from its real path.
    std::string Named(const std::string& message) const;
  };

  // `plugins` must outlive the validator; a shipped plugin is stored there
  // (by content hash) as it is checked.
  JobValidator(const MasterOptions& options, PluginStore* plugins);

  // The submission checked, or why it is refused. Does file I/O (inputs,
  // the plugin's child process), never under a caller's lock.
  std::variant<Checked, Refusal> Check(
      const mrpb::SubmitJobRequest& request) const;

  // The real paths of a job's output and inputs (without its staging
  // directory, which needs the job id).
  static absl::StatusOr<PathClaims::Paths> ResolveJobPaths(
      const std::string& output_dir, const std::vector<std::string>& files,
      const std::vector<std::string>& dirs);

 private:
  // The spec's own fields, the app or plugin, and its parameters.
  std::optional<Refusal> CheckSpec(mrpb::JobSpec* spec,
                                   const std::string& plugin) const;
  // The output and the inputs as given (a glob: the directory it lists)
  // against the master's --allowed_*_roots (common/path_policy.h), before
  // anything looks at them: a refusal says nothing of what lies outside.
  std::optional<Refusal> CheckAllowedPaths(const mrpb::JobSpec& spec) const;
  // Keeps the request's side files in the plugin store (by content hash)
  // and lists them in spec->side_files.
  std::optional<Refusal> StoreSideFiles(const mrpb::SubmitJobRequest& request,
                                        mrpb::JobSpec* spec) const;
  // Inputs or generated maps, map-only, total order and the number of
  // reduces, once the job's traits are known.
  static std::optional<Refusal> CheckShape(mrpb::JobSpec* spec);

  const MasterOptions& options_;  // the tracker's, which outlives this
  PluginStore* const plugins_;
};

}  // namespace mr

#endif  // MR_MASTER_JOB_VALIDATOR_H_
