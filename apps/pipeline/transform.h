// The built-in app "pipeline_transform": runs the declarative operations of
// a pipeline's transform step (PipelineStep::Transform, common/pipeline_spec.h)
// over staged tables (apps/pipeline/plan.h), as one to three MapReduce jobs.
//
// A step compiles to one job per operation that needs a shuffle, in the
// order of TransformPhases(); the operations that work row by row ride
// along in the job next to them:
//
//   phase        map                          reduce
//   "join"       keys rows by the on columns  joins, then filter and cast
//                                             (and rename, select when last)
//   "dedupe"     filter, cast (when first);   keeps the latest row of a key,
//                keys rows by the dedupe key  then rename, select when last
//   "aggregate"  filter, cast (when first);   merges the partial aggregates,
//                aggregates in memory, keyed  then rename, select
//                by the group_by values
//   "rows"       filter, cast, rename, select (a map-only job: the step has
//                no join, dedupe or aggregate)
// A job after the first reads the previous one's output (PlanTransform(),
// plan.h, puts it in the step's scratch directory).
//
// Parameters: "pipeline" (the pipeline YAML), "pipeline_file" (its name in
// errors; optional), "step", "dt" (the run's date), "phase" (one of
// TransformPhases()), and for "join" "left_inputs": how many of the job's
// inputs (JobSpec.inputs, from the first) are the left side's (default 1).
//
// Rows. A job reads JSON Lines whose lines are objects (a staged table), or
// CSV with a header (an extract step's files: every field is a string, an
// empty one null). It writes typed JSON objects (plan.h), one per line, as
// the key of an empty value. Values keep their JSON type; numbers keep
// their text as read, unless an operation makes a new one.
//
// Semantics (SQL's where it applies):
//  - A row missing a column an operation names fails the task, naming the
//    column, the file and the byte offset of the row: transform steps read
//    validated data, so this is a pipeline bug. The one exception is the
//    partition column (PipelineSpec::partition_column): a row without it
//    reads it as the run's date (a string); cast, rename and select then
//    add it to the row.
//  - join: equal on values match (numbers by value: 1, 1.0 and 1e0 are
//    equal; a number never equals a string); a null on value matches
//    nothing. A joined row has the left row's columns, then the right's
//    that the left lacks (a clash keeps the left's value). A left join
//    keeps an unmatched left row, with the right's columns null (the
//    partition column: the run's date) when they are known from the
//    pipeline (the right step is a validate step, or a transform whose
//    columns follow from its own), and without them otherwise. The right
//    rows of one key are held in memory: make the smaller table the right
//    one. (A left join's left rows with a null on value all go to one
//    reduce.)
//  - filter: a comparison with a null value is false (so is !=), except
//    "== null" and "!= null". Numbers compare by exact decimal value,
//    strings byte by byte (timestamps by instant), false < true. Comparing
//    a string column with a number (or the other way round) fails the
//    task, except that a string holding a number compares as that number.
//  - cast: a value's text is read as the schema reads a field of the type
//    (apps/pipeline/rows.h), so a cast never rounds: 1.505 to
//    decimal(12,2) fails the task. Null stays null. To string: a number's
//    or a bool's text.
//  - dedupe: per key (numbers by value), the row with the greatest
//    latest_by value (null is the least); a tie goes to the row whose JSON
//    text is the greatest byte-wise, so the result never depends on the
//    order rows arrive in.
//  - aggregate: per distinct group_by values (as written: staged data
//    writes each column's numbers alike), nulls ignored as in SQL:
//    sum_X is the exact sum of the column's numbers as decimals, written
//    with the largest scale among them (0.10 + 0.20 = 0.30; integers sum
//    to an integer), or, when a number has more than 38 significant digits
//    or an exponent beyond them, as a double; a sum that leaves 128 bits
//    (about 38 digits) fails the task. min_X, max_X keep the value as written. avg_X is the exact
//    sum divided by the count of non-null values, as a double written with
//    the fewest digits (at most 17) that read back the same. A column of
//    only nulls gives null. count is the number of rows. The map aggregates
//    in memory (flushing every 100000 groups) and a combiner merges the
//    partial aggregates.
//
// Thread-safety: as any Job, one thread per instance.
#ifndef MR_APPS_PIPELINE_TRANSFORM_H_
#define MR_APPS_PIPELINE_TRANSFORM_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/pipeline_spec.h"
#include "mr/mapreduce.h"

namespace mr {
namespace pipeline {

// The jobs a transform step runs, in order: "join" when it joins, "dedupe"
// when it dedupes, "aggregate" when it aggregates, or just "rows" when it
// does none of these.
std::vector<std::string> TransformPhases(const PipelineStep::Transform& transform);

class PipelineTransform : public Job {
 public:
  PipelineTransform();
  ~PipelineTransform() override;

  std::string Setup(const std::map<std::string, std::string>& params) override;
  JobTraits Traits() const override;
  void Map(const InputRecord& record, Context& ctx) override;
  void Reduce(std::string_view key, ValueIterator& values, Context& ctx) override;
  void Finish(Context& ctx) override;
  bool HasCombiner() const override;
  void Combine(std::string_view key, ValueIterator& values, Context& ctx) override;
  // "join": the key without its last byte (which side the row is from), so
  // that a key's right rows reach the reduce before its left rows.
  std::string_view GroupKey(std::string_view key) const override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pipeline
}  // namespace mr

#endif  // MR_APPS_PIPELINE_TRANSFORM_H_
