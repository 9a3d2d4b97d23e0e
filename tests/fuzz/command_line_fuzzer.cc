// Fuzzes mrctl's command line parser (client/internal/command_line.h).
//
// Input: pieces separated by '\0': $MR_MASTER (the empty piece: unset),
// the cwd (made absolute), then the arguments.
//
// Properties, for every input:
//  - nothing crashes or trips ASan/UBSan;
//  - an error is InvalidArgument with a message of one non-empty line (the
//    arguments it quotes are escaped: mrctl prints it to a terminal);
//  - a parsed command has what its command needs: a master (but help); for
//    submit exactly one of an app and a plugin, inputs or --maps, and an
//    output, every path absolute; numbers within their limits
//    (common/job_limits.h); input formats that fit the inputs; every
//    --param KEY=VALUE kept, the last value of a key winning; a job id for
//    status and kill; an absolute file for pipeline check, which needs no
//    master; --tls_ca and --token_file (given anywhere) absolute;
//  - rendering the parsed command back into arguments (each flag in its
//    --flag=value form) and parsing them again gives the same CommandLine.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/internal/command_line.h"
#include "common/job_limits.h"
#include "common/names.h"
#include "common/proto_maps.h"
#include "tests/fuzz/fuzz_util.h"

namespace mr {
namespace fuzz {
namespace {

using client_internal::Command;
using client_internal::CommandLine;
using client_internal::ParseCommandLine;

bool IsFlag(const std::string& arg) { return absl::StartsWith(arg, "--"); }

// How the arguments would be shown in a report.
std::string Show(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) absl::StrAppend(&out, " '", EscapeName(a), "'");
  return out;
}

// The flags that may appear anywhere and take a value.
constexpr const char* kGlobalFlags[] = {"--master", "--tls_ca", "--tls-ca",
                                        "--token_file", "--token-file"};

// The arguments after the command name, with the global flags and --help
// (which may appear anywhere) taken out, as the parser does.
std::vector<std::string> CommandArgs(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help") continue;
    bool global = false;
    for (const char* flag : kGlobalFlags) {
      if (absl::StartsWith(args[i], absl::StrCat(flag, "="))) global = true;
      if (args[i] == flag) {
        if (i + 1 < args.size() && !IsFlag(args[i + 1])) ++i;
        global = true;
      }
    }
    if (global) continue;
    rest.push_back(args[i]);
  }
  if (!rest.empty()) rest.erase(rest.begin());
  return rest;
}

// The value of each occurrence of `flag` (--flag=V or --flag V), given that
// the line parsed.
std::vector<std::string> FlagValues(const std::vector<std::string>& args,
                                    const std::string& flag) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (absl::StartsWith(args[i], flag + "=")) {
      out.push_back(args[i].substr(flag.size() + 1));
    } else if (args[i] == flag && i + 1 < args.size()) {
      out.push_back(args[i + 1]);
    }
  }
  return out;
}

// --param KEY=VALUE, and the streaming app's --mapper/--reducer/--combiner.
ParamMap ExpectedParams(const std::vector<std::string>& args) {
  ParamMap params;
  for (const std::string& p : FlagValues(args, "--param")) {
    const size_t eq = p.find('=');
    params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  for (const char* name : {"mapper", "reducer", "combiner"}) {
    for (const std::string& v : FlagValues(args, absl::StrCat("--", name))) {
      params[name] = v;
    }
  }
  return params;
}

bool IsAbsolute(const std::string& path) {
  return absl::StartsWith(path, "/");
}

void CheckSubmit(const CommandLine& cl, const std::vector<std::string>& args) {
  const mrpb::JobSpec& spec = cl.spec;
  const std::string line = Show(args);
  FUZZ_CHECK(spec.app().empty() != cl.plugin_path.empty())
      << "app '" << spec.app() << "', plugin '" << cl.plugin_path << "':" << line;
  FUZZ_CHECK(cl.plugin_path.empty() || IsAbsolute(cl.plugin_path)) << line;
  FUZZ_CHECK(spec.plugin_name().empty()) << line;
  FUZZ_CHECK((spec.inputs_size() > 0) != (spec.num_maps() > 0))
      << spec.inputs_size() << " inputs, " << spec.num_maps() << " maps:" << line;
  for (const std::string& in : spec.inputs()) {
    FUZZ_CHECK(IsAbsolute(in)) << "input " << EscapeName(in) << ":" << line;
  }
  for (const std::string& f : cl.side_files) {
    FUZZ_CHECK(IsAbsolute(f)) << "file " << EscapeName(f) << ":" << line;
  }
  const std::string& out = spec.output_dir();
  FUZZ_CHECK(IsAbsolute(out) && (out == "/" || out.back() != '/'))
      << "output " << EscapeName(out) << ":" << line;
  FUZZ_CHECK(IsValidUtf8(spec.app()) && IsValidUtf8(cl.request_id)) << line;
  FUZZ_CHECK(!spec.map_only() || (spec.num_reduces() == 0 && !spec.total_order()))
      << line;
  FUZZ_CHECK(spec.sort_buffer_bytes() % (1 << 20) == 0) << line;
  FUZZ_CHECK(spec.merge_factor() == 0 ||
             (spec.merge_factor() >= kMinMergeFactor &&
              spec.merge_factor() <= kMaxMergeFactor))
      << spec.merge_factor() << ":" << line;
  FUZZ_CHECK(spec.max_record_bytes() <= kMaxMaxRecordBytes) << line;
  FUZZ_CHECK(spec.input_formats_size() <= 1 ||
             spec.input_formats_size() == spec.inputs_size())
      << spec.input_formats_size() << " formats:" << line;
  for (const mrpb::InputFormat& f : spec.input_formats()) {
    if (f.kind() == mrpb::InputFormat::FIXED) {
      FUZZ_CHECK(f.record_bytes() >= 1 && f.record_bytes() <= kMaxFixedRecordBytes)
          << line;
    }
    FUZZ_CHECK(f.delimiter().size() <= 1 && f.delimiter() != "\"" &&
               f.delimiter() != "\n" && f.delimiter() != "\r" &&
               f.delimiter() != ",")
        << "delimiter " << EscapeName(f.delimiter()) << ":" << line;
  }
  const ParamMap params = ParamsFromProto(spec.params());
  FUZZ_CHECK(params.size() == static_cast<size_t>(spec.params_size()))
      << "a param key twice:" << line;
  FUZZ_CHECK(params == ExpectedParams(CommandArgs(args)))
      << "params not as given:" << line;
}

// ---------------------------------------------------------------- render

std::string FormatText(const mrpb::InputFormat& f) {
  switch (f.kind()) {
    case mrpb::InputFormat::JSONL: return "jsonl";
    case mrpb::InputFormat::FIXED: return absl::StrCat("fixed:", f.record_bytes());
    case mrpb::InputFormat::CSV: {
      std::string text = "csv";
      if (f.header()) text += ":header";
      if (!f.delimiter().empty()) {
        absl::StrAppend(&text, ":delimiter=",
                        f.delimiter() == "\t" ? "tab" : f.delimiter());
      }
      return text;
    }
    default: return "text";
  }
}

const char* OutputFormatText(mrpb::OutputFormat f) {
  switch (f) {
    case mrpb::OUTPUT_TSV: return "tsv";
    case mrpb::OUTPUT_CSV: return "csv";
    case mrpb::OUTPUT_JSONL: return "jsonl";
    case mrpb::OUTPUT_BINARY: return "binary";
    default: return "text";
  }
}

void RenderSubmit(const CommandLine& cl, std::vector<std::string>* args) {
  const mrpb::JobSpec& spec = cl.spec;
  auto add = [args](const std::string& flag, const auto& value) {
    args->push_back(absl::StrCat(flag, "=", value));
  };
  args->push_back("submit");
  if (cl.plugin_path.empty()) add("--app", spec.app());
  if (!cl.plugin_path.empty()) add("--plugin", cl.plugin_path);
  if (spec.input_formats_size() == 1) {
    add("--input-format", FormatText(spec.input_formats(0)));
  }
  for (int i = 0; i < spec.inputs_size(); ++i) {
    if (spec.input_formats_size() > 1) {
      add("--input-format", FormatText(spec.input_formats(i)));
    }
    args->push_back("--input");
    args->push_back(spec.inputs(i));
  }
  if (spec.num_maps() > 0) add("--maps", spec.num_maps());
  add("--output", spec.output_dir());
  if (spec.map_only()) add("--reduces", 0);
  if (spec.num_reduces() > 0) add("--reduces", spec.num_reduces());
  if (spec.total_order()) args->push_back("--total-order");
  if (spec.split_size() > 0) add("--split-size", spec.split_size());
  if (spec.output_format() != mrpb::OUTPUT_TEXT) {
    add("--output-format", OutputFormatText(spec.output_format()));
  }
  for (const mrpb::Param& p : spec.params()) {
    add("--param", absl::StrCat(p.key(), "=", p.value()));
  }
  for (const std::string& f : cl.side_files) add("--file", f);
  if (spec.overwrite()) args->push_back("--overwrite");
  if (!spec.name().empty()) add("--name", spec.name());
  if (spec.max_task_attempts() > 0) add("--max-attempts", spec.max_task_attempts());
  if (spec.max_skipped_records() > 0) {
    add("--max-skipped-records", spec.max_skipped_records());
  }
  if (spec.disable_speculation()) args->push_back("--no-speculation");
  if (!cl.request_id.empty()) add("--request-id", cl.request_id);
  if (spec.sort_buffer_bytes() > 0) {
    add("--sort-buffer-mb", spec.sort_buffer_bytes() >> 20);
  }
  if (spec.merge_factor() > 0) add("--merge-factor", spec.merge_factor());
  if (spec.max_record_bytes() > 0) {
    add("--max-record-bytes", spec.max_record_bytes());
  }
  if (cl.wait) args->push_back("--wait");
}

// `cl` as arguments, every flag that has a value in its --flag=value form.
std::vector<std::string> Render(const CommandLine& cl) {
  std::vector<std::string> args;
  if (!cl.master.empty()) args.push_back(absl::StrCat("--master=", cl.master));
  if (!cl.tls_ca.empty()) args.push_back(absl::StrCat("--tls_ca=", cl.tls_ca));
  if (!cl.token_file.empty()) {
    args.push_back(absl::StrCat("--token_file=", cl.token_file));
  }
  switch (cl.command) {
    case Command::kHelp: args.push_back("help"); break;
    case Command::kSubmit: RenderSubmit(cl, &args); break;
    case Command::kStatus: args.insert(args.end(), {"status", cl.job_id}); break;
    case Command::kKill: args.insert(args.end(), {"kill", cl.job_id}); break;
    case Command::kList: args.push_back("list"); break;
    case Command::kWorkers: args.push_back("workers"); break;
    case Command::kPipelineCheck:
      args.insert(args.end(), {"pipeline", "check", cl.pipeline_file});
      break;
    case Command::kPipelineRun:
      args.insert(args.end(), {"pipeline", "run", cl.pipeline_file,
                               absl::StrCat("--date=", cl.date)});
      if (cl.wait) args.push_back("--wait");
      break;
    case Command::kPipelineStatus:
      args.insert(args.end(), {"pipeline", "status", cl.run_id});
      break;
    case Command::kPipelineList:
      args.insert(args.end(), {"pipeline", "list"});
      break;
  }
  if (cl.all) args.push_back("--all");
  if (cl.json) args.push_back("--json");
  return args;
}

void CheckSame(const CommandLine& a, const CommandLine& b,
               const std::string& line) {
  FUZZ_CHECK(a.command == b.command) << line;
  FUZZ_CHECK(a.master == b.master) << line;
  FUZZ_CHECK(a.tls_ca == b.tls_ca && a.token_file == b.token_file) << line;
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(a.spec, b.spec))
      << "spec differs:\n" << a.spec.DebugString() << "---\n"
      << b.spec.DebugString() << line;
  FUZZ_CHECK(a.plugin_path == b.plugin_path) << line;
  FUZZ_CHECK(a.side_files == b.side_files) << line;
  FUZZ_CHECK(a.wait == b.wait && a.json == b.json && a.all == b.all) << line;
  FUZZ_CHECK(a.request_id == b.request_id) << line;
  FUZZ_CHECK(a.job_id == b.job_id) << line;
  FUZZ_CHECK(a.pipeline_file == b.pipeline_file) << line;
  FUZZ_CHECK(a.date == b.date && a.run_id == b.run_id) << line;
}

void Check(const std::vector<std::string>& args, const char* env_master,
           const std::string& cwd) {
  const std::string line = Show(args);
  absl::StatusOr<CommandLine> cl = ParseCommandLine(args, env_master, cwd);
  if (!cl.ok()) {
    const absl::Status& s = cl.status();
    FUZZ_CHECK(absl::IsInvalidArgument(s)) << s << ":" << line;
    FUZZ_CHECK(!s.message().empty()) << line;
    FUZZ_CHECK(s.message().find_first_of("\n\r") == absl::string_view::npos)
        << "a message of more than one line: "
        << EscapeName(std::string(s.message()))
        << ":" << line;
    return;
  }
  bool help = false;
  for (const std::string& a : args) help |= a == "--help";
  FUZZ_CHECK(!help || cl->command == Command::kHelp) << line;
  if (cl->command == Command::kHelp) return;
  // pipeline check needs no master; every other command has one.
  FUZZ_CHECK(!cl->master.empty() || cl->command == Command::kPipelineCheck)
      << line;
  FUZZ_CHECK(cl->pipeline_file.empty() ==
             (cl->command != Command::kPipelineCheck &&
              cl->command != Command::kPipelineRun))
      << line;
  FUZZ_CHECK(cl->date.empty() == (cl->command != Command::kPipelineRun)) << line;
  FUZZ_CHECK(cl->run_id.empty() == (cl->command != Command::kPipelineStatus))
      << line;
  FUZZ_CHECK(cl->pipeline_file.empty() || cl->pipeline_file[0] == '/') << line;
  FUZZ_CHECK(cl->tls_ca.empty() || IsAbsolute(cl->tls_ca)) << line;
  FUZZ_CHECK(cl->token_file.empty() || IsAbsolute(cl->token_file)) << line;
  switch (cl->command) {
    case Command::kSubmit: CheckSubmit(*cl, args); break;
    case Command::kStatus:
    case Command::kKill:
      FUZZ_CHECK(!cl->job_id.empty() && IsValidUtf8(cl->job_id)) << line;
      break;
    default: FUZZ_CHECK(cl->job_id.empty()) << line;
  }
  FUZZ_CHECK(!cl->all || cl->command == Command::kList) << line;
  const std::vector<std::string> again_args = Render(*cl);
  absl::StatusOr<CommandLine> again = ParseCommandLine(again_args, nullptr, "/");
  FUZZ_CHECK(again.ok()) << "rendered as" << Show(again_args) << ": "
                         << again.status() << "; given" << line;
  CheckSame(*cl, *again, absl::StrCat(" rendered as", Show(again_args),
                                      "; given", line));
}

}  // namespace
}  // namespace fuzz
}  // namespace mr

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> pieces = absl::StrSplit(
      absl::string_view(reinterpret_cast<const char*>(data), size), '\0');
  if (pieces.size() < 3) return 0;  // no arguments
  const std::string& env_master = pieces[0];
  const std::string cwd =
      absl::StartsWith(pieces[1], "/") ? pieces[1] : "/" + pieces[1];
  const std::vector<std::string> args(pieces.begin() + 2, pieces.end());
  mr::fuzz::Check(args, env_master.empty() ? nullptr : env_master.c_str(), cwd);
  return 0;
}
