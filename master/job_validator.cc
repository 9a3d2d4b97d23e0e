#include "master/job_validator.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "apps/job_registry.h"
#include "common/file_util.h"
#include "common/job_limits.h"
#include "common/proto_maps.h"
#include "common/status_macros.h"
#include "master/input_splitter.h"
#include "master/plugin_validator.h"

namespace mr {
namespace {

using R = mrpb::SubmitJobResponse;

// The directory a glob lists: its part before the first wildcard, up to
// the last '/' there. A pattern without wildcards is itself.
std::string GlobDirectory(const std::string& pattern) {
  const size_t magic = pattern.find_first_of("*?[{");
  if (magic == std::string::npos) return pattern;
  const size_t slash = pattern.rfind('/', magic);
  if (slash == std::string::npos) return pattern;  // relative: refused
  return slash == 0 ? "/" : pattern.substr(0, slash);
}

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
  if (std::optional<Refusal> r = StoreSideFiles(request, &spec)) return *r;

  if (std::optional<Refusal> r = CheckAllowedPaths(spec)) return *r;

  if (spec.traits().generates_input()) {
    absl::StatusOr<std::string> output = ResolvePath(spec.output_dir());
    if (!output.ok()) {
      return Refusal{R::INVALID_SPEC, std::string(output.status().message())};
    }
    checked.given_output = spec.output_dir();
    if (*output == "/") return Refusal{R::INVALID_SPEC, "the output cannot be /"};
    spec.set_output_dir(*output);
    checked.paths.output = *output;
    // Each map generates its share: its split names no file.
    checked.splits.resize(spec.num_maps());
    return checked;
  }
  std::vector<std::string> patterns(spec.inputs().begin(), spec.inputs().end());
  std::vector<std::string> input_dirs;
  // Which --input each file came from. A file named by two entries is
  // refused: its records would belong to two inputs (a self-join names one
  // of them through a symbolic link).
  std::vector<std::vector<uint32_t>> named_by;
  auto files = ExpandInputs(patterns, &input_dirs, &named_by);
  if (!files.ok()) {
    return Refusal{InputError(files.status()),
                   std::string(files.status().message())};
  }
  // What the globs and directories found: a link in a root may lead out.
  for (const std::vector<std::string>* paths : {&*files, &input_dirs}) {
    for (const std::string& path : *paths) {
      if (absl::Status s = options_.path_policy.CheckInput(path); !s.ok()) {
        return Refusal{R::PERMISSION_DENIED, std::string(s.message())};
      }
    }
  }
  std::vector<InputFile> inputs;
  for (size_t i = 0; i < files->size(); ++i) {
    const std::string& path = (*files)[i];
    const std::vector<uint32_t>& entries = named_by[i];
    if (entries.size() > 1) {
      return Refusal{
          R::INVALID_SPEC,
          absl::StrCat("input ", path, " is named by --input ",
                       patterns[entries[0]], " and by --input ",
                       patterns[entries[1]],
                       "; a file belongs to one input (to read one file "
                       "as two inputs, name it once through a symbolic "
                       "link)")};
    }
    auto size = FileSize(path);
    if (!size.ok()) {
      return Refusal{InputError(size.status()),
                     std::string(size.status().message())};
    }
    inputs.push_back({path, *size, entries.empty() ? 0 : entries[0]});
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

std::optional<JobValidator::Refusal> JobValidator::CheckAllowedPaths(
    const mrpb::JobSpec& spec) const {
  const PathPolicy& policy = options_.path_policy;
  if (absl::Status s = policy.CheckOutputDir(spec.output_dir()); !s.ok()) {
    return Refusal{R::PERMISSION_DENIED, std::string(s.message())};
  }
  for (const std::string& pattern : spec.inputs()) {
    const std::string dir = GlobDirectory(pattern);
    if (absl::Status s = policy.CheckInput(dir); !s.ok()) {
      return Refusal{R::PERMISSION_DENIED,
                     dir == pattern ? std::string(s.message())
                                    : absl::StrCat("the glob ", pattern,
                                                   " lists ", dir, ": ",
                                                   s.message())};
    }
  }
  return std::nullopt;
}

std::optional<JobValidator::Refusal> JobValidator::CheckSpec(
    mrpb::JobSpec* spec, const std::string& plugin) const {
  if (spec->output_dir().empty() || spec->output_dir()[0] != '/') {
    return Refusal{R::INVALID_SPEC,
                   "the output directory must be an absolute path"};
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
    *spec->mutable_traits() = TraitsToProto((*loaded)->job()->Traits());
    return CheckShape(spec);
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
  absl::StatusOr<mrpb::JobTraits> traits =
      options_.plugin_validator(plugins_->PathOf(*hash), *spec);
  if (!traits.ok()) {
    const absl::Status& s = traits.status();
    return Refusal{
        absl::IsInvalidArgument(s) ? R::BAD_PARAMS : R::BAD_PLUGIN,
        absl::StrCat("plugin ", spec->plugin_name(), ": ", s.message())};
  }
  *spec->mutable_traits() = *traits;
  return CheckShape(spec);
}

std::optional<JobValidator::Refusal> JobValidator::StoreSideFiles(
    const mrpb::SubmitJobRequest& request, mrpb::JobSpec* spec) const {
  spec->clear_side_files();  // only what the request ships
  std::set<std::string> names;
  for (const mrpb::SideFileUpload& f : request.files()) {
    const std::string& name = f.name();
    if (name.empty() || name == "." || name == ".." ||
        name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      return Refusal{R::INVALID_SPEC,
                     absl::StrCat("a side file needs a base name, got '",
                                  name, "'")};
    }
    if (!names.insert(name).second) {
      return Refusal{R::INVALID_SPEC,
                     absl::StrCat("two side files are named ", name)};
    }
    absl::StatusOr<std::string> hash = plugins_->Put(f.content());
    if (!hash.ok()) {
      return Refusal{R::INVALID_SPEC,
                     absl::StrCat("cannot store side file ", name, ": ",
                                  hash.status().message())};
    }
    mrpb::SideFile* stored = spec->add_side_files();
    stored->set_name(name);
    stored->set_hash(*hash);
    stored->set_size(f.content().size());
    stored->set_executable(f.executable());
  }
  return std::nullopt;
}

std::optional<JobValidator::Refusal> JobValidator::CheckShape(
    mrpb::JobSpec* spec) {
  const mrpb::JobTraits& traits = spec->traits();
  const std::string job = spec->app().empty()
                              ? absl::StrCat("plugin ", spec->plugin_name())
                              : absl::StrCat("app ", spec->app());
  if (traits.generates_input()) {
    if (!spec->inputs().empty()) {
      return Refusal{R::INVALID_SPEC,
                     absl::StrCat("the ", job,
                                  " generates its input: give --maps, "
                                  "not --input")};
    }
    if (spec->num_maps() == 0) {
      return Refusal{R::INVALID_SPEC,
                     absl::StrCat("the ", job,
                                  " generates its input: give --maps M")};
    }
    if (spec->num_maps() > kMaxMaps) {
      return Refusal{R::INVALID_SPEC, absl::StrCat("at most ", kMaxMaps,
                                                   " maps, got ",
                                                   spec->num_maps())};
    }
  } else {
    if (spec->inputs().empty()) {
      return Refusal{R::INVALID_SPEC, "no input given"};
    }
    if (spec->num_maps() != 0) {
      return Refusal{R::INVALID_SPEC,
                     absl::StrCat("--maps is only for apps that generate "
                                  "their input; the ",
                                  job, " reads its input's splits")};
    }
  }
  if (traits.map_only()) spec->set_map_only(true);
  if (traits.total_order()) spec->set_total_order(true);
  // The job's own formats, where the submission names none.
  if (traits.record_bytes() > 0 && spec->input_formats().empty() &&
      !traits.generates_input()) {
    mrpb::InputFormat* f = spec->add_input_formats();
    f->set_kind(mrpb::InputFormat::FIXED);
    f->set_record_bytes(traits.record_bytes());
  }
  if (traits.raw_output() && spec->output_format() == mrpb::OUTPUT_TEXT) {
    spec->set_output_format(mrpb::OUTPUT_BINARY);
  }
  if (spec->input_formats_size() > 1 &&
      spec->input_formats_size() != spec->inputs_size()) {
    return Refusal{R::INVALID_SPEC,
                   absl::StrCat("give one input format for all inputs or one "
                                "per input; got ",
                                spec->input_formats_size(), " for ",
                                spec->inputs_size(), " inputs")};
  }
  for (const mrpb::InputFormat& f : spec->input_formats()) {
    if (f.kind() == mrpb::InputFormat::FIXED &&
        (f.record_bytes() == 0 || f.record_bytes() > kMaxFixedRecordBytes)) {
      return Refusal{R::INVALID_SPEC,
                     absl::StrCat("fixed-length records must be 1 to ",
                                  kMaxFixedRecordBytes, " bytes, got ",
                                  f.record_bytes())};
    }
    if (f.kind() == mrpb::InputFormat::CSV && f.delimiter().size() > 1) {
      return Refusal{R::INVALID_SPEC,
                     absl::StrCat("a CSV delimiter is one byte, got '",
                                  f.delimiter(), "'")};
    }
    if (f.kind() == mrpb::InputFormat::CSV &&
        (f.delimiter() == "\"" || f.delimiter() == "\n" ||
         f.delimiter() == "\r")) {
      return Refusal{R::INVALID_SPEC,
                     "a CSV delimiter cannot be a quote or a line end"};
    }
  }
  if (spec->map_only()) {
    if (spec->total_order() || traits.plans()) {
      return Refusal{R::INVALID_SPEC,
                     absl::StrCat("the ", job,
                                  " samples its input to partition it, which "
                                  "a map-only job (--reduces 0) does not do")};
    }
    if (traits.num_reduces() > 0) {
      return Refusal{R::INVALID_SPEC,
                     absl::StrCat("the ", job, " runs ", traits.num_reduces(),
                                  " reduces; it cannot be map-only "
                                  "(--reduces 0)")};
    }
    spec->set_num_reduces(0);
    return std::nullopt;
  }
  if ((spec->total_order() || traits.plans()) && traits.generates_input()) {
    return Refusal{R::INVALID_SPEC,
                   absl::StrCat("the ", job,
                                " generates its input: there is no input to "
                                "sample for --total-order")};
  }
  if (traits.num_reduces() > 0) spec->set_num_reduces(traits.num_reduces());
  if (spec->num_reduces() == 0) spec->set_num_reduces(kDefaultReduces);
  if (spec->num_reduces() > kMaxReduces) {
    return Refusal{R::INVALID_SPEC,
                   absl::StrCat("at most ", kMaxReduces, " reduces")};
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
