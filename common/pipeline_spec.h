// The pipeline file (issue #8): a YAML description of an ETL pipeline, its
// partition (a logical date) and its steps, a DAG. This is the parsed and
// checked form that `mrctl pipeline check` prints and the master will run.
//
//   pipeline: orders_daily
//   partition: {column: dt, timezone: UTC}
//   steps:
//     - name: orders
//       extract: {files: "/data/raw/orders/dt={{dt}}/*.csv", format: csv}
//     - name: orders_ok
//       validate:
//         input: orders
//         schema: {order_id: int64, amount: "decimal(12,2)", status: string}
//         rules:
//           - {not_null: [order_id]}
//           - {accepted_values: {column: status, values: [paid, refunded]}}
//         error_if: "> 0.5%"
//     - name: load_orders
//       load:
//         input: orders_ok
//         postgres: {dsn_env: DW_DSN, table: orders, mode: upsert, key: [order_id]}
//
// Every error names the file, line and column (1-based) of the node at
// fault, e.g. "p.yaml:7:9: step 'x': unknown key 'inptu' (expected ...)".
// The only template variable in paths, queries and tables is the partition
// column, {{dt}} for `column: dt` (spaces inside the braces allowed):
// ExpandTemplate() replaces it with a run's date.
#ifndef MR_COMMON_PIPELINE_SPEC_H_
#define MR_COMMON_PIPELINE_SPEC_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mr {

// "> 10" (a count of failing rows) or "> 0.5%" (a share of the rows).
struct RowThreshold {
  bool percent = false;
  double value = 0;
};

struct PipelineStep {
  enum class Kind { kExtract, kValidate, kTransform, kLoad };

  std::string name;
  Kind kind = Kind::kExtract;
  int line = 0;  // of the step's "name" (1-based)
  // Steps this one reads or waits for: `after`, then the kind's inputs
  // (validate/transform/load `input`, a join's `left` and `right`), without
  // repeats.
  std::vector<std::string> depends_on;
  // validate and load: the step whose rows this one reads (also in
  // depends_on). Transform steps keep theirs in `transform`.
  std::string input;
  int retries = 2;
  absl::Duration retry_delay = absl::Seconds(10);
  absl::Duration timeout = absl::Hours(1);

  // extract: files (a glob) in a format, or a PostgreSQL table or query.
  std::string files;
  std::string format;  // text, csv, jsonl (extract files, load files)
  std::string postgres_dsn_env;
  std::string postgres_table;
  std::string postgres_query;

  // validate
  std::vector<std::pair<std::string, std::string>> schema;  // column, type
  struct Rule {
    std::string kind;  // not_null, unique, range, accepted_values, regex,
                       // row_count, freshness
    std::vector<std::string> columns;
    std::optional<double> min, max, max_growth;
    std::vector<std::string> values;
    std::string pattern;
    absl::Duration max_age;
    int line = 0;
  };
  std::vector<Rule> rules;
  std::optional<RowThreshold> error_if, warn_if;
  bool dead_letter = false;

  // transform: the declarative operations of one step on its input's rows
  // (apps/pipeline/transform.h runs them). Whatever order the YAML lists
  // them in, they apply in this one:
  //   1. join       the rows of `left` with those of `right` (instead of
  //                 `input`)
  //   2. filter     keeps the rows that pass every comparison (AND)
  //   3. cast       converts columns to schema types
  //   4. dedupe     keeps one row per key: the greatest latest_by
  //   5. aggregate  one row per group_by value
  //   6. rename     renames columns (all at once, so {a: b, b: a} swaps)
  //   7. select     keeps only these columns, in this order
  // Parsing checks the names and literals; which columns a row has is known
  // only when the rows are read (a missing one fails the job), except after
  // an aggregate, whose columns are known: there rename and select are
  // checked against them.
  struct Transform {
    // One filter comparison, "COLUMN OP LITERAL": "amount > 0",
    // "status == 'paid'", "country != null". A string literal is in single
    // quotes, a quote inside it doubled ('it''s'); a number is written as
    // in JSON; null only goes with == and != (is null, is not null).
    struct Comparison {
      enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };
      enum class Literal { kNumber, kString, kBool, kNull };
      std::string column;
      Op op = Op::kEq;
      Literal literal = Literal::kNull;
      // A number as written, a string unquoted, "true" or "false"; empty for
      // null.
      std::string value;
      std::string text;  // the comparison as written, for messages
    };
    struct Join {
      std::string left, right;      // step names
      std::vector<std::string> on;  // columns both sides have
      bool left_outer = false;      // type: left (default: inner)
    };
    struct Dedupe {
      std::vector<std::string> key;
      std::string latest_by;
    };
    // Output columns: AggregateColumns().
    struct Aggregate {
      std::vector<std::string> group_by;
      std::vector<std::string> sum, min, max, avg;
      std::string count;  // the name of the row count's column; "" for none
    };

    // A job of its own: a built-in app (wordcount, grep, streaming, ...)
    // run over the input step's rows, with its parameters ({{dt}}
    // replaced) and reduces (0: the engine's default). Its output is the
    // step's staged table: each record (key, value) one row
    // {"key": ..., "value": ...}. Alone in its step (no other operation).
    struct Job {
      std::string app;
      std::vector<std::pair<std::string, std::string>> params;
      uint32_t reduces = 0;
    };

    std::string input;            // the step read, when there is no join
    std::optional<Join> join;
    std::vector<Comparison> filter;
    std::vector<std::pair<std::string, std::string>> cast;  // column, type
    std::optional<Dedupe> dedupe;
    std::optional<Aggregate> aggregate;
    std::vector<std::pair<std::string, std::string>> rename;  // old, new
    std::vector<std::string> select;  // empty: every column
    std::optional<Job> job;
  };
  Transform transform;

  // load: into PostgreSQL or files, in a mode (upsert needs key).
  std::string mode;  // upsert, overwrite_partition, append
  std::vector<std::string> key;
  std::string path;  // load files
};

struct PipelineSpec {
  std::string name;
  std::string partition_column;
  std::string timezone;  // "UTC" or an IANA zone name
  std::vector<PipelineStep> steps;  // in an order that respects depends_on
};

const char* StepKindName(PipelineStep::Kind kind);

// Whether `dt` is a calendar date written YYYY-MM-DD (years 0001 to 9999):
// a run's logical date.
bool IsIsoDate(std::string_view dt);

// `text` (a path, query, table or job parameter of `spec`) with every
// {{COLUMN}} of the partition column, as ParsePipeline() accepts it,
// replaced by `dt`; any other text is kept as it is.
std::string ExpandTemplate(std::string_view text, const PipelineSpec& spec,
                           std::string_view dt);

// The columns an aggregate writes, in order: the group_by columns, then
// sum_X for each X of sum, then min_X, max_X, avg_X likewise, then count's
// name (when set).
std::vector<std::string> AggregateColumns(
    const PipelineStep::Transform::Aggregate& aggregate);

// Parses and checks pipeline YAML text; `file` names it in errors. Errors
// are InvalidArgument "FILE:LINE:COL: reason", escaped to one line of
// printable text (EscapeName(), common/names.h).
absl::StatusOr<PipelineSpec> ParsePipeline(const std::string& yaml,
                                           const std::string& file);

// Reads `path` and parses it; a missing or unreadable file is NotFound or
// DataLoss naming the path (escaped, as in every error here).
absl::StatusOr<PipelineSpec> LoadPipelineFile(const std::string& path);

}  // namespace mr

#endif  // MR_COMMON_PIPELINE_SPEC_H_
