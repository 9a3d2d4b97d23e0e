#include "common/pipeline_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/names.h"
#include "re2/re2.h"

namespace mr {
namespace {

// Parses one pipeline file; each method returns the first error found.
class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  absl::StatusOr<PipelineSpec> Parse(const std::string& yaml);

 private:
  // The name of the environment variable holding a connection string. The
  // master reads it from its own environment, so a pipeline may name only
  // variables ending in _DSN: never PATH, a cloud key or another secret.
  absl::StatusOr<std::string> DsnEnv(const YAML::Node& node) const {
    absl::StatusOr<std::string> env = Scalar(node, "dsn_env");
    if (!env.ok()) return env.status();
    if (!absl::EndsWith(*env, "_DSN") || env->size() == 4) {
      return Error(node, absl::StrCat("dsn_env '", *env,
                                      "' must name a variable ending in _DSN "
                                      "(the master reads no other for a "
                                      "pipeline)"));
    }
    return env;
  }

  absl::Status Error(const YAML::Node& node, absl::string_view message) const {
    const YAML::Mark mark = node.Mark();
    return Located(mark, absl::StrCat(context_, message));
  }

  // "FILE:LINE:COL: reason", escaped (EscapeName(), common/names.h) so that
  // what it quotes from the file stays on one line and reaches a terminal
  // without control characters.
  absl::Status Located(const YAML::Mark& mark, absl::string_view reason) const {
    return absl::InvalidArgumentError(EscapeName(absl::StrCat(
        file_, ":", mark.line + 1, ":", mark.column + 1, ": ", reason)));
  }

  absl::Status CheckKeys(const YAML::Node& map, absl::string_view what,
                         const std::vector<std::string>& allowed) const;
  absl::StatusOr<std::string> Scalar(const YAML::Node& node,
                                     absl::string_view what) const;
  absl::StatusOr<std::string> Name(const YAML::Node& node,
                                   absl::string_view what) const;
  absl::StatusOr<std::vector<std::string>> Names(const YAML::Node& node,
                                                 absl::string_view what) const;
  absl::StatusOr<double> Number(const YAML::Node& node,
                                absl::string_view what) const;
  absl::StatusOr<absl::Duration> Duration(const YAML::Node& node,
                                          absl::string_view what) const;
  absl::StatusOr<RowThreshold> Threshold(const YAML::Node& node,
                                         absl::string_view what) const;
  absl::StatusOr<std::string> Templated(const YAML::Node& node,
                                        absl::string_view what) const;

  absl::Status ParseStep(const YAML::Node& node, PipelineStep* step);
  absl::Status ParseExtract(const YAML::Node& node, PipelineStep* step);
  absl::Status ParseValidate(const YAML::Node& node, PipelineStep* step);
  absl::Status ParseRule(const YAML::Node& node, PipelineStep* step);
  absl::Status ParseTransform(const YAML::Node& node, PipelineStep* step);
  absl::Status ParseJoin(const YAML::Node& node, PipelineStep* step);
  absl::Status ParseJob(const YAML::Node& node, PipelineStep* step);
  absl::Status ParseAggregate(const YAML::Node& node, PipelineStep* step);
  absl::Status ParseRenameSelect(const YAML::Node& transform, PipelineStep* step);
  absl::StatusOr<PipelineStep::Transform::Comparison> Comparison(
      const YAML::Node& node) const;
  // Error() pointing `offset` characters into the scalar `node`.
  absl::Status ErrorAt(const YAML::Node& node, size_t offset,
                       absl::string_view message) const;
  absl::Status ParseLoad(const YAML::Node& node, PipelineStep* step);
  absl::Status Order(PipelineSpec* spec,
                     const std::map<std::string, YAML::Node>& step_nodes);

  const std::string file_;
  std::string partition_column_;
  std::string context_;  // "step 'x': " while in a step
};

bool IsName(absl::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

void AddUnique(std::vector<std::string>* list, const std::string& s) {
  if (std::find(list->begin(), list->end(), s) == list->end()) {
    list->push_back(s);
  }
}

// int64, double, string, bool, date, timestamp or decimal(P,S) with
// 1 <= P <= 38 and 0 <= S <= P.
bool IsColumnType(absl::string_view t) {
  static const std::set<absl::string_view> kPlain = {
      "int64", "double", "string", "bool", "date", "timestamp"};
  if (kPlain.count(t)) return true;
  if (!absl::ConsumePrefix(&t, "decimal(") || !absl::ConsumeSuffix(&t, ")")) {
    return false;
  }
  const size_t comma = t.find(',');
  if (comma == absl::string_view::npos) return false;
  int p = 0, s = 0;
  return absl::SimpleAtoi(absl::StripAsciiWhitespace(t.substr(0, comma)), &p) &&
         absl::SimpleAtoi(absl::StripAsciiWhitespace(t.substr(comma + 1)), &s) &&
         p >= 1 && p <= 38 && s >= 0 && s <= p;
}

absl::Status Parser::CheckKeys(const YAML::Node& map, absl::string_view what,
                               const std::vector<std::string>& allowed) const {
  if (!map.IsMap()) return Error(map, absl::StrCat(what, " must be a mapping"));
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) return Error(kv.first, "keys must be plain words");
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Error(kv.first, absl::StrCat("unknown key '", key, "' in ", what,
                                          " (expected one of: ",
                                          absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Parser::Scalar(const YAML::Node& node,
                                           absl::string_view what) const {
  if (!node.IsScalar() || node.Scalar().empty()) {
    return Error(node, absl::StrCat(what, " must be a non-empty value"));
  }
  return node.Scalar();
}

absl::StatusOr<std::string> Parser::Name(const YAML::Node& node,
                                         absl::string_view what) const {
  absl::StatusOr<std::string> s = Scalar(node, what);
  if (!s.ok()) return s.status();
  if (!IsName(*s)) {
    return Error(node, absl::StrCat(what, " '", *s,
                                    "' must be letters, digits and '_', not "
                                    "starting with a digit, at most 63"));
  }
  return s;
}

absl::StatusOr<std::vector<std::string>> Parser::Names(
    const YAML::Node& node, absl::string_view what) const {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    absl::StatusOr<std::string> one = Name(node, what);
    if (!one.ok()) return one.status();
    out.push_back(*one);
    return out;
  }
  if (!node.IsSequence() || node.size() == 0) {
    return Error(node, absl::StrCat(what, " must be a name or a non-empty list of names"));
  }
  for (const auto& item : node) {
    absl::StatusOr<std::string> one = Name(item, what);
    if (!one.ok()) return one.status();
    if (std::find(out.begin(), out.end(), *one) != out.end()) {
      return Error(item, absl::StrCat(what, " names '", *one, "' twice"));
    }
    out.push_back(*one);
  }
  return out;
}

absl::StatusOr<double> Parser::Number(const YAML::Node& node,
                                      absl::string_view what) const {
  double d = 0;
  if (!node.IsScalar() || !absl::SimpleAtod(node.Scalar(), &d) ||
      !std::isfinite(d)) {
    return Error(node, absl::StrCat(what, " must be a number"));
  }
  return d;
}

absl::StatusOr<absl::Duration> Parser::Duration(const YAML::Node& node,
                                                absl::string_view what) const {
  absl::Duration d;
  if (!node.IsScalar() || !absl::ParseDuration(node.Scalar(), &d) ||
      d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return Error(node, absl::StrCat(what,
                                    " must be a positive duration such as "
                                    "30s, 10m or 26h"));
  }
  return d;
}

absl::StatusOr<RowThreshold> Parser::Threshold(const YAML::Node& node,
                                               absl::string_view what) const {
  const std::string usage =
      absl::StrCat(what, " must be \"> N\" (rows) or \"> P%\" (of the rows)");
  if (!node.IsScalar()) return Error(node, usage);
  absl::string_view s = absl::StripAsciiWhitespace(node.Scalar());
  if (!absl::ConsumePrefix(&s, ">")) return Error(node, usage);
  s = absl::StripAsciiWhitespace(s);
  RowThreshold t;
  t.percent = absl::ConsumeSuffix(&s, "%");
  if (!absl::SimpleAtod(s, &t.value) || !std::isfinite(t.value) ||
      t.value < 0 || (t.percent && t.value > 100)) {
    return Error(node, usage);
  }
  if (!t.percent && t.value != static_cast<double>(static_cast<int64_t>(t.value))) {
    return Error(node, absl::StrCat(what, ": a row count must be a whole number"));
  }
  return t;
}

// A value that may hold {{COLUMN}}, the partition column: any other
// {{...}} is an error.
absl::StatusOr<std::string> Parser::Templated(const YAML::Node& node,
                                              absl::string_view what) const {
  absl::StatusOr<std::string> s = Scalar(node, what);
  if (!s.ok()) return s.status();
  for (size_t at = s->find("{{"); at != std::string::npos;
       at = s->find("{{", at + 2)) {
    const size_t end = s->find("}}", at);
    if (end == std::string::npos) {
      return Error(node, absl::StrCat(what, ": '{{' without '}}'"));
    }
    const absl::string_view var =
        absl::StripAsciiWhitespace(absl::string_view(*s).substr(at + 2, end - at - 2));
    if (var != partition_column_) {
      return Error(node, absl::StrCat(what, ": unknown variable {{", var,
                                      "}} (the only one is {{",
                                      partition_column_, "}})"));
    }
  }
  return s;
}

absl::StatusOr<PipelineSpec> Parser::Parse(const std::string& yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return Located(e.mark, e.msg);
  }
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_, ":1:1: a pipeline file is a mapping with pipeline, partition "
               "and steps"));
  }
  PipelineSpec spec;
  if (absl::Status s = CheckKeys(root, "the pipeline", {"pipeline", "partition", "steps"});
      !s.ok()) {
    return s;
  }
  for (const char* key : {"pipeline", "partition", "steps"}) {
    if (!root[key]) return Error(root, absl::StrCat("missing '", key, "'"));
  }
  absl::StatusOr<std::string> name = Name(root["pipeline"], "pipeline");
  if (!name.ok()) return name.status();
  spec.name = *name;

  const YAML::Node partition = root["partition"];
  if (absl::Status s = CheckKeys(partition, "partition", {"column", "timezone"});
      !s.ok()) {
    return s;
  }
  if (!partition["column"] || !partition["timezone"]) {
    return Error(partition,
                 "partition needs column and timezone (the zone its dates are "
                 "in, e.g. UTC or Europe/Paris)");
  }
  absl::StatusOr<std::string> column = Name(partition["column"], "partition column");
  if (!column.ok()) return column.status();
  spec.partition_column = partition_column_ = *column;
  absl::StatusOr<std::string> zone = Scalar(partition["timezone"], "timezone");
  if (!zone.ok()) return zone.status();
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(*zone, &tz)) {
    return Error(partition["timezone"],
                 absl::StrCat("unknown timezone '", *zone,
                              "' (UTC or a zone of the tz database, such as "
                              "Europe/Paris)"));
  }
  spec.timezone = *zone;

  const YAML::Node steps = root["steps"];
  if (!steps.IsSequence() || steps.size() == 0) {
    return Error(steps, "steps must be a non-empty list");
  }
  std::map<std::string, YAML::Node> step_nodes;
  for (const auto& node : steps) {
    PipelineStep step;
    if (absl::Status s = ParseStep(node, &step); !s.ok()) return s;
    if (step_nodes.count(step.name)) {
      const YAML::Mark first = step_nodes[step.name].Mark();
      return Error(node["name"], absl::StrCat("a second step named '", step.name,
                                              "' (the first is on line ",
                                              first.line + 1, ")"));
    }
    step_nodes[step.name] = static_cast<const YAML::Node&>(node);
    spec.steps.push_back(std::move(step));
  }
  if (absl::Status s = Order(&spec, step_nodes); !s.ok()) return s;
  return spec;
}

absl::Status Parser::ParseStep(const YAML::Node& node, PipelineStep* step) {
  context_.clear();
  if (absl::Status s = CheckKeys(node, "a step",
                                 {"name", "after", "retries", "retry_delay",
                                  "timeout", "extract", "validate", "transform",
                                  "load"});
      !s.ok()) {
    return s;
  }
  if (!node["name"]) return Error(node, "a step needs a name");
  absl::StatusOr<std::string> name = Name(node["name"], "step name");
  if (!name.ok()) return name.status();
  step->name = *name;
  step->line = node["name"].Mark().line + 1;
  context_ = absl::StrCat("step '", step->name, "': ");

  std::vector<std::string> kinds;
  for (const char* kind : {"extract", "validate", "transform", "load"}) {
    if (node[kind]) kinds.push_back(kind);
  }
  if (kinds.size() != 1) {
    return Error(node, absl::StrCat("needs exactly one of extract, validate, "
                                    "transform, load",
                                    kinds.empty() ? "" : ", not ",
                                    absl::StrJoin(kinds, " and ")));
  }
  if (node["after"]) {
    absl::StatusOr<std::vector<std::string>> after = Names(node["after"], "after");
    if (!after.ok()) return after.status();
    for (const std::string& a : *after) AddUnique(&step->depends_on, a);
  }
  if (node["retries"]) {
    int retries = 0;
    if (!node["retries"].IsScalar() ||
        !absl::SimpleAtoi(node["retries"].Scalar(), &retries) || retries < 0 ||
        retries > 100) {
      return Error(node["retries"], "retries must be a whole number from 0 to 100");
    }
    step->retries = retries;
  }
  if (node["retry_delay"]) {
    absl::StatusOr<absl::Duration> d = Duration(node["retry_delay"], "retry_delay");
    if (!d.ok()) return d.status();
    step->retry_delay = *d;
  }
  if (node["timeout"]) {
    absl::StatusOr<absl::Duration> d = Duration(node["timeout"], "timeout");
    if (!d.ok()) return d.status();
    step->timeout = *d;
  }
  const std::string& kind = kinds[0];
  if (kind == "extract") {
    step->kind = PipelineStep::Kind::kExtract;
    return ParseExtract(node[kind], step);
  }
  if (kind == "validate") {
    step->kind = PipelineStep::Kind::kValidate;
    return ParseValidate(node[kind], step);
  }
  if (kind == "transform") {
    step->kind = PipelineStep::Kind::kTransform;
    return ParseTransform(node[kind], step);
  }
  step->kind = PipelineStep::Kind::kLoad;
  return ParseLoad(node[kind], step);
}

absl::Status Parser::ParseExtract(const YAML::Node& node, PipelineStep* step) {
  if (absl::Status s = CheckKeys(node, "extract", {"files", "format", "postgres"});
      !s.ok()) {
    return s;
  }
  if (static_cast<bool>(node["files"]) == static_cast<bool>(node["postgres"])) {
    return Error(node, "extract needs exactly one of files and postgres");
  }
  if (node["files"]) {
    absl::StatusOr<std::string> files = Templated(node["files"], "files");
    if (!files.ok()) return files.status();
    step->files = *files;
    if (!node["format"]) return Error(node, "extract files needs a format (text, csv or jsonl)");
    absl::StatusOr<std::string> format = Scalar(node["format"], "format");
    if (!format.ok()) return format.status();
    if (*format != "text" && *format != "csv" && *format != "jsonl") {
      return Error(node["format"], absl::StrCat("unknown format '", *format,
                                                "' (text, csv or jsonl)"));
    }
    step->format = *format;
    return absl::OkStatus();
  }
  if (node["format"]) return Error(node["format"], "format goes with files, not postgres");
  const YAML::Node pg = node["postgres"];
  if (absl::Status s = CheckKeys(pg, "postgres", {"dsn_env", "table", "query"});
      !s.ok()) {
    return s;
  }
  if (!pg["dsn_env"]) {
    return Error(pg, "postgres needs dsn_env (the environment variable holding the connection string)");
  }
  absl::StatusOr<std::string> env = DsnEnv(pg["dsn_env"]);
  if (!env.ok()) return env.status();
  step->postgres_dsn_env = *env;
  if (static_cast<bool>(pg["table"]) == static_cast<bool>(pg["query"])) {
    return Error(pg, "postgres needs exactly one of table and query");
  }
  if (pg["table"]) {
    absl::StatusOr<std::string> table = Templated(pg["table"], "table");
    if (!table.ok()) return table.status();
    step->postgres_table = *table;
  } else {
    absl::StatusOr<std::string> query = Templated(pg["query"], "query");
    if (!query.ok()) return query.status();
    step->postgres_query = *query;
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseValidate(const YAML::Node& node, PipelineStep* step) {
  if (absl::Status s = CheckKeys(node, "validate",
                                 {"input", "schema", "rules", "error_if",
                                  "warn_if", "dead_letter"});
      !s.ok()) {
    return s;
  }
  if (!node["input"] || !node["schema"]) {
    return Error(node, "validate needs input and schema");
  }
  absl::StatusOr<std::string> input = Name(node["input"], "input");
  if (!input.ok()) return input.status();
  AddUnique(&step->depends_on, *input);
  step->input = *input;
  const YAML::Node schema = node["schema"];
  if (!schema.IsMap() || schema.size() == 0) {
    return Error(schema, "schema must map each column to its type");
  }
  for (const auto& kv : schema) {
    absl::StatusOr<std::string> column = Name(kv.first, "column");
    if (!column.ok()) return column.status();
    absl::StatusOr<std::string> type = Scalar(kv.second, "type");
    if (!type.ok()) return type.status();
    if (!IsColumnType(*type)) {
      return Error(kv.second,
                   absl::StrCat("column '", *column, "': unknown type '", *type,
                                "' (int64, double, string, bool, date, "
                                "timestamp or decimal(P,S))"));
    }
    for (const auto& [c, t] : step->schema) {
      if (c == *column) {
        return Error(kv.first, absl::StrCat("column '", *column, "' twice in schema"));
      }
    }
    step->schema.emplace_back(*column, *type);
  }
  if (node["rules"]) {
    if (!node["rules"].IsSequence()) return Error(node["rules"], "rules must be a list");
    for (const auto& rule : node["rules"]) {
      if (absl::Status s = ParseRule(rule, step); !s.ok()) return s;
    }
  }
  for (const char* key : {"error_if", "warn_if"}) {
    if (!node[key]) continue;
    absl::StatusOr<RowThreshold> t = Threshold(node[key], key);
    if (!t.ok()) return t.status();
    (std::string(key) == "error_if" ? step->error_if : step->warn_if) = *t;
  }
  if (node["dead_letter"]) {
    const std::string v = node["dead_letter"].IsScalar() ? node["dead_letter"].Scalar() : "";
    if (v != "true" && v != "false") {
      return Error(node["dead_letter"], "dead_letter must be true or false");
    }
    step->dead_letter = v == "true";
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseRule(const YAML::Node& node, PipelineStep* step) {
  static const std::vector<std::string> kRules = {
      "not_null", "unique", "range", "accepted_values", "regex", "row_count",
      "freshness"};
  if (!node.IsMap() || node.size() != 1) {
    return Error(node, absl::StrCat("a rule is a mapping with one key, one of: ",
                                    absl::StrJoin(kRules, ", ")));
  }
  if (absl::Status s = CheckKeys(node, "a rule", kRules); !s.ok()) return s;
  const YAML::Node kind_node = node.begin()->first;
  const YAML::Node args = node.begin()->second;
  PipelineStep::Rule rule;
  rule.kind = kind_node.Scalar();
  rule.line = kind_node.Mark().line + 1;
  auto known_column = [&](const YAML::Node& at, const std::string& c) -> absl::Status {
    for (const auto& [name, type] : step->schema) {
      if (name == c) return absl::OkStatus();
    }
    return Error(at, absl::StrCat(rule.kind, ": column '", c, "' is not in the schema"));
  };
  auto one_column = [&]() -> absl::Status {
    if (!args["column"]) return Error(args, absl::StrCat(rule.kind, " needs a column"));
    absl::StatusOr<std::string> c = Name(args["column"], "column");
    if (!c.ok()) return c.status();
    rule.columns = {*c};
    return known_column(args["column"], *c);
  };
  if (rule.kind == "not_null" || rule.kind == "unique") {
    absl::StatusOr<std::vector<std::string>> columns = Names(args, rule.kind);
    if (!columns.ok()) return columns.status();
    for (const std::string& c : *columns) {
      if (absl::Status s = known_column(args, c); !s.ok()) return s;
    }
    rule.columns = *columns;
  } else if (rule.kind == "range") {
    if (absl::Status s = CheckKeys(args, "range", {"column", "min", "max"}); !s.ok()) return s;
    if (absl::Status s = one_column(); !s.ok()) return s;
    for (const char* bound : {"min", "max"}) {
      if (!args[bound]) continue;
      absl::StatusOr<double> v = Number(args[bound], bound);
      if (!v.ok()) return v.status();
      (std::string(bound) == "min" ? rule.min : rule.max) = *v;
    }
    if (!rule.min && !rule.max) return Error(args, "range needs min, max or both");
    if (rule.min && rule.max && *rule.min > *rule.max) {
      return Error(args, "range: min is above max");
    }
  } else if (rule.kind == "accepted_values") {
    if (absl::Status s = CheckKeys(args, "accepted_values", {"column", "values"}); !s.ok()) {
      return s;
    }
    if (absl::Status s = one_column(); !s.ok()) return s;
    if (!args["values"] || !args["values"].IsSequence() || args["values"].size() == 0) {
      return Error(args, "accepted_values needs a non-empty list of values");
    }
    for (const auto& v : args["values"]) {
      if (!v.IsScalar()) return Error(v, "accepted_values: values must be plain values");
      rule.values.push_back(v.Scalar());
    }
  } else if (rule.kind == "regex") {
    if (absl::Status s = CheckKeys(args, "regex", {"column", "pattern"}); !s.ok()) return s;
    if (absl::Status s = one_column(); !s.ok()) return s;
    if (!args["pattern"]) return Error(args, "regex needs a pattern");
    absl::StatusOr<std::string> pattern = Scalar(args["pattern"], "pattern");
    if (!pattern.ok()) return pattern.status();
    RE2 re(*pattern, RE2::Quiet);
    if (!re.ok()) {
      return Error(args["pattern"], absl::StrCat("regex: bad pattern: ", re.error()));
    }
    rule.pattern = *pattern;
  } else if (rule.kind == "row_count") {
    if (absl::Status s = CheckKeys(args, "row_count", {"min", "max", "max_growth"}); !s.ok()) {
      return s;
    }
    for (const char* bound : {"min", "max", "max_growth"}) {
      if (!args[bound]) continue;
      absl::StatusOr<double> v = Number(args[bound], bound);
      if (!v.ok()) return v.status();
      if (*v < 0) return Error(args[bound], absl::StrCat("row_count: ", bound, " is negative"));
      const std::string b = bound;
      (b == "min" ? rule.min : b == "max" ? rule.max : rule.max_growth) = *v;
    }
    if (!rule.min && !rule.max && !rule.max_growth) {
      return Error(args, "row_count needs min, max or max_growth");
    }
  } else {  // freshness
    if (absl::Status s = CheckKeys(args, "freshness", {"column", "max_age"}); !s.ok()) return s;
    if (absl::Status s = one_column(); !s.ok()) return s;
    if (!args["max_age"]) return Error(args, "freshness needs max_age");
    absl::StatusOr<absl::Duration> d = Duration(args["max_age"], "max_age");
    if (!d.ok()) return d.status();
    rule.max_age = *d;
  }
  step->rules.push_back(std::move(rule));
  return absl::OkStatus();
}

absl::Status Parser::ParseTransform(const YAML::Node& node, PipelineStep* step) {
  if (absl::Status s = CheckKeys(node, "transform",
                                 {"input", "select", "rename", "cast", "filter",
                                  "dedupe", "join", "aggregate", "job"});
      !s.ok()) {
    return s;
  }
  PipelineStep::Transform& t = step->transform;
  if (node["job"]) {
    for (const char* other : {"select", "rename", "cast", "filter", "dedupe", "join",
                              "aggregate"}) {
      if (node[other]) {
        return Error(node[other], absl::StrCat("a transform with a job has no ", other,
                                               " (put it in a step of its own)"));
      }
    }
    if (absl::Status s = ParseJob(node["job"], step); !s.ok()) return s;
  }
  if (static_cast<bool>(node["input"]) == static_cast<bool>(node["join"])) {
    return Error(node, "transform needs exactly one of input and join");
  }
  if (node["input"]) {
    absl::StatusOr<std::string> input = Name(node["input"], "input");
    if (!input.ok()) return input.status();
    t.input = *input;
    AddUnique(&step->depends_on, *input);
  } else if (absl::Status s = ParseJoin(node["join"], step); !s.ok()) {
    return s;
  }
  if (node["filter"]) {
    const YAML::Node filter = node["filter"];
    if (filter.IsScalar()) {
      absl::StatusOr<PipelineStep::Transform::Comparison> c = Comparison(filter);
      if (!c.ok()) return c.status();
      t.filter.push_back(*c);
    } else if (filter.IsSequence() && filter.size() > 0) {
      for (const auto& item : filter) {
        absl::StatusOr<PipelineStep::Transform::Comparison> c = Comparison(item);
        if (!c.ok()) return c.status();
        t.filter.push_back(*c);
      }
    } else {
      return Error(filter, "filter must be a comparison or a non-empty list of "
                           "them, such as [\"amount > 0\", \"status == 'paid'\"]");
    }
  }
  if (node["cast"]) {
    const YAML::Node cast = node["cast"];
    if (!cast.IsMap() || cast.size() == 0) {
      return Error(cast, "cast must map each column to its new type");
    }
    for (const auto& kv : cast) {
      absl::StatusOr<std::string> column = Name(kv.first, "cast column");
      if (!column.ok()) return column.status();
      absl::StatusOr<std::string> type = Scalar(kv.second, "type");
      if (!type.ok()) return type.status();
      if (!IsColumnType(*type)) {
        return Error(kv.second,
                     absl::StrCat("cast: column '", *column, "': unknown type '",
                                  *type,
                                  "' (int64, double, string, bool, date, "
                                  "timestamp or decimal(P,S))"));
      }
      for (const auto& [c, unused] : t.cast) {
        if (c == *column) {
          return Error(kv.first, absl::StrCat("cast: column '", *column, "' twice"));
        }
      }
      t.cast.emplace_back(*column, *type);
    }
  }
  if (node["dedupe"]) {
    const YAML::Node dedupe = node["dedupe"];
    if (absl::Status s = CheckKeys(dedupe, "dedupe", {"key", "latest_by"}); !s.ok()) {
      return s;
    }
    if (!dedupe["key"] || !dedupe["latest_by"]) {
      return Error(dedupe, "dedupe needs key and latest_by (the column whose "
                           "greatest value is kept)");
    }
    PipelineStep::Transform::Dedupe d;
    absl::StatusOr<std::vector<std::string>> key = Names(dedupe["key"], "key");
    if (!key.ok()) return key.status();
    d.key = *key;
    absl::StatusOr<std::string> latest = Name(dedupe["latest_by"], "latest_by");
    if (!latest.ok()) return latest.status();
    d.latest_by = *latest;
    t.dedupe = d;
  }
  if (node["aggregate"]) {
    if (absl::Status s = ParseAggregate(node["aggregate"], step); !s.ok()) return s;
  }
  return ParseRenameSelect(node, step);
}

absl::Status Parser::ParseJob(const YAML::Node& node, PipelineStep* step) {
  if (absl::Status s = CheckKeys(node, "job", {"app", "params", "reduces"}); !s.ok()) {
    return s;
  }
  if (!node["app"]) return Error(node, "job needs app (a built-in app, such as wordcount)");
  PipelineStep::Transform::Job job;
  absl::StatusOr<std::string> app = Name(node["app"], "app");
  if (!app.ok()) return app.status();
  job.app = *app;
  if (node["params"]) {
    const YAML::Node params = node["params"];
    if (!params.IsMap()) return Error(params, "params must map each name to its value");
    for (const auto& kv : params) {
      absl::StatusOr<std::string> key = Scalar(kv.first, "param name");
      if (!key.ok()) return key.status();
      absl::StatusOr<std::string> value = Scalar(kv.second, "param value");
      if (!value.ok()) return value.status();
      job.params.emplace_back(*key, *value);
    }
  }
  if (node["reduces"]) {
    absl::StatusOr<double> r = Number(node["reduces"], "reduces");
    if (!r.ok()) return r.status();
    if (*r < 1 || *r > 10000 || *r != static_cast<double>(static_cast<int>(*r))) {
      return Error(node["reduces"], "reduces must be an integer from 1 to 10000");
    }
    job.reduces = static_cast<uint32_t>(*r);
  }
  step->transform.job = job;
  return absl::OkStatus();
}

absl::Status Parser::ParseJoin(const YAML::Node& join, PipelineStep* step) {
  if (absl::Status s = CheckKeys(join, "join", {"left", "right", "on", "type"}); !s.ok()) {
    return s;
  }
  if (!join["left"] || !join["right"] || !join["on"]) {
    return Error(join, "join needs left, right and on");
  }
  PipelineStep::Transform::Join j;
  for (const char* side : {"left", "right"}) {
    absl::StatusOr<std::string> input = Name(join[side], side);
    if (!input.ok()) return input.status();
    (std::string(side) == "left" ? j.left : j.right) = *input;
    AddUnique(&step->depends_on, *input);
  }
  absl::StatusOr<std::vector<std::string>> on = Names(join["on"], "on");
  if (!on.ok()) return on.status();
  j.on = *on;
  if (join["type"]) {
    const std::string type = join["type"].IsScalar() ? join["type"].Scalar() : "";
    if (type != "inner" && type != "left") {
      return Error(join["type"], "join type must be inner or left");
    }
    j.left_outer = type == "left";
  }
  step->transform.join = j;
  return absl::OkStatus();
}

absl::Status Parser::ParseAggregate(const YAML::Node& agg, PipelineStep* step) {
  if (absl::Status s = CheckKeys(agg, "aggregate",
                                 {"group_by", "sum", "min", "max", "avg", "count"});
      !s.ok()) {
    return s;
  }
  if (!agg["group_by"]) return Error(agg, "aggregate needs group_by");
  PipelineStep::Transform::Aggregate a;
  // Each output column with the node that made it, for errors.
  std::vector<std::pair<std::string, YAML::Node>> outputs;
  for (const char* key : {"group_by", "sum", "min", "max", "avg"}) {
    if (!agg[key]) continue;
    absl::StatusOr<std::vector<std::string>> columns = Names(agg[key], key);
    if (!columns.ok()) return columns.status();
    const std::string k = key;
    (k == "group_by" ? a.group_by
     : k == "sum"    ? a.sum
     : k == "min"    ? a.min
     : k == "max"    ? a.max
                     : a.avg) = *columns;
    for (const std::string& c : *columns) {
      outputs.emplace_back(k == "group_by" ? c : absl::StrCat(k, "_", c), agg[key]);
    }
  }
  if (agg["count"]) {
    absl::StatusOr<std::string> count = Name(agg["count"], "count");
    if (!count.ok()) return count.status();
    a.count = *count;
    outputs.emplace_back(a.count, agg["count"]);
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& [name, at] = outputs[i];
    if (!IsName(name)) {
      return Error(at, absl::StrCat("aggregate: output column '", name,
                                    "' is longer than 63 characters"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (outputs[j].first == name) {
        return Error(at, absl::StrCat("aggregate: two output columns named '",
                                      name, "'"));
      }
    }
  }
  step->transform.aggregate = a;
  return absl::OkStatus();
}

absl::Status Parser::ParseRenameSelect(const YAML::Node& node, PipelineStep* step) {
  PipelineStep::Transform& t = step->transform;
  std::vector<YAML::Node> new_name_nodes;  // parallel to t.rename
  if (node["rename"]) {
    const YAML::Node rename = node["rename"];
    if (!rename.IsMap() || rename.size() == 0) {
      return Error(rename, "rename must map each column to its new name");
    }
    for (const auto& kv : rename) {
      absl::StatusOr<std::string> from = Name(kv.first, "rename column");
      if (!from.ok()) return from.status();
      absl::StatusOr<std::string> to = Name(kv.second, "new name");
      if (!to.ok()) return to.status();
      for (const auto& [f, n] : t.rename) {
        if (f == *from) {
          return Error(kv.first, absl::StrCat("rename: column '", *from, "' twice"));
        }
        if (n == *to) {
          return Error(kv.second, absl::StrCat("rename: '", *to,
                                               "' is the new name of both '", f,
                                               "' and '", *from, "'"));
        }
      }
      t.rename.emplace_back(*from, *to);
      new_name_nodes.push_back(kv.second);
    }
  }
  if (node["select"]) {
    absl::StatusOr<std::vector<std::string>> select = Names(node["select"], "select");
    if (!select.ok()) return select.status();
    t.select = *select;
  }
  if (!t.aggregate) return absl::OkStatus();
  // After an aggregate the columns are known: check what follows against
  // them.
  std::vector<std::string> columns = AggregateColumns(*t.aggregate);
  const std::string known = absl::StrJoin(columns, ", ");
  std::vector<std::string> renamed = columns;
  for (size_t i = 0; i < t.rename.size(); ++i) {
    const auto& [from, to] = t.rename[i];
    auto it = std::find(columns.begin(), columns.end(), from);
    if (it == columns.end()) {
      return Error(node["rename"], absl::StrCat("rename: '", from,
                                                "' is not a column of the "
                                                "aggregate's output (",
                                                known, ")"));
    }
    renamed[it - columns.begin()] = to;
  }
  for (size_t i = 0; i < t.rename.size(); ++i) {
    const std::string& to = t.rename[i].second;
    if (std::count(renamed.begin(), renamed.end(), to) > 1) {
      return Error(new_name_nodes[i],
                   absl::StrCat("rename: '", to,
                                "' is already a column of the aggregate's "
                                "output (",
                                known, ")"));
    }
  }
  for (size_t i = 0; i < t.select.size(); ++i) {
    if (std::find(renamed.begin(), renamed.end(), t.select[i]) == renamed.end()) {
      const YAML::Node select = node["select"];
      return Error(select.IsSequence() ? select[i] : select,
                   absl::StrCat("select: '", t.select[i],
                                "' is not a column of the aggregate's output "
                                "(after rename: ",
                                absl::StrJoin(renamed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::ErrorAt(const YAML::Node& node, size_t offset,
                             absl::string_view message) const {
  YAML::Mark mark = node.Mark();
  // A quoted scalar's mark is its opening quote; yaml-cpp tags quoted
  // scalars "!" and plain ones "?". (Escapes in a double-quoted scalar
  // would shift the column: comparisons have none in practice.)
  if (node.Tag() == "!") ++offset;
  mark.column += static_cast<int>(offset);
  return Located(mark, absl::StrCat(context_, message));
}

absl::StatusOr<PipelineStep::Transform::Comparison> Parser::Comparison(
    const YAML::Node& node) const {
  using Cmp = PipelineStep::Transform::Comparison;
  if (!node.IsScalar()) {
    return Error(node, "filter: a comparison is text such as \"amount > 0\"");
  }
  const std::string& text = node.Scalar();
  Cmp c;
  c.text = text;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  };
  skip_space();
  const size_t name_at = i;
  while (i < text.size() &&
         (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) {
    ++i;
  }
  c.column = text.substr(name_at, i - name_at);
  if (!IsName(c.column)) {
    return ErrorAt(node, name_at,
                   "filter: expected a column name (a comparison is COLUMN OP "
                   "VALUE, such as amount > 0)");
  }
  skip_space();
  static const std::pair<absl::string_view, Cmp::Op> kOps[] = {
      {"==", Cmp::Op::kEq}, {"!=", Cmp::Op::kNe}, {"<=", Cmp::Op::kLe},
      {">=", Cmp::Op::kGe}, {"<", Cmp::Op::kLt},  {">", Cmp::Op::kGt}};
  bool found = false;
  for (const auto& [symbol, op] : kOps) {
    if (absl::string_view(text).substr(i, symbol.size()) == symbol) {
      c.op = op;
      i += symbol.size();
      found = true;
      break;
    }
  }
  if (!found) {
    return ErrorAt(node, i, absl::StrCat("filter: expected ==, !=, <, <=, > or >= after '",
                                         c.column, "'"));
  }
  skip_space();
  const size_t value_at = i;
  if (i == text.size()) {
    return ErrorAt(node, i,
                   "filter: expected a value after the operator (a number, a "
                   "'quoted string', true, false or null)");
  }
  if (text[i] == '\'') {
    bool closed = false;
    for (++i; i < text.size();) {
      if (text[i] == '\'') {
        if (i + 1 < text.size() && text[i + 1] == '\'') {
          c.value.push_back('\'');
          i += 2;
          continue;
        }
        closed = true;
        ++i;
        break;
      }
      c.value.push_back(text[i++]);
    }
    if (!closed) {
      return ErrorAt(node, value_at, "filter: a string without its closing quote");
    }
    c.literal = Cmp::Literal::kString;
  } else {
    size_t end = i;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t') ++end;
    const std::string word = text.substr(i, end - i);
    if (word == "true" || word == "false") {
      c.literal = Cmp::Literal::kBool;
    } else if (word == "null") {
      c.literal = Cmp::Literal::kNull;
    } else if (IsJsonNumber(word)) {
      c.literal = Cmp::Literal::kNumber;
    } else {
      return ErrorAt(node, value_at,
                     absl::StrCat("filter: '", word,
                                  "' is not a value (a number, a 'quoted "
                                  "string', true, false or null)"));
    }
    if (c.literal != Cmp::Literal::kNull) c.value = word;
    i = end;
  }
  skip_space();
  if (i != text.size()) {
    return ErrorAt(node, i,
                   "filter: unexpected text after the value (one comparison "
                   "per item; the items of the list are ANDed)");
  }
  if (c.literal == Cmp::Literal::kNull && c.op != Cmp::Op::kEq &&
      c.op != Cmp::Op::kNe) {
    return ErrorAt(node, value_at, "filter: null goes only with == and != (is null, is not null)");
  }
  return c;
}

absl::Status Parser::ParseLoad(const YAML::Node& node, PipelineStep* step) {
  if (absl::Status s = CheckKeys(node, "load", {"input", "postgres", "files"}); !s.ok()) {
    return s;
  }
  if (!node["input"]) return Error(node, "load needs input (the step whose rows it loads)");
  absl::StatusOr<std::string> input = Name(node["input"], "input");
  if (!input.ok()) return input.status();
  AddUnique(&step->depends_on, *input);
  step->input = *input;
  if (static_cast<bool>(node["postgres"]) == static_cast<bool>(node["files"])) {
    return Error(node, "load needs exactly one of postgres and files");
  }
  const bool pg = static_cast<bool>(node["postgres"]);
  const YAML::Node target = pg ? node["postgres"] : node["files"];
  if (absl::Status s = CheckKeys(target, pg ? "postgres" : "files",
                                 pg ? std::vector<std::string>{"dsn_env", "table", "mode", "key"}
                                    : std::vector<std::string>{"path", "format", "mode"});
      !s.ok()) {
    return s;
  }
  if (!target["mode"]) {
    return Error(target, pg ? "load needs a mode: upsert, overwrite_partition or append"
                            : "load needs a mode: overwrite_partition or append");
  }
  absl::StatusOr<std::string> mode = Scalar(target["mode"], "mode");
  if (!mode.ok()) return mode.status();
  const bool known = *mode == "overwrite_partition" || *mode == "append" ||
                     (pg && *mode == "upsert");
  if (!known) {
    return Error(target["mode"],
                 absl::StrCat("unknown mode '", *mode, "' (",
                              pg ? "upsert, overwrite_partition or append"
                                 : "overwrite_partition or append",
                              ")"));
  }
  step->mode = *mode;
  if (pg) {
    if (!target["dsn_env"] || !target["table"]) {
      return Error(target, "postgres needs dsn_env and table");
    }
    absl::StatusOr<std::string> env = DsnEnv(target["dsn_env"]);
    if (!env.ok()) return env.status();
    step->postgres_dsn_env = *env;
    absl::StatusOr<std::string> table = Name(target["table"], "table");
    if (!table.ok()) return table.status();
    step->postgres_table = *table;
    if (target["key"]) {
      absl::StatusOr<std::vector<std::string>> key = Names(target["key"], "key");
      if (!key.ok()) return key.status();
      step->key = *key;
    }
    if (*mode == "upsert" && step->key.empty()) {
      return Error(target, "upsert needs key (the columns of the target's unique key)");
    }
  } else {
    if (!target["path"] || !target["format"]) {
      return Error(target, "files needs path and format");
    }
    absl::StatusOr<std::string> path = Templated(target["path"], "path");
    if (!path.ok()) return path.status();
    step->path = *path;
    absl::StatusOr<std::string> format = Scalar(target["format"], "format");
    if (!format.ok()) return format.status();
    if (*format != "csv" && *format != "jsonl") {
      return Error(target["format"], absl::StrCat("unknown format '", *format, "' (csv or jsonl)"));
    }
    step->format = *format;
  }
  return absl::OkStatus();
}

// Checks every dependency names a step and that there is no cycle, and
// orders the steps so that each comes after what it depends on (file order
// among independent ones).
absl::Status Parser::Order(PipelineSpec* spec,
                           const std::map<std::string, YAML::Node>& step_nodes) {
  context_.clear();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < spec->steps.size(); ++i) index[spec->steps[i].name] = i;
  for (const PipelineStep& step : spec->steps) {
    for (const std::string& dep : step.depends_on) {
      if (dep == step.name) {
        return Error(step_nodes.at(step.name),
                     absl::StrCat("step '", step.name, "' depends on itself"));
      }
      if (!index.count(dep)) {
        return Error(step_nodes.at(step.name),
                     absl::StrCat("step '", step.name, "' depends on '", dep,
                                  "', which is not a step of this pipeline"));
      }
    }
    // What a step reads must hold rows: a load stages none, and a load
    // takes typed rows, which an extract of files does not give.
    std::vector<std::string> reads;
    if (!step.input.empty()) reads.push_back(step.input);
    if (!step.transform.input.empty()) reads.push_back(step.transform.input);
    if (step.transform.join) {
      reads.push_back(step.transform.join->left);
      reads.push_back(step.transform.join->right);
    }
    for (const std::string& r : reads) {
      const PipelineStep& from = spec->steps[index[r]];
      if (from.kind == PipelineStep::Kind::kLoad) {
        return Error(step_nodes.at(step.name),
                     absl::StrCat("step '", step.name, "' reads '", r,
                                  "', a load, which has no rows to read (use after: to "
                                  "wait for it)"));
      }
      if (step.kind == PipelineStep::Kind::kLoad && from.kind == PipelineStep::Kind::kExtract &&
          !from.files.empty()) {
        return Error(step_nodes.at(step.name),
                     absl::StrCat("load step '", step.name, "' reads '", r,
                                  "', an extract of files: a load takes typed rows, from "
                                  "a validate, transform or PostgreSQL extract step"));
      }
    }
  }
  // Depth-first search: 0 unvisited, 1 on the current path, 2 done.
  std::vector<int> state(spec->steps.size(), 0);
  std::vector<size_t> path;
  std::function<absl::Status(size_t)> visit = [&](size_t i) -> absl::Status {
    state[i] = 1;
    path.push_back(i);
    for (const std::string& dep : spec->steps[i].depends_on) {
      const size_t j = index[dep];
      if (state[j] == 1) {
        std::vector<std::string> cycle;
        for (auto it = std::find(path.begin(), path.end(), j); it != path.end(); ++it) {
          cycle.push_back(spec->steps[*it].name);
        }
        cycle.push_back(spec->steps[j].name);
        return Error(step_nodes.at(spec->steps[j].name),
                     absl::StrCat("the steps depend on each other in a cycle: ",
                                  absl::StrJoin(cycle, " <- ")));
      }
      if (state[j] == 0) {
        if (absl::Status s = visit(j); !s.ok()) return s;
      }
    }
    path.pop_back();
    state[i] = 2;
    return absl::OkStatus();
  };
  for (size_t i = 0; i < spec->steps.size(); ++i) {
    if (state[i] == 0) {
      if (absl::Status s = visit(i); !s.ok()) return s;
    }
  }
  // No cycle: place the steps, each time the first in file order whose
  // dependencies are all placed.
  std::vector<bool> placed(spec->steps.size(), false);
  std::vector<PipelineStep> ordered;
  while (ordered.size() < spec->steps.size()) {
    for (size_t i = 0; i < spec->steps.size(); ++i) {
      if (placed[i]) continue;
      const auto& deps = spec->steps[i].depends_on;
      if (std::all_of(deps.begin(), deps.end(),
                      [&](const std::string& d) { return placed[index[d]]; })) {
        placed[i] = true;
        ordered.push_back(spec->steps[i]);
        break;
      }
    }
  }
  spec->steps = std::move(ordered);
  return absl::OkStatus();
}

}  // namespace

const char* StepKindName(PipelineStep::Kind kind) {
  switch (kind) {
    case PipelineStep::Kind::kExtract: return "extract";
    case PipelineStep::Kind::kValidate: return "validate";
    case PipelineStep::Kind::kTransform: return "transform";
    case PipelineStep::Kind::kLoad: return "load";
  }
  return "?";
}

std::vector<std::string> AggregateColumns(
    const PipelineStep::Transform::Aggregate& aggregate) {
  std::vector<std::string> columns = aggregate.group_by;
  for (const auto& [prefix, list] :
       {std::make_pair("sum_", &aggregate.sum), std::make_pair("min_", &aggregate.min),
        std::make_pair("max_", &aggregate.max), std::make_pair("avg_", &aggregate.avg)}) {
    for (const std::string& c : *list) columns.push_back(absl::StrCat(prefix, c));
  }
  if (!aggregate.count.empty()) columns.push_back(aggregate.count);
  return columns;
}

absl::StatusOr<PipelineSpec> ParsePipeline(const std::string& yaml,
                                           const std::string& file) {
  return Parser(file).Parse(yaml);
}

bool IsIsoDate(std::string_view dt) {
  if (dt.size() != 10 || dt[4] != '-' || dt[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (dt[i] < '0' || dt[i] > '9') return false;
  }
  auto number = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (dt[i] - '0');
    return v;
  };
  const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  // CivilDay normalizes out-of-range fields (2026-02-30 is March 2nd).
  const absl::CivilDay d(year, month, day);
  return year >= 1 && d.year() == year && d.month() == month && d.day() == day;
}

std::string ExpandTemplate(std::string_view text, const PipelineSpec& spec,
                           std::string_view dt) {
  std::string out;
  size_t from = 0;
  // The same scan as Parser::Templated(), which checked every {{...}}.
  for (size_t at = text.find("{{"); at != std::string_view::npos;
       at = text.find("{{", from)) {
    const size_t end = text.find("}}", at);
    if (end == std::string_view::npos) break;
    const std::string_view inside = text.substr(at + 2, end - at - 2);
    const bool is_date = absl::StripAsciiWhitespace(absl::string_view(
                             inside.data(), inside.size())) == spec.partition_column;
    out.append(text.substr(from, at - from));
    out.append(is_date ? dt : text.substr(at, end + 2 - at));
    from = end + 2;
  }
  out.append(text.substr(from));
  return out;
}

absl::StatusOr<PipelineSpec> LoadPipelineFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read pipeline file ",
                                            EscapeName(path), ": ",
                                            std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(
        absl::StrCat("error reading pipeline file ", EscapeName(path)));
  }
  return ParsePipeline(text.str(), path);
}

}  // namespace mr
