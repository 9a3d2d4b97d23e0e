#include "apps/join.h"

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mr {
namespace apps {

using internal::JoinColumn;
using internal::JoinPlan;
using internal::JoinRenderer;
using internal::JoinRow;

namespace {

constexpr char kNullKeyRows[] = "join null-key rows";
constexpr char kSaltedRows[] = "join salted rows";
constexpr char kReplicatedRows[] = "join replicated rows";

constexpr const char* kSideNames[2] = {"left", "right"};

std::string_view View(const std::string& s) { return s; }

// Debian's Abseil has its own string_view.
absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }

void AppendBigEndian64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

// Sets *index to the position of params[name] among `choices` (0, the
// default, when it is not given); returns the refusal when it is none of
// them: "join: NAME must be A, B or C, got 'V'".
std::string ParseChoice(const std::map<std::string, std::string>& params,
                        const char* name,
                        std::initializer_list<const char*> choices,
                        int* index) {
  *index = 0;
  auto it = params.find(name);
  if (it == params.end()) return {};
  std::string list;
  int i = 0;
  for (const char* choice : choices) {
    if (it->second == choice) {
      *index = i;
      return {};
    }
    if (i > 0) list += i + 1 == static_cast<int>(choices.size()) ? " or " : ", ";
    list += choice;
    ++i;
  }
  return absl::StrCat("join: ", name, " must be ", list, ", got '", it->second,
                      "'");
}

}  // namespace

Join::Join() = default;
Join::~Join() = default;

std::string Join::ParseKeys(const std::map<std::string, std::string>& params) {
  auto get = [&](const char* name) -> const std::string* {
    auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  };
  const std::string* keys = get("keys");
  const std::string* left_keys = get("left_keys");
  const std::string* right_keys = get("right_keys");
  if ((keys == nullptr) == (left_keys == nullptr || right_keys == nullptr) ||
      (keys != nullptr && (left_keys != nullptr || right_keys != nullptr))) {
    return "join needs --param keys=COL[,COL...] (or left_keys=... and "
           "right_keys=...)";
  }
  std::string error;
  for (int side = 0; side < 2; ++side) {
    const char* name =
        keys != nullptr ? "keys" : (side == 0 ? "left_keys" : "right_keys");
    if (!internal::ParseJoinKeySpecs(*get(name), &keys_[side], &error)) {
      return absl::StrCat("join: ", name, " has ", error);
    }
  }
  if (keys_[0].size() != keys_[1].size()) {
    return absl::StrCat("join: left_keys names ", keys_[0].size(),
                        " columns and right_keys ", keys_[1].size(),
                        "; they must name as many");
  }
  return {};
}

std::string Join::Setup(const std::map<std::string, std::string>& params) {
  for (const auto& [name, value] : params) {
    if (name != "keys" && name != "left_keys" && name != "right_keys" &&
        name != "type" && name != "output" && name != "side" &&
        name != "missing" && name != "skew") {
      return absl::StrCat("join: unknown parameter '", name, "'");
    }
  }
  if (std::string refusal = ParseKeys(params); !refusal.empty()) {
    return refusal;
  }
  int type, output, missing, skew;
  for (std::string refusal :
       {ParseChoice(params, "type", {"inner", "left", "full"}, &type),
        ParseChoice(params, "output", {"csv", "jsonl"}, &output),
        ParseChoice(params, "missing", {"fail", "null"}, &missing),
        ParseChoice(params, "skew", {"on", "off"}, &skew)}) {
    if (!refusal.empty()) return refusal;
  }
  type_ = static_cast<Type>(type);
  jsonl_output_ = output == 1;
  missing_is_null_ = missing == 1;
  skew_ = skew == 0;
  side_name_.clear();
  if (auto it = params.find("side"); it != params.end()) {
    if (it->second.empty()) return "join: side needs a file name";
    side_name_ = it->second;
    if (type_ == Type::kFull) {
      return "join: a broadcast join (side=FILE) is inner or left, got "
             "type=full";
    }
  }
  std::vector<std::string> key_names;
  for (const internal::JoinKeySpec& spec : keys_[0]) {
    key_names.push_back(spec.name);
  }
  renderer_ = std::make_unique<JoinRenderer>(
      jsonl_output_ ? JoinRenderer::Format::kJsonl : JoinRenderer::Format::kCsv,
      std::move(key_names));
  return {};
}

JobTraits Join::Traits() const {
  JobTraits t;
  if (side_name_.empty()) {
    t.plans = true;
  } else {
    t.map_only = true;
  }
  return t;
}

uint32_t Join::Partition(std::string_view key, uint32_t num_partitions) {
  return internal::JoinPartition(key, num_partitions);
}

std::string Join::Plan(const Sample& sample, uint32_t num_partitions) {
  if (!skew_) {
    JoinPlan plan;  // no hot keys
    plan.set_num_partitions(num_partitions);
    return plan.Encode();
  }
  return JoinPlan::FromSample(sample, num_partitions).Encode();
}

std::string Join::LoadPlan(std::string_view plan) {
  if (!JoinPlan::Decode(plan, &plan_)) return "join: the plan does not decode";
  if (plan_.num_partitions() == 0) {
    return "join: a reduce-side join needs reduces; a map-only join is a "
           "broadcast join: side=FILE";
  }
  return {};
}

void Join::Fail(Context& ctx, std::string_view message) {
  if (!failed_) ctx.Fail(message);
  failed_ = true;
}

bool Join::ReadRecord(const InputRecord& record, uint8_t side, Context& ctx) {
  reader_.Read(record, &columns_);
  const std::vector<internal::JoinKeySpec>& specs = keys_[side];
  const internal::JoinKeySpec* missing = nullptr;
  while (!internal::FindKeyColumns(columns_, specs, &key_positions_,
                                   &missing)) {
    if (!missing_is_null_) {
      Fail(ctx, absl::StrCat("join: no column '", missing->name, "' in the ",
                             kSideNames[side], " input's record at ",
                             AV(record.file), ":", record.offset));
      return false;
    }
    // A stand-in null column: the row keeps a (null) value for the key.
    JoinColumn stand_in;
    stand_in.name = missing->positional ? std::string_view() : missing->name;
    stand_in.kind = JoinColumn::kNull;
    if (missing->positional) {
      // Pad up to the position, so that #N finds it.
      while (columns_.size() < missing->position) {
        columns_.push_back({{}, JoinColumn::kNull, {}});
      }
    }
    columns_.push_back(stand_in);
  }
  return true;
}

bool Join::KeyIsNull() const {
  for (size_t p : key_positions_) {
    if (internal::IsNullKeyValue(columns_[p])) return true;
  }
  return false;
}

void Join::BuildKey() {
  key_.clear();
  key_.push_back(internal::kJoinRowKey);
  for (size_t p : key_positions_) {
    internal::AppendKeyComponent(columns_[p].text, &key_);
  }
}

void Join::NoteFirstRow(uint8_t side, const InputRecord& record) {
  if (have_first_[side] &&
      (record.file > View(first_file_[side]) ||
       (record.file == first_file_[side] &&
        record.offset >= first_offset_[side]))) {
    return;
  }
  have_first_[side] = true;
  first_file_[side].assign(record.file.data(), record.file.size());
  first_offset_[side] = record.offset;
  first_row_[side] = value_;
}

void Join::Map(const InputRecord& record, Context& ctx) {
  in_map_ = true;
  if (failed_) return;
  if (record.fields == nullptr) {
    Fail(ctx, absl::StrCat("join reads CSV or JSON Lines input "
                           "(--input-format csv:header, csv or jsonl); ",
                           AV(record.file), " is neither"));
    return;
  }
  if (!side_name_.empty()) {
    MapBroadcast(record, ctx);
    return;
  }
  if (record.input_index > 1) {
    Fail(ctx, absl::StrCat("join takes two inputs (--input LEFT RIGHT), or "
                           "one and side=FILE; got a record of input ",
                           record.input_index + 1, ": ", AV(record.file)));
    return;
  }
  const uint8_t side = static_cast<uint8_t>(record.input_index);
  if (!ReadRecord(record, side, ctx)) return;
  value_.clear();
  internal::EncodeJoinRow(side, record.file, record.offset, columns_,
                          key_positions_, jsonl_output_, &value_);
  NoteFirstRow(side, record);

  if (KeyIsNull()) {
    ctx.IncrementCounter(kNullKeyRows, 1);
    const bool kept = type_ == Type::kFull || (side == 0 && type_ == Type::kLeft);
    if (!kept) return;
    key_.clear();
    key_.push_back(internal::kJoinNullKey);
    key_.push_back(static_cast<char>(side));
    key_.append(record.file.data(), record.file.size());
    key_.push_back('\0');
    AppendBigEndian64(record.offset, &key_);
    ctx.Emit(key_, value_);
    return;
  }
  BuildKey();
  const JoinPlan::HotKey* hot = plan_.Find(key_);
  if (hot == nullptr) {
    ctx.Emit(key_, value_);
    return;
  }
  const size_t base = key_.size();
  if (side == hot->salted_side) {
    // Round-robin; maps start at different salts, so small maps spread too.
    auto [it, inserted] =
        next_salt_.try_emplace(hot, ctx.TaskIndex() % hot->salts);
    internal::AppendSalt(it->second, &key_);
    it->second = (it->second + 1) % hot->salts;
    ctx.Emit(key_, value_);
    ctx.IncrementCounter(kSaltedRows, 1);
    return;
  }
  for (uint32_t salt = 0; salt < hot->salts; ++salt) {
    key_.resize(base);
    internal::AppendSalt(salt, &key_);
    ctx.Emit(key_, value_);
  }
  ctx.IncrementCounter(kReplicatedRows, hot->salts - 1);
}

bool Join::LoadSideTable(Context& ctx) {
  if (side_table_ != nullptr) return true;
  const std::string path = ctx.FilePath(side_name_);
  if (path.empty()) {
    Fail(ctx, absl::StrCat("join: no side file '", side_name_,
                           "' (ship it with mrctl submit --file PATH)"));
    return false;
  }
  auto table = std::make_unique<internal::JoinSideTable>();
  absl::Status s = table->Load(path, side_name_, keys_[1], missing_is_null_,
                               jsonl_output_);
  if (!s.ok()) {
    Fail(ctx, std::string_view(s.message().data(), s.message().size()));
    return false;
  }
  if (table->schema() != nullptr) renderer_->SetSchema(*table->schema());
  side_table_ = std::move(table);
  return true;
}

void Join::MapBroadcast(const InputRecord& record, Context& ctx) {
  if (!LoadSideTable(ctx) || !ReadRecord(record, 0, ctx)) return;
  value_.clear();
  internal::EncodeJoinRow(0, record.file, record.offset, columns_,
                          key_positions_, jsonl_output_, &value_);
  if (!internal::DecodeJoinRow(value_, &row_)) {
    Fail(ctx, "join: a row does not decode");
    return;
  }
  const std::vector<JoinRow>* matches = nullptr;
  if (KeyIsNull()) {
    ctx.IncrementCounter(kNullKeyRows, 1);
  } else {
    BuildKey();
    matches = side_table_->Find(key_);
  }
  if (matches != nullptr) {
    for (const JoinRow& right : *matches) EmitRow(&row_, &right, ctx);
  } else if (type_ == Type::kLeft) {
    EmitRow(&row_, nullptr, ctx);
  }
}

void Join::Finish(Context& ctx) {
  if (!in_map_ || failed_ || !side_name_.empty()) return;
  for (uint8_t side = 0; side < 2; ++side) {
    if (!have_first_[side]) continue;
    for (uint32_t p = 0; p < plan_.num_partitions(); ++p) {
      ctx.Emit(internal::JoinSchemaKey(side, p), first_row_[side]);
    }
  }
}

void Join::AddSchemaRow(std::string_view value) {
  JoinRow row;
  if (!internal::DecodeJoinRow(value, &row)) return;
  const uint8_t side = row.side;
  if (have_schema_[side] && !JoinRow::InputOrder(row, schema_[side])) return;
  schema_bytes_[side].assign(value.data(), value.size());
  internal::DecodeJoinRow(schema_bytes_[side], &schema_[side]);
  have_schema_[side] = true;
  renderer_->SetSchema(schema_[side]);
}

void Join::EmitRow(const JoinRow* left, const JoinRow* right, Context& ctx) {
  renderer_->Render(left, right, &line_);
  ctx.Emit(line_, {});
}

void Join::JoinGroup(const std::vector<const JoinRow*>& left,
                     const std::vector<const JoinRow*>& right, int salted_side,
                     Context& ctx) {
  // A salted key's spread side has rows somewhere (the sample saw them), so
  // the replicated side's rows are matched, in the salts that got some:
  // a salt without any emits nothing.
  if (salted_side >= 0 && (salted_side == 0 ? left : right).empty()) return;
  if (!left.empty() && !right.empty()) {
    for (const JoinRow* l : left) {
      for (const JoinRow* r : right) EmitRow(l, r, ctx);
    }
  } else if (!left.empty()) {
    if (type_ == Type::kInner) return;
    for (const JoinRow* l : left) EmitRow(l, nullptr, ctx);
  } else if (type_ == Type::kFull) {
    for (const JoinRow* r : right) EmitRow(nullptr, r, ctx);
  }
}

void Join::Reduce(std::string_view key, ValueIterator& values, Context& ctx) {
  in_map_ = false;
  if (failed_ || key.empty()) return;
  std::string_view value;
  if (key[0] == internal::kJoinSchemaKey) {
    while (values.Next(&value)) AddSchemaRow(value);
    return;
  }
  arena_.clear();
  extents_.clear();
  while (values.Next(&value)) {
    extents_.emplace_back(arena_.size(), value.size());
    arena_.append(value.data(), value.size());
  }
  if (pool_.size() < extents_.size()) pool_.resize(extents_.size());
  sides_[0].clear();
  sides_[1].clear();
  for (size_t i = 0; i < extents_.size(); ++i) {
    const std::string_view bytes =
        std::string_view(arena_).substr(extents_[i].first, extents_[i].second);
    if (!internal::DecodeJoinRow(bytes, &pool_[i])) {
      Fail(ctx, "join: a shuffled row does not decode");
      return;
    }
    sides_[pool_[i].side].push_back(&pool_[i]);
  }
  for (auto& rows : sides_) {
    std::sort(rows.begin(), rows.end(), [](const JoinRow* a, const JoinRow* b) {
      return JoinRow::InputOrder(*a, *b);
    });
  }
  int salted_side = -1;
  std::string_view base;
  uint32_t salt;
  if (key[0] == internal::kJoinRowKey &&
      internal::SplitSalt(key, &base, &salt)) {
    if (const JoinPlan::HotKey* hot = plan_.Find(base)) {
      salted_side = hot->salted_side;
    }
  }
  // Null-key rows (0x02 keys) are one unmatched row each.
  JoinGroup(sides_[0], sides_[1], salted_side, ctx);
}

}  // namespace apps
}  // namespace mr
