#include "apps/pipeline/internal/decimal.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace mr {
namespace pipeline {
namespace internal {
namespace {

using uint128 = unsigned __int128;

int128 Pow10(int n) {
  int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool ParseDecimal(std::string_view s, Decimal* d) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  int128 v = 0;
  int digits = 0;
  int64_t fraction = 0;
  bool any = false;
  auto take = [&](char c) {
    any = true;
    if (v == 0 && c == '0') return true;  // a leading zero
    if (++digits > kMaxDecimalDigits) return false;
    v = v * 10 + (c - '0');
    return true;
  };
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (!take(s[i])) return false;
  }
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && IsDigit(s[i]); ++i, ++fraction) {
      if (!take(s[i])) return false;
    }
  }
  if (!any) return false;
  int64_t exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) exp_negative = s[i++] == '-';
    if (i == s.size()) return false;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      exponent = std::min<int64_t>(exponent * 10 + (s[i] - '0'), 100000);
    }
    if (exp_negative) exponent = -exponent;
  }
  if (i != s.size()) return false;
  int64_t scale = fraction - exponent;
  if (scale < 0) {
    if (v != 0) {
      if (digits - scale > kMaxDecimalDigits) return false;
      v *= Pow10(static_cast<int>(-scale));
    }
    scale = 0;
  }
  while (scale > kMaxDecimalDigits && v != 0 && v % 10 == 0) {
    v /= 10;
    --scale;
  }
  if (v == 0) scale = std::min<int64_t>(scale, kMaxDecimalDigits);
  if (scale > kMaxDecimalDigits) return false;
  d->unscaled = negative ? -v : v;
  d->scale = static_cast<int>(scale);
  return true;
}

bool Rescale(Decimal* d, int scale) {
  if (scale <= d->scale) return scale == d->scale;
  int128 r = 0;
  if (scale - d->scale > kMaxDecimalDigits ||
      __builtin_mul_overflow(d->unscaled, Pow10(scale - d->scale), &r)) {
    return false;
  }
  d->unscaled = r;
  d->scale = scale;
  return true;
}

std::string FormatDecimal(const Decimal& d) {
  uint128 mag = d.unscaled < 0 ? -static_cast<uint128>(d.unscaled)
                               : static_cast<uint128>(d.unscaled);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(mag % 10)));
    mag /= 10;
  } while (mag != 0);
  while (digits.size() < static_cast<size_t>(d.scale) + 1) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  std::string out = d.unscaled < 0 ? "-" : "";
  out.append(digits, 0, digits.size() - d.scale);
  if (d.scale > 0) {
    out.push_back('.');
    out.append(digits, digits.size() - d.scale, d.scale);
  }
  return out;
}

long double ToLongDouble(const Decimal& d) {
  return static_cast<long double>(d.unscaled) / static_cast<long double>(Pow10(d.scale));
}

double ParseDouble(std::string_view s) {
  const std::string copy(s);
  return std::strtod(copy.c_str(), nullptr);
}

std::string FormatDouble(double v) {
  char buf[40];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

int CompareNumbers(std::string_view a, std::string_view b) {
  Decimal da, db;
  if (ParseDecimal(a, &da) && ParseDecimal(b, &db)) {
    const int scale = std::max(da.scale, db.scale);
    if (Rescale(&da, scale) && Rescale(&db, scale)) {
      return da.unscaled < db.unscaled ? -1 : da.unscaled > db.unscaled ? 1 : 0;
    }
    const long double x = ToLongDouble(da), y = ToLongDouble(db);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const double x = ParseDouble(a), y = ParseDouble(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

std::string CanonicalNumber(std::string_view s) {
  Decimal d;
  if (!ParseDecimal(s, &d)) return FormatDouble(ParseDouble(s));
  while (d.scale > 0 && d.unscaled % 10 == 0) {
    d.unscaled /= 10;
    --d.scale;
  }
  return FormatDecimal(d);
}

bool Sum::AddDecimal(Decimal d) {
  if (!any) {
    dec = d;
    any = true;
    return true;
  }
  const int scale = std::max(dec.scale, d.scale);
  int128 r = 0;
  if (!Rescale(&dec, scale) || !Rescale(&d, scale) ||
      __builtin_add_overflow(dec.unscaled, d.unscaled, &r)) {
    return false;
  }
  dec.unscaled = r;
  return true;
}

bool Sum::Add(std::string_view number) {
  Decimal d;
  if (exact && ParseDecimal(number, &d)) return AddDecimal(d);
  if (exact) {
    approx = any ? static_cast<double>(ToLongDouble(dec)) : 0;
    exact = false;
  }
  approx += ParseDouble(number);
  any = true;
  return true;
}

bool Sum::Merge(const Sum& o) {
  if (!o.any) return true;
  if (!any) {
    *this = o;
    return true;
  }
  if (exact && o.exact) return AddDecimal(o.dec);
  approx = AsDouble() + o.AsDouble();
  exact = false;
  return true;
}

double Sum::AsDouble() const {
  return exact ? static_cast<double>(ToLongDouble(dec)) : approx;
}

std::string Sum::Text() const { return exact ? FormatDecimal(dec) : FormatDouble(approx); }

}  // namespace internal
}  // namespace pipeline
}  // namespace mr
