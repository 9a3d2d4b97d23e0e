#include "apps/pipeline/internal/transform_row.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "apps/pipeline/internal/decimal.h"
#include "apps/pipeline/rows.h"
#include "common/names.h"
#include "simdjson.h"

namespace mr {
namespace pipeline {
namespace internal {
namespace {

namespace ondemand = simdjson::ondemand;

// Debian's Abseil has its own string_view: convert at the boundary.
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A JSON string, without JsonString()'s allocation for the usual text (no
// quote, backslash, control or non-ASCII byte).
void AppendJsonString(std::string_view s, std::string* out) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out->append(JsonString(s));
      return;
    }
  }
  out->push_back('"');
  out->append(s.data(), s.size());
  out->push_back('"');
}

void AppendValueJson(const Datum& v, std::string* out) {
  switch (v.kind) {
    case Kind::kNull: out->append("null"); break;
    case Kind::kString: AppendJsonString(v.text, out); break;
    default: out->append(v.text);
  }
}

void PutBytes(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s.data(), s.size());
}

bool GetBytes(std::string_view* in, std::string_view* s) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

// An ISO timestamp in UTC as staged data writes it: "YYYY-MM-DDTHH:MM:SS",
// an optional ".fraction", "Z".
bool IsUtcTimestamp(std::string_view s) {
  return s.size() >= 20 && s[4] == '-' && s[10] == 'T' && s[13] == ':' &&
         s.back() == 'Z' && (s.size() == 20 || s[19] == '.');
}

// Strings byte by byte, except two timestamps, by instant ("...:56Z" is
// before "...:56.5Z", which bytes would put the other way).
int CompareText(std::string_view a, std::string_view b) {
  if (IsUtcTimestamp(a) && IsUtcTimestamp(b)) {
    if (int c = a.substr(0, 19).compare(b.substr(0, 19)); c != 0) return c < 0 ? -1 : 1;
    a = a.size() > 20 ? a.substr(20, a.size() - 21) : std::string_view();
    b = b.size() > 20 ? b.substr(20, b.size() - 21) : std::string_view();
  }
  const int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

bool IsBoolText(const Datum& v) {
  return (v.kind == Kind::kBool || v.kind == Kind::kString) &&
         (v.text == "true" || v.text == "false");
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' ||
                        s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

void Row::CopyFrom(const Row& other) {
  Clear();
  for (size_t i = 0; i < other.size(); ++i) Add(other.at(i).name).value = other.at(i).value;
}

void Row::AppendJson(std::string* out) const {
  out->push_back('{');
  for (size_t i = 0; i < size_; ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(columns_[i].name, out);
    out->push_back(':');
    AppendValueJson(columns_[i].value, out);
  }
  out->push_back('}');
}

std::string Row::Json() const {
  std::string s;
  AppendJson(&s);
  return s;
}

std::string Describe(const Datum& v) {
  switch (v.kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return v.text;
    case Kind::kNumber: return absl::StrCat("the number ", v.text);
    case Kind::kString: return absl::StrCat("the string '", Excerpt(v.text), "'");
    case Kind::kJson: return absl::StrCat("the JSON ", Excerpt(v.text));
  }
  return "?";
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) return true;
  }
  return false;
}

void PutDatum(const Datum& v, std::string* out) {
  out->push_back(static_cast<char>(v.kind));
  PutBytes(v.text, out);
}

bool GetDatum(std::string_view* in, Datum* v) {
  std::string_view text;
  if (in->empty() || static_cast<uint8_t>((*in)[0]) > static_cast<uint8_t>(Kind::kJson)) {
    return false;
  }
  v->kind = static_cast<Kind>((*in)[0]);
  in->remove_prefix(1);
  if (!GetBytes(in, &text)) return false;
  v->text.assign(text.data(), text.size());
  return true;
}

void EncodeRow(const Row& row, const Origin& origin, std::string* out) {
  PutBytes(origin.file, out);
  PutVarint(origin.offset, out);
  PutVarint(row.size(), out);
  for (size_t i = 0; i < row.size(); ++i) {
    PutBytes(row.at(i).name, out);
    PutDatum(row.at(i).value, out);
  }
}

bool DecodeRow(std::string_view in, Row* row, Origin* origin) {
  uint64_t n = 0;
  if (!GetBytes(&in, &origin->file) || !GetVarint(&in, &origin->offset) ||
      !GetVarint(&in, &n)) {
    return false;
  }
  row->Clear();
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    if (!GetBytes(&in, &name)) return false;
    if (!GetDatum(&in, &row->Add(name).value)) return false;
  }
  return in.empty();
}

bool IsNumericDatum(const Datum& v) {
  return v.kind == Kind::kNumber || (v.kind == Kind::kString && IsJsonNumber(v.text));
}

bool CompareValues(const Datum& a, const Datum& b, int* result) {
  if (a.kind == Kind::kJson || b.kind == Kind::kJson) return false;
  if (a.kind == b.kind) {
    switch (a.kind) {
      case Kind::kNumber: *result = CompareNumbers(a.text, b.text); return true;
      case Kind::kString: *result = CompareText(a.text, b.text); return true;
      case Kind::kBool: *result = CompareText(a.text, b.text); return true;  // false < true
      default: return false;
    }
  }
  if (IsNumericDatum(a) && IsNumericDatum(b)) {
    *result = CompareNumbers(a.text, b.text);
    return true;
  }
  if ((a.kind == Kind::kBool || b.kind == Kind::kBool) && IsBoolText(a) && IsBoolText(b)) {
    *result = CompareText(a.text, b.text);
    return true;
  }
  return false;
}

bool UnescapeJsonString(std::string_view token, std::string* out) {
  if (token.size() < 2 || token.front() != '"' || token.back() != '"') return false;
  const std::string_view s = token.substr(1, token.size() - 2);
  out->clear();
  if (s.find('\\') == std::string_view::npos) {
    out->assign(s.data(), s.size());
    return true;
  }
  auto hex4 = [&](size_t at, uint32_t* v) {
    if (at + 4 > s.size()) return false;
    *v = 0;
    for (size_t i = at; i < at + 4; ++i) {
      const char c = s[i];
      const int d = IsDigit(c) ? c - '0'
                    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                             : -1;
      if (d < 0) return false;
      *v = *v * 16 + static_cast<uint32_t>(d);
    }
    return true;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out->push_back(s[i]);
      continue;
    }
    if (++i == s.size()) return false;
    switch (s[i]) {
      case '"': case '\\': case '/': out->push_back(s[i]); continue;
      case 'b': out->push_back('\b'); continue;
      case 'f': out->push_back('\f'); continue;
      case 'n': out->push_back('\n'); continue;
      case 'r': out->push_back('\r'); continue;
      case 't': out->push_back('\t'); continue;
      case 'u': break;
      default: return false;
    }
    uint32_t cp = 0;
    if (!hex4(i + 1, &cp)) return false;
    i += 4;
    if (cp >= 0xd800 && cp < 0xdc00) {  // a high surrogate: its low one follows
      uint32_t low = 0;
      if (i + 6 >= s.size() || s[i + 1] != '\\' || s[i + 2] != 'u' ||
          !hex4(i + 3, &low) || low < 0xdc00 || low > 0xdfff) {
        return false;
      }
      i += 6;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
      if (cp < 0xdc80 || cp > 0xdcff) return false;
      out->push_back(static_cast<char>(cp & 0xff));
      continue;
    }
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  return true;
}

struct RowReader::Parser {
  ondemand::parser parser;
  std::string padded;  // the line, then simdjson's padding
};

RowReader::RowReader() : parser_(std::make_unique<Parser>()) {}
RowReader::~RowReader() = default;

bool RowReader::Read(const InputRecord& record, Row* row, std::string* error) {
  row->Clear();
  const size_t start = record.line.find_first_not_of(" \t\r");
  if (start != std::string_view::npos && record.line[start] == '{') {
    return ReadJson(record.line, row, error);
  }
  if (record.fields == nullptr) {
    *error = "not a JSON object";
    return false;
  }
  const RecordFields& fields = *record.fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    Column& c = row->Add(fields.name(i));
    const std::string_view v = fields.value(i);
    if (!v.empty()) {
      c.value.kind = Kind::kString;
      c.value.text.assign(v.data(), v.size());
    }
  }
  return true;
}

bool RowReader::ReadJson(std::string_view line, Row* row, std::string* error) {
  parser_->padded.assign(line.data(), line.size());
  parser_->padded.resize(line.size() + simdjson::SIMDJSON_PADDING);
  *error = "not a JSON object";
  ondemand::document doc;
  if (parser_->parser.iterate(parser_->padded.data(), line.size(), parser_->padded.size()).get(doc)) return false;
  ondemand::object object;
  if (doc.get_object().get(object)) return false;
  for (auto field : object) {
    std::string_view name;
    ondemand::value value;
    ondemand::json_type type;
    if (field.unescaped_key().get(name) || field.value().get(value) ||
        value.type().get(type)) {
      return false;
    }
    Datum& v = row->Add(name).value;
    switch (type) {
      case ondemand::json_type::string:
        v.kind = Kind::kString;
        if (!UnescapeJsonString(TrimRight(value.raw_json_token()), &v.text)) {
          *error = absl::StrCat("column '", A(name), "': a bad JSON string");
          return false;
        }
        break;
      case ondemand::json_type::number:
        v.kind = Kind::kNumber;
        v.text = std::string(TrimRight(value.raw_json_token()));
        if (!IsJsonNumber(v.text)) return false;
        break;
      case ondemand::json_type::boolean: {
        bool b = false;
        if (value.get_bool().get(b)) return false;
        v.kind = Kind::kBool;
        v.text = b ? "true" : "false";
        break;
      }
      case ondemand::json_type::null:
        if (!value.is_null()) return false;
        break;
      case ondemand::json_type::object: {
        ondemand::object o;
        std::string_view raw;
        if (value.get_object().get(o) || o.raw_json().get(raw)) return false;
        v.kind = Kind::kJson;
        v.text = std::string(TrimRight(raw));
        break;
      }
      case ondemand::json_type::array: {
        ondemand::array a;
        std::string_view raw;
        if (value.get_array().get(a) || a.raw_json().get(raw)) return false;
        v.kind = Kind::kJson;
        v.text = std::string(TrimRight(raw));
        break;
      }
    }
  }
  // Anything after the object makes the line not one object.
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

void AppendKeyField(const Datum& v, bool by_value, std::string* key) {
  const char tag = static_cast<char>('0' + static_cast<int>(v.kind));
  if (by_value && v.kind == Kind::kNumber) {
    AppendOrderedString(key, std::string(1, tag) + CanonicalNumber(v.text));
    return;
  }
  // AppendOrderedString() of the tag and the text, without copying them
  // into one string first (this runs for every row).
  key->push_back(tag);
  for (char c : v.text) {
    key->push_back(c);
    if (c == '\0') key->push_back(static_cast<char>(0xff));
  }
  key->push_back('\0');
  key->push_back('\1');
}

bool DecodeKey(std::string_view key, std::vector<Datum>* values) {
  values->clear();
  while (!key.empty()) {
    const size_t n = OrderedStringFieldSize(key);
    const std::string field = DecodeOrderedString(key);
    key.remove_prefix(n);
    if (field.empty() || field[0] < '0' || field[0] > '0' + static_cast<int>(Kind::kJson)) {
      return false;
    }
    values->push_back({static_cast<Kind>(field[0] - '0'), field.substr(1)});
  }
  return true;
}

}  // namespace internal
}  // namespace pipeline
}  // namespace mr
