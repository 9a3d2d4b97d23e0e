#include "worker/internal/json_line_parser.h"

#include <simdjson.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace mr {
namespace {

namespace od = simdjson::ondemand;

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view TrimJsonSpace(std::string_view s) {
  while (!s.empty() && IsJsonSpace(s.back())) s.remove_suffix(1);
  while (!s.empty() && IsJsonSpace(s.front())) s.remove_prefix(1);
  return s;
}

absl::Status JsonError(simdjson::error_code e) {
  return absl::InvalidArgumentError(
      absl::StrCat("not JSON: ", simdjson::error_message(e)));
}

// A member's value as a field value (see the header).
simdjson::error_code RenderValue(od::value v, std::string_view* out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  switch (type) {
    case od::json_type::string:
      return v.get_string().get(*out);
    case od::json_type::null:
      *out = {};
      return simdjson::SUCCESS;
    // raw_json() runs on to the next token: the spaces after the value are
    // not its text.
    case od::json_type::object: {
      od::object o;
      if (auto e = v.get_object().get(o)) return e;
      if (auto e = o.raw_json().get(*out)) return e;
      *out = TrimJsonSpace(*out);
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array a;
      if (auto e = v.get_array().get(a)) return e;
      if (auto e = a.raw_json().get(*out)) return e;
      *out = TrimJsonSpace(*out);
      return simdjson::SUCCESS;
    }
    default: {  // a number, true or false
      *out = TrimJsonSpace(v.raw_json_token());
      return simdjson::SUCCESS;
    }
  }
}

}  // namespace

// The DOM parser checks the whole line (the On Demand one checks only what
// is visited); the On Demand one gives the values' JSON text as written.
struct JsonLineParser::Parsers {
  simdjson::dom::parser dom;
  od::parser ondemand;
};

JsonLineParser::JsonLineParser() : parsers_(std::make_unique<Parsers>()) {}
JsonLineParser::~JsonLineParser() = default;

bool JsonLineParser::IsBlank(std::string_view line) {
  for (char c : line) {
    if (!IsJsonSpace(c)) return false;
  }
  return true;
}

bool JsonLineParser::Find(std::string_view name,
                          std::string_view* value) const {
  for (const auto& [n, v] : fields_) {
    if (n == name) {
      *value = v;
      return true;
    }
  }
  return false;
}

absl::Status JsonLineParser::Parse(std::string_view line) {
  fields_.clear();
  padded_.resize(line.size() + simdjson::SIMDJSON_PADDING);
  memcpy(padded_.data(), line.data(), line.size());
  memset(padded_.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);
  const char* const buf = padded_.data();
  simdjson::dom::element root;
  if (auto e = parsers_->dom.parse(buf, line.size(), false).get(root)) {
    return JsonError(e);
  }
  od::document doc;
  if (auto e = parsers_->ondemand.iterate(buf, line.size(), padded_.size())
                   .get(doc)) {
    return JsonError(e);
  }
  od::json_type type;
  if (auto e = doc.type().get(type)) return JsonError(e);
  if (type == od::json_type::object) {
    od::object obj;
    if (auto e = doc.get_object().get(obj)) return JsonError(e);
    for (auto member : obj) {
      od::field field;
      if (auto e = std::move(member).get(field)) return JsonError(e);
      std::string_view name, value;
      if (auto e = field.unescaped_key().get(name)) return JsonError(e);
      if (auto e = RenderValue(field.value(), &value)) return JsonError(e);
      fields_.emplace_back(name, value);
    }
    return absl::OkStatus();
  }
  std::string_view value;
  if (type == od::json_type::string) {
    if (auto e = doc.get_string().get(value)) return JsonError(e);
  } else if (type != od::json_type::null) {
    // The line was checked: the value is the line less its spaces.
    value = TrimJsonSpace(std::string_view(buf, line.size()));
  }
  fields_.emplace_back(std::string_view(), value);
  return absl::OkStatus();
}

}  // namespace mr
