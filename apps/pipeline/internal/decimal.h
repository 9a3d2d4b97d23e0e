// Numbers of pipeline transforms (apps/pipeline/transform.h), as JSON
// writes them: read exactly as 128-bit scaled integers while they have at
// most 38 significant digits, as doubles beyond. Sums of decimals are
// exact (0.10 + 0.20 is 0.30), comparisons of decimals too.
//
// Thread-safety: plain functions and values.
#ifndef MR_APPS_PIPELINE_INTERNAL_DECIMAL_H_
#define MR_APPS_PIPELINE_INTERNAL_DECIMAL_H_

#include <string>
#include <string_view>

namespace mr {
namespace pipeline {
namespace internal {

using int128 = __int128;

inline constexpr int kMaxDecimalDigits = 38;

// unscaled / 10^scale, with 0 <= scale <= 38.
struct Decimal {
  int128 unscaled = 0;
  int scale = 0;
};

// Parses a number's text (common/names.h IsJsonNumber(), or with a leading
// '+') exactly, its scale the digits after the point less the exponent ("1.50" is 150
// at scale 2, "1.5e3" 1500 at scale 0); false when it is not a number or
// needs more than 38 significant or fraction digits.
bool ParseDecimal(std::string_view s, Decimal* d);

// Raises d's scale to `scale` (>= d->scale); false when the value would
// leave 128 bits.
bool Rescale(Decimal* d, int scale);

// "-12.50": exactly d.scale digits after the point, none when 0.
std::string FormatDecimal(const Decimal& d);

long double ToLongDouble(const Decimal& d);
double ParseDouble(std::string_view s);  // strtod()

// The fewest significant digits (15 to 17) that read back as `v`.
std::string FormatDouble(double v);

// -1, 0 or 1: exact when both parse as Decimals (and the larger scale
// fits), else as doubles.
int CompareNumbers(std::string_view a, std::string_view b);

// The one spelling of a number's value, for keys that match numbers by
// value: "1", "1.0" and "1e0" all give "1".
std::string CanonicalNumber(std::string_view s);

// A sum of numbers: exact while every one parses as a Decimal (the scale
// is the largest seen), a double after the first that does not.
struct Sum {
  bool any = false;  // a number was added
  bool exact = true;
  Decimal dec;        // when exact
  double approx = 0;  // when !exact

  // Adds a number's text; false when the exact sum would leave 128 bits.
  bool Add(std::string_view number);
  bool AddDecimal(Decimal d);
  // Adds another sum; false as Add().
  bool Merge(const Sum& other);
  double AsDouble() const;
  // FormatDecimal() when exact, else FormatDouble().
  std::string Text() const;
};

}  // namespace internal
}  // namespace pipeline
}  // namespace mr

#endif  // MR_APPS_PIPELINE_INTERNAL_DECIMAL_H_
