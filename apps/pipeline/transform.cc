#include "apps/pipeline/transform.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "apps/pipeline/internal/decimal.h"
#include "apps/pipeline/internal/transform_row.h"
#include "apps/pipeline/rows.h"
#include "common/names.h"

namespace mr {
namespace pipeline {
namespace {

using internal::AppendKeyField;
using internal::CompareValues;
using internal::Datum;
using internal::DecodeKey;
using internal::DecodeRow;
using internal::Describe;
using internal::EncodeRow;
using internal::FormatDouble;
using internal::GetDatum;
using internal::GetVarint;
using internal::int128;
using internal::IsNumericDatum;
using internal::Kind;
using internal::kMaxDecimalDigits;
using internal::Origin;
using internal::PutDatum;
using internal::PutVarint;
using internal::Row;
using internal::RowReader;
using internal::Sum;
using uint128 = unsigned __int128;

// The map flushes its partial aggregates when it holds this many groups.
constexpr size_t kMaxMapGroups = 100000;

// ---------------------------------------------------------------------------
// Partial aggregates

void PutSum(const Sum& s, std::string* out) {
  out->push_back(static_cast<char>((s.any ? 1 : 0) | (s.exact ? 2 : 0)));
  if (s.exact) {
    PutVarint(static_cast<uint64_t>(s.dec.scale), out);
    const uint128 u = static_cast<uint128>(s.dec.unscaled);
    for (int i = 0; i < 16; ++i) out->push_back(static_cast<char>(u >> (8 * i)));
  } else {
    uint64_t bits = 0;
    std::memcpy(&bits, &s.approx, sizeof(bits));
    PutVarint(bits, out);
  }
}

bool GetSum(std::string_view* in, Sum* s) {
  if (in->empty()) return false;
  const uint8_t flags = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  s->any = flags & 1;
  s->exact = flags & 2;
  if (s->exact) {
    uint64_t scale = 0;
    if (!GetVarint(in, &scale) || scale > kMaxDecimalDigits || in->size() < 16) return false;
    uint128 u = 0;
    for (int i = 15; i >= 0; --i) u = (u << 8) | static_cast<uint8_t>((*in)[i]);
    in->remove_prefix(16);
    s->dec.unscaled = static_cast<int128>(u);
    s->dec.scale = static_cast<int>(scale);
    return true;
  }
  uint64_t bits = 0;
  if (!GetVarint(in, &bits)) return false;
  std::memcpy(&s->approx, &bits, sizeof(bits));
  return true;
}

struct AggState {
  int64_t rows = 0;
  std::vector<Sum> sums;
  std::vector<Datum> mins, maxs;  // null: none seen yet
  std::vector<Sum> avg_sums;
  std::vector<int64_t> avg_counts;

  void Init(const PipelineStep::Transform::Aggregate& a) {
    rows = 0;
    sums.assign(a.sum.size(), Sum());
    mins.assign(a.min.size(), Datum());
    maxs.assign(a.max.size(), Datum());
    avg_sums.assign(a.avg.size(), Sum());
    avg_counts.assign(a.avg.size(), 0);
  }
  void Encode(std::string* out) const {
    PutVarint(static_cast<uint64_t>(rows), out);
    for (const Sum& s : sums) PutSum(s, out);
    for (const Datum& v : mins) PutDatum(v, out);
    for (const Datum& v : maxs) PutDatum(v, out);
    for (size_t i = 0; i < avg_sums.size(); ++i) {
      PutSum(avg_sums[i], out);
      PutVarint(static_cast<uint64_t>(avg_counts[i]), out);
    }
  }
  // REQUIRES: Init() with the same aggregate.
  bool Decode(std::string_view in) {
    uint64_t n = 0;
    if (!GetVarint(&in, &n)) return false;
    rows = static_cast<int64_t>(n);
    for (Sum& s : sums) {
      if (!GetSum(&in, &s)) return false;
    }
    for (Datum& v : mins) {
      if (!GetDatum(&in, &v)) return false;
    }
    for (Datum& v : maxs) {
      if (!GetDatum(&in, &v)) return false;
    }
    for (size_t i = 0; i < avg_sums.size(); ++i) {
      if (!GetSum(&in, &avg_sums[i]) || !GetVarint(&in, &n)) return false;
      avg_counts[i] = static_cast<int64_t>(n);
    }
    return in.empty();
  }
};

// Keeps in *extreme the least (or greatest) of the non-null values offered;
// false when `v` does not compare with it.
bool Offer(const Datum& v, bool want_max, Datum* extreme) {
  if (v.kind == Kind::kNull) return true;
  if (extreme->kind == Kind::kNull) {
    *extreme = v;
    return true;
  }
  int c = 0;
  if (!CompareValues(v, *extreme, &c)) return false;
  if (want_max ? c > 0 : c < 0) *extreme = v;
  return true;
}

// ---------------------------------------------------------------------------
// What a step's rows go through, in the order of pipeline_spec.h.

enum Op { kJoin, kFilter, kCast, kDedupe, kAggregate, kRename, kSelect, kNumOps };

const PipelineStep* FindStep(const PipelineSpec& spec, const std::string& name) {
  for (const PipelineStep& s : spec.steps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// The columns of step `name`'s output when the pipeline tells them: a
// validate step's schema, a transform's from its inputs' or its own
// aggregate or select.
std::optional<std::vector<std::string>> KnownColumns(const PipelineSpec& spec,
                                                     const std::string& name) {
  const PipelineStep* step = FindStep(spec, name);
  if (step == nullptr) return std::nullopt;
  if (step->kind == PipelineStep::Kind::kValidate) {
    // pipeline_validate writes the schema's columns, then the partition
    // column (validate.h).
    std::vector<std::string> columns;
    for (const auto& [column, type] : step->schema) columns.push_back(column);
    if (std::find(columns.begin(), columns.end(), spec.partition_column) == columns.end()) {
      columns.push_back(spec.partition_column);
    }
    return columns;
  }
  if (step->kind != PipelineStep::Kind::kTransform) return std::nullopt;
  const PipelineStep::Transform& t = step->transform;
  if (!t.select.empty()) return t.select;
  std::optional<std::vector<std::string>> columns;
  if (t.aggregate) {
    columns = AggregateColumns(*t.aggregate);
  } else if (t.join) {
    std::optional<std::vector<std::string>> left = KnownColumns(spec, t.join->left);
    std::optional<std::vector<std::string>> right = KnownColumns(spec, t.join->right);
    if (!left || !right) return std::nullopt;
    columns = *left;
    for (const std::string& c : *right) {
      if (std::find(columns->begin(), columns->end(), c) == columns->end()) {
        columns->push_back(c);
      }
    }
  } else {
    columns = KnownColumns(spec, t.input);
  }
  if (!columns) return std::nullopt;
  for (std::string& c : *columns) {
    for (const auto& [from, to] : t.rename) {
      if (c == from) {
        c = to;
        break;
      }
    }
  }
  return columns;
}

}  // namespace

std::vector<std::string> TransformPhases(const PipelineStep::Transform& t) {
  std::vector<std::string> phases;
  if (t.join) phases.push_back("join");
  if (t.dedupe) phases.push_back("dedupe");
  if (t.aggregate) phases.push_back("aggregate");
  if (phases.empty()) phases.push_back("rows");
  return phases;
}

class PipelineTransform::Impl {
 public:
  std::string Setup(const std::map<std::string, std::string>& params);
  JobTraits Traits() const {
    JobTraits traits;
    traits.map_only = shuffle_ == kNumOps;
    return traits;
  }
  void Map(const InputRecord& record, Context& ctx);
  void Reduce(std::string_view key, ValueIterator& values, Context& ctx);
  void Finish(Context& ctx);
  bool HasCombiner() const { return shuffle_ == kDedupe || shuffle_ == kAggregate; }
  void Combine(std::string_view key, ValueIterator& values, Context& ctx);
  std::string_view GroupKey(std::string_view key) const {
    return shuffle_ == kJoin && !key.empty() ? key.substr(0, key.size() - 1) : key;
  }

 private:
  enum class Verdict { kKeep, kDrop, kFail };

  void Fail(Context& ctx, const Origin& origin, absl::string_view what);
  // The value of column `name`; the run's date for a missing partition
  // column; null when the row has no such column.
  const Datum* Get(const Row& row, std::string_view name) const;
  // The index of column `name`, adding the partition column when missing;
  // -1 when the row has no such column.
  int Materialize(Row* row, std::string_view name) const;

  Verdict ApplyRowOps(int from, int to, Row* row, const Origin& origin, Context& ctx);
  bool Filter(const Row& row, const Origin& origin, Context& ctx, bool* pass);
  bool Cast(Row* row, const Origin& origin, Context& ctx);
  bool Rename(Row* row, const Origin& origin, Context& ctx);
  bool Select(Row* row, const Origin& origin, Context& ctx);
  // Applies the reduce's row operations to *row and writes it.
  void Finalize(Row* row, const Origin& origin, Context& ctx);
  void EmitRow(const Row& row, Context& ctx);

  void MapJoin(uint32_t input_index, const Origin& origin, Context& ctx);
  void MapDedupe(const Origin& origin, Context& ctx);
  void MapAggregate(const Origin& origin, Context& ctx);
  bool Accumulate(const Row& row, const Origin& origin, Context& ctx, AggState* s);
  void FlushGroups(Context& ctx);
  void ReduceJoin(ValueIterator& values, Context& ctx);
  // Leaves the key's latest row in row_, its encoding in best_value_ and
  // its origin in best_file_, best_offset_; false when there is none.
  bool PickLatest(ValueIterator& values, Context& ctx);
  bool MergeStates(ValueIterator& values, Context& ctx);

  // Constant after Setup().
  std::string step_name_;
  std::string partition_column_;
  Datum dt_value_;  // the run's date, as a string
  PipelineStep::Transform t_;
  absl::TimeZone tz_;
  std::vector<ColumnType> cast_types_;  // parallel to t_.cast
  std::vector<Datum> literals_;         // parallel to t_.filter
  std::optional<std::vector<std::string>> right_columns_;
  uint32_t left_inputs_ = 1;
  int shuffle_ = kNumOps;    // the operation of this job's shuffle; none: map-only
  int map_to_ = 0;            // the map's row operations: [0, map_to_)
  int reduce_to_ = kNumOps;  // the reduce's: (shuffle_, reduce_to_)

  // Working state, reused from record to record.
  bool failed_ = false;
  RowReader reader_;
  Row row_, other_, scratch_;
  std::vector<Row> rights_;
  std::vector<int> indexes_;
  std::vector<Datum> key_values_;
  std::string key_, value_, out_, best_value_, best_file_;
  uint64_t best_offset_ = 0;
  Value parsed_;  // a cast's, from ParseValue() (rows.h)
  AggState state_, partial_;
  absl::flat_hash_map<std::string, AggState> groups_;
  int64_t rows_read_ = 0, rows_dropped_ = 0, rows_written_ = 0;
};

std::string PipelineTransform::Impl::Setup(
    const std::map<std::string, std::string>& params) {
  auto param = [&](const char* name) {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  };
  const std::string yaml = param("pipeline");
  if (yaml.empty()) return "pipeline_transform: missing the parameter 'pipeline' (its YAML)";
  std::string file = param("pipeline_file");
  if (file.empty()) file = "pipeline";
  absl::StatusOr<PipelineSpec> spec = ParsePipeline(yaml, file);
  if (!spec.ok()) return std::string(spec.status().message());
  step_name_ = param("step");
  const PipelineStep* step = FindStep(*spec, step_name_);
  if (step == nullptr) {
    return absl::StrCat("pipeline_transform: pipeline '", spec->name,
                        "' has no step '", EscapeName(step_name_), "'");
  }
  if (step->kind != PipelineStep::Kind::kTransform) {
    return absl::StrCat("pipeline_transform: step '", step_name_, "' is ",
                        step->kind == PipelineStep::Kind::kExtract ? "an " : "a ",
                        StepKindName(step->kind), " step, not a transform");
  }
  t_ = step->transform;
  const std::string dt = param("dt");
  if (dt.empty()) return "pipeline_transform: missing the parameter 'dt' (the run's date)";
  partition_column_ = spec->partition_column;
  dt_value_ = {Kind::kString, dt};
  if (!absl::LoadTimeZone(spec->timezone, &tz_)) {
    return absl::StrCat("pipeline_transform: unknown timezone '", spec->timezone, "'");
  }
  for (const auto& [column, type] : t_.cast) {
    absl::StatusOr<ColumnType> parsed = ParseColumnType(type);
    if (!parsed.ok()) return std::string(parsed.status().message());
    cast_types_.push_back(*parsed);
  }
  using Cmp = PipelineStep::Transform::Comparison;
  for (const Cmp& c : t_.filter) {
    const Kind kind = c.literal == Cmp::Literal::kNumber   ? Kind::kNumber
                      : c.literal == Cmp::Literal::kString ? Kind::kString
                      : c.literal == Cmp::Literal::kBool   ? Kind::kBool
                                                           : Kind::kNull;
    literals_.push_back({kind, c.value});
  }
  if (t_.join) {
    right_columns_ = KnownColumns(*spec, t_.join->right);
    const std::string left = param("left_inputs");
    if (!left.empty() && (!absl::SimpleAtoi(left, &left_inputs_) || left_inputs_ == 0)) {
      return absl::StrCat("pipeline_transform: left_inputs must be a positive "
                          "number, not '", EscapeName(left), "'");
    }
  }

  const std::string phase = param("phase");
  const std::vector<std::string> phases = TransformPhases(t_);
  const auto at = std::find(phases.begin(), phases.end(), phase);
  if (at == phases.end()) {
    return absl::StrCat("pipeline_transform: step '", step_name_, "' has no phase '",
                        EscapeName(phase), "' (its phases: ",
                        absl::StrJoin(phases, ", "), ")");
  }
  std::vector<int> shuffles;  // parallel to phases, unless "rows"
  if (t_.join) shuffles.push_back(kJoin);
  if (t_.dedupe) shuffles.push_back(kDedupe);
  if (t_.aggregate) shuffles.push_back(kAggregate);
  const size_t index = static_cast<size_t>(at - phases.begin());
  if (shuffles.empty()) {
    shuffle_ = kNumOps;
    map_to_ = kNumOps;
  } else {
    shuffle_ = shuffles[index];
    // The first job's map runs what comes before its shuffle; a later
    // job's map reads rows the previous reduce has carried that far.
    map_to_ = index == 0 ? shuffle_ : 0;
    reduce_to_ = index + 1 < shuffles.size() ? shuffles[index + 1] : kNumOps;
  }
  if (t_.aggregate) {
    state_.Init(*t_.aggregate);
    partial_.Init(*t_.aggregate);
  }
  return {};
}

void PipelineTransform::Impl::Fail(Context& ctx, const Origin& origin,
                                   absl::string_view what) {
  failed_ = true;
  ctx.Fail(absl::StrCat(
      "pipeline step '", step_name_, "': ", what, " (",
      origin.file.empty() ? std::string("in the reduce")
                          : absl::StrCat(EscapeName(origin.file), " at offset ",
                                         origin.offset),
      ")"));
}

const Datum* PipelineTransform::Impl::Get(const Row& row, std::string_view name) const {
  const int i = row.Find(name);
  if (i >= 0) return &row.at(static_cast<size_t>(i)).value;
  return name == partition_column_ ? &dt_value_ : nullptr;
}

int PipelineTransform::Impl::Materialize(Row* row, std::string_view name) const {
  const int i = row->Find(name);
  if (i >= 0 || name != partition_column_) return i;
  row->Add(name).value = dt_value_;
  return static_cast<int>(row->size()) - 1;
}

PipelineTransform::Impl::Verdict PipelineTransform::Impl::ApplyRowOps(
    int from, int to, Row* row, const Origin& origin, Context& ctx) {
  for (int op = from; op < to; ++op) {
    bool ok = true;
    switch (op) {
      case kFilter: {
        bool pass = true;
        ok = Filter(*row, origin, ctx, &pass);
        if (ok && !pass) {
          ++rows_dropped_;
          return Verdict::kDrop;
        }
        break;
      }
      case kCast: ok = Cast(row, origin, ctx); break;
      case kRename: ok = t_.rename.empty() || Rename(row, origin, ctx); break;
      case kSelect: ok = t_.select.empty() || Select(row, origin, ctx); break;
      default: break;  // a shuffle's operation
    }
    if (!ok) return Verdict::kFail;
  }
  return Verdict::kKeep;
}

bool PipelineTransform::Impl::Filter(const Row& row, const Origin& origin,
                                     Context& ctx, bool* pass) {
  using Cmp = PipelineStep::Transform::Comparison;
  *pass = false;
  for (size_t i = 0; i < t_.filter.size(); ++i) {
    const Cmp& c = t_.filter[i];
    const Datum* v = Get(row, c.column);
    if (v == nullptr) {
      Fail(ctx, origin, absl::StrCat("filter '", c.text, "': the row has no column '",
                                     c.column, "'"));
      return false;
    }
    bool result = false;
    if (c.literal == Cmp::Literal::kNull) {
      result = (v->kind == Kind::kNull) == (c.op == Cmp::Op::kEq);
    } else if (v->kind != Kind::kNull) {
      int cmp = 0;
      if (!CompareValues(*v, literals_[i], &cmp)) {
        Fail(ctx, origin, absl::StrCat("filter '", c.text, "': column '", c.column,
                                       "' holds ", Describe(*v),
                                       ", which does not compare with ",
                                       Describe(literals_[i])));
        return false;
      }
      switch (c.op) {
        case Cmp::Op::kEq: result = cmp == 0; break;
        case Cmp::Op::kNe: result = cmp != 0; break;
        case Cmp::Op::kLt: result = cmp < 0; break;
        case Cmp::Op::kLe: result = cmp <= 0; break;
        case Cmp::Op::kGt: result = cmp > 0; break;
        case Cmp::Op::kGe: result = cmp >= 0; break;
      }
    }
    if (!result) return true;
  }
  *pass = true;
  return true;
}

bool PipelineTransform::Impl::Cast(Row* row, const Origin& origin, Context& ctx) {
  for (size_t i = 0; i < t_.cast.size(); ++i) {
    const std::string& column = t_.cast[i].first;
    const ColumnType& type = cast_types_[i];
    const int at = Materialize(row, column);
    if (at < 0) {
      Fail(ctx, origin, absl::StrCat("cast: the row has no column '", column, "'"));
      return false;
    }
    Datum& v = row->at(static_cast<size_t>(at)).value;
    if (v.kind == Kind::kNull) continue;
    if (type.kind == ColumnKind::kString) {
      v.kind = Kind::kString;
      continue;
    }
    if (v.kind == Kind::kJson) {
      Fail(ctx, origin, absl::StrCat("cast: column '", column, "' holds ",
                                     Describe(v), ", not a ", type.name));
      return false;
    }
    const absl::Status s = ParseValue(column, type, v.text, tz_, &parsed_);
    if (!s.ok()) {
      Fail(ctx, origin, absl::StrCat("cast: ", s.message()));
      return false;
    }
    if (parsed_.null) {
      v.kind = Kind::kNull;
      v.text.clear();
      continue;
    }
    v.kind = IsNumeric(type.kind)             ? Kind::kNumber
             : type.kind == ColumnKind::kBool ? Kind::kBool
                                              : Kind::kString;
    v.text = parsed_.text;
  }
  return true;
}

bool PipelineTransform::Impl::Rename(Row* row, const Origin& origin, Context& ctx) {
  // Every source first: the renames apply at once.
  indexes_.clear();
  for (const auto& [from, to] : t_.rename) {
    const int at = Materialize(row, from);
    if (at < 0) {
      Fail(ctx, origin, absl::StrCat("rename: the row has no column '", from, "'"));
      return false;
    }
    indexes_.push_back(at);
  }
  for (size_t i = 0; i < indexes_.size(); ++i) {
    row->at(static_cast<size_t>(indexes_[i])).name = t_.rename[i].second;
  }
  for (size_t i = 0; i < indexes_.size(); ++i) {
    const std::string& to = t_.rename[i].second;
    for (size_t j = 0; j < row->size(); ++j) {
      if (static_cast<int>(j) != indexes_[i] && row->at(j).name == to) {
        Fail(ctx, origin, absl::StrCat("rename: the row already has a column '", to,
                                       "' (renaming '", t_.rename[i].first, "')"));
        return false;
      }
    }
  }
  return true;
}

bool PipelineTransform::Impl::Select(Row* row, const Origin& origin, Context& ctx) {
  scratch_.Clear();
  for (const std::string& name : t_.select) {
    const int at = Materialize(row, name);
    if (at < 0) {
      Fail(ctx, origin, absl::StrCat("select: the row has no column '", name, "'"));
      return false;
    }
    std::swap(scratch_.Add(name).value, row->at(static_cast<size_t>(at)).value);
  }
  row->Swap(scratch_);
  return true;
}

void PipelineTransform::Impl::EmitRow(const Row& row, Context& ctx) {
  out_.clear();
  row.AppendJson(&out_);
  ctx.Emit(out_, "");
  ++rows_written_;
}

void PipelineTransform::Impl::Finalize(Row* row, const Origin& origin, Context& ctx) {
  if (ApplyRowOps(shuffle_ + 1, reduce_to_, row, origin, ctx) == Verdict::kKeep) {
    EmitRow(*row, ctx);
  }
}

void PipelineTransform::Impl::Map(const InputRecord& record, Context& ctx) {
  if (failed_) return;
  if (record.line.find_first_not_of(" \t\r") == std::string_view::npos) return;
  const Origin origin{record.file, record.offset};
  std::string error;
  if (!reader_.Read(record, &row_, &error)) {
    Fail(ctx, origin, absl::StrCat("cannot read the row: ", error));
    return;
  }
  ++rows_read_;
  if (shuffle_ == kJoin) {
    MapJoin(record.input_index, origin, ctx);
    return;
  }
  if (ApplyRowOps(0, map_to_, &row_, origin, ctx) != Verdict::kKeep) return;
  switch (shuffle_) {
    case kDedupe: MapDedupe(origin, ctx); break;
    case kAggregate: MapAggregate(origin, ctx); break;
    default: EmitRow(row_, ctx); break;  // map-only
  }
}

void PipelineTransform::Impl::MapJoin(uint32_t input_index, const Origin& origin,
                                      Context& ctx) {
  const bool left = input_index < left_inputs_;
  key_.clear();
  for (const std::string& column : t_.join->on) {
    const Datum* v = Get(row_, column);
    if (v == nullptr) {
      Fail(ctx, origin, absl::StrCat("join: the ", left ? "left" : "right",
                                     " row has no column '", column, "'"));
      return;
    }
    // A null matches nothing: only a left join's left row goes on, alone.
    if (v->kind == Kind::kNull && !(left && t_.join->left_outer)) {
      ++rows_dropped_;
      return;
    }
    AppendKeyField(*v, /*by_value=*/true, &key_);
  }
  // Right rows sort first within a key: the reduce holds them and streams
  // the left ones.
  key_.push_back(left ? '\1' : '\0');
  value_.assign(1, left ? 'L' : 'R');
  EncodeRow(row_, origin, &value_);
  ctx.Emit(key_, value_);
}

void PipelineTransform::Impl::MapDedupe(const Origin& origin, Context& ctx) {
  key_.clear();
  for (const std::string& column : t_.dedupe->key) {
    const Datum* v = Get(row_, column);
    if (v == nullptr) {
      Fail(ctx, origin, absl::StrCat("dedupe: the row has no key column '", column, "'"));
      return;
    }
    AppendKeyField(*v, /*by_value=*/true, &key_);
  }
  if (Get(row_, t_.dedupe->latest_by) == nullptr) {
    Fail(ctx, origin, absl::StrCat("dedupe: the row has no latest_by column '",
                                   t_.dedupe->latest_by, "'"));
    return;
  }
  value_.clear();
  EncodeRow(row_, origin, &value_);
  ctx.Emit(key_, value_);
}

void PipelineTransform::Impl::MapAggregate(const Origin& origin, Context& ctx) {
  key_.clear();
  for (const std::string& column : t_.aggregate->group_by) {
    const Datum* v = Get(row_, column);
    if (v == nullptr) {
      Fail(ctx, origin, absl::StrCat("aggregate: the row has no group_by column '",
                                     column, "'"));
      return;
    }
    AppendKeyField(*v, /*by_value=*/false, &key_);
  }
  auto [it, inserted] = groups_.try_emplace(key_);
  if (inserted) it->second.Init(*t_.aggregate);
  if (!Accumulate(row_, origin, ctx, &it->second)) return;
  if (groups_.size() >= kMaxMapGroups) FlushGroups(ctx);
}

bool PipelineTransform::Impl::Accumulate(const Row& row, const Origin& origin,
                                         Context& ctx, AggState* s) {
  const PipelineStep::Transform::Aggregate& a = *t_.aggregate;
  ++s->rows;
  // The value of `column` for `what`: null, or a number when `number`.
  auto value = [&](const std::string& column, const char* what, bool number,
                   const Datum** v) {
    *v = Get(row, column);
    if (*v == nullptr) {
      Fail(ctx, origin, absl::StrCat("aggregate: ", what, ": the row has no column '",
                                     column, "'"));
      return false;
    }
    if (number && (*v)->kind != Kind::kNull && !IsNumericDatum(**v)) {
      Fail(ctx, origin, absl::StrCat("aggregate: ", what, ": column '", column,
                                     "' holds ", Describe(**v), ", not a number"));
      return false;
    }
    return true;
  };
  const Datum* v = nullptr;
  for (size_t i = 0; i < a.sum.size(); ++i) {
    if (!value(a.sum[i], "sum", true, &v)) return false;
    if (v->kind != Kind::kNull && !s->sums[i].Add(v->text)) {
      Fail(ctx, origin, absl::StrCat("aggregate: the sum of '", a.sum[i],
                                     "' leaves 128 bits (about 38 digits)"));
      return false;
    }
  }
  for (int m = 0; m < 2; ++m) {
    const bool want_max = m == 1;
    const std::vector<std::string>& columns = want_max ? a.max : a.min;
    std::vector<Datum>& extremes = want_max ? s->maxs : s->mins;
    const char* what = want_max ? "max" : "min";
    for (size_t i = 0; i < columns.size(); ++i) {
      if (!value(columns[i], what, false, &v)) return false;
      if (!Offer(*v, want_max, &extremes[i])) {
        Fail(ctx, origin, absl::StrCat("aggregate: ", what, ": column '", columns[i],
                                       "' holds ", Describe(*v),
                                       ", which does not compare with ",
                                       Describe(extremes[i])));
        return false;
      }
    }
  }
  for (size_t i = 0; i < a.avg.size(); ++i) {
    if (!value(a.avg[i], "avg", true, &v)) return false;
    if (v->kind == Kind::kNull) continue;
    if (!s->avg_sums[i].Add(v->text)) {
      Fail(ctx, origin, absl::StrCat("aggregate: the sum of '", a.avg[i],
                                     "' leaves 128 bits (about 38 digits)"));
      return false;
    }
    ++s->avg_counts[i];
  }
  return true;
}

void PipelineTransform::Impl::FlushGroups(Context& ctx) {
  for (const auto& [key, state] : groups_) {
    value_.clear();
    state.Encode(&value_);
    ctx.Emit(key, value_);
  }
  groups_.clear();
}

void PipelineTransform::Impl::Finish(Context& ctx) {
  if (!failed_ && !groups_.empty()) FlushGroups(ctx);
  if (rows_read_ > 0) ctx.IncrementCounter("transform rows read", rows_read_);
  if (rows_dropped_ > 0) ctx.IncrementCounter("transform rows dropped", rows_dropped_);
  if (rows_written_ > 0) ctx.IncrementCounter("transform rows written", rows_written_);
  rows_read_ = rows_dropped_ = rows_written_ = 0;
}

void PipelineTransform::Impl::ReduceJoin(ValueIterator& values, Context& ctx) {
  size_t num_rights = 0;
  bool seen_left = false;
  std::string_view v;
  Origin origin;
  while (values.Next(&v)) {
    if (v.empty() || (v[0] != 'L' && v[0] != 'R')) {
      Fail(ctx, {}, "join: a corrupt shuffle value");
      return;
    }
    const bool left = v[0] == 'L';
    v.remove_prefix(1);
    if (!left) {
      if (seen_left) {
        Fail(ctx, {}, "join: a right row came after the left rows of its key");
        return;
      }
      if (num_rights == rights_.size()) rights_.emplace_back();
      if (!DecodeRow(v, &rights_[num_rights], &origin)) {
        Fail(ctx, {}, "join: a corrupt shuffle value");
        return;
      }
      ++num_rights;
      continue;
    }
    seen_left = true;
    if (!DecodeRow(v, &other_, &origin)) {
      Fail(ctx, {}, "join: a corrupt shuffle value");
      return;
    }
    if (num_rights == 0) {
      if (!t_.join->left_outer) continue;
      row_.CopyFrom(other_);
      if (right_columns_) {
        // Null, but for the partition column: every staged row has the
        // run's date there.
        for (const std::string& c : *right_columns_) {
          if (row_.Find(c) >= 0) continue;
          Datum& v = row_.Add(c).value;
          if (c == partition_column_) v = dt_value_;
        }
      }
      Finalize(&row_, origin, ctx);
      if (failed_) return;
      continue;
    }
    for (size_t r = 0; r < num_rights; ++r) {
      row_.CopyFrom(other_);
      const Row& right = rights_[r];
      for (size_t i = 0; i < right.size(); ++i) {
        if (row_.Find(right.at(i).name) < 0) {
          row_.Add(right.at(i).name).value = right.at(i).value;
        }
      }
      Finalize(&row_, origin, ctx);
      if (failed_) return;
    }
  }
}

bool PipelineTransform::Impl::PickLatest(ValueIterator& values, Context& ctx) {
  const std::string& latest = t_.dedupe->latest_by;
  bool first = true;
  std::string_view v;
  Origin origin;
  while (values.Next(&v)) {
    if (!DecodeRow(v, &other_, &origin)) {
      Fail(ctx, {}, "dedupe: a corrupt shuffle value");
      return false;
    }
    bool better = first;
    if (!first) {
      const Datum* a = Get(other_, latest);
      const Datum* b = Get(row_, latest);
      int c = 0;
      if (a->kind == Kind::kNull || b->kind == Kind::kNull) {
        c = (a->kind != Kind::kNull) - (b->kind != Kind::kNull);
      } else if (!CompareValues(*a, *b, &c)) {
        Fail(ctx, origin, absl::StrCat("dedupe: latest_by column '", latest, "' holds ",
                                       Describe(*a), ", which does not compare with ",
                                       Describe(*b)));
        return false;
      }
      // A tie goes to the greater JSON text: the same winner in any order.
      better = c > 0 || (c == 0 && other_.Json() > row_.Json());
    }
    if (better) {
      row_.Swap(other_);
      best_value_.assign(v.data(), v.size());
      best_file_.assign(origin.file.data(), origin.file.size());
      best_offset_ = origin.offset;
    }
    first = false;
  }
  return !first;
}

bool PipelineTransform::Impl::MergeStates(ValueIterator& values, Context& ctx) {
  state_.Init(*t_.aggregate);
  std::string_view v;
  while (values.Next(&v)) {
    if (!partial_.Decode(v)) {
      Fail(ctx, {}, "aggregate: a corrupt shuffle value");
      return false;
    }
    state_.rows += partial_.rows;
    const PipelineStep::Transform::Aggregate& a = *t_.aggregate;
    for (size_t i = 0; i < a.sum.size(); ++i) {
      if (!state_.sums[i].Merge(partial_.sums[i])) {
        Fail(ctx, {}, absl::StrCat("aggregate: the sum of '", a.sum[i],
                                   "' leaves 128 bits (about 38 digits)"));
        return false;
      }
    }
    for (int m = 0; m < 2; ++m) {
      const bool want_max = m == 1;
      std::vector<Datum>& into = want_max ? state_.maxs : state_.mins;
      const std::vector<Datum>& from = want_max ? partial_.maxs : partial_.mins;
      for (size_t i = 0; i < into.size(); ++i) {
        if (!Offer(from[i], want_max, &into[i])) {
          Fail(ctx, {}, absl::StrCat("aggregate: ", want_max ? "max" : "min",
                                     ": column '", (want_max ? a.max : a.min)[i],
                                     "' holds ", Describe(from[i]),
                                     ", which does not compare with ",
                                     Describe(into[i])));
          return false;
        }
      }
    }
    for (size_t i = 0; i < a.avg.size(); ++i) {
      if (!state_.avg_sums[i].Merge(partial_.avg_sums[i])) {
        Fail(ctx, {}, absl::StrCat("aggregate: the sum of '", a.avg[i],
                                   "' leaves 128 bits (about 38 digits)"));
        return false;
      }
      state_.avg_counts[i] += partial_.avg_counts[i];
    }
  }
  return true;
}

void PipelineTransform::Impl::Combine(std::string_view key, ValueIterator& values,
                                      Context& ctx) {
  if (failed_) return;
  if (shuffle_ == kDedupe) {
    if (PickLatest(values, ctx)) ctx.Emit(key, best_value_);
    return;
  }
  if (!MergeStates(values, ctx)) return;
  value_.clear();
  state_.Encode(&value_);
  ctx.Emit(key, value_);
}

void PipelineTransform::Impl::Reduce(std::string_view key, ValueIterator& values,
                                     Context& ctx) {
  if (failed_) return;
  if (shuffle_ == kJoin) {
    ReduceJoin(values, ctx);
    return;
  }
  if (shuffle_ == kDedupe) {
    if (!PickLatest(values, ctx)) return;
    Finalize(&row_, Origin{best_file_, best_offset_}, ctx);
    return;
  }
  // Aggregate: the group's values from the key, then the aggregates.
  if (!MergeStates(values, ctx)) return;
  const PipelineStep::Transform::Aggregate& a = *t_.aggregate;
  if (!DecodeKey(key, &key_values_) || key_values_.size() != a.group_by.size()) {
    Fail(ctx, {}, "aggregate: a corrupt shuffle key");
    return;
  }
  row_.Clear();
  for (size_t i = 0; i < a.group_by.size(); ++i) {
    row_.Add(a.group_by[i]).value = key_values_[i];
  }
  auto number = [](Datum* v, std::string text) {
    v->kind = Kind::kNumber;
    v->text = std::move(text);
  };
  for (size_t i = 0; i < a.sum.size(); ++i) {
    Datum& v = row_.Add(absl::StrCat("sum_", a.sum[i])).value;
    if (state_.sums[i].any) number(&v, state_.sums[i].Text());
  }
  for (size_t i = 0; i < a.min.size(); ++i) {
    row_.Add(absl::StrCat("min_", a.min[i])).value = state_.mins[i];
  }
  for (size_t i = 0; i < a.max.size(); ++i) {
    row_.Add(absl::StrCat("max_", a.max[i])).value = state_.maxs[i];
  }
  for (size_t i = 0; i < a.avg.size(); ++i) {
    Datum& v = row_.Add(absl::StrCat("avg_", a.avg[i])).value;
    if (state_.avg_counts[i] > 0) {
      number(&v, FormatDouble(state_.avg_sums[i].AsDouble() /
                              static_cast<double>(state_.avg_counts[i])));
    }
  }
  if (!a.count.empty()) number(&row_.Add(a.count).value, absl::StrCat(state_.rows));
  Finalize(&row_, Origin{}, ctx);
}

PipelineTransform::PipelineTransform() : impl_(std::make_unique<Impl>()) {}
PipelineTransform::~PipelineTransform() = default;

std::string PipelineTransform::Setup(const std::map<std::string, std::string>& params) {
  return impl_->Setup(params);
}
JobTraits PipelineTransform::Traits() const { return impl_->Traits(); }
void PipelineTransform::Map(const InputRecord& record, Context& ctx) {
  impl_->Map(record, ctx);
}
void PipelineTransform::Reduce(std::string_view key, ValueIterator& values,
                               Context& ctx) {
  impl_->Reduce(key, values, ctx);
}
void PipelineTransform::Finish(Context& ctx) { impl_->Finish(ctx); }
bool PipelineTransform::HasCombiner() const { return impl_->HasCombiner(); }
void PipelineTransform::Combine(std::string_view key, ValueIterator& values,
                                Context& ctx) {
  impl_->Combine(key, values, ctx);
}
std::string_view PipelineTransform::GroupKey(std::string_view key) const {
  return impl_->GroupKey(key);
}

}  // namespace pipeline
}  // namespace mr
