#include "master/pipeline/postgres_extract.h"

#include <unistd.h>

#include <atomic>
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/names.h"
#include "common/pipeline_spec.h"
#include "common/staged_directory.h"
#include "common/status_macros.h"
#include "master/pipeline/postgres_util.h"
#include "master/pipeline/staged_files.h"

namespace mr {
namespace pipeline {
namespace {

constexpr char kMarker[] = "_SUCCESS";

// How a column's COPY text becomes JSON.
enum class Kind { kInteger, kDecimal, kBool, kDate, kTimestamp, kString };

Kind KindOfType(uint32_t oid) {
  switch (oid) {
    case 20:  // bigint
    case 21:  // smallint
    case 23:  // integer
    case 26:  // oid
      return Kind::kInteger;
    case 700:   // real
    case 701:   // double precision
    case 1700:  // numeric
      return Kind::kDecimal;
    case 16:
      return Kind::kBool;
    case 1082:
      return Kind::kDate;
    case 1114:  // timestamp
    case 1184:  // timestamptz
      return Kind::kTimestamp;
    default:
      return Kind::kString;
  }
}

struct OutColumn {
  std::string name;
  std::string type;  // for errors
  Kind kind;
  std::string prefix;  // '{' or ',', the JSON key, ':'
};

bool IsDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// After a timestamp's seconds: an optional fraction, then "+00" (UTC, for
// timestamptz) or nothing (timestamp). Not " BC".
bool IsUtcSuffix(std::string_view rest) {
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
    if (i == 1) return false;
    rest.remove_prefix(i);
  }
  return rest.empty() || rest == "+00";
}

// Decodes one field of COPY's text format (after COPY TO: backslash
// escapes for backslash and control characters; octal and hex escapes are
// decoded too, as COPY FROM would).
void UnescapeCopyText(std::string_view field, std::string* out) {
  out->clear();
  for (size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out->push_back(c);
      continue;
    }
    const char e = field[++i];
    switch (e) {
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'v': out->push_back('\v'); break;
      case 'x': {
        int v = 0, n = 0;
        while (n < 2 && i + 1 < field.size() && absl::ascii_isxdigit(field[i + 1])) {
          const char h = field[++i];
          v = v * 16 + (absl::ascii_isdigit(h) ? h - '0' : absl::ascii_tolower(h) - 'a' + 10);
          ++n;
        }
        if (n == 0) {
          out->push_back('x');
        } else {
          out->push_back(static_cast<char>(v));
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0', n = 1;
          while (n < 3 && i + 1 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '7') {
            v = v * 8 + (field[++i] - '0');
            ++n;
          }
          out->push_back(static_cast<char>(v));
        } else {
          out->push_back(e);
        }
    }
  }
}

// Turns COPY text lines into JSON Lines rows.
class RowConverter {
 public:
  explicit RowConverter(std::vector<OutColumn> columns) : columns_(std::move(columns)) {}

  // Appends the row's JSON object and '\n' to `out`. `row` is 1-based, for
  // errors.
  absl::Status Convert(std::string_view line, int64_t row, std::string* out) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    size_t start = 0;
    for (size_t c = 0; c < columns_.size(); ++c) {
      size_t end = line.find('\t', start);
      if (end == std::string_view::npos) end = line.size();
      if (start > line.size() || (c + 1 == columns_.size()) != (end == line.size())) {
        return absl::InternalError(absl::StrCat(
            "row ", row, ": COPY sent a line without ", columns_.size(), " fields"));
      }
      const OutColumn& col = columns_[c];
      out->append(col.prefix);
      RETURN_IF_ERROR(AppendValue(col, line.substr(start, end - start), row, out));
      start = end + 1;
    }
    out->append(columns_.empty() ? "{}\n" : "}\n");
    return absl::OkStatus();
  }

 private:
  absl::Status AppendValue(const OutColumn& col, std::string_view field, int64_t row,
                           std::string* out) {
    if (field == "\\N") {
      out->append("null");
      return absl::OkStatus();
    }
    auto no_json = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(
          "row ", row, ", column '", col.name, "' (", col.type, "): the value '",
          EscapeName(field), "' ", absl::string_view(why.data(), why.size())));
    };
    switch (col.kind) {
      case Kind::kInteger:
        out->append(field.data(), field.size());
        return absl::OkStatus();
      case Kind::kDecimal:
        if (field == "NaN" || field == "Infinity" || field == "-Infinity") {
          return no_json("has no JSON form in staged data");
        }
        out->append(field.data(), field.size());
        return absl::OkStatus();
      case Kind::kBool:
        out->append(field == "t" ? "true" : "false");
        return absl::OkStatus();
      case Kind::kDate:
        if (!IsIsoDate(field)) return no_json("is not a date YYYY-MM-DD");
        out->push_back('"');
        out->append(field.data(), field.size());
        out->push_back('"');
        return absl::OkStatus();
      case Kind::kTimestamp: {
        // "2026-11-01 12:34:56[.ffffff][+00]" (TimeZone UTC, DateStyle ISO).
        if (field.size() < 19 || !IsIsoDate(field.substr(0, 10)) || field[10] != ' ' ||
            field[13] != ':' || field[16] != ':' || !IsDigits(field.substr(11, 2)) ||
            !IsDigits(field.substr(14, 2)) || !IsDigits(field.substr(17, 2)) ||
            !IsUtcSuffix(field.substr(19))) {
          return no_json("is not a UTC time between years 0001 and 9999");
        }
        out->push_back('"');
        out->append(field.data(), 10);
        out->push_back('T');
        out->append(field.data() + 11, 8);
        out->append("Z\"");
        return absl::OkStatus();
      }
      case Kind::kString:
        UnescapeCopyText(field, &text_);
        out->append(JsonString(text_));
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  const std::vector<OutColumn> columns_;
  std::string text_;
};

std::string PartName(int i) { return absl::StrFormat("part-m-%05d", i); }

// A token no earlier version of the output holds.
std::string NewToken() {
  static std::atomic<uint64_t> sequence{0};
  return absl::StrCat("extracted by pid ", getpid(), " at ",
                      absl::ToUnixMillis(absl::Now()), " ms (", sequence++, ")\n");
}

// What the query returns: its columns, by a LIMIT 0 run.
absl::StatusOr<std::vector<OutColumn>> DescribeColumns(pqxx::dbtransaction& tx,
                                                       const std::string& source) {
  const pqxx::result r =
      tx.exec(absl::StrCat("SELECT * FROM (\n", source, "\n) AS mr_source LIMIT 0"));
  std::vector<OutColumn> columns;
  std::set<std::string> seen;
  for (pqxx::row_size_type i = 0; i < r.columns(); ++i) {
    OutColumn c;
    c.name = r.column_name(i);
    if (!seen.insert(c.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the query returns two columns named '", c.name,
          "': a staged row cannot hold both (rename one with AS)"));
    }
    const uint32_t oid = r.column_type(i);
    c.kind = KindOfType(oid);
    c.type = tx.exec_params1("SELECT format_type($1, NULL)", oid)[0].as<std::string>();
    c.prefix = absl::StrCat(i == 0 ? "{" : ",", JsonString(c.name), ":");
    columns.push_back(std::move(c));
  }
  return columns;
}

// Streams the rows into the staging directory's part files.
absl::Status ReadRows(pqxx::dbtransaction& tx, const std::string& source,
                      const std::string& dir, int num_splits, ExtractStats* stats) {
  ASSIGN_OR_RETURN(std::vector<OutColumn> columns, DescribeColumns(tx, source));
  for (const OutColumn& c : columns) stats->columns.push_back(c.name);
  int64_t per_file = INT64_MAX;
  if (num_splits > 1) {
    const int64_t count = tx.exec1(absl::StrCat("SELECT count(*) FROM (\n", source,
                                                "\n) AS mr_source"))[0]
                              .as<int64_t>();
    per_file = std::max<int64_t>(1, (count + num_splits - 1) / num_splits);
  }
  RowConverter converter(std::move(columns));
  PartFileWriter writer;
  int file = 0;
  RETURN_IF_ERROR(writer.Open(absl::StrCat(dir, "/", PartName(file))));
  int64_t in_file = 0;
  pqxx::stream_from stream(tx, absl::StrCat("(\n", source, "\n)"));
  std::string line, json;
  while (stream.get_raw_line(line)) {
    if (in_file == per_file && file + 1 < num_splits) {
      RETURN_IF_ERROR(writer.Close());
      RETURN_IF_ERROR(writer.Open(absl::StrCat(dir, "/", PartName(++file))));
      in_file = 0;
    }
    json.clear();
    RETURN_IF_ERROR(converter.Convert(line, stats->rows + 1, &json));
    writer.Append(json);
    ++stats->rows;
    ++in_file;
  }
  stream.complete();
  RETURN_IF_ERROR(writer.Close());
  while (++file < num_splits) {
    RETURN_IF_ERROR(writer.Open(absl::StrCat(dir, "/", PartName(file))));
    RETURN_IF_ERROR(writer.Close());
  }
  return absl::OkStatus();
}

absl::Status Extract(pqxx::connection& conn, const PostgresExtract& x,
                     const StagedDirectory& out, const std::string& where,
                     ExtractStats* stats) {
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
  tx.exec0("SET LOCAL TimeZone TO 'UTC'");
  tx.exec0("SET LOCAL DateStyle TO 'ISO, YMD'");
  tx.exec0("SET LOCAL client_encoding TO 'UTF8'");
  tx.exec0("SET LOCAL extra_float_digits TO 1");  // shortest exact floats
  std::string source;
  if (!x.table.empty()) {
    ASSIGN_OR_RETURN(const std::string quoted, QuoteTableName(x.table));
    if (tx.exec_params1("SELECT to_regclass($1) IS NULL", quoted)[0].as<bool>()) {
      return absl::NotFoundError(
          absl::StrCat("table ", x.table, " does not exist in ", where));
    }
    source = absl::StrCat("SELECT * FROM ", quoted);
  } else {
    absl::string_view q = absl::StripAsciiWhitespace(x.query);
    while (absl::ConsumeSuffix(&q, ";")) q = absl::StripTrailingAsciiWhitespace(q);
    source = std::string(q);
  }
  RETURN_IF_ERROR(out.Create());
  absl::Status s;
  try {
    s = ReadRows(tx, source, out.staging_path(), x.num_splits, stats);
  } catch (...) {
    out.Discard().IgnoreError();
    throw;
  }
  if (!s.ok()) {
    out.Discard().IgnoreError();
    return s;
  }
  tx.commit();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ExtractStats> ExtractFromPostgres(const PostgresExtract& x) {
  if (x.table.empty() == x.query.empty()) {
    return absl::InvalidArgumentError(
        "a PostgreSQL extract reads a table or a query: give exactly one");
  }
  if (x.num_splits < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_splits must be at least 1, got ", x.num_splits));
  }
  if (!x.table.empty()) RETURN_IF_ERROR(QuoteTableName(x.table).status());
  ASSIGN_OR_RETURN(const std::string out_dir, ResolvePath(x.out_dir));
  if (out_dir == "/") return absl::InvalidArgumentError("out_dir cannot be /");
  const StagedDirectory out(out_dir, "extract");
  const std::string what = x.table.empty() ? "the query" : absl::StrCat("table ", x.table);
  const std::string where = DescribeDsn(x.dsn);
  ExtractStats stats;
  try {
    pqxx::connection conn(x.dsn);
    try {
      RETURN_IF_ERROR(Extract(conn, x, out, where, &stats));
    } catch (const std::exception& e) {
      return PostgresErrorToStatus(e, absl::StrCat("extracting ", what, " (", where, ")"));
    }
  } catch (const std::exception& e) {
    return ConnectErrorToStatus(e, where);
  }
  StagedDirectory::PublishOptions publish;
  publish.replace = StagedDirectory::Replace::kAlways;
  if (absl::Status p = out.Publish(kMarker, NewToken(), publish); !p.ok()) {
    return Prepend(p, absl::StrCat("publishing ", out_dir));
  }
  for (int i = 0; i < x.num_splits; ++i) {
    stats.files.push_back(absl::StrCat(out_dir, "/", PartName(i)));
  }
  return stats;
}

}  // namespace pipeline
}  // namespace mr
