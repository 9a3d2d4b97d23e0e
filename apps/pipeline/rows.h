// Typed values of pipeline rows: the codec every pipeline job shares between
// the text of a field (a CSV field, a JSON Lines member's value) and the
// typed JSON of the staged-data contract (apps/pipeline/plan.h).
//
// Column types (PipelineStep::schema) and the text each accepts:
//   int64          [+-]digits, in int64's range.            JSON: 42
//   double         a decimal or scientific number, finite.  JSON: the
//                  shortest text that reads back the same (0.1, 1e+300)
//   decimal(P,S)   [+-]digits[.digits] (no exponent), at most P-S digits
//                  before the point (leading zeros aside); digits after the
//                  point beyond S are accepted only when they are zeros
//                  (1.500 is decimal(12,2)'s 1.50; 1.505 is refused: a
//                  validation never rounds). JSON: a number with exactly S
//                  fraction digits, "-" only when not zero (-0.5 -> -0.50)
//   bool           true, false, t, f, 1, 0 (any case).      JSON: true/false
//   date           YYYY-MM-DD, a real day.                   JSON: "2026-11-01"
//   timestamp      YYYY-MM-DD[T ]HH:MM:SS[.fraction], then Z, +HH:MM,
//                  +HHMM or +HH (RFC 3339 / ISO 8601), or nothing: then it
//                  is a local time of the pipeline's timezone (a skipped or
//                  repeated local time takes the offset in force before the
//                  change, absl::FromCivil()). JSON: UTC,
//                  "2026-11-01T10:00:00Z", with the fraction only when it
//                  is not zero ("...:00.25Z")
//   string         any bytes.                                JSON: a string
//                  (JsonString(), common/names.h)
// Surrounding ASCII whitespace is ignored for every type but string. An
// empty field (for a non-string, one of whitespace only) is null; so is a
// JSON null, which RecordFields::value() gives as "". A JSON string "" is
// therefore null too.
//
// Thread-safety: plain functions and values.
#ifndef MR_APPS_PIPELINE_ROWS_H_
#define MR_APPS_PIPELINE_ROWS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mr {
namespace pipeline {

enum class ColumnKind { kInt64, kDouble, kDecimal, kBool, kDate, kTimestamp, kString };

struct ColumnType {
  ColumnKind kind = ColumnKind::kString;
  int precision = 0;  // decimal: P, the most digits in all
  int scale = 0;      // decimal: S, the digits after the point
  std::string name;   // as a schema writes it: "int64", "decimal(12,2)"
};

// Parses a schema type ("int64", "decimal(12, 2)"); InvalidArgument
// otherwise. (ParsePipeline() accepts exactly these.)
absl::StatusOr<ColumnType> ParseColumnType(absl::string_view text);

// Whether range rules apply: int64, double, decimal.
bool IsNumeric(ColumnKind kind);

// One parsed value. Reused from row to row without reallocating.
struct Value {
  bool null = true;
  // The value as rules and keys see it, and as the JSON holds it (strings
  // and dates unquoted and unescaped): "42", "12.50", "true", "2026-11-01",
  // "2026-11-01T10:00:00Z", the string itself. Empty when null.
  std::string text;
  // int64, double, decimal: the value (decimals and large int64s
  // approximated); bool: 1 or 0; date, timestamp: as epoch seconds.
  double number = 0;
  // date: the start of the day in the pipeline's timezone; timestamp: the
  // instant, rounded down to the second. 0 for the other types.
  int64_t epoch_seconds = 0;
};

// Parses `raw` as a value of `type`, in `tz` (the pipeline's timezone, for
// timestamps without an offset and for dates' epoch seconds). On error,
// InvalidArgument with a short reason that names `column` and quotes the
// text (cut at 40 bytes): "amount: 'abc' is not a decimal(12,2)"; *value is
// then unspecified.
absl::Status ParseValue(absl::string_view column, const ColumnType& type,
                        absl::string_view raw, const absl::TimeZone& tz,
                        Value* value);

// Appends `value`'s JSON (null, a number, true/false or a string).
void AppendJson(const ColumnType& type, const Value& value, std::string* out);

// `v` as the shortest of "%.15g" and "%.17g" that reads back as `v`
// ("0.1", "100", "1e+21"): valid JSON for a finite `v`.
std::string FormatNumber(double v);

// `s` cut to at most `max_bytes` bytes, at a UTF-8 character boundary,
// with "..." added when cut: for quoting values in reasons.
std::string Excerpt(absl::string_view s, size_t max_bytes = 40);

}  // namespace pipeline
}  // namespace mr

#endif  // MR_APPS_PIPELINE_ROWS_H_
