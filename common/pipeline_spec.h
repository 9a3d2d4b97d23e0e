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
// The only template variable in paths, queries and tables is {{dt}}.
#ifndef MR_COMMON_PIPELINE_SPEC_H_
#define MR_COMMON_PIPELINE_SPEC_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
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
