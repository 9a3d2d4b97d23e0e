#include "master/job_validator.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "apps/job_registry.h"
#include "common/file_util.h"
#include "common/job_limits.h"
#include "common/proto_maps.h"
#include "common/status_macros.h"
#include "master/input_splitter.h"

namespace mr {
namespace {

using R = mrpb::SubmitJobResponse;

// Which refusal an ExpandInputs() error is (common/file_util.h).
mrpb::SubmitJobResponse::Error InputError(const absl::Status& s) {
  return absl::IsNotFound(s) || absl::IsInvalidArgument(s)
             ? mrpb::SubmitJobResponse::NO_INPUT
             : mrpb::SubmitJobResponse::INPUT_UNREADABLE;
}

}  // namespace

std::string JobValidator::Checked::Named(const std::string& message) const {
  if (given_output == spec.output_dir()) return message;
  return absl::StrCat(message, " (the output was given as ", given_output, ")");
}

JobValidator::JobValidator(const MasterOptions& options, PluginStore* plugins)
    : options_(options), plugins_(plugins) {}

std::variant<JobValidator::Checked, JobValidator::Refusal> JobValidator::Check(
    const mrpb::SubmitJobRequest& request) const {
  Checked checked;
  mrpb::JobSpec& spec = checked.spec;
  spec = request.spec();
  if (std::optional<Refusal> r = CheckSpec(&spec, request.plugin())) return *r;

  std::vector<std::string> patterns(spec.inputs().begin(), spec.inputs().end());
  std::vector<std::string> input_dirs;
  auto files = ExpandInputs(patterns, &input_dirs);
  if (!files.ok()) {
    return Refusal{InputError(files.status()),
                   std::string(files.status().message())};
  }
  std::vector<InputFile> inputs;
  for (const std::string& path : *files) {
    auto size = FileSize(path);
    if (!size.ok()) {
      return Refusal{InputError(size.status()),
                     std::string(size.status().message())};
    }
    inputs.push_back({path, *size});
  }

  // Paths are compared, and the output written, by their real form.
  absl::StatusOr<PathClaims::Paths> paths =
      ResolveJobPaths(spec.output_dir(), *files, input_dirs);
  if (!paths.ok()) {
    return Refusal{R::INVALID_SPEC, std::string(paths.status().message())};
  }
  checked.given_output = spec.output_dir();
  if (paths->output == "/") {
    return Refusal{R::INVALID_SPEC, "the output cannot be /"};
  }
  spec.set_output_dir(paths->output);
  if (PathClaims::Conflict c = PathClaims::CheckOwn(*paths); !c.ok()) {
    return Refusal{R::PATHS_OVERLAP, checked.Named(c.message)};
  }
  checked.files = std::move(*files);
  checked.splits = ComputeSplits(inputs, spec.split_size());
  checked.paths = std::move(*paths);
  return checked;
}

std::optional<JobValidator::Refusal> JobValidator::CheckSpec(
    mrpb::JobSpec* spec, const std::string& plugin) const {
  if (spec->output_dir().empty() || spec->output_dir()[0] != '/') {
    return Refusal{R::INVALID_SPEC,
                   "the output directory must be an absolute path"};
  }
  if (spec->inputs().empty()) {
    return Refusal{R::INVALID_SPEC, "no input given"};
  }
  if (spec->num_reduces() == 0) spec->set_num_reduces(kDefaultReduces);
  if (spec->num_reduces() > kMaxReduces) {
    return Refusal{R::INVALID_SPEC,
                   absl::StrCat("at most ", kMaxReduces, " reduces")};
  }
  if (spec->split_size() == 0) spec->set_split_size(kDefaultSplitSize);
  if (spec->sort_buffer_bytes() == 0) {
    spec->set_sort_buffer_bytes(kDefaultSortBufferBytes);
  }
  if (spec->sort_buffer_bytes() < kMinSortBufferBytes) {
    return Refusal{
        R::INVALID_SPEC,
        absl::StrCat("the sort buffer must be at least ", kMinSortBufferBytes,
                     " bytes (1 MiB), got ", spec->sort_buffer_bytes())};
  }
  if (spec->merge_factor() == 0) spec->set_merge_factor(kDefaultMergeFactor);
  if (spec->merge_factor() < kMinMergeFactor ||
      spec->merge_factor() > kMaxMergeFactor) {
    return Refusal{
        R::INVALID_SPEC,
        absl::StrCat("the merge factor must be between ", kMinMergeFactor,
                     " and ", kMaxMergeFactor, ", got ", spec->merge_factor())};
  }
  if (spec->max_record_bytes() == 0) {
    spec->set_max_record_bytes(kDefaultMaxRecordBytes);
  }
  if (spec->max_record_bytes() > kMaxMaxRecordBytes) {
    return Refusal{R::INVALID_SPEC,
                   absl::StrCat("the record size limit must be at most ",
                                kMaxMaxRecordBytes, " bytes (1 GiB), got ",
                                spec->max_record_bytes())};
  }
  const ParamMap params = ParamsFromProto(spec->params());
  const bool has_plugin = !spec->plugin_name().empty() || !plugin.empty();
  if (has_plugin == !spec->app().empty()) {
    return Refusal{R::INVALID_SPEC, "give exactly one of an app and a plugin"};
  }
  if (!has_plugin) {
    auto loaded = LoadBuiltinJob(spec->app());
    if (!loaded.ok()) {
      return Refusal{R::UNKNOWN_APP, std::string(loaded.status().message())};
    }
    const std::string refusal = (*loaded)->job()->Setup(params);
    if (!refusal.empty()) {
      return Refusal{R::BAD_PARAMS, refusal};
    }
    return std::nullopt;
  }
  if (plugin.empty()) {
    return Refusal{R::BAD_PLUGIN,
                   absl::StrCat("plugin ", spec->plugin_name(), " is empty")};
  }
  auto hash = plugins_->Put(plugin);
  if (!hash.ok()) {
    return Refusal{R::BAD_PLUGIN, std::string(hash.status().message())};
  }
  spec->set_plugin_hash(*hash);
  if (!options_.plugin_validator) {
    return Refusal{R::BAD_PLUGIN, "this master does not accept plugins"};
  }
  absl::Status valid =
      options_.plugin_validator(plugins_->PathOf(*hash), *spec);
  if (!valid.ok()) {
    return Refusal{
        absl::IsInvalidArgument(valid) ? R::BAD_PARAMS : R::BAD_PLUGIN,
        absl::StrCat("plugin ", spec->plugin_name(), ": ", valid.message())};
  }
  return std::nullopt;
}

absl::StatusOr<PathClaims::Paths> JobValidator::ResolveJobPaths(
    const std::string& output_dir, const std::vector<std::string>& files,
    const std::vector<std::string>& dirs) {
  PathClaims::Paths paths;
  ASSIGN_OR_RETURN(paths.output, ResolvePath(output_dir));
  for (const std::string& f : files) {
    ASSIGN_OR_RETURN(std::string real, ResolvePath(f));
    paths.inputs.push_back(std::move(real));
  }
  for (const std::string& d : dirs) {
    ASSIGN_OR_RETURN(std::string real, ResolvePath(d));
    paths.input_dirs.push_back(std::move(real));
  }
  return paths;
}

}  // namespace mr
