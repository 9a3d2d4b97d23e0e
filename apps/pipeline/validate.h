// pipeline_validate: the job a pipeline's validate step compiles to
// (PlanValidate(), apps/pipeline/plan.h). It checks every row of the step's
// input against the step's schema and row rules, writes the passing rows as
// the step's staged table (typed JSON Lines, plan.h) and, with
// `dead_letter: true`, each failing row to the side output "dead_letter".
//
// Shape. Without a unique rule every rule judges a row alone: the job is
// map-only (Traits()), each map writing part-m-NNNNN and dead_letter-m-NNNNN.
// With one, rows are shuffled by their unique key and the reduces write
// part-r-NNNNN and dead_letter-r-NNNNN; a passing row from an uncompressed
// file travels as its JSON and its record's size only (its file and offset
// are in its key), and the reduce reads its record back from the file, and
// counts its line, only when it turns out a duplicate.
//
// Parameters:
//   pipeline=YAML        the pipeline file's text (required)
//   step=NAME            the validate step (required)
//   dt=YYYY-MM-DD        the run's logical date (required)
//   pipeline_file=NAME   the pipeline's file name, for error messages
//   input_format=csv|jsonl  how the input is read (PlanValidate() sets it):
//                       with csv, a record with more fields than its file's
//                       header fails the schema rule.
//
// Input: CSV with a header row, or JSON Lines (an extract step's raw rows,
// or a staged table's typed ones); each record's columns are found by name.
// Text input has no columns: a map that gets a text record fails its task.
// (Malformed CSV or JSON records never reach the job: the engine skips and
// reports them.)
//
// Rules, checked on each row:
//   schema           each schema column present and parseable as its type
//                    (apps/pipeline/rows.h). A CSV row with more fields
//                    than the header fails it too; so does a JSON line that
//                    is not an object.
//   not_null         the listed columns are not null (empty).
//   range            min <= value <= max, numerically (int64, double and
//                    decimal columns only).
//   accepted_values  the value is one of the values, compared as typed
//                    values: each accepted value is parsed as the column's
//                    type, so for an int64 column 7 accepts "007", for a
//                    decimal(12,2) 1.5 accepts "1.50", for a bool true
//                    accepts "T".
//   regex            RE2::PartialMatch of the pattern against the value's
//                    text (rows.h's Value::text: for a timestamp its UTC
//                    rendering): a search, so anchor it with ^...$ to
//                    match the whole value.
//   unique           (at most one per step) rows with the same values in
//                    the columns: the first in input order, by (file path,
//                    byte offset), passes the rule, every later one fails
//                    it, whatever other rules they fail. A row with a null
//                    or unparseable key column is not checked.
// A null value passes range, accepted_values and regex (only not_null
// checks nulls); a value that failed the schema is checked by no other rule.
// row_count and freshness are not row rules: the pipeline runner judges
// them from the job's counters.
//
// Output. Each passing row is one line of the output: a JSON object with
// the schema's columns in schema order, then the partition column
// (PipelineSpec::partition_column) set to `dt` unless the schema has it (a
// null one is set to `dt`). Each failing row, when the step has
// dead_letter, is one line of the side output "dead_letter":
//   {"file":"/in/orders.csv","line":7,"offset":412,"record":"...",
//    "rules":["schema: amount: 'x' is not a decimal(12,2)","not_null(user_id)"]}
// `line` is the record's first physical line in the file (1-based; 0 for a
// compressed or unreadable file), `record` the record's bytes as in the file
// without its line end. The rule labels, the schema's first, then the
// others' in the order of the step's rules:
//   "schema: REASON"                   one per failing column (rows.h's
//                                      reasons, or "COLUMN: missing"), after
//                                      "schema: 5 fields where the header
//                                      has 4" or "schema: not a JSON object"
//   "not_null(COL)"                    one per null column
//   "range(COL): V is below MIN" / "range(COL): V is above MAX"
//   "accepted_values(COL): 'V'"
//   "regex(COL): 'V' does not match PATTERN"
//   "unique(COL1, COL2)"
// (values quoted from the row are cut at 40 bytes, rows.h's Excerpt()).
//
// Counters: "rows" (rows read, by the maps), and from the reduces (the
// maps, when map-only) "rows passed", "rows failed" (failing at least one rule), "rule schema failed"
// and "rule N failed" for each row rule (N its 0-based index in the step's
// rules; rows that fail it), all present even when zero; and for each
// freshness rule N, "max freshness N epoch seconds": the newest value of its
// column among rows that pass the schema (a date counts as its midnight in
// the pipeline's timezone), from the maps; absent when there is none.
//
// Shuffle: a row checked for uniqueness is keyed by its unique values then
// its (file, offset), and GroupKey() groups by the values alone, so a
// key's rows reach Reduce() in input order and a hot key costs no memory;
// every other row gets a key of its own (map index, sequence number), which
// spreads them over the reduces.
//
// Thread-safety: one instance per task, called from one thread (mr::Job).
#ifndef MR_APPS_PIPELINE_VALIDATE_H_
#define MR_APPS_PIPELINE_VALIDATE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "apps/pipeline/rows.h"
#include "common/pipeline_spec.h"
#include "mr/mapreduce.h"

namespace mr {
namespace pipeline {

class PipelineValidate : public Job {
 public:
  PipelineValidate();
  ~PipelineValidate() override;

  std::string Setup(const std::map<std::string, std::string>& params) override;
  void Map(const InputRecord& record, Context& ctx) override;
  void Reduce(std::string_view key, ValueIterator& values, Context& ctx) override;
  void Finish(Context& ctx) override;
  // Map-only without a unique rule: every other rule judges a row alone,
  // so the maps write the rows and dead letters themselves, no shuffle.
  JobTraits Traits() const override;
  // A unique key's rows share a group, their keys sorted by (file, offset).
  std::string_view GroupKey(std::string_view key) const override;

 private:
  struct Column {
    std::string name;
    ColumnType type;
    std::string member;  // `"name":`, the output object's member prefix
  };
  struct RowRule;
  struct Freshness {
    size_t rule = 0;    // index in the step's rules
    size_t column = 0;  // index in columns_
    bool seen = false;
    int64_t newest = 0;  // epoch seconds
  };
  // One reason a row fails.
  struct Failure {
    int rule = -1;  // index in the step's rules; -1: the schema
    std::string label;
  };
  struct ShuffledRow;  // a shuffle value, decoded (validate.cc)
  class LineCounter;

  // Compiles the step's rules into rules_, freshness_ and unique_; a
  // message (prefixed with `where`) when one cannot be checked.
  std::string SetupRules(const PipelineStep& step, const std::string& where);
  // Parses the record's columns into values_/parsed_, appending the
  // schema's failures to failures_.
  void CheckSchema(const InputRecord& record);
  // Appends to failures_ the row's failures of every row rule but unique.
  void CheckRules();
  // The passing row's JSON object into json_.
  void RenderRow();
  // Writes one row: its JSON when it passes, else counts its failures
  // (plus unique's when `duplicate`) and writes its dead letter.
  void ReduceRow(const ShuffledRow& row, bool duplicate, Context& ctx);
  // Reads `size` bytes at `offset` of `file`: a kPassingAt row's record.
  static absl::Status ReadRecord(const std::string& file, uint64_t offset,
                                 uint64_t size, std::string* record);

  // Constant after Setup().
  std::string step_name_;
  std::string dt_;
  std::string partition_column_;
  int partition_index_ = -1;      // in columns_; -1: not in the schema
  std::string partition_member_;  // `,"dt":"2026-11-01"`
  bool dead_letter_ = false;
  bool csv_ = false;    // input_format=csv
  bool jsonl_ = false;  // input_format=jsonl
  absl::TimeZone tz_;
  std::vector<Column> columns_;
  std::vector<std::unique_ptr<RowRule>> rules_;  // the row rules, in order
  const RowRule* unique_ = nullptr;              // in rules_, or null
  size_t num_rules_ = 0;                         // the step's rules, all kinds

  // Map state.
  std::vector<Freshness> freshness_;
  std::vector<Value> values_;      // this row's, by column
  std::vector<char> parsed_;       // whether values_[i] parsed
  std::vector<Failure> failures_;  // this row's
  std::unique_ptr<LineCounter> lines_;
  bool map_only_ = false;  // no unique rule: see Traits()
  int64_t rows_ = 0;
  uint64_t sequence_ = 0;  // rows this map emitted, for spread keys
  std::string key_, value_, json_;

  // Reduce state.
  std::unique_ptr<ShuffledRow> row_;  // decoded values, reused
  int64_t passed_ = 0, failed_ = 0;
  std::vector<int64_t> rule_failures_;  // [0] the schema, [N + 1] rule N
  std::vector<char> row_seen_;          // per row: rule already counted
};

}  // namespace pipeline
}  // namespace mr

#endif  // MR_APPS_PIPELINE_VALIDATE_H_
