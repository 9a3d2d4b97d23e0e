#include "master/pipeline/file_load.h"

#include <unistd.h>

#include <atomic>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/csv.h"
#include "common/file_util.h"
#include "common/pipeline_spec.h"
#include "common/staged_directory.h"
#include "common/status_macros.h"
#include "master/pipeline/postgres_util.h"
#include "master/pipeline/staged_files.h"

namespace mr {
namespace pipeline {
namespace {

constexpr char kMarker[] = "_SUCCESS";

absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }

absl::Status CheckRequest(const FileLoad& load) {
  if (load.mode != "overwrite_partition") {
    return absl::InvalidArgumentError(absl::StrCat(
        "a load into files supports only mode overwrite_partition, not '",
        load.mode, "'"));
  }
  if (load.format != "jsonl" && load.format != "csv") {
    return absl::InvalidArgumentError(absl::StrCat(
        "a load into files writes format jsonl or csv, not '", load.format, "'"));
  }
  const std::string& c = load.partition_column;
  if (c.empty() || c == "." || c == ".." || c.find_first_of(std::string("/=\0", 3)) !=
                                                  std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the partition column '", c, "' cannot name a directory (COLUMN=DATE)"));
  }
  if (!IsIsoDate(load.dt)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the run's date '", load.dt, "' is not a date YYYY-MM-DD"));
  }
  return absl::OkStatus();
}

// Writes rows as CSV under the header of the load's first row.
class CsvRows {
 public:
  // The line of the header, with '\n' (empty before SetHeader()).
  const std::string& header() const { return header_; }

  // Takes the header from the load's first row.
  void SetHeader(const StagedRowReader& row) {
    for (const StagedValue& v : row.values()) {
      position_[AV(v.name)] = static_cast<int>(names_.size());
      names_.emplace_back(v.name);
    }
    for (size_t i = 0; i < names_.size(); ++i) {
      if (i > 0) header_.push_back(',');
      AppendField(names_[i], &header_);
    }
    header_.push_back('\n');
    first_row_ = absl::StrCat(row.path(), ":", row.line_number());
  }

  // Appends the row's record to `out`.
  absl::Status Append(const StagedRowReader& row, std::string* out) {
    const std::vector<StagedValue>& values = row.values();
    slots_.assign(names_.size(), nullptr);
    for (const StagedValue& v : values) {
      auto it = position_.find(AV(v.name));
      if (it == position_.end() || slots_[it->second] != nullptr) {
        return Mismatch(row);
      }
      slots_[it->second] = &v;
    }
    if (values.size() != names_.size()) return Mismatch(row);
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (i > 0) out->push_back(',');
      const StagedValue& v = *slots_[i];
      switch (v.kind) {
        case StagedValue::Kind::kNull:
          break;
        case StagedValue::Kind::kString:
          AppendField(v.text, out);
          break;
        default:
          AppendCsvField(v.text, out);
      }
    }
    out->push_back('\n');
    return absl::OkStatus();
  }

 private:
  // A string field: as AppendCsvField() writes it, except that an empty
  // string is "" (an empty field is null).
  static void AppendField(std::string_view s, std::string* out) {
    if (s.empty()) {
      out->append("\"\"");
    } else {
      AppendCsvField(s, out);
    }
  }

  absl::Status Mismatch(const StagedRowReader& row) const {
    std::vector<std::string> got;
    for (const StagedValue& v : row.values()) got.emplace_back(v.name);
    return absl::InvalidArgumentError(absl::StrCat(
        row.path(), ":", row.line_number(), ": the row's columns (",
        absl::StrJoin(got, ", "), ") are not the CSV header's (",
        absl::StrJoin(names_, ", "), "), which the first row (", first_row_,
        ") set"));
  }

  std::string header_;
  std::vector<std::string> names_;
  absl::flat_hash_map<std::string, int> position_;
  std::string first_row_;
  std::vector<const StagedValue*> slots_;
};

// A row whose partition column holds another date would be filed under the
// wrong one.
absl::Status CheckPartition(const FileLoad& load, const StagedRowReader& row) {
  for (const StagedValue& v : row.values()) {
    if (v.name != load.partition_column || v.kind == StagedValue::Kind::kNull) continue;
    if (v.kind != StagedValue::Kind::kString || v.text != load.dt) {
      return absl::InvalidArgumentError(absl::StrCat(
          row.path(), ":", row.line_number(), ": the row's ", load.partition_column,
          " is ", std::string(v.text), ", not the partition's date ", load.dt));
    }
  }
  return absl::OkStatus();
}

// The CSV header comes from the load's first row, wherever it is: every
// file then starts with it.
absl::Status ReadCsvHeader(const FileLoad& load, CsvRows* csv) {
  StagedRowReader rows;
  for (const std::string& file : load.files) {
    RETURN_IF_ERROR(rows.Open(file));
    ASSIGN_OR_RETURN(const bool found, rows.Next());
    if (found) {
      csv->SetHeader(rows);
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status WriteParts(const FileLoad& load, const std::string& dir,
                        FileLoadStats* stats) {
  StagedRowReader rows;
  PartFileWriter writer;
  CsvRows csv;
  if (load.format == "csv") RETURN_IF_ERROR(ReadCsvHeader(load, &csv));
  std::string out;
  for (size_t f = 0; f < load.files.size(); ++f) {
    const std::string name = absl::StrFormat("part-%05d.%s", f, load.format);
    RETURN_IF_ERROR(rows.Open(load.files[f]));
    RETURN_IF_ERROR(writer.Open(absl::StrCat(dir, "/", name)));
    if (load.format == "csv") writer.Append(csv.header());
    while (true) {
      ASSIGN_OR_RETURN(const bool more, rows.Next());
      if (!more) break;
      RETURN_IF_ERROR(CheckPartition(load, rows));
      out.clear();
      if (load.format == "csv") {
        RETURN_IF_ERROR(csv.Append(rows, &out));
      } else {
        out.append(rows.line().data(), rows.line().size());
        out.push_back('\n');
      }
      writer.Append(out);
      ++stats->rows;
    }
    RETURN_IF_ERROR(writer.Close());
    stats->files.push_back(absl::StrCat(stats->partition_dir, "/", name));
  }
  return absl::OkStatus();
}

std::string NewToken(const FileLoad& load) {
  static std::atomic<uint64_t> sequence{0};
  return absl::StrCat("loaded by run ", load.run_id, " (pid ", getpid(), ", ",
                      absl::ToUnixMillis(absl::Now()), " ms, ", sequence++, ")\n");
}

}  // namespace

absl::StatusOr<FileLoadStats> LoadIntoFiles(const FileLoad& load) {
  RETURN_IF_ERROR(CheckRequest(load));
  ASSIGN_OR_RETURN(const std::string root, ResolvePath(load.target_root));
  FileLoadStats stats;
  stats.partition_dir =
      absl::StrCat(root == "/" ? "" : root, "/", load.partition_column, "=", load.dt);
  const StagedDirectory partition(stats.partition_dir, "load");
  RETURN_IF_ERROR(partition.Create());
  absl::Status s = WriteParts(load, partition.staging_path(), &stats);
  if (!s.ok()) {
    partition.Discard().IgnoreError();
    return s;
  }
  StagedDirectory::PublishOptions publish;
  publish.replace = StagedDirectory::Replace::kAlways;
  if (absl::Status p = partition.Publish(kMarker, NewToken(load), publish); !p.ok()) {
    return Prepend(p, absl::StrCat("publishing ", stats.partition_dir));
  }
  return stats;
}

}  // namespace pipeline
}  // namespace mr
