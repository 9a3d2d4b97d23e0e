#include "client/internal/command_line.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/job_limits.h"
#include "common/names.h"
#include "common/proto_maps.h"

namespace mr {
namespace client_internal {
namespace {

namespace fs = std::filesystem;

// The usage text; the data-path defaults come from common/job_limits.h.
std::string MakeUsage() {
  return absl::StrCat(
      R"(usage: mrctl [--master HOST:PORT] [--tls_ca FILE] [--token_file FILE]
             <command> [flags]

The master's address comes from --master, or else from $MR_MASTER.
--tls_ca FILE (or $MR_TLS_CA): the CA certificate that signed the master's;
the connection then uses TLS (a master started with --tls_ca needs it).
--token_file FILE (or $MR_TOKEN_FILE, or the token itself in $MR_TOKEN):
the bearer token a master started with --tokens_file asks every call for
(the file holds just the token; surrounding whitespace is ignored).

commands:
  submit (--app NAME | --plugin FILE.so | --mapper CMD [--reducer CMD]
         [--combiner CMD]) (--input PATH... | --maps M)
         --output DIR [--reduces R] [--total-order] [--split-size BYTES]
         [--input-format FORMAT]... [--output-format FORMAT]
         [--param KEY=VALUE]... [--file PATH]...
         [--overwrite] [--name NAME] [--max-attempts N]
         [--max-skipped-records N] [--no-speculation] [--request-id ID]
         [--sort-buffer-mb N] [--merge-factor F] [--max-record-bytes BYTES]
         [--wait] [--json]
      Submits a job and prints its id. --input takes every following
      argument up to the next --flag (paths, directories or globs) and may
      repeat. With --wait, shows progress on stderr and prints the final
      status; --json prints it as JSON. --reduces: reduce tasks, one part
      file each (default )",
      kDefaultReduces, R"(); 0: a map-only job, one part-m file per map).
      --maps: for an app that generates its input (teragen), how many maps.
      --total-order: partition by key ranges sampled from the input, so
      that the part files concatenated are sorted by key.
      --input-format: how inputs are read: text (lines, the default);
      csv (RFC 4180 records), with options csv:header (each file's first
      record names the columns) and csv:delimiter=C (one byte, or tab),
      e.g. csv:header:delimiter=;  tsv is csv with tab as delimiter
      (tsv:header); jsonl (one JSON value per line); fixed:BYTES (binary
      records of BYTES each). Files ending in .gz or .lz4 are decompressed
      in any format (each is read by one map). One --input-format applies
      to all inputs; with several, each applies to the --input paths after
      it, up to the next (--input-format csv:header --input a.csv
      --input-format jsonl --input b.jsonl). Malformed records are
      counted, reported by file and offset, and skipped.
      --output-format: text ("key value"), tsv, csv, jsonl
      ({"key":K,"value":V}) or binary (key and value bytes, nothing
      added); the default is the app's (text for most). --split-size: input bytes per map task
      (default )",
      kDefaultSplitSize >> 20, R"( MiB). --max-attempts: how many times a
      task may fail before the job fails (default )",
      kDefaultMaxTaskAttempts, R"().
      --max-skipped-records: input records that crash the job's map code
      may be skipped, up to N per job (default 0: never skip).
      --file: ships PATH with the job; every task reads it by its base
      name (Context::FilePath(), mapreduce.h; a streaming job's commands
      run in the directory holding the files). May repeat.
      --mapper, --reducer, --combiner: a streaming job (--app streaming
      with --param mapper=CMD etc.): each CMD runs under /bin/sh -c in the
      directory of the --file files, reads records ("key<TAB>value" lines
      for the reducer and combiner, sorted by key) on stdin and prints
      "key<TAB>value" lines; without --reducer the reduce is the identity.
      A command that exits non-zero fails its task with its stderr's tail.
      --no-speculation: no backup attempts of slow tasks.
      --request-id: names this submission (default: a random id); a
      submission retried with the same id returns the job the first one
      created instead of starting another.
      --sort-buffer-mb: memory a map task sorts its output in before it
      spills a run (default )",
      kDefaultSortBufferBytes >> 20, R"(, at least )",
      kMinSortBufferBytes >> 20, R"().
      --merge-factor: the most sorted runs one merge opens; more are merged
      in passes (default )",
      kDefaultMergeFactor, ", ", kMinMergeFactor, " to ", kMaxMergeFactor,
      R"().
      --max-record-bytes: longer input records are malformed: counted,
      reported by file and offset, and skipped (default )",
      kDefaultMaxRecordBytes >> 20, R"( MiB, at most )",
      kMaxMaxRecordBytes >> 30, R"( GiB).
  status JOB [--json]   the state, progress, output and counters of JOB
  list [--all] [--json] the jobs the master schedules; --all adds finished
                        jobs retired past the master's retention period
  kill JOB              stops JOB
  workers [--json]      the live workers
  pipeline check FILE   checks a pipeline file (YAML: its steps, their
                        settings and dependencies) and prints its steps in
                        the order they run; needs no master
  pipeline run FILE --date YYYY-MM-DD [--wait] [--json]
                        runs the pipeline for that logical date on the
                        cluster; --wait follows it to the end (exit 1 when
                        it fails, e.g. at a quality gate)
  pipeline status RUN [--json]
                        each step's state, the rules' failures and samples,
                        warnings, dead-letter files, what was loaded
  pipeline list [--json] the pipeline runs, newest last
  help                  this text

exit status: 0 success; 1 the job failed or was killed, or its checks
failed (the "check failures" counter, submit --wait);
2 refused or usage error; 3 master unreachable; 4 not authenticated (no or
an unknown token) or not allowed (the token's role may not do this).
)");
}

bool IsFlag(const std::string& arg) { return absl::StartsWith(arg, "--"); }

// `reason` quotes what was typed: escaped (EscapeName(), common/names.h),
// so that the message stays one line and no control character or terminal
// escape in an argument reaches the terminal. The parser's own words are
// printable ASCII, which EscapeName() keeps as they are.
absl::Status Usage(const std::string& reason) {
  return absl::InvalidArgumentError(EscapeName(reason));
}

const char* CommandName(Command c) {
  switch (c) {
    case Command::kHelp: return "help";
    case Command::kSubmit: return "submit";
    case Command::kStatus: return "status";
    case Command::kList: return "list";
    case Command::kKill: return "kill";
    case Command::kWorkers: return "workers";
    case Command::kPipelineCheck: return "pipeline check";
    case Command::kPipelineRun: return "pipeline run";
    case Command::kPipelineStatus: return "pipeline status";
    case Command::kPipelineList: return "pipeline list";
  }
  return "?";
}

// `path` as given when absolute, else joined to `cwd` and normalized.
std::string MakeAbsolute(const std::string& path, const std::string& cwd) {
  if (absl::StartsWith(path, "/")) return path;
  return (fs::path(cwd) / path).lexically_normal().string();
}

// Digits only, > 0, <= max.
absl::StatusOr<uint64_t> ParsePositive(const std::string& flag,
                                       const std::string& text,
                                       uint64_t max) {
  const absl::Status bad =
      Usage(absl::StrCat(flag, " must be a positive integer, got '", text, "'"));
  if (text.empty()) return bad;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad;
    const uint64_t digit = c - '0';
    if (v > (max - digit) / 10) {
      return Usage(absl::StrCat(flag, " must be at most ", max, ", got '",
                                text, "'"));
    }
    v = v * 10 + digit;
  }
  if (v == 0) return bad;
  return v;
}

// --input-format: text, csv[:OPTION]..., tsv[:header], jsonl or
// fixed:BYTES. CSV options: "header", "delimiter=C" (one byte, or "tab").
absl::StatusOr<mrpb::InputFormat> ParseInputFormat(const std::string& text) {
  mrpb::InputFormat f;
  if (text == "text") return f;
  if (text == "jsonl") {
    f.set_kind(mrpb::InputFormat::JSONL);
    return f;
  }
  if (absl::StartsWith(text, "fixed:")) {
    absl::StatusOr<uint64_t> n =
        ParsePositive("--input-format fixed:BYTES", text.substr(6),
                      kMaxFixedRecordBytes);
    if (!n.ok()) return n.status();
    f.set_kind(mrpb::InputFormat::FIXED);
    f.set_record_bytes(static_cast<uint32_t>(*n));
    return f;
  }
  const size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  if (kind == "csv" || kind == "tsv") {
    f.set_kind(mrpb::InputFormat::CSV);
    if (kind == "tsv") f.set_delimiter("\t");
    size_t pos = colon;
    while (pos != std::string::npos) {
      const size_t next = text.find(':', pos + 1);
      const std::string option = text.substr(
          pos + 1, next == std::string::npos ? std::string::npos
                                             : next - pos - 1);
      pos = next;
      if (option == "header") {
        f.set_header(true);
        continue;
      }
      if (kind == "csv" && absl::StartsWith(option, "delimiter=")) {
        std::string d = option.substr(10);
        if (d == "tab") d = "\t";
        if (d.size() != 1 || d == "\"" || d == "\n" || d == "\r") {
          return Usage(absl::StrCat(
              "--input-format csv: the delimiter must be one byte (or tab), "
              "not a quote or a line end, got '",
              option.substr(10), "'"));
        }
        f.set_delimiter(d == "," ? "" : d);
        continue;
      }
      return Usage(absl::StrCat(
          "--input-format ", kind, ": unknown option '", option, "' (",
          kind == "csv" ? "header, delimiter=C" : "header", ")"));
    }
    return f;
  }
  return Usage(absl::StrCat(
      "--input-format must be text, csv[:header][:delimiter=C], "
      "tsv[:header], jsonl or fixed:BYTES, got '",
      text, "'"));
}

// --output-format: text, tsv, csv, jsonl or binary.
absl::StatusOr<mrpb::OutputFormat> ParseOutputFormat(const std::string& text) {
  if (text == "text") return mrpb::OUTPUT_TEXT;
  if (text == "tsv") return mrpb::OUTPUT_TSV;
  if (text == "csv") return mrpb::OUTPUT_CSV;
  if (text == "jsonl") return mrpb::OUTPUT_JSONL;
  if (text == "binary") return mrpb::OUTPUT_BINARY;
  return Usage(absl::StrCat(
      "--output-format must be text, tsv, csv, jsonl or binary, got '", text,
      "'"));
}

// Sets spec->input_formats from the --input-format flags: `texts[k]` was
// given when `starts[k]` inputs had been given. One flag applies to every
// input; several each apply to the inputs that follow them (up to the
// next), inputs before the first being text.
absl::Status SetInputFormats(const std::vector<std::string>& texts,
                             const std::vector<int>& starts,
                             mrpb::JobSpec* spec) {
  if (texts.empty()) return absl::OkStatus();
  std::vector<mrpb::InputFormat> formats;
  for (const std::string& t : texts) {
    absl::StatusOr<mrpb::InputFormat> f = ParseInputFormat(t);
    if (!f.ok()) return f.status();
    formats.push_back(*f);
  }
  if (formats.size() == 1) {
    *spec->add_input_formats() = formats[0];
    return absl::OkStatus();
  }
  std::vector<mrpb::InputFormat> per_input(spec->inputs_size());
  for (size_t k = 0; k < formats.size(); ++k) {
    const int end = k + 1 < formats.size() ? starts[k + 1] : spec->inputs_size();
    if (starts[k] == end) {
      return Usage(absl::StrCat(
          "--input-format ", texts[k],
          " is followed by no --input (with several --input-format flags, "
          "each applies to the inputs after it)"));
    }
    for (int i = starts[k]; i < end; ++i) per_input[i] = formats[k];
  }
  bool all_same = true;
  for (const mrpb::InputFormat& f : per_input) {
    all_same = all_same && f.SerializeAsString() ==
                               per_input[0].SerializeAsString();
  }
  if (all_same) {
    *spec->add_input_formats() = per_input[0];
    return absl::OkStatus();
  }
  for (const mrpb::InputFormat& f : per_input) *spec->add_input_formats() = f;
  return absl::OkStatus();
}

// Walks the arguments after the command. Each flag is "--name" or
// "--name=value".
class FlagCursor {
 public:
  FlagCursor(const std::vector<std::string>& args, Command command)
      : args_(args), command_(command) {}

  bool Done() const { return pos_ >= args_.size(); }

  // The next argument; not a flag: a positional argument.
  const std::string& Peek() const { return args_[pos_]; }

  // Consumes a positional argument.
  std::string TakePositional() { return args_[pos_++]; }

  // Consumes a flag: sets its name ("--input") and the value after '='.
  void TakeFlag(std::string* name, std::string* inline_value,
                bool* has_inline) {
    const std::string& arg = args_[pos_++];
    const size_t eq = arg.find('=');
    *has_inline = eq != std::string::npos;
    *name = *has_inline ? arg.substr(0, eq) : arg;
    *inline_value = *has_inline ? arg.substr(eq + 1) : std::string();
  }

  // The flag's one value: inline, or the next argument unless that is a flag.
  absl::StatusOr<std::string> Value(const std::string& name,
                                    const std::string& inline_value,
                                    bool has_inline) {
    std::string v;
    if (has_inline) {
      v = inline_value;
    } else if (!Done() && !IsFlag(Peek())) {
      v = args_[pos_++];
    }
    if (v.empty()) return Usage(absl::StrCat(name, " needs a value"));
    return v;
  }

  // All values up to the next flag (the inline one first).
  std::vector<std::string> Values(const std::string& inline_value,
                                  bool has_inline) {
    std::vector<std::string> out;
    if (has_inline) out.push_back(inline_value);
    while (!Done() && !IsFlag(Peek())) out.push_back(args_[pos_++]);
    return out;
  }

  absl::Status Unknown(const std::string& name) const {
    return Usage(absl::StrCat("unknown flag ", name, " for ",
                              CommandName(command_)));
  }
  absl::Status Unexpected(const std::string& arg) const {
    return Usage(absl::StrCat("unexpected argument '", arg, "' for ",
                              CommandName(command_)));
  }

 private:
  const std::vector<std::string>& args_;
  const Command command_;
  size_t pos_ = 0;
};

absl::Status NoValue(const std::string& name, bool has_inline) {
  if (!has_inline) return absl::OkStatus();
  return Usage(absl::StrCat(name, " takes no value"));
}

// --mapper / --reducer / --combiner: the streaming app (apps/streaming.h)
// with those commands as its params; *app becomes "streaming".
absl::Status SetStreamingApp(const std::string& mapper,
                             const std::string& reducer,
                             const std::string& combiner,
                             const std::string& plugin, std::string* app,
                             mrpb::JobSpec* spec) {
  if (mapper.empty()) return Usage("--reducer and --combiner need --mapper CMD");
  if (!plugin.empty() || (!app->empty() && *app != "streaming")) {
    return Usage("--mapper runs the streaming app: not with --plugin or "
                 "another --app");
  }
  const ParamMap given = ParamsFromProto(spec->params());
  for (const char* name : {"mapper", "reducer", "combiner"}) {
    if (given.count(name) > 0) {
      return Usage(absl::StrCat("--", name, " and --param ", name,
                                "= both given"));
    }
  }
  *app = "streaming";
  SetParam(spec, "mapper", mapper);
  if (!reducer.empty()) SetParam(spec, "reducer", reducer);
  if (!combiner.empty()) SetParam(spec, "combiner", combiner);
  return absl::OkStatus();
}

absl::Status ParseSubmit(FlagCursor* cur, const std::string& cwd,
                         CommandLine* cl) {
  std::string app, plugin, output, reduces, split_size, name, max_attempts,
      max_skipped, request_id, sort_buffer_mb, merge_factor, max_record_bytes,
      maps, output_format;
  // --input-format flags, and how many inputs preceded each.
  std::vector<std::string> input_formats;
  std::vector<int> input_format_starts;
  mrpb::JobSpec& spec = cl->spec;
  std::string mapper, reducer, combiner;  // sugar for --app streaming
  while (!cur->Done()) {
    if (!IsFlag(cur->Peek())) return cur->Unexpected(cur->Peek());
    std::string flag, inline_value;
    bool has_inline;
    cur->TakeFlag(&flag, &inline_value, &has_inline);

    // Flags that take one value, each given at most once.
    std::string* single = nullptr;
    if (flag == "--app") single = &app;
    if (flag == "--plugin") single = &plugin;
    if (flag == "--mapper") single = &mapper;
    if (flag == "--reducer") single = &reducer;
    if (flag == "--combiner") single = &combiner;
    if (flag == "--output") single = &output;
    if (flag == "--reduces") single = &reduces;
    if (flag == "--split-size") single = &split_size;
    if (flag == "--name") single = &name;
    if (flag == "--max-attempts") single = &max_attempts;
    if (flag == "--max-skipped-records") single = &max_skipped;
    if (flag == "--request-id") single = &request_id;
    if (flag == "--sort-buffer-mb") single = &sort_buffer_mb;
    if (flag == "--merge-factor") single = &merge_factor;
    if (flag == "--max-record-bytes") single = &max_record_bytes;
    if (flag == "--maps") single = &maps;
    if (flag == "--output-format") single = &output_format;
    if (single != nullptr) {
      if (!single->empty()) return Usage(absl::StrCat(flag, " given twice"));
      absl::StatusOr<std::string> v = cur->Value(flag, inline_value, has_inline);
      if (!v.ok()) return v.status();
      *single = *std::move(v);
    } else if (flag == "--input-format") {
      absl::StatusOr<std::string> v = cur->Value(flag, inline_value, has_inline);
      if (!v.ok()) return v.status();
      input_formats.push_back(*v);
      input_format_starts.push_back(spec.inputs_size());
    } else if (flag == "--input") {
      std::vector<std::string> paths = cur->Values(inline_value, has_inline);
      if (paths.empty()) return Usage("--input needs at least one PATH");
      for (const std::string& p : paths) {
        if (p.empty()) return Usage("--input got an empty path");
        spec.add_inputs(MakeAbsolute(p, cwd));
      }
    } else if (flag == "--file") {
      absl::StatusOr<std::string> v = cur->Value(flag, inline_value, has_inline);
      if (!v.ok()) return v.status();
      if (v->empty()) return Usage("--file got an empty path");
      cl->side_files.push_back(MakeAbsolute(*v, cwd));
    } else if (flag == "--param") {
      absl::StatusOr<std::string> v = cur->Value(flag, inline_value, has_inline);
      if (!v.ok()) return v.status();
      const size_t eq = v->find('=');
      if (eq == std::string::npos || eq == 0) {
        return Usage(absl::StrCat("--param needs KEY=VALUE, got '", *v, "'"));
      }
      SetParam(&spec, v->substr(0, eq), v->substr(eq + 1));
    } else if (flag == "--no-speculation") {
      if (absl::Status s = NoValue(flag, has_inline); !s.ok()) return s;
      spec.set_disable_speculation(true);
    } else if (flag == "--total-order") {
      if (absl::Status s = NoValue(flag, has_inline); !s.ok()) return s;
      spec.set_total_order(true);
    } else if (flag == "--overwrite") {
      if (absl::Status s = NoValue(flag, has_inline); !s.ok()) return s;
      spec.set_overwrite(true);
    } else if (flag == "--wait") {
      if (absl::Status s = NoValue(flag, has_inline); !s.ok()) return s;
      cl->wait = true;
    } else if (flag == "--json") {
      if (absl::Status s = NoValue(flag, has_inline); !s.ok()) return s;
      cl->json = true;
    } else {
      return cur->Unknown(flag);
    }
  }

  if (!mapper.empty() || !reducer.empty() || !combiner.empty()) {
    if (absl::Status s = SetStreamingApp(mapper, reducer, combiner, plugin,
                                         &app, &spec);
        !s.ok()) {
      return s;
    }
  }
  if (!app.empty() && !plugin.empty()) {
    return Usage("--app and --plugin are mutually exclusive");
  }
  if (app.empty() && plugin.empty()) {
    return Usage("submit needs --app NAME or --plugin FILE");
  }
  if (spec.inputs_size() == 0 && maps.empty()) {
    return Usage("submit needs --input PATH... (or --maps M for an app "
                 "that generates its input)");
  }
  if (spec.inputs_size() > 0 && !maps.empty()) {
    return Usage("--maps is for apps that generate their input; not with "
                 "--input");
  }
  if (output.empty()) return Usage("submit needs --output DIR");

  spec.set_app(app);
  if (!plugin.empty()) cl->plugin_path = MakeAbsolute(plugin, cwd);
  std::string out = (fs::path(MakeAbsolute(output, cwd))).lexically_normal();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  spec.set_output_dir(out);
  spec.set_name(name);
  // Ids are UTF-8 on the wire (proto3 strings); names need not be.
  if (!IsValidUtf8(request_id)) return Usage("--request-id must be UTF-8");
  if (!IsValidUtf8(app)) return Usage("--app must be UTF-8");
  cl->request_id = request_id;
  if (reduces == "0") {
    spec.set_map_only(true);
  } else if (!reduces.empty()) {
    absl::StatusOr<uint64_t> r = ParsePositive(
        "--reduces", reduces, std::numeric_limits<uint32_t>::max());
    if (!r.ok()) return r.status();
    spec.set_num_reduces(static_cast<uint32_t>(*r));
  }
  if (spec.map_only() && spec.total_order()) {
    return Usage("--total-order needs reduces; not with --reduces 0");
  }
  if (!maps.empty()) {
    absl::StatusOr<uint64_t> m =
        ParsePositive("--maps", maps, std::numeric_limits<uint32_t>::max());
    if (!m.ok()) return m.status();
    spec.set_num_maps(static_cast<uint32_t>(*m));
  }
  if (absl::Status s =
          SetInputFormats(input_formats, input_format_starts, &spec);
      !s.ok()) {
    return s;
  }
  if (!output_format.empty()) {
    absl::StatusOr<mrpb::OutputFormat> f = ParseOutputFormat(output_format);
    if (!f.ok()) return f.status();
    spec.set_output_format(*f);
  }
  if (!split_size.empty()) {
    absl::StatusOr<uint64_t> s = ParsePositive(
        "--split-size", split_size, std::numeric_limits<uint64_t>::max());
    if (!s.ok()) return s.status();
    spec.set_split_size(*s);
  }
  if (!max_attempts.empty()) {
    absl::StatusOr<uint64_t> m = ParsePositive(
        "--max-attempts", max_attempts, std::numeric_limits<uint32_t>::max());
    if (!m.ok()) return m.status();
    spec.set_max_task_attempts(static_cast<uint32_t>(*m));
  }
  if (!max_skipped.empty()) {
    absl::StatusOr<uint64_t> m =
        ParsePositive("--max-skipped-records", max_skipped,
                      std::numeric_limits<uint64_t>::max());
    if (!m.ok()) return m.status();
    spec.set_max_skipped_records(*m);
  }
  if (!sort_buffer_mb.empty()) {
    absl::StatusOr<uint64_t> mb =
        ParsePositive("--sort-buffer-mb", sort_buffer_mb,
                      std::numeric_limits<uint64_t>::max() >> 20);
    if (!mb.ok()) return mb.status();
    spec.set_sort_buffer_bytes(*mb << 20);
  }
  if (!merge_factor.empty()) {
    absl::StatusOr<uint64_t> f =
        ParsePositive("--merge-factor", merge_factor, kMaxMergeFactor);
    if (!f.ok()) return f.status();
    if (*f < kMinMergeFactor) {
      return Usage(absl::StrCat("--merge-factor must be at least ",
                                kMinMergeFactor, ", got '", merge_factor,
                                "'"));
    }
    spec.set_merge_factor(static_cast<uint32_t>(*f));
  }
  if (!max_record_bytes.empty()) {
    absl::StatusOr<uint64_t> m = ParsePositive(
        "--max-record-bytes", max_record_bytes, kMaxMaxRecordBytes);
    if (!m.ok()) return m.status();
    spec.set_max_record_bytes(*m);
  }
  return absl::OkStatus();
}

// status / list / kill / workers / pipeline status / pipeline list: an
// optional --json, --all for list and, when `id` is not null, exactly one
// id (a JOB's or a RUN's, as `noun` says) into *id.
absl::Status ParseSimple(FlagCursor* cur, std::string* id, const char* noun,
                         bool takes_json, CommandLine* cl) {
  const bool takes_all = cl->command == Command::kList;
  bool have_id = false;
  while (!cur->Done()) {
    if (!IsFlag(cur->Peek())) {
      if (id == nullptr || have_id) return cur->Unexpected(cur->Peek());
      *id = cur->TakePositional();
      if (id->empty()) return Usage(absl::StrCat("a ", noun, " id cannot be empty"));
      if (!IsValidUtf8(*id)) return Usage(absl::StrCat("a ", noun, " id is UTF-8"));
      have_id = true;
      continue;
    }
    std::string flag, inline_value;
    bool has_inline;
    cur->TakeFlag(&flag, &inline_value, &has_inline);
    if (flag == "--json" && takes_json) {
      if (absl::Status s = NoValue(flag, has_inline); !s.ok()) return s;
      cl->json = true;
    } else if (flag == "--all" && takes_all) {
      if (absl::Status s = NoValue(flag, has_inline); !s.ok()) return s;
      cl->all = true;
    } else {
      return cur->Unknown(flag);
    }
  }
  if (id != nullptr && !have_id) {
    return Usage(absl::StrCat(CommandName(cl->command), " needs a ", noun, " id"));
  }
  return absl::OkStatus();
}

// pipeline run FILE --date D [--wait] [--json]
absl::Status ParsePipelineRun(FlagCursor* cur, const std::string& cwd,
                              CommandLine* cl) {
  while (!cur->Done()) {
    if (!IsFlag(cur->Peek())) {
      if (!cl->pipeline_file.empty()) return cur->Unexpected(cur->Peek());
      const std::string file = cur->TakePositional();
      if (file.empty()) return Usage("pipeline run needs a FILE");
      cl->pipeline_file = MakeAbsolute(file, cwd);
      continue;
    }
    std::string flag, inline_value;
    bool has_inline;
    cur->TakeFlag(&flag, &inline_value, &has_inline);
    if (flag == "--date") {
      absl::StatusOr<std::string> v = cur->Value(flag, inline_value, has_inline);
      if (!v.ok()) return Usage("--date needs YYYY-MM-DD");
      // Its shape only: the master says whether it is a calendar date.
      if (v->size() != 10 || (*v)[4] != '-' || (*v)[7] != '-' ||
          !std::all_of(v->begin(), v->end(),
                       [](char c) { return c == '-' || absl::ascii_isdigit(c); })) {
        return Usage(absl::StrCat("--date must be YYYY-MM-DD, got '", *v, "'"));
      }
      cl->date = *v;
    } else if (flag == "--wait") {
      if (absl::Status s = NoValue(flag, has_inline); !s.ok()) return s;
      cl->wait = true;
    } else if (flag == "--json") {
      if (absl::Status s = NoValue(flag, has_inline); !s.ok()) return s;
      cl->json = true;
    } else {
      return cur->Unknown(flag);
    }
  }
  if (cl->pipeline_file.empty()) return Usage("pipeline run needs a FILE");
  if (cl->date.empty()) {
    return Usage("pipeline run needs --date YYYY-MM-DD (the logical date to run)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args, const char* env_master,
    const std::string& cwd) {
  CommandLine cl;

  // --master, --tls_ca, --token_file and --help may appear anywhere; take
  // them out first. A value of --input never starts with "--", so this
  // cannot steal one.
  std::vector<std::string> rest;
  bool help = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string* file_flag = nullptr;
    std::string flag_name;
    for (const auto& [name, field] :
         {std::make_pair("--tls_ca", &cl.tls_ca),
          std::make_pair("--tls-ca", &cl.tls_ca),
          std::make_pair("--token_file", &cl.token_file),
          std::make_pair("--token-file", &cl.token_file)}) {
      if (a == name || absl::StartsWith(a, absl::StrCat(name, "="))) {
        file_flag = field;
        flag_name = name;
      }
    }
    if (file_flag != nullptr) {
      std::string v;
      if (a == flag_name) {
        if (i + 1 < args.size() && !IsFlag(args[i + 1])) v = args[++i];
      } else {
        v = a.substr(flag_name.size() + 1);
      }
      if (v.empty()) return Usage(absl::StrCat(flag_name, " needs FILE"));
      *file_flag = MakeAbsolute(v, cwd);
    } else if (a == "--help") {
      help = true;
    } else if (a == "--master" || absl::StartsWith(a, "--master=")) {
      std::string v;
      if (a == "--master") {
        if (i + 1 < args.size() && !IsFlag(args[i + 1])) v = args[++i];
      } else {
        v = a.substr(std::string("--master=").size());
      }
      if (v.empty()) return Usage("--master needs HOST:PORT");
      cl.master = v;
    } else {
      rest.push_back(a);
    }
  }
  if (help || (!rest.empty() && (rest[0] == "help" || rest[0] == "-h"))) {
    cl.command = Command::kHelp;
    return cl;
  }
  if (rest.empty()) return Usage("no command given (try 'mrctl help')");

  const std::string& name = rest[0];
  if (absl::StartsWith(name, "-")) {
    return Usage(absl::StrCat("unknown flag ", name));
  }
  if (name == "submit") {
    cl.command = Command::kSubmit;
  } else if (name == "status") {
    cl.command = Command::kStatus;
  } else if (name == "list") {
    cl.command = Command::kList;
  } else if (name == "kill") {
    cl.command = Command::kKill;
  } else if (name == "workers") {
    cl.command = Command::kWorkers;
  } else if (name == "pipeline") {
    const std::string sub = rest.size() < 2 ? "" : rest[1];
    if (sub == "check") {
      if (rest.size() != 3 || IsFlag(rest[2]) || rest[2].empty()) {
        return Usage("pipeline check needs one FILE");
      }
      cl.command = Command::kPipelineCheck;
      cl.pipeline_file = MakeAbsolute(rest[2], cwd);
      return cl;
    }
    if (sub == "run") {
      cl.command = Command::kPipelineRun;
    } else if (sub == "status") {
      cl.command = Command::kPipelineStatus;
    } else if (sub == "list") {
      cl.command = Command::kPipelineList;
    } else {
      return Usage(absl::StrCat("unknown pipeline command '", sub,
                                "' (check, run, status or list)"));
    }
    rest.erase(rest.begin());  // the flags parse below, after "pipeline X"
  } else {
    return Usage(
        absl::StrCat("unknown command '", name, "' (try 'mrctl help')"));
  }

  const std::vector<std::string> command_args(rest.begin() + 1, rest.end());
  FlagCursor cur(command_args, cl.command);
  absl::Status s;
  switch (cl.command) {
    case Command::kSubmit:
      s = ParseSubmit(&cur, cwd, &cl);
      break;
    case Command::kStatus:
      s = ParseSimple(&cur, &cl.job_id, "JOB", /*takes_json=*/true, &cl);
      break;
    case Command::kKill:
      s = ParseSimple(&cur, &cl.job_id, "JOB", /*takes_json=*/false, &cl);
      break;
    case Command::kList:
    case Command::kWorkers:
      s = ParseSimple(&cur, nullptr, "", /*takes_json=*/true, &cl);
      break;
    case Command::kPipelineRun:
      s = ParsePipelineRun(&cur, cwd, &cl);
      break;
    case Command::kPipelineStatus:
      s = ParseSimple(&cur, &cl.run_id, "RUN", /*takes_json=*/true, &cl);
      break;
    case Command::kPipelineList:
      s = ParseSimple(&cur, nullptr, "", /*takes_json=*/true, &cl);
      break;
    case Command::kHelp:
    case Command::kPipelineCheck:
      break;
  }
  if (!s.ok()) return s;

  if (cl.master.empty() && env_master != nullptr) cl.master = env_master;
  if (cl.master.empty()) {
    return Usage("no master given: use --master HOST:PORT or set MR_MASTER");
  }
  return cl;
}

const char* UsageText() {
  static const std::string* const usage = new std::string(MakeUsage());
  return usage->c_str();
}

}  // namespace client_internal
}  // namespace mr
