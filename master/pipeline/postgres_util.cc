#include "master/pipeline/postgres_util.h"

#include <libpq-fe.h>

#include <pqxx/except>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace mr {
namespace pipeline {
namespace {

bool IsIdentifier(absl::string_view part) {
  if (part.empty() || part.size() > 63) return false;
  for (size_t i = 0; i < part.size(); ++i) {
    const char c = part[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = (c >= '0' && c <= '9') || c == '$';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

}  // namespace

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

absl::StatusOr<std::string> QuoteTableName(const std::string& table) {
  const std::vector<absl::string_view> parts = absl::StrSplit(table, '.');
  bool ok = parts.size() <= 2;
  for (absl::string_view p : parts) ok = ok && IsIdentifier(p);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", table,
        "' is not a table name we accept: write table or schema.table, each "
        "a letter or '_' followed by letters, digits, '_' or '$' (at most 63)"));
  }
  std::string quoted;
  for (absl::string_view p : parts) {
    if (!quoted.empty()) quoted += '.';
    quoted += QuoteIdentifier(std::string_view(p.data(), p.size()));
  }
  return quoted;
}

std::string DescribeDsn(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    // libpq's reason may quote a piece of the DSN (a password, even).
    if (error != nullptr) PQfreemem(error);
    return "a DSN that libpq cannot parse";
  }
  std::string host, hostaddr, port, dbname, user;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || o->val[0] == '\0') continue;
    const std::string key = o->keyword;
    if (key == "host") host = o->val;
    if (key == "hostaddr") hostaddr = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
    if (key == "user") user = o->val;
  }
  PQconninfoFree(options);
  if (host.empty()) host = hostaddr;
  const std::string kDefault = "(default)";
  return absl::StrCat("database ", dbname.empty() ? user.empty() ? kDefault : user : dbname,
                      " on ", host.empty() ? kDefault : host, ":",
                      port.empty() ? kDefault : port);
}

std::string PostgresMessage(const std::exception& e) {
  std::vector<std::string> kept;
  for (absl::string_view line : absl::StrSplit(e.what(), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (kept.empty()) {
      absl::ConsumePrefix(&line, "ERROR:");
      kept.emplace_back(absl::StripAsciiWhitespace(line));
    } else if (absl::StartsWith(line, "DETAIL:") || absl::StartsWith(line, "HINT:")) {
      kept.emplace_back(line);
    }
  }
  return absl::StrJoin(kept, "; ");
}

absl::Status ConnectErrorToStatus(const std::exception& e,
                                  const std::string& where) {
  const std::string context =
      absl::StrCat("cannot connect to PostgreSQL (", where, ")");
  const absl::string_view what = e.what();
  if (absl::StrContains(what, "connection info string") ||
      absl::StrContains(what, "invalid connection option") ||
      absl::StrContains(what, "invalid URI") ||
      absl::StrContains(what, "invalid integer value") ||
      absl::StrContains(what, "invalid percent-encoded")) {
    return absl::InvalidArgumentError(absl::StrCat(
        context, ": the connection string is malformed (libpq's message is "
                 "withheld: it quotes the string)"));
  }
  return PostgresErrorToStatus(e, context);
}

absl::Status PostgresErrorToStatus(const std::exception& e,
                                   std::string_view context) {
  const std::string message =
      absl::StrCat(absl::string_view(context.data(), context.size()), ": ",
                   PostgresMessage(e));
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return absl::UnavailableError(message);
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return absl::UnavailableError(absl::StrCat(
        message, " (the connection failed during the commit: whether it "
                 "was applied is unknown; running the load again is safe)"));
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return absl::AbortedError(message);
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    const std::string cls = state.substr(0, 2);
    if (cls == "22" || cls == "23" || cls == "42") {
      return absl::InvalidArgumentError(message);
    }
    if (cls == "08" || cls == "53" || cls == "57") {
      return absl::UnavailableError(message);
    }
    if (cls == "40") return absl::AbortedError(message);
  }
  return absl::InternalError(message);
}

}  // namespace pipeline
}  // namespace mr
