// Helpers shared by the PostgreSQL load and extract (postgres_load.h,
// postgres_extract.h): naming tables safely in SQL, describing a DSN in
// errors without its password, and turning libpqxx's exceptions into
// absl::Status.
#ifndef MR_MASTER_PIPELINE_POSTGRES_UTIL_H_
#define MR_MASTER_PIPELINE_POSTGRES_UTIL_H_

#include <exception>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mr {
namespace pipeline {

// `name` as a double-quoted SQL identifier ("a""b" for a"b).
std::string QuoteIdentifier(std::string_view name);

// A table name from a pipeline file, "table" or "schema.table", as quoted
// SQL. Each part must be a plain identifier ([A-Za-z_][A-Za-z0-9_$]*, at
// most 63 bytes); anything else is InvalidArgument, so that no text of a
// pipeline file reaches SQL unquoted. The parts are quoted as written, so
// they are case-sensitive: "Orders" names the table created as "Orders",
// not one created as Orders (which PostgreSQL folds to orders).
absl::StatusOr<std::string> QuoteTableName(const std::string& table);

// Where a DSN points, for errors: "database D on HOST:PORT" with libpq's
// defaults spelled out ("(default)") when the DSN leaves them out. Never the
// password or any other part of the DSN.
std::string DescribeDsn(const std::string& dsn);


// The status for an exception thrown while connecting: as
// PostgresErrorToStatus(), except that libpq's complaint about a malformed
// connection string, which quotes the string (a password with it), is
// replaced by a message of our own.
absl::Status ConnectErrorToStatus(const std::exception& e,
                                  const std::string& where);

// The status for an exception thrown by libpqxx, its message prefixed with
// `context`:
//   pqxx::broken_connection           Unavailable (retry)
//   pqxx::in_doubt_error              Unavailable: the commit's outcome is
//                                     unknown; the loads are idempotent, so
//                                     running the step again is the answer
//   pqxx::transaction_rollback        Aborted (serialization failure,
//                                     deadlock: retry the transaction)
//   pqxx::sql_error, by SQLSTATE class:
//     22 (data exception),            InvalidArgument
//     23 (integrity constraint),
//     42 (syntax error or access)
//     08 (connection exception)       Unavailable
//     53, 57 (resources, shutdown)    Unavailable
//     others                          Internal
//   anything else                     Internal
// The message is PostgreSQL's first line ("ERROR:  " dropped) and, when
// the server sent them, its DETAIL and HINT lines, joined with "; ".
absl::Status PostgresErrorToStatus(const std::exception& e,
                                   std::string_view context);

// PostgreSQL's message of a libpqxx exception, as described above.
std::string PostgresMessage(const std::exception& e);

}  // namespace pipeline
}  // namespace mr

#endif  // MR_MASTER_PIPELINE_POSTGRES_UTIL_H_
