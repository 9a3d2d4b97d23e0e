// A pipeline's load into PostgreSQL (issue #8): the staged rows of a step
// become rows of a target table, exactly once however often the load runs.
//
//   PostgresLoad load;
//   load.dsn = getenv("DW_DSN");
//   load.table = "daily_revenue";
//   load.mode = "upsert";
//   load.key = {"dt", "country"};
//   load.partition_column = "dt";
//   load.dt = "2026-11-01";
//   load.run_id = run_id;
//   load.files = {"/staging/run/revenue/part-r-00000", ...};
//   ASSIGN_OR_RETURN(LoadStats stats, LoadIntoPostgres(load));
//
// How. One connection, one transaction:
//   1. CREATE TEMP TABLE ... ON COMMIT DROP AS SELECT <columns> FROM target
//      WITH NO DATA: a staging table with the target's column types and no
//      constraints (so a row that leaves out a NOT NULL column with a
//      default is not refused there);
//   2. COPY the rows of the files into it, converted to COPY's text format;
//   3. pg_advisory_xact_lock on the target (so two loads of one target take
//      turns: without it, two overwrites of one date under READ COMMITTED
//      could both delete the old rows and both insert);
//   4. apply, by mode:
//      upsert               INSERT INTO target (cols) SELECT cols FROM stage
//                           ON CONFLICT (key) DO UPDATE SET each non-key
//                           column = EXCLUDED.column
//      overwrite_partition  DELETE FROM target WHERE partition_column = dt,
//                           then INSERT ... SELECT
//      append               DELETE FROM target WHERE mr_run_id = run_id,
//                           then INSERT ... SELECT
//   5. COMMIT.
// Why a TEMP table in the same transaction rather than a real (unlogged)
// staging table: it is private to the session, so concurrent loads never
// see each other's rows, and it cannot outlive a crash: a process killed at
// any point closes the connection, PostgreSQL rolls the transaction back
// and drops the table with it, so there is nothing to clean up and the
// target holds the old state; once COMMIT returns, the new one. Readers see
// the old rows until the commit (MVCC), never a partial load. The cost is
// that the COPY happens inside the transaction, which holds only an
// ACCESS SHARE lock on the target until step 3.
//
// Idempotence. Running the same load again leaves the same rows: upsert
// rewrites the same keys; overwrite_partition and append delete exactly the
// rows an earlier run of the same date (or run id) inserted. For that,
// overwrite_partition refuses a row whose partition column holds another
// date (a rerun would not delete it), and upsert refuses a row whose key
// has a null (it would never conflict, so each run would add it again).
//
// Rows. Each staged value goes to the column of its name. A value that is
// absent from a row, or null, is NULL; a column that no row names is left
// out of the INSERT, so it gets its default. Rows without the partition
// column, or with null there, get `dt` when the table has that column. When
// the table has a text column mr_run_id, every row gets `run_id` there (the
// loader owns that column; append requires it). Values reach PostgreSQL as
// text: strings as they are, numbers as written, true/false, nested JSON as
// its text (for json/jsonb columns); PostgreSQL's input functions convert
// them to the column types.
//
// No rows. An empty input is a valid load. For overwrite_partition it
// deletes the date's rows: the staged data is the whole truth about that
// date, so a rerun whose source no longer has rows for it must leave none
// (a row_count rule in a validate step is the guard against an empty
// extract by mistake). For append it removes this run's earlier attempt;
// for upsert it changes nothing.
//
// Thread-safety: LoadIntoPostgres() may run on several threads at once
// (each call opens its own connection).
#ifndef MR_MASTER_PIPELINE_POSTGRES_LOAD_H_
#define MR_MASTER_PIPELINE_POSTGRES_LOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mr {
namespace pipeline {

// What a load did. Counts are PostgreSQL's (a load that fails reports
// nothing: its transaction is rolled back).
struct LoadStats {
  int64_t rows_staged = 0;    // rows read from the staged files
  int64_t rows_inserted = 0;  // new rows in the target
  int64_t rows_updated = 0;   // upsert: existing rows rewritten
  int64_t rows_deleted = 0;   // overwrite_partition, append: rows replaced
};

struct PostgresLoad {
  // A libpq connection string (key=value or URI). Errors name only its
  // host, port and database (DescribeDsn(), postgres_util.h).
  std::string dsn;
  // "table" or "schema.table", each part a plain identifier, taken as
  // written (case-sensitive; see QuoteTableName()). The table must exist.
  std::string table;
  // "upsert", "overwrite_partition" or "append".
  std::string mode;
  // upsert: the columns of a unique index or constraint of the table
  // (exactly those columns, in any order; not partial, not deferrable).
  std::vector<std::string> key;
  // The pipeline's partition column ("dt"): required for
  // overwrite_partition, and filled in (when the table has it) in every
  // mode.
  std::string partition_column;
  std::string dt;      // the run's date, YYYY-MM-DD
  std::string run_id;  // required for append
  // The staged part files (JSON Lines), loaded in this order.
  std::vector<std::string> files;
};

// Loads `load.files` into the table; see the file comment. Errors (the
// target is unchanged after any of them):
//   InvalidArgument     a bad request (mode, table name, date, no key for
//                       upsert, no partition column for overwrite_partition,
//                       no run id for append); a row that names a column
//                       the table lacks ("FILE:LINE: column 'x' is not in
//                       table t"), has a null key (upsert) or another date
//                       (overwrite_partition); a value PostgreSQL refuses
//                       ("FILE:LINE: invalid input syntax ...") or that
//                       breaks a constraint; two rows with one key (upsert)
//   NotFound            the table does not exist ("table t does not exist in
//                       database d on host:port"); a staged file is missing
//   FailedPrecondition  the table does not fit the mode: upsert without a
//                       unique index or constraint on the key, append
//                       without a text column mr_run_id,
//                       overwrite_partition without the partition column
//   DataLoss            a staged line that is not one JSON object
//                       ("FILE:LINE: ...")
//   Unavailable         cannot connect, or the connection broke (retry);
//                       also when it broke during COMMIT (outcome unknown,
//                       and a retry is safe because the load is idempotent)
//   Aborted             a serialization failure or deadlock (retry)
absl::StatusOr<LoadStats> LoadIntoPostgres(const PostgresLoad& load);

}  // namespace pipeline
}  // namespace mr

#endif  // MR_MASTER_PIPELINE_POSTGRES_LOAD_H_
