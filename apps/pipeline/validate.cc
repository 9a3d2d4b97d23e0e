#include "apps/pipeline/validate.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/input_codec.h"
#include "common/names.h"
#include "common/pipeline_spec.h"
#include "re2/re2.h"

namespace mr {
namespace pipeline {

struct PipelineValidate::RowRule {
  enum class Kind { kNotNull, kUnique, kRange, kAcceptedValues, kRegex };
  Kind kind = Kind::kNotNull;
  int index = 0;                // in the step's rules
  std::vector<size_t> columns;  // indexes in columns_
  std::optional<double> min, max;
  std::set<std::string, std::less<>> accepted;  // typed values' text
  std::unique_ptr<RE2> re;
  std::string label;  // "unique(order_id)"; for one-column rules "range(amount)"
};

// The physical line of a byte offset, by counting the '\n' bytes before it.
// Keeps a cursor (offset, line) in the last file asked about, so that the
// rows of a task's split, asked about in file order, cost one read of the
// file up to the split's end in all.
class PipelineValidate::LineCounter {
 public:
  ~LineCounter() { Close(); }

  // The 1-based line holding byte `offset` of `file`; 0 when it cannot be
  // known (a compressed file, whose offsets are in the decompressed stream,
  // or one that cannot be read up to `offset`).
  uint64_t LineOf(std::string_view file, uint64_t offset) {
    if (file != file_) {
      Close();
      file_.assign(file.data(), file.size());
      if (InputCodecOf(file) == InputCodec::kNone) {
        fd_ = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
      }
      offset_ = 0;
      line_ = 1;
    }
    if (fd_ < 0) return 0;
    if (offset < offset_) {
      offset_ = 0;
      line_ = 1;
    }
    if (buf_.empty()) buf_.resize(1 << 20);
    while (offset_ < offset) {
      const size_t want =
          static_cast<size_t>(std::min<uint64_t>(buf_.size(), offset - offset_));
      const ssize_t got = ::pread(fd_, buf_.data(), want, static_cast<off_t>(offset_));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        Close();  // file_ stays: no retry for this file
        return 0;
      }
      line_ += static_cast<uint64_t>(std::count(buf_.data(), buf_.data() + got, '\n'));
      offset_ += static_cast<uint64_t>(got);
    }
    return line_;
  }

 private:
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::vector<char> buf_;
  std::string file_;
  int fd_ = -1;
  uint64_t offset_ = 0;  // the cursor: byte offset_ is on line line_
  uint64_t line_ = 1;
};

namespace {

constexpr char kDeadLetterOutput[] = "dead_letter";

// Shuffle keys: for a row checked for uniqueness, the tag, its unique
// columns' values, its file and offset (AppendOrdered*(), mapreduce.h); for
// any other row, a spread key: the tag, the map's index and a sequence
// number.
constexpr char kUniqueKeyTag = 'k';
constexpr char kSpreadKeyTag = 's';

// Shuffle values. A passing row is kPassing then its JSON (unless it is
// checked for uniqueness and the step has dead_letter); every other row is kFull then, each string as a
// varint length and its bytes:
//   file, varint offset, varint line, json (empty when failing), record,
//   varint count, then per failure: varint (rule index + 1, 0 for the
//   schema), label.
// Without dead_letter, file, line, record and labels are left empty: only
// the failures' rules are counted.
constexpr char kPassing = 'P';
constexpr char kFull = 'F';
// A passing row checked for uniqueness, with dead_letter, from an
// uncompressed file: kPassingAt, varint record size, then its JSON. The
// reduce finds its file and offset in the key, and reads its record back
// from the file (and counts its line) only when it turns out a duplicate,
// which is rare: so the shuffle does not carry every row's text twice, nor
// the map count every row's line.
constexpr char kPassingAt = 'A';

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s.data(), s.size());
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool GetString(std::string_view* in, std::string_view* s) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

std::string Param(const std::map<std::string, std::string>& params,
                  const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

}  // namespace

struct PipelineValidate::ShuffledRow {
  std::string_view file;
  uint64_t offset = 0;
  uint64_t line = 0;
  std::string_view json;
  std::string_view record;
  std::vector<std::pair<int, std::string_view>> failures;  // rule, label
  // kPassingAt: the record's size; its file, offset, text and line are
  // found by the reduce (ReduceRow()).
  bool at = false;
  uint64_t record_size = 0;

  // False when `value` is not an encoded row.
  bool Decode(std::string_view value) {
    failures.clear();
    if (value.empty()) return false;
    const char tag = value.front();
    value.remove_prefix(1);
    at = false;
    if (tag == kPassing) {
      file = record = {};
      offset = line = 0;
      json = value;
      return true;
    }
    if (tag == kPassingAt) {
      file = record = {};
      offset = line = 0;
      at = true;
      if (!GetVarint(&value, &record_size)) return false;
      json = value;
      return true;
    }
    uint64_t count = 0;
    if (tag != kFull || !GetString(&value, &file) ||
        !GetVarint(&value, &offset) || !GetVarint(&value, &line) ||
        !GetString(&value, &json) || !GetString(&value, &record) ||
        !GetVarint(&value, &count) || count > value.size()) {
      return false;
    }
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t rule = 0;
      std::string_view label;
      if (!GetVarint(&value, &rule) || !GetString(&value, &label)) return false;
      failures.emplace_back(static_cast<int>(rule) - 1, label);
    }
    return value.empty();
  }
};

PipelineValidate::PipelineValidate() = default;
PipelineValidate::~PipelineValidate() = default;

std::string PipelineValidate::Setup(const std::map<std::string, std::string>& params) {
  const std::string yaml = Param(params, "pipeline");
  step_name_ = Param(params, "step");
  dt_ = Param(params, "dt");
  if (yaml.empty() || step_name_.empty() || dt_.empty()) {
    return "pipeline_validate needs --param pipeline=YAML, step=NAME and "
           "dt=YYYY-MM-DD";
  }
  std::string file = Param(params, "pipeline_file");
  if (file.empty()) file = "pipeline";
  absl::StatusOr<PipelineSpec> spec = ParsePipeline(yaml, file);
  if (!spec.ok()) return std::string(spec.status().message());
  const PipelineStep* step = nullptr;
  for (const PipelineStep& s : spec->steps) {
    if (s.name == step_name_) step = &s;
  }
  const std::string where = absl::StrCat("pipeline_validate: ", EscapeName(file),
                                         ": step '", EscapeName(step_name_), "'");
  if (step == nullptr) return absl::StrCat(where, ": no such step");
  if (step->kind != PipelineStep::Kind::kValidate) {
    return absl::StrCat(where, " is ",
                        step->kind == PipelineStep::Kind::kExtract ? "an " : "a ",
                        StepKindName(step->kind),
                        " step, not a validate step");
  }
  if (!IsIsoDate(dt_)) {
    return absl::StrCat("pipeline_validate: dt '", EscapeName(dt_),
                        "' is not a date (YYYY-MM-DD)");
  }
  if (!absl::LoadTimeZone(spec->timezone, &tz_)) {
    return absl::StrCat(where, ": unknown timezone '", spec->timezone, "'");
  }
  const std::string format = Param(params, "input_format");
  if (!format.empty() && format != "csv" && format != "jsonl") {
    return absl::StrCat("pipeline_validate: input_format '", EscapeName(format),
                        "' is neither csv nor jsonl (text input has no columns)");
  }
  csv_ = format == "csv";
  jsonl_ = format == "jsonl";
  dead_letter_ = step->dead_letter;
  partition_column_ = spec->partition_column;

  columns_.clear();
  partition_index_ = -1;
  for (const auto& [name, type_text] : step->schema) {
    absl::StatusOr<ColumnType> type = ParseColumnType(type_text);
    if (!type.ok()) {
      return absl::StrCat(where, ": column '", name, "': ", type.status().message());
    }
    if (name == partition_column_) partition_index_ = static_cast<int>(columns_.size());
    columns_.push_back({name, *type, absl::StrCat(JsonString(name), ":")});
  }
  partition_member_ = absl::StrCat(",", JsonString(partition_column_), ":",
                                   JsonString(dt_));
  if (std::string error = SetupRules(*step, where); !error.empty()) return error;

  values_.assign(columns_.size(), Value());
  parsed_.assign(columns_.size(), 0);
  rule_failures_.assign(num_rules_ + 1, 0);
  row_seen_.assign(num_rules_ + 1, 0);
  lines_ = std::make_unique<LineCounter>();
  map_only_ = unique_ == nullptr;
  return {};
}

std::string PipelineValidate::SetupRules(const PipelineStep& step,
                                         const std::string& where) {
  auto column_index = [&](const std::string& name) -> int {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].name == name) return static_cast<int>(i);
    }
    return -1;
  };
  rules_.clear();
  freshness_.clear();
  unique_ = nullptr;
  num_rules_ = step.rules.size();
  for (size_t n = 0; n < step.rules.size(); ++n) {
    const PipelineStep::Rule& spec = step.rules[n];
    const std::string at = absl::StrCat(where, ": rule ", n, " (", spec.kind,
                                        ", line ", spec.line, ")");
    std::vector<size_t> columns;
    for (const std::string& c : spec.columns) {
      const int i = column_index(c);
      if (i < 0) return absl::StrCat(at, ": column '", c, "' is not in the schema");
      columns.push_back(static_cast<size_t>(i));
    }
    if (spec.kind == "row_count") continue;
    if (spec.kind == "freshness") {
      const ColumnKind kind = columns_[columns[0]].type.kind;
      if (kind != ColumnKind::kDate && kind != ColumnKind::kTimestamp) {
        return absl::StrCat(at, ": column '", spec.columns[0], "' is a ",
                            columns_[columns[0]].type.name,
                            ", not a date or timestamp");
      }
      Freshness f;
      f.rule = n;
      f.column = columns[0];
      freshness_.push_back(f);
      continue;
    }
    auto rule = std::make_unique<RowRule>();
    rule->index = static_cast<int>(n);
    rule->columns = columns;
    rule->label = absl::StrCat(spec.kind, "(", absl::StrJoin(spec.columns, ", "), ")");
    if (spec.kind == "not_null") {
      rule->kind = RowRule::Kind::kNotNull;
    } else if (spec.kind == "unique") {
      if (unique_ != nullptr) {
        return absl::StrCat(at, ": a step has at most one unique rule (another is "
                                "rule ", unique_->index, ")");
      }
      rule->kind = RowRule::Kind::kUnique;
      unique_ = rule.get();
    } else if (spec.kind == "range") {
      const ColumnType& type = columns_[columns[0]].type;
      if (!IsNumeric(type.kind)) {
        return absl::StrCat(at, ": column '", spec.columns[0], "' is a ", type.name,
                            ", not a number (int64, double or decimal)");
      }
      rule->kind = RowRule::Kind::kRange;
      rule->min = spec.min;
      rule->max = spec.max;
    } else if (spec.kind == "accepted_values") {
      rule->kind = RowRule::Kind::kAcceptedValues;
      const Column& column = columns_[columns[0]];
      Value v;
      for (const std::string& text : spec.values) {
        absl::Status s = ParseValue(column.name, column.type, text, tz_, &v);
        if (!s.ok()) return absl::StrCat(at, ": ", s.message());
        if (!v.null) rule->accepted.insert(v.text);
      }
    } else if (spec.kind == "regex") {
      rule->kind = RowRule::Kind::kRegex;
      rule->re = std::make_unique<RE2>(spec.pattern, RE2::Quiet);
      if (!rule->re->ok()) {
        return absl::StrCat(at, ": bad pattern: ", rule->re->error());
      }
    } else {
      return absl::StrCat(at, ": unknown rule kind");
    }
    rules_.push_back(std::move(rule));
  }
  return {};
}

// Appends the row's failures of the map-side rules (all but unique) to
// failures_, from values_/parsed_.
void PipelineValidate::CheckRules() {
  for (const std::unique_ptr<RowRule>& rule : rules_) {
    if (rule->kind == RowRule::Kind::kUnique) continue;
    if (rule->kind == RowRule::Kind::kNotNull) {
      for (size_t c : rule->columns) {
        // A column that failed the schema is not null: its failure is the
        // schema's.
        if (parsed_[c] && values_[c].null) {
          failures_.push_back({rule->index, absl::StrCat("not_null(", columns_[c].name, ")")});
        }
      }
      continue;
    }
    const size_t c = rule->columns[0];
    if (!parsed_[c] || values_[c].null) continue;
    const Value& v = values_[c];
    switch (rule->kind) {
      case RowRule::Kind::kRange:
        if (rule->min && v.number < *rule->min) {
          failures_.push_back({rule->index, absl::StrCat(rule->label, ": ", v.text,
                                                         " is below ",
                                                         FormatNumber(*rule->min))});
        } else if (rule->max && v.number > *rule->max) {
          failures_.push_back({rule->index, absl::StrCat(rule->label, ": ", v.text,
                                                         " is above ",
                                                         FormatNumber(*rule->max))});
        }
        break;
      case RowRule::Kind::kAcceptedValues:
        if (rule->accepted.find(v.text) == rule->accepted.end()) {
          failures_.push_back(
              {rule->index, absl::StrCat(rule->label, ": '", Excerpt(v.text), "'")});
        }
        break;
      case RowRule::Kind::kRegex:
        if (!RE2::PartialMatch(v.text, *rule->re)) {
          failures_.push_back({rule->index,
                               absl::StrCat(rule->label, ": '", Excerpt(v.text),
                                            "' does not match ", rule->re->pattern())});
        }
        break;
      default:
        break;
    }
  }
}

void PipelineValidate::CheckSchema(const InputRecord& record) {
  const RecordFields& fields = *record.fields;
  if (csv_) {
    size_t named = 0;
    for (size_t i = 0; i < fields.size(); ++i) named += !fields.name(i).empty();
    if (named < fields.size()) {
      failures_.push_back({-1, absl::StrCat("schema: ", fields.size(),
                                            " fields where the header has ", named)});
    }
  } else if (jsonl_) {
    const size_t first = record.line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || record.line[first] != '{') {
      failures_.push_back({-1, "schema: not a JSON object"});
    }
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& column = columns_[i];
    std::string_view raw;
    parsed_[i] = 0;
    if (!fields.Find(column.name, &raw)) {
      failures_.push_back({-1, absl::StrCat("schema: ", column.name, ": missing")});
      continue;
    }
    absl::Status s = ParseValue(column.name, column.type,
                                absl::string_view(raw.data(), raw.size()), tz_,
                                &values_[i]);
    if (!s.ok()) {
      failures_.push_back({-1, absl::StrCat("schema: ", s.message())});
      continue;
    }
    parsed_[i] = 1;
  }
}

void PipelineValidate::RenderRow() {
  json_.clear();
  json_.push_back('{');
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i > 0) json_.push_back(',');
    json_.append(columns_[i].member);
    if (static_cast<int>(i) == partition_index_ && values_[i].null) {
      json_.append(JsonString(dt_));
    } else {
      AppendJson(columns_[i].type, values_[i], &json_);
    }
  }
  if (partition_index_ < 0) json_.append(partition_member_);
  json_.push_back('}');
}

void PipelineValidate::Map(const InputRecord& record, Context& ctx) {
  if (record.fields == nullptr) {
    ctx.Fail("pipeline_validate reads CSV (with a header) or JSON Lines input: "
             "text input has no columns");
    return;
  }
  ++rows_;
  failures_.clear();
  CheckSchema(record);
  // Freshness counts the rows that pass the schema (and have the value).
  const bool schema_ok = failures_.empty();
  for (Freshness& f : freshness_) {
    const Value& v = values_[f.column];
    if (!schema_ok || v.null) continue;
    if (!f.seen || v.epoch_seconds > f.newest) f.newest = v.epoch_seconds;
    f.seen = true;
  }
  CheckRules();

  // The shuffle key: the unique rule's values, or a spread key.
  key_.clear();
  bool keyed = false;
  if (unique_ != nullptr) {
    keyed = true;
    for (size_t c : unique_->columns) keyed = keyed && parsed_[c] && !values_[c].null;
  }
  if (keyed) {
    // The sort puts a key's rows in input order (a secondary sort: see
    // GroupKey()).
    key_.push_back(kUniqueKeyTag);
    for (size_t c : unique_->columns) AppendOrderedString(&key_, values_[c].text);
    AppendOrderedString(&key_, record.file);
    AppendOrderedUint64(&key_, record.offset);
  } else {
    key_.push_back(kSpreadKeyTag);
    AppendOrderedUint64(&key_, ctx.TaskIndex());
    AppendOrderedUint64(&key_, sequence_++);
  }

  const bool passing = failures_.empty();
  if (passing) {
    RenderRow();
  } else {
    json_.clear();
  }
  value_.clear();
  if (map_only_) {
    ShuffledRow row;
    row.file = record.file;
    row.offset = record.offset;
    row.json = json_;
    row.record = record.line;
    for (const Failure& f : failures_) row.failures.emplace_back(f.rule, f.label);
    if (!passing && dead_letter_) row.line = lines_->LineOf(record.file, record.offset);
    ReduceRow(row, false, ctx);
    return;
  }
  // A passing row needs nothing more, unless it may turn out a duplicate
  // whose dead letter the reduce writes.
  if (passing && !(keyed && dead_letter_)) {
    value_.push_back(kPassing);
    value_.append(json_);
    ctx.Emit(key_, value_);
    return;
  }
  if (passing && InputCodecOf(record.file) == InputCodec::kNone) {
    value_.push_back(kPassingAt);
    PutVarint(record.line.size(), &value_);
    value_.append(json_);
    ctx.Emit(key_, value_);
    return;
  }
  // A failing row, or one that may turn out a duplicate: what a dead
  // letter needs, found now while the map knows the record's place.
  const bool letter = dead_letter_;
  value_.push_back(kFull);
  PutString(letter ? record.file : std::string_view(), &value_);
  PutVarint(record.offset, &value_);
  PutVarint(letter ? lines_->LineOf(record.file, record.offset) : 0, &value_);
  PutString(json_, &value_);
  PutString(letter ? record.line : std::string_view(), &value_);
  PutVarint(failures_.size(), &value_);
  for (const Failure& f : failures_) {
    PutVarint(static_cast<uint64_t>(f.rule + 1), &value_);
    PutString(letter ? std::string_view(f.label) : std::string_view(), &value_);
  }
  ctx.Emit(key_, value_);
}

std::string_view PipelineValidate::GroupKey(std::string_view key) const {
  if (unique_ == nullptr || key.empty() || key.front() != kUniqueKeyTag) return key;
  // The tag and the unique columns' fields, without the (file, offset)
  // that follow them.
  size_t n = 1;
  for (size_t i = 0; i < unique_->columns.size(); ++i) {
    n += OrderedStringFieldSize(key.substr(n));
  }
  return key.substr(0, n);
}

void PipelineValidate::Reduce(std::string_view key, ValueIterator& values,
                              Context& ctx) {
  // A unique key's rows come sorted by (file, offset) (GroupKey()): the
  // first keeps the key. Every other group holds one row.
  const bool unique_group =
      unique_ != nullptr && !key.empty() && key.front() == kUniqueKeyTag;
  if (row_ == nullptr) row_ = std::make_unique<ShuffledRow>();
  std::string_view value;
  for (bool first = true; values.Next(&value); first = false) {
    if (!row_->Decode(value)) {
      ctx.Fail("pipeline_validate: a shuffled row is corrupt");
      return;
    }
    const bool duplicate = unique_group && !first;
    std::string file, record;
    if (row_->at && duplicate && dead_letter_) {
      // Its place is in its own key (see Map()): after the unique columns'
      // fields, the file and the offset.
      std::string_view k = values.key();
      k.remove_prefix(std::min<size_t>(1, k.size()));
      for (size_t i = 0; i < unique_->columns.size(); ++i) {
        k.remove_prefix(OrderedStringFieldSize(k));
      }
      file = DecodeOrderedString(k);
      k.remove_prefix(OrderedStringFieldSize(k));
      uint64_t offset = 0;
      for (size_t i = 0; i < 8 && i < k.size(); ++i) {
        offset = (offset << 8) | static_cast<unsigned char>(k[i]);
      }
      if (absl::Status s = ReadRecord(file, offset, row_->record_size, &record); !s.ok()) {
        ctx.Fail(std::string(s.message()));
        return;
      }
      row_->file = file;
      row_->offset = offset;
      row_->record = record;
      row_->line = lines_->LineOf(file, offset);
    }
    ReduceRow(*row_, duplicate, ctx);
  }
}

absl::Status PipelineValidate::ReadRecord(const std::string& file, uint64_t offset,
                                          uint64_t size, std::string* record) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("pipeline_validate: cannot reopen ", file,
                                            " for a duplicate's dead letter: ",
                                            strerror(errno)));
  }
  record->resize(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t got = ::pread(fd, record->data() + done, size - done,
                                static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    done += static_cast<size_t>(got);
  }
  ::close(fd);
  if (done != size) {
    return absl::DataLossError(absl::StrCat("pipeline_validate: ", file,
                                            " changed under the job: its record at byte ",
                                            offset, " cannot be read back"));
  }
  return absl::OkStatus();
}

void PipelineValidate::ReduceRow(const ShuffledRow& row, bool duplicate,
                                 Context& ctx) {
  if (row.failures.empty() && !duplicate) {
    ctx.Emit(row.json, "");
    ++passed_;
    return;
  }
  ++failed_;
  std::fill(row_seen_.begin(), row_seen_.end(), 0);
  auto count = [&](int rule) {
    const size_t i = static_cast<size_t>(rule + 1);
    if (i < row_seen_.size() && !row_seen_[i]) {
      row_seen_[i] = 1;
      ++rule_failures_[i];
    }
  };
  for (const auto& f : row.failures) count(f.first);
  if (duplicate) count(unique_->index);
  if (!dead_letter_) return;

  // The labels in rule order (the schema's first), unique's among them.
  std::string letter = absl::StrCat(
      "{\"file\":", JsonString(row.file), ",\"line\":", row.line,
      ",\"offset\":", row.offset, ",\"record\":", JsonString(row.record),
      ",\"rules\":[");
  bool first = true;
  bool unique_written = !duplicate;
  auto add = [&](std::string_view label) {
    if (!first) letter.push_back(',');
    first = false;
    letter.append(JsonString(label));
  };
  for (const auto& f : row.failures) {
    if (!unique_written && f.first > unique_->index) {
      add(unique_->label);
      unique_written = true;
    }
    add(f.second);
  }
  if (!unique_written) add(unique_->label);
  letter.append("]}");
  ctx.EmitTo(kDeadLetterOutput, letter, "");
}

JobTraits PipelineValidate::Traits() const {
  JobTraits traits;
  traits.map_only = map_only_;
  return traits;
}

void PipelineValidate::Finish(Context& ctx) {
  if (ctx.Kind() == TaskKind::kMap) {
    ctx.IncrementCounter("rows", rows_);
    for (const Freshness& f : freshness_) {
      // A "max " counter: the job keeps the largest task's value.
      if (f.seen) {
        ctx.IncrementCounter(absl::StrCat("max freshness ", f.rule, " epoch seconds"),
                             f.newest);
      }
    }
    if (!map_only_) return;
  } else if (ctx.Kind() != TaskKind::kReduce) {
    return;
  }
  ctx.IncrementCounter("rows passed", passed_);
  ctx.IncrementCounter("rows failed", failed_);
  ctx.IncrementCounter("rule schema failed", rule_failures_[0]);
  for (const std::unique_ptr<RowRule>& rule : rules_) {
    ctx.IncrementCounter(absl::StrCat("rule ", rule->index, " failed"),
                         rule_failures_[static_cast<size_t>(rule->index) + 1]);
  }
}

}  // namespace pipeline
}  // namespace mr
