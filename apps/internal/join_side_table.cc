#include "apps/internal/join_side_table.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/csv.h"
#include "common/file_util.h"

namespace mr {
namespace apps {
namespace internal {

absl::Status JoinSideTable::AddRow(const std::vector<JoinColumn>& columns,
                                   uint64_t offset, uint64_t line,
                                   bool is_schema) {
  std::vector<size_t> positions;
  const JoinKeySpec* missing = nullptr;
  if (!FindKeyColumns(columns, keys_, &positions, &missing)) {
    if (missing_is_null_ && !is_schema) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "join: side file '", name_, "' has no column '", missing->name, "'",
        is_schema ? " in its header" : absl::StrCat(" on line ", line)));
  }
  const size_t begin = arena_.size();
  EncodeJoinRow(1, name_, offset, columns, positions, with_names_, &arena_);
  if (is_schema) {
    schema_begin_ = begin;
    schema_end_ = arena_.size();
    has_schema_ = true;
    return absl::OkStatus();
  }
  std::string key;
  key.push_back('\x01');
  for (size_t p : positions) {
    if (IsNullKeyValue(columns[p])) {
      arena_.resize(begin);
      return absl::OkStatus();
    }
    AppendKeyComponent(columns[p].text, &key);
  }
  pending_.push_back({std::move(key), begin, arena_.size()});
  return absl::OkStatus();
}

absl::Status JoinSideTable::LoadCsv(std::string_view contents) {
  std::vector<std::string> header, fields;
  std::vector<JoinColumn> columns;
  std::string_view rest = contents;
  uint64_t line = 1;
  bool have_header = false;
  while (!rest.empty()) {
    const uint64_t offset = contents.size() - rest.size();
    const size_t length = CsvRecordLength(rest, /*at_eof=*/true);
    std::vector<std::string>* into = have_header ? &fields : &header;
    absl::StatusOr<size_t> n = ParseCsvRecord(rest, true, ',', into);
    if (!n.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("join: side file '", name_, "' line ", line, ": ",
                       n.status().message()));
    }
    const std::string_view record = rest.substr(0, *n);
    for (char c : record) line += (c == '\n');
    rest.remove_prefix(*n > 0 ? *n : length);
    if (into->empty()) continue;  // an empty line
    columns.clear();
    if (!have_header) {
      have_header = true;
      for (const std::string& h : header) {
        columns.push_back({h, JoinColumn::kString, {}});
      }
      absl::Status s = AddRow(columns, offset, line, /*is_schema=*/true);
      if (!s.ok()) return s;
      continue;
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      columns.push_back({i < header.size() ? std::string_view(header[i])
                                           : std::string_view(),
                         JoinColumn::kString, fields[i]});
    }
    absl::Status s = AddRow(columns, offset, line, /*is_schema=*/false);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status JoinSideTable::LoadJsonLines(std::string_view contents) {
  RowReader reader;
  std::vector<JoinColumn> columns;
  uint64_t line = 0;
  size_t pos = 0;
  while (pos < contents.size()) {
    ++line;
    size_t nl = contents.find('\n', pos);
    if (nl == std::string_view::npos) nl = contents.size();
    const std::string_view text = contents.substr(pos, nl - pos);
    const uint64_t offset = pos;
    pos = nl + 1;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (!reader.ReadJsonObject(text, &columns)) {
      return absl::InvalidArgumentError(
          absl::StrCat("join: side file '", name_, "' line ", line,
                       ": not a JSON object"));
    }
    // The first row with every key column shows the side's columns; a row
    // without them is reported (or skipped) just below.
    if (!has_schema_) AddRow(columns, offset, line, true).IgnoreError();
    absl::Status s = AddRow(columns, offset, line, /*is_schema=*/false);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status JoinSideTable::Load(const std::string& path, std::string_view name,
                                 const std::vector<JoinKeySpec>& keys,
                                 bool missing_is_null, bool with_names) {
  name_ = std::string(name);
  keys_ = keys;
  missing_is_null_ = missing_is_null;
  with_names_ = with_names;
  const bool csv = absl::EndsWith(name_, ".csv");
  const bool jsonl =
      absl::EndsWith(name_, ".jsonl") || absl::EndsWith(name_, ".ndjson");
  if (!csv && !jsonl) {
    return absl::InvalidArgumentError(absl::StrCat(
        "join: side file '", name_, "' must end in .csv, .jsonl or .ndjson"));
  }
  absl::StatusOr<std::string> contents = ReadFileToString(path);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(),
                        absl::StrCat("join: cannot read side file '", name_,
                                     "': ", contents.status().message()));
  }
  absl::Status s = csv ? LoadCsv(*contents) : LoadJsonLines(*contents);
  if (!s.ok()) return s;
  // The arena is complete: the rows may point into it now.
  for (const Pending& p : pending_) {
    JoinRow row;
    if (!DecodeJoinRow(
            std::string_view(arena_).substr(p.begin, p.end - p.begin), &row)) {
      return absl::InternalError("join: a side row does not decode");
    }
    rows_[p.key].push_back(std::move(row));
  }
  num_rows_ = pending_.size();
  pending_.clear();
  if (has_schema_ &&
      !DecodeJoinRow(std::string_view(arena_).substr(
                         schema_begin_, schema_end_ - schema_begin_),
                     &schema_)) {
    return absl::InternalError("join: the side schema does not decode");
  }
  return absl::OkStatus();
}

const std::vector<JoinRow>* JoinSideTable::Find(std::string_view key) const {
  auto it = rows_.find(absl::string_view(key.data(), key.size()));
  return it == rows_.end() ? nullptr : &it->second;
}

}  // namespace internal
}  // namespace apps
}  // namespace mr
