#include "master/pipeline/postgres_load.h"

#include <algorithm>
#include <cstdlib>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/pipeline_spec.h"
#include "common/status_macros.h"
#include "master/pipeline/postgres_util.h"
#include "master/pipeline/staged_files.h"

namespace mr {
namespace pipeline {
namespace {

constexpr char kStage[] = "mr_stage";
constexpr char kRunIdColumn[] = "mr_run_id";
// The high half of the advisory lock key of a load (the low half is the
// target's OID): "mrLD", so our locks do not collide with an
// application's own small advisory lock numbers.
constexpr int64_t kLockNamespace = 0x6d724c44;
// Rows are sent to COPY in batches of about this many bytes.
constexpr size_t kCopyBatch = 1 << 20;

constexpr uint32_t kTextOid = 25;
constexpr uint32_t kVarcharOid = 1043;

enum class Mode { kUpsert, kOverwritePartition, kAppend };

absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }

struct Column {
  std::string name;
  int attnum = 0;
  uint32_t type_oid = 0;
  bool generated = false;  // GENERATED ALWAYS AS (...) STORED: not loadable
};

// The target table, as the catalog describes it.
struct Target {
  std::string quoted;  // for SQL
  int64_t oid = 0;
  std::vector<Column> columns;  // in the table's order
  absl::flat_hash_map<std::string, int> by_name;
  int partition = -1;  // the partition column's index, or -1
  int run_id = -1;     // mr_run_id's index, or -1
};

// What the COPY into the staging table did.
struct Staged {
  int64_t rows = 0;
  std::vector<bool> named;  // per target column: some row sets it
};

// Where each row sent to COPY came from, to turn PostgreSQL's "COPY
// mr_stage, line N" back into the file and its line. One entry per run of
// consecutive lines of one file.
struct CopyOrigin {
  int64_t copy_line;  // 1-based
  size_t file;
  int64_t file_line;
};

std::string Join(const std::vector<std::string>& names) {
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<Mode> ParseMode(const std::string& mode) {
  if (mode == "upsert") return Mode::kUpsert;
  if (mode == "overwrite_partition") return Mode::kOverwritePartition;
  if (mode == "append") return Mode::kAppend;
  return absl::InvalidArgumentError(absl::StrCat(
      "load mode '", mode, "' is not one of upsert, overwrite_partition, append"));
}

absl::Status CheckRequest(const PostgresLoad& load, Mode mode) {
  if (!IsIsoDate(load.dt)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the run's date '", load.dt, "' is not a date YYYY-MM-DD"));
  }
  if (mode == Mode::kUpsert && load.key.empty()) {
    return absl::InvalidArgumentError("an upsert needs the key columns");
  }
  if (mode == Mode::kOverwritePartition && load.partition_column.empty()) {
    return absl::InvalidArgumentError(
        "overwrite_partition needs the partition column");
  }
  if (mode == Mode::kAppend && load.run_id.empty()) {
    return absl::InvalidArgumentError("append needs the run id");
  }
  return absl::OkStatus();
}

// Appends `s` in COPY's text format: backslash, tab, newline and carriage
// return escaped (the other bytes stand for themselves). False when `s`
// holds a NUL, which no PostgreSQL text value can.
bool AppendCopyText(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '\t': out->append("\\t"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\0': return false;
      default: out->push_back(c);
    }
  }
  return true;
}

absl::StatusOr<Target> DescribeTarget(pqxx::work& tx, const PostgresLoad& load,
                                      const std::string& where) {
  Target t;
  ASSIGN_OR_RETURN(t.quoted, QuoteTableName(load.table));
  const pqxx::row found = tx.exec_params1(
      "SELECT c.oid::bigint, c.relkind::text FROM pg_class c "
      "RIGHT JOIN (SELECT to_regclass($1) AS r) q ON c.oid = q.r",
      t.quoted);
  if (found[0].is_null()) {
    return absl::NotFoundError(
        absl::StrCat("table ", load.table, " does not exist in ", where));
  }
  t.oid = found[0].as<int64_t>();
  const std::string relkind = found[1].as<std::string>();
  if (relkind != "r" && relkind != "p") {
    return absl::FailedPreconditionError(absl::StrCat(
        load.table, " in ", where, " is not a table (relkind '", relkind, "')"));
  }
  const pqxx::result columns = tx.exec_params(
      "SELECT attname, attnum, atttypid::bigint, attgenerated <> '' "
      "FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped "
      "ORDER BY attnum",
      t.oid);
  for (const pqxx::row& r : columns) {
    Column c;
    c.name = r[0].as<std::string>();
    c.attnum = r[1].as<int>();
    c.type_oid = static_cast<uint32_t>(r[2].as<int64_t>());
    c.generated = r[3].as<bool>();
    t.by_name[c.name] = static_cast<int>(t.columns.size());
    t.columns.push_back(std::move(c));
  }
  return t;
}

// Binds the partition and run id columns, and checks that the table fits
// the mode.
absl::Status BindColumns(const PostgresLoad& load, Mode mode, Target* t) {
  auto find = [&](const std::string& name) {
    auto it = t->by_name.find(name);
    return it == t->by_name.end() || t->columns[it->second].generated ? -1
                                                                      : it->second;
  };
  if (!load.partition_column.empty()) t->partition = find(load.partition_column);
  if (mode == Mode::kOverwritePartition && t->partition < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "overwrite_partition into ", load.table, " needs its partition column '",
        load.partition_column, "', which the table lacks"));
  }
  t->run_id = find(kRunIdColumn);
  if (t->run_id >= 0 && t->columns[t->run_id].type_oid != kTextOid &&
      t->columns[t->run_id].type_oid != kVarcharOid) {
    t->run_id = -1;
  }
  if (mode == Mode::kAppend && t->run_id < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "append into ", load.table, " needs a text column ", kRunIdColumn,
        " (the loader writes the run id there, so that a rerun replaces the "
        "rows of an earlier attempt); the table has none"));
  }
  if (mode == Mode::kUpsert) {
    for (const std::string& k : load.key) {
      if (find(k) < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "upsert key column '", k, "' is not a column of ", load.table));
      }
    }
  }
  return absl::OkStatus();
}

// ON CONFLICT (key) needs a unique index on exactly the key's columns that
// is immediate, not partial and on plain columns.
absl::Status CheckUniqueKey(pqxx::work& tx, const PostgresLoad& load,
                            const Target& t) {
  const std::set<std::string> wanted(load.key.begin(), load.key.end());
  const pqxx::result indexes = tx.exec_params(
      "SELECT indkey::text, indnkeyatts FROM pg_index WHERE indrelid = $1 "
      "AND indisunique AND indimmediate AND indpred IS NULL AND indexprs IS NULL",
      t.oid);
  for (const pqxx::row& r : indexes) {
    const std::vector<std::string> attnums =
        absl::StrSplit(r[0].as<std::string>(), ' ', absl::SkipEmpty());
    const size_t n = std::min<size_t>(attnums.size(), r[1].as<int>());
    std::set<std::string> names;
    for (size_t i = 0; i < n; ++i) {
      int attnum = 0;
      if (!absl::SimpleAtoi(attnums[i], &attnum)) continue;
      for (const Column& c : t.columns) {
        if (c.attnum == attnum) names.insert(c.name);
      }
    }
    if (names == wanted) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "upsert into ", load.table, " needs a unique index or constraint on (",
      Join(load.key), "), and the table has none (ON CONFLICT can only match "
      "rows through one): add one, e.g. ALTER TABLE ", load.table,
      " ADD UNIQUE (", Join(load.key), ")"));
}

// Turns staged rows into lines of COPY text for the target's loadable
// columns, in the table's order.
class CopyEncoder {
 public:
  CopyEncoder(const PostgresLoad& load, Mode mode, const Target& t)
      : load_(load), mode_(mode), t_(t), fields_(t.columns.size()),
        stamp_(t.columns.size(), 0), named_(t.columns.size(), false) {
    AppendCopyText(load.dt, &dt_);
    AppendCopyText(load.run_id, &run_id_);
    for (const std::string& k : load.key) key_.push_back(t.by_name.at(k));
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (!t.columns[i].generated) loadable_.push_back(i);
    }
  }

  // Appends the row's line (with its '\n') to `out`; errors name the row.
  absl::Status Encode(const StagedRowReader& row, std::string* out) {
    ++row_;
    for (const StagedValue& v : row.values()) RETURN_IF_ERROR(Take(row, v));
    if (t_.partition >= 0 && !IsSet(t_.partition)) Set(t_.partition, dt_);
    if (t_.run_id >= 0) Set(t_.run_id, run_id_);
    if (mode_ == Mode::kUpsert) {
      for (int k : key_) {
        if (!IsSet(k)) {
          return RowError(row, absl::StrCat(
              "the key column '", t_.columns[k].name, "' is null or missing: an "
              "upsert could never match the row again, and a rerun would add it "
              "twice"));
        }
      }
    }
    for (size_t j = 0; j < loadable_.size(); ++j) {
      if (j > 0) out->push_back('\t');
      const size_t i = loadable_[j];
      if (stamp_[i] == row_) {
        out->append(fields_[i]);
      } else {
        out->append("\\N");
      }
    }
    out->push_back('\n');
    return absl::OkStatus();
  }

  const std::vector<bool>& named() const { return named_; }

 private:
  // Takes one value of the row into fields_.
  absl::Status Take(const StagedRowReader& row, const StagedValue& v) {
    auto it = t_.by_name.find(AV(v.name));
    if (it == t_.by_name.end()) {
      std::vector<std::string> names;
      for (size_t i : loadable_) names.push_back(t_.columns[i].name);
      return RowError(row, absl::StrCat("column '", std::string(v.name),
                                        "' is not in table ", load_.table,
                                        " (its columns: ", Join(names), ")"));
    }
    const int i = it->second;
    if (t_.columns[i].generated) {
      return RowError(row, absl::StrCat("column '", std::string(v.name), "' of table ",
                                        load_.table, " is generated: a load cannot set it"));
    }
    if (stamp_[i] == row_) {
      return absl::DataLossError(absl::StrCat(row.path(), ":", row.line_number(),
                                              ": column '", std::string(v.name),
                                              "' appears twice in the row"));
    }
    stamp_[i] = row_;
    named_[i] = true;
    std::string& f = fields_[i];
    f.clear();
    if (v.kind == StagedValue::Kind::kNull) {
      f = "\\N";
      return absl::OkStatus();
    }
    if (!AppendCopyText(v.text, &f)) {
      return RowError(row, absl::StrCat("column '", std::string(v.name),
                                        "' holds a NUL character, which "
                                        "PostgreSQL text cannot store"));
    }
    if (i == t_.partition && mode_ == Mode::kOverwritePartition &&
        (v.kind != StagedValue::Kind::kString || v.text != load_.dt)) {
      return RowError(row, absl::StrCat(
          "the row's ", load_.partition_column, " is ", std::string(v.text),
          ", not the run's date ", load_.dt, ": overwrite_partition only "
          "loads rows of the date it replaces"));
    }
    return absl::OkStatus();
  }

  // Whether this row gave column i a value other than null.
  bool IsSet(int i) const { return stamp_[i] == row_ && fields_[i] != "\\N"; }

  void Set(int i, const std::string& value) {
    stamp_[i] = row_;
    named_[i] = true;
    fields_[i] = value;
  }

  absl::Status RowError(const StagedRowReader& row, const std::string& reason) const {
    return absl::InvalidArgumentError(
        absl::StrCat(row.path(), ":", row.line_number(), ": ", reason));
  }

  const PostgresLoad& load_;
  const Mode mode_;
  const Target& t_;
  std::vector<size_t> loadable_;     // the columns COPY fills
  std::vector<std::string> fields_;  // per column: this row's COPY text
  std::vector<uint64_t> stamp_;      // per column: the last row that set it
  std::vector<bool> named_;          // per column: some row set it
  std::vector<int> key_;
  std::string dt_, run_id_;  // as COPY text
  uint64_t row_ = 0;
};

// "COPY mr_stage, line N" in PostgreSQL's error context, as FILE:LINE.
std::string CopyErrorPlace(const std::string& what, const std::vector<CopyOrigin>& origins,
                           const std::vector<std::string>& files) {
  const std::string marker = absl::StrCat("COPY ", kStage, ", line ");
  const size_t at = what.find(marker);
  if (at == std::string::npos) return {};
  int64_t line = 0;
  size_t i = at + marker.size();
  while (i < what.size() && what[i] >= '0' && what[i] <= '9') {
    line = line * 10 + (what[i++] - '0');
  }
  auto it = std::upper_bound(
      origins.begin(), origins.end(), line,
      [](int64_t l, const CopyOrigin& o) { return l < o.copy_line; });
  if (line <= 0 || it == origins.begin()) return {};
  --it;
  return absl::StrCat(files[it->file], ":", it->file_line + (line - it->copy_line));
}

// COPYs the rows of the files into the staging table.
absl::StatusOr<Staged> CopyIntoStage(pqxx::work& tx, const PostgresLoad& load,
                                     Mode mode, const Target& t) {
  std::vector<std::string> quoted;
  for (const Column& c : t.columns) {
    if (!c.generated) quoted.push_back(QuoteIdentifier(c.name));
  }
  tx.exec0(absl::StrCat("CREATE TEMP TABLE ", kStage, " ON COMMIT DROP AS SELECT ",
                        Join(quoted), " FROM ", t.quoted, " WITH NO DATA"));
  Staged staged;
  std::vector<CopyOrigin> origins;
  CopyEncoder encoder(load, mode, t);
  StagedRowReader rows;
  std::string batch;
  try {
    // libpqxx 6.4's only public way to send raw COPY text is the
    // deprecated tablewriter (stream_to keeps write_raw_line private).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    pqxx::tablewriter writer(tx, kStage, quoted.begin(), quoted.end());
#pragma GCC diagnostic pop
    // write_raw_line() sends its text and one '\n': several lines go as
    // one batch, their last '\n' left for it to add.
    auto flush = [&]() {
      if (batch.empty()) return;
      batch.pop_back();
      writer.write_raw_line(batch);
      batch.clear();
    };
    int64_t previous_line = -1;
    for (size_t f = 0; f < load.files.size(); ++f) {
      RETURN_IF_ERROR(rows.Open(load.files[f]));
      while (true) {
        ASSIGN_OR_RETURN(const bool more, rows.Next());
        if (!more) break;
        RETURN_IF_ERROR(encoder.Encode(rows, &batch));
        ++staged.rows;
        if (origins.empty() || origins.back().file != f ||
            rows.line_number() != previous_line + 1) {
          origins.push_back({staged.rows, f, rows.line_number()});
        }
        previous_line = rows.line_number();
        if (batch.size() >= kCopyBatch) flush();
      }
    }
    flush();
    writer.complete();
  } catch (const pqxx::sql_error& e) {
    const std::string place = CopyErrorPlace(e.what(), origins, load.files);
    return PostgresErrorToStatus(
        e, place.empty() ? absl::StrCat("copying the staged rows into ", load.table)
                         : place);
  }
  staged.named = encoder.named();
  return staged;
}

// Applies the staged rows to the target (step 4 of the file comment).
absl::StatusOr<LoadStats> Apply(pqxx::work& tx, const PostgresLoad& load, Mode mode,
                                const Target& t, const Staged& staged) {
  LoadStats stats;
  stats.rows_staged = staged.rows;
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", (kLockNamespace << 32) | t.oid);
  std::vector<std::string> cols, updates;
  const std::set<std::string> key(load.key.begin(), load.key.end());
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (!staged.named[i]) continue;
    const std::string q = QuoteIdentifier(t.columns[i].name);
    cols.push_back(q);
    if (key.count(t.columns[i].name) == 0) {
      updates.push_back(absl::StrCat(q, " = EXCLUDED.", q));
    }
  }
  const std::string insert =
      absl::StrCat("INSERT INTO ", t.quoted, " (", Join(cols), ") SELECT ",
                   Join(cols), " FROM ", kStage);
  if (mode == Mode::kUpsert) {
    if (staged.rows == 0) return stats;
    std::vector<std::string> key_cols;
    for (const std::string& k : load.key) key_cols.push_back(QuoteIdentifier(k));
    const std::string action =
        updates.empty() ? "DO NOTHING"
                        : absl::StrCat("DO UPDATE SET ", Join(updates));
    // xmax = 0 tells a row inserted from one updated (the updated row
    // version carries the updating transaction's lock in xmax).
    const pqxx::row counts = tx.exec1(absl::StrCat(
        "WITH mr_applied AS (", insert, " ON CONFLICT (", Join(key_cols), ") ",
        action, " RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
        "FROM mr_applied"));
    stats.rows_inserted = counts[0].as<int64_t>();
    stats.rows_updated = counts[1].as<int64_t>();
    return stats;
  }
  const std::string filter_column = mode == Mode::kOverwritePartition
                                        ? t.columns[t.partition].name
                                        : t.columns[t.run_id].name;
  const std::string filter_value = mode == Mode::kOverwritePartition ? load.dt : load.run_id;
  stats.rows_deleted =
      tx.exec_params(absl::StrCat("DELETE FROM ", t.quoted, " WHERE ",
                                  QuoteIdentifier(filter_column), " = $1"),
                     filter_value)
          .affected_rows();
  if (staged.rows > 0) stats.rows_inserted = tx.exec0(insert).affected_rows();
  return stats;
}

absl::StatusOr<LoadStats> Load(pqxx::connection& conn, const PostgresLoad& load,
                               Mode mode, const std::string& where) {
  pqxx::work tx(conn);
  tx.exec0("SET LOCAL client_encoding TO 'UTF8'");
  ASSIGN_OR_RETURN(Target t, DescribeTarget(tx, load, where));
  RETURN_IF_ERROR(BindColumns(load, mode, &t));
  if (mode == Mode::kUpsert) RETURN_IF_ERROR(CheckUniqueKey(tx, load, t));
  ASSIGN_OR_RETURN(const Staged staged, CopyIntoStage(tx, load, mode, t));
  absl::StatusOr<LoadStats> stats;
  try {
    stats = Apply(tx, load, mode, t, staged);
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "21000") {
      return absl::InvalidArgumentError(absl::StrCat(
          "upsert into ", load.table, ": two staged rows have the same key (",
          Join(load.key), "); dedupe them in a transform step first: ",
          PostgresMessage(e)));
    }
    throw;
  }
  if (!stats.ok()) return stats.status();
  tx.commit();
  return stats;
}

}  // namespace

absl::StatusOr<LoadStats> LoadIntoPostgres(const PostgresLoad& load) {
  ASSIGN_OR_RETURN(const Mode mode, ParseMode(load.mode));
  RETURN_IF_ERROR(CheckRequest(load, mode));
  RETURN_IF_ERROR(QuoteTableName(load.table).status());
  const std::string where = DescribeDsn(load.dsn);
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(load.dsn);
  } catch (const std::exception& e) {
    return ConnectErrorToStatus(e, where);
  }
  try {
    return Load(*conn, load, mode, where);
  } catch (const std::exception& e) {
    return PostgresErrorToStatus(
        e, absl::StrCat("loading into ", load.table, " (", where, ")"));
  }
}

}  // namespace pipeline
}  // namespace mr
