#include "apps/pipeline/rows.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/names.h"

namespace mr {
namespace pipeline {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The article a type's name takes in "is not a(n) TYPE".
const char* Article(const ColumnType& type) {
  return type.kind == ColumnKind::kInt64 ? "an" : "a";
}

absl::Status NotA(absl::string_view column, const ColumnType& type,
                  absl::string_view raw, absl::string_view why = {}) {
  return absl::InvalidArgumentError(
      absl::StrCat(column, ": '", Excerpt(raw), "' is not ", Article(type), " ",
                   type.name, why.empty() ? "" : ": ", why));
}

// `n` digits at s[at], as a number; false when any is not a digit.
bool Digits(absl::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!IsDigit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// "YYYY-MM-DD" at the start of `s`, a real day of years 1 to 9999.
bool ParseDay(absl::string_view s, absl::CivilDay* day) {
  int y = 0, m = 0, d = 0;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &y) ||
      !Digits(s, 5, 2, &m) || !Digits(s, 8, 2, &d) || y < 1) {
    return false;
  }
  // CivilDay normalizes (2026-02-30 becomes 2026-03-02): a real day is one
  // that comes back unchanged.
  const absl::CivilDay c(y, m, d);
  if (c.year() != y || c.month() != m || c.day() != d) return false;
  *day = c;
  return true;
}

absl::Status ParseDecimal(absl::string_view column, const ColumnType& type,
                          absl::string_view s, Value* value) {
  absl::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  size_t i = 0;
  while (i < body.size() && IsDigit(body[i])) ++i;
  absl::string_view whole = body.substr(0, i);
  absl::string_view fraction;
  if (i < body.size() && body[i] == '.') {
    size_t j = i + 1;
    while (j < body.size() && IsDigit(body[j])) ++j;
    fraction = body.substr(i + 1, j - i - 1);
    i = j;
  }
  if (i != body.size() || (whole.empty() && fraction.empty())) {
    return NotA(column, type, s);
  }
  while (whole.size() > 1 && whole[0] == '0') whole.remove_prefix(1);
  if (whole == "0") whole = {};
  const size_t max_whole = static_cast<size_t>(type.precision - type.scale);
  if (whole.size() > max_whole) {
    return NotA(column, type, s,
                absl::StrCat("more than ", max_whole, " digits before the point"));
  }
  const size_t scale = static_cast<size_t>(type.scale);
  if (fraction.size() > scale) {
    // Trailing zeros are exact; anything else would need rounding.
    if (fraction.substr(scale).find_first_not_of('0') != absl::string_view::npos) {
      return NotA(column, type, s,
                  absl::StrCat("more than ", scale, " digits after the point"));
    }
    fraction = fraction.substr(0, scale);
  }
  const bool zero = whole.empty() &&
                    fraction.find_first_not_of('0') == absl::string_view::npos;
  std::string& t = value->text;
  t.clear();
  if (negative && !zero) t.push_back('-');
  if (whole.empty()) {
    t.push_back('0');
  } else {
    t.append(whole.data(), whole.size());
  }
  if (scale > 0) {
    t.push_back('.');
    t.append(fraction.data(), fraction.size());
    t.append(scale - fraction.size(), '0');
  }
  value->number = std::strtod(t.c_str(), nullptr);
  return absl::OkStatus();
}

absl::Status ParseTimestamp(absl::string_view column, const ColumnType& type,
                            absl::string_view s, const absl::TimeZone& tz,
                            Value* value) {
  absl::CivilDay day;
  int hh = 0, mm = 0, ss = 0;
  if (!ParseDay(s, &day) || s.size() < 19 ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':' || !Digits(s, 11, 2, &hh) || !Digits(s, 14, 2, &mm) ||
      !Digits(s, 17, 2, &ss) || hh > 23 || mm > 59 || ss > 59) {
    return NotA(column, type, s);
  }
  size_t at = 19;
  int64_t nanos = 0;
  if (at < s.size() && s[at] == '.') {
    size_t digits = 0;
    for (++at; at < s.size() && IsDigit(s[at]); ++at, ++digits) {
      if (digits == 9) return NotA(column, type, s, "more than 9 fraction digits");
      nanos = nanos * 10 + (s[at] - '0');
    }
    if (digits == 0) return NotA(column, type, s);
    for (; digits < 9; ++digits) nanos *= 10;
  }
  const absl::CivilSecond local(day.year(), day.month(), day.day(), hh, mm, ss);
  absl::Time t;
  if (at == s.size()) {
    t = absl::FromCivil(local, tz);
  } else {
    int offset_seconds = 0;
    if (s[at] == 'Z' || s[at] == 'z') {
      ++at;
    } else if (s[at] == '+' || s[at] == '-') {
      const int sign = s[at] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      ++at;
      if (!Digits(s, at, 2, &oh)) return NotA(column, type, s);
      at += 2;
      // +HH, +HHMM or +HH:MM.
      if (at < s.size()) {
        if (s[at] == ':') ++at;
        if (!Digits(s, at, 2, &om)) return NotA(column, type, s);
        at += 2;
      }
      if (oh > 23 || om > 59) return NotA(column, type, s);
      offset_seconds = sign * (oh * 3600 + om * 60);
    }
    if (at != s.size()) return NotA(column, type, s);
    t = absl::FromCivil(local, absl::UTCTimeZone()) - absl::Seconds(offset_seconds);
  }
  t += absl::Nanoseconds(nanos);
  const absl::CivilSecond utc = absl::ToCivilSecond(t, absl::UTCTimeZone());
  if (utc.year() < 1 || utc.year() > 9999) {
    return NotA(column, type, s, "outside years 1 to 9999 in UTC");
  }
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d",
                static_cast<int>(utc.year()), utc.month(), utc.day(),
                utc.hour(), utc.minute(), utc.second());
  std::string& text = value->text;
  text = buf;
  if (nanos != 0) {
    // The fraction of the UTC instant is the input's (offsets are whole
    // minutes): nine digits, trailing zeros dropped.
    std::snprintf(buf, sizeof(buf), ".%09lld", static_cast<long long>(nanos));
    absl::string_view f(buf);
    while (f.back() == '0') f.remove_suffix(1);
    text.append(f.data(), f.size());
  }
  text.push_back('Z');
  value->epoch_seconds = absl::ToUnixSeconds(t);
  value->number = static_cast<double>(value->epoch_seconds);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ColumnType> ParseColumnType(absl::string_view text) {
  static const struct {
    const char* name;
    ColumnKind kind;
  } kPlain[] = {{"int64", ColumnKind::kInt64},   {"double", ColumnKind::kDouble},
                {"bool", ColumnKind::kBool},     {"date", ColumnKind::kDate},
                {"timestamp", ColumnKind::kTimestamp},
                {"string", ColumnKind::kString}};
  ColumnType type;
  for (const auto& p : kPlain) {
    if (text == p.name) {
      type.kind = p.kind;
      type.name = p.name;
      return type;
    }
  }
  absl::string_view t = text;
  const size_t comma = t.find(',');
  if (absl::ConsumePrefix(&t, "decimal(") && absl::ConsumeSuffix(&t, ")") &&
      comma != absl::string_view::npos &&
      absl::SimpleAtoi(absl::StripAsciiWhitespace(t.substr(0, t.find(','))),
                       &type.precision) &&
      absl::SimpleAtoi(absl::StripAsciiWhitespace(t.substr(t.find(',') + 1)),
                       &type.scale) &&
      type.precision >= 1 && type.precision <= 38 && type.scale >= 0 &&
      type.scale <= type.precision) {
    type.kind = ColumnKind::kDecimal;
    type.name = absl::StrCat("decimal(", type.precision, ",", type.scale, ")");
    return type;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown column type '", Excerpt(text),
                   "' (int64, double, string, bool, date, timestamp or "
                   "decimal(P,S))"));
}

bool IsNumeric(ColumnKind kind) {
  return kind == ColumnKind::kInt64 || kind == ColumnKind::kDouble ||
         kind == ColumnKind::kDecimal;
}

absl::Status ParseValue(absl::string_view column, const ColumnType& type,
                        absl::string_view raw, const absl::TimeZone& tz,
                        Value* value) {
  value->number = 0;
  value->epoch_seconds = 0;
  if (type.kind == ColumnKind::kString) {
    value->null = raw.empty();
    value->text.assign(raw.data(), raw.size());
    return absl::OkStatus();
  }
  const absl::string_view s = absl::StripAsciiWhitespace(raw);
  value->null = s.empty();
  value->text.clear();
  if (s.empty()) return absl::OkStatus();
  switch (type.kind) {
    case ColumnKind::kInt64: {
      int64_t v = 0;
      if (!absl::SimpleAtoi(s, &v)) return NotA(column, type, s);
      value->text = absl::StrCat(v);
      value->number = static_cast<double>(v);
      return absl::OkStatus();
    }
    case ColumnKind::kDouble: {
      double v = 0;
      // SimpleAtod also reads "inf" and "nan", which JSON cannot hold.
      if (!absl::SimpleAtod(s, &v) || !std::isfinite(v)) return NotA(column, type, s);
      value->text = FormatNumber(v);
      value->number = v;
      return absl::OkStatus();
    }
    case ColumnKind::kDecimal:
      return ParseDecimal(column, type, s, value);
    case ColumnKind::kBool: {
      const std::string lower = absl::AsciiStrToLower(s);
      if (lower == "true" || lower == "t" || lower == "1") {
        value->text = "true";
        value->number = 1;
      } else if (lower == "false" || lower == "f" || lower == "0") {
        value->text = "false";
      } else {
        return NotA(column, type, s);
      }
      return absl::OkStatus();
    }
    case ColumnKind::kDate: {
      absl::CivilDay day;
      if (s.size() != 10 || !ParseDay(s, &day)) {
        return NotA(column, type, s, "expected YYYY-MM-DD");
      }
      value->text.assign(s.data(), s.size());
      value->epoch_seconds = absl::ToUnixSeconds(absl::FromCivil(day, tz));
      value->number = static_cast<double>(value->epoch_seconds);
      return absl::OkStatus();
    }
    case ColumnKind::kTimestamp:
      return ParseTimestamp(column, type, s, tz, value);
    case ColumnKind::kString:
      break;
  }
  return absl::OkStatus();
}

void AppendJson(const ColumnType& type, const Value& value, std::string* out) {
  if (value.null) {
    out->append("null");
    return;
  }
  switch (type.kind) {
    case ColumnKind::kString:
      out->append(JsonString(value.text));
      return;
    case ColumnKind::kDate:
    case ColumnKind::kTimestamp:
      // Digits, '-', ':', 'T', '.', 'Z': nothing to escape.
      out->push_back('"');
      out->append(value.text);
      out->push_back('"');
      return;
    default:
      out->append(value.text);
  }
}

std::string FormatNumber(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string Excerpt(absl::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t cut = max_bytes;
  // Not inside a UTF-8 sequence: back off its continuation bytes and its
  // lead byte.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(s.substr(0, cut), "...");
}

}  // namespace pipeline
}  // namespace mr
