#include "apps/internal/join_row.h"

#include <charconv>
#include <cstring>

#include "simdjson.h"

namespace mr {
namespace apps {
namespace internal {
namespace {

constexpr size_t kMaxColumnPosition = 100000;


namespace ondemand = simdjson::ondemand;

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

void PutBytes(std::string_view bytes, std::string* out) {
  PutVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

bool GetBytes(std::string_view* in, std::string_view* bytes) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *bytes = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

// JSON text without the whitespace raw_json_token() and raw_json() may
// leave after it.
std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' ||
                        s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

bool ParseJoinKeySpecs(std::string_view text, std::vector<JoinKeySpec>* specs,
                       std::string* error) {
  specs->clear();
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    if (part.empty()) {
      *error = "an empty column name";
      return false;
    }
    JoinKeySpec spec;
    spec.name = std::string(part);
    if (part.size() > 1 && part[0] == '#' &&
        part.find_first_not_of("0123456789", 1) == std::string_view::npos) {
      auto [ptr, ec] = std::from_chars(part.data() + 1,
                                       part.data() + part.size(), spec.position);
      if (ec != std::errc() || spec.position > kMaxColumnPosition) {
        *error = "a column position too large: '" + spec.name +
                 "' (at most #" + std::to_string(kMaxColumnPosition) + ")";
        return false;
      }
      spec.positional = true;
    }
    specs->push_back(std::move(spec));
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

struct RowReader::Parser {
  ondemand::parser parser;
  std::string padded;  // the line, with simdjson's padding after it
};

RowReader::RowReader() : parser_(std::make_unique<Parser>()) {}
RowReader::~RowReader() = default;

bool RowReader::ReadJsonObject(std::string_view line,
                               std::vector<JoinColumn>* columns) {
  columns->clear();
  std::string& buf = parser_->padded;
  buf.assign(line.data(), line.size());
  buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
  ondemand::document doc;
  if (parser_->parser.iterate(buf.data(), line.size(), buf.size()).get(doc)) {
    return false;
  }
  ondemand::object object;
  if (doc.get_object().get(object)) return false;
  for (auto field : object) {
    JoinColumn c;
    if (field.unescaped_key().get(c.name)) return false;
    ondemand::value value;
    if (field.value().get(value)) return false;
    ondemand::json_type type;
    if (value.type().get(type)) return false;
    switch (type) {
      case ondemand::json_type::string:
        c.kind = JoinColumn::kString;
        if (value.get_string().get(c.text)) return false;
        break;
      case ondemand::json_type::null:
        c.kind = JoinColumn::kNull;
        c.text = {};
        if (!value.is_null()) return false;
        break;
      case ondemand::json_type::object: {
        c.kind = JoinColumn::kJson;
        ondemand::object o;
        if (value.get_object().get(o) || o.raw_json().get(c.text)) return false;
        c.text = TrimRight(c.text);
        break;
      }
      case ondemand::json_type::array: {
        c.kind = JoinColumn::kJson;
        ondemand::array a;
        if (value.get_array().get(a) || a.raw_json().get(c.text)) return false;
        c.text = TrimRight(c.text);
        break;
      }
      default:  // number, boolean: the token as written
        c.kind = JoinColumn::kJson;
        c.text = TrimRight(value.raw_json_token());
        break;
    }
    columns->push_back(c);
  }
  // Anything after the object (a second value) makes it not one object.
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

void RowReader::Read(const InputRecord& record,
                     std::vector<JoinColumn>* columns) {
  const RecordFields& fields = *record.fields;
  const size_t start = record.line.find_first_not_of(" \t\r");
  if (start != std::string_view::npos && record.line[start] == '{' &&
      ReadJsonObject(record.line, columns) &&
      columns->size() == fields.size()) {
    bool same = true;
    for (size_t i = 0; i < columns->size() && same; ++i) {
      same = (*columns)[i].name == fields.name(i);
    }
    if (same) return;
  }
  columns->clear();
  for (size_t i = 0; i < fields.size(); ++i) {
    columns->push_back({fields.name(i), JoinColumn::kString, fields.value(i)});
  }
}

bool FindKeyColumns(const std::vector<JoinColumn>& columns,
                    const std::vector<JoinKeySpec>& specs,
                    std::vector<size_t>* positions,
                    const JoinKeySpec** missing) {
  positions->clear();
  for (const JoinKeySpec& spec : specs) {
    size_t found = columns.size();
    if (spec.positional) {
      found = spec.position;
    } else {
      for (size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].name == spec.name) {
          found = i;
          break;
        }
      }
    }
    if (found >= columns.size()) {
      *missing = &spec;
      return false;
    }
    positions->push_back(found);
  }
  return true;
}

void AppendKeyComponent(std::string_view value, std::string* key) {
  for (char c : value) {
    key->push_back(c);
    if (c == '\0') key->push_back('\xff');
  }
  key->push_back('\0');
  key->push_back('\x01');
}

void EncodeJoinRow(uint8_t side, std::string_view file, uint64_t offset,
                   const std::vector<JoinColumn>& columns,
                   const std::vector<size_t>& key_positions, bool with_names,
                   std::string* out) {
  out->push_back(static_cast<char>(side));
  out->push_back(with_names ? 1 : 0);
  PutBytes(file, out);
  PutVarint(offset, out);
  auto is_key = [&](size_t i) {
    for (size_t p : key_positions) {
      if (p == i) return true;
    }
    return false;
  };
  size_t others = 0;
  for (size_t i = 0; i < columns.size(); ++i) others += is_key(i) ? 0 : 1;
  PutVarint(key_positions.size(), out);
  PutVarint(key_positions.size() + others, out);
  auto put = [&](size_t i) {
    const JoinColumn& c = columns[i];
    out->push_back(static_cast<char>(c.kind));
    if (with_names) {
      if (c.name.empty()) {
        PutBytes("#" + std::to_string(i), out);  // a headerless CSV column
      } else {
        PutBytes(c.name, out);
      }
    }
    PutBytes(c.text, out);
  };
  for (size_t p : key_positions) put(p);
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!is_key(i)) put(i);
  }
}

bool DecodeJoinRow(std::string_view data, JoinRow* row) {
  row->columns.clear();
  if (data.size() < 2) return false;
  row->side = static_cast<uint8_t>(data[0]);
  const bool with_names = data[1] != 0;
  data.remove_prefix(2);
  uint64_t num_keys, num_columns;
  if (row->side > 1 || !GetBytes(&data, &row->file) ||
      !GetVarint(&data, &row->offset) || !GetVarint(&data, &num_keys) ||
      !GetVarint(&data, &num_columns) || num_columns > data.size()) {
    return false;
  }
  row->num_keys = static_cast<uint32_t>(num_keys);
  row->columns.reserve(num_columns);
  for (uint64_t i = 0; i < num_columns; ++i) {
    if (data.empty()) return false;
    JoinColumn c;
    c.kind = static_cast<JoinColumn::Kind>(data[0]);
    data.remove_prefix(1);
    if (c.kind > JoinColumn::kNull) return false;
    if (with_names && !GetBytes(&data, &c.name)) return false;
    if (!GetBytes(&data, &c.text)) return false;
    row->columns.push_back(c);
  }
  return data.empty() && num_keys <= num_columns;
}

}  // namespace internal
}  // namespace apps
}  // namespace mr
