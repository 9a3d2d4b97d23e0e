// A pipeline's extract from PostgreSQL (issue #8): a table or a query,
// read from one consistent snapshot into a staged table, the typed JSON
// Lines part files that the pipeline's next steps read (the contract is at
// the top of apps/pipeline/plan.h).
//
//   PostgresExtract extract;
//   extract.dsn = getenv("SRC_DSN");
//   extract.query = "SELECT * FROM orders WHERE dt = DATE '2026-11-01'";
//   extract.out_dir = "/staging/run-7/orders";
//   extract.num_splits = 4;
//   ASSIGN_OR_RETURN(ExtractStats stats, ExtractFromPostgres(extract));
//
// How. One connection and one REPEATABLE READ READ ONLY transaction, in
// which the rows are counted (SELECT count(*) FROM (query)) and then read
// once, in the order the query gives them, through COPY (query) TO STDOUT:
// a stream, so memory does not grow with the table. The rows are cut into
// num_splits part files of consecutive rows, ceil(count / num_splits) each
// (the last ones may be shorter or empty), so concatenating the files in
// order gives the query's rows in its order.
//   Why not key ranges (min/max of an integer primary key, as Sqoop does)
// or parallel connections on an exported snapshot: the extract runs in the
// master's pipeline runner, one thread, so several readers would not be
// faster; the splits only exist so that the next jobs have one map per
// file. Counting works for any query, not only tables with an integer key,
// and gives equal files however skewed the keys are; the price is reading
// the rows twice (once to count; only when num_splits > 1). Both reads are
// in the one snapshot, so they see the same rows (unless the query itself
// is volatile, e.g. random(); extra rows then go to the last file, and the
// row set is still one snapshot's).
//
// Types. The session's TimeZone is UTC and DateStyle ISO. Values become
// JSON by their column's type:
//   smallint, integer, bigint, oid      number
//   numeric, real, double precision     number, as PostgreSQL prints it
//                                       ("12.50"); NaN and infinities have
//                                       no JSON form: InvalidArgument
//   boolean                             true / false
//   date                                "YYYY-MM-DD"
//   timestamp, timestamptz              "YYYY-MM-DDTHH:MM:SSZ" in UTC (a
//                                       timestamp without time zone is
//                                       taken as UTC); fractions of a second
//                                       are dropped (the contract's format
//                                       has none); infinity, BC and years
//                                       past 9999: InvalidArgument
//   NULL                                null
//   anything else (text, varchar, uuid, json, arrays, intervals, ...)
//                                       a string: PostgreSQL's text form
//
// The output. out_dir is replaced as a whole, atomically (StagedDirectory,
// common/staged_directory.h): its files are written in a sibling staging
// directory (PARENT/.NAME.extract.staging), each synced, with a _SUCCESS
// marker, and that directory then takes out_dir's place. A reader, or a
// process killed at any point, finds the old out_dir or the complete new
// one. The files are part-m-00000 ... part-m-<num_splits - 1>, every one
// present (empty when it has no rows), so that "out_dir/part-*" always
// matches.
//
// Thread-safety: ExtractFromPostgres() may run on several threads at once,
// for different out_dirs.
#ifndef MR_MASTER_PIPELINE_POSTGRES_EXTRACT_H_
#define MR_MASTER_PIPELINE_POSTGRES_EXTRACT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mr {
namespace pipeline {

struct PostgresExtract {
  // A libpq connection string. Errors name only its host, port and
  // database (DescribeDsn(), postgres_util.h).
  std::string dsn;
  // Exactly one of these: a table ("table" or "schema.table", as
  // QuoteTableName() accepts), or a query (one SELECT, {{dt}} already
  // replaced by the caller; a trailing ';' is allowed).
  std::string table;
  std::string query;
  // The staged table to write (replaced when it exists).
  std::string out_dir;
  // The number of part files. Default: 1.
  int num_splits = 1;
};

struct ExtractStats {
  int64_t rows = 0;
  std::vector<std::string> columns;  // the JSON keys, in the rows' order
  std::vector<std::string> files;    // the part files, absolute
};

// Reads the table or query into out_dir; see the file comment. Errors (out_dir
// is unchanged after any of them):
//   InvalidArgument  a bad request (neither or both of table and query, a
//                    bad table name, num_splits < 1); a query PostgreSQL
//                    refuses (its message); a query with two columns of one
//                    name; a value with no JSON form (NaN, infinity)
//   NotFound         the table does not exist ("table t does not exist in
//                    database d on host:port")
//   Unavailable      cannot connect, or the connection broke (retry)
//   Internal         the output cannot be written
absl::StatusOr<ExtractStats> ExtractFromPostgres(const PostgresExtract& extract);

}  // namespace pipeline
}  // namespace mr

#endif  // MR_MASTER_PIPELINE_POSTGRES_EXTRACT_H_
