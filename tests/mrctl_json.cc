// ParseJobStatusJson and ParseListWorkersJson (declared in
// tests/external_mini_cluster.h): read mrctl's --json
// (client/internal/json_writer.h) back into a JobStatus or the like, with
// protobuf's JSON parser for the syntax and the descriptors for the shape.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/proto_maps.h"
#include "common/status_macros.h"
#include "tests/external_mini_cluster.h"

namespace mr {
namespace test {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Value;

// mrctl writes a byte that is not UTF-8 as the lone surrogate \udcNN, which
// protobuf's parser refuses. Each becomes the private-use U+F7NN before
// parsing, and the byte NN again after.
std::string HideSurrogates(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    if (json.compare(i, 4, "\\udc") == 0 && i + 6 <= json.size()) {
      out += "\\uf7";
      out.append(json, i + 4, 2);
      i += 5;
    } else if (json[i] == '\\' && i + 1 < json.size()) {
      out.append(json, i, 2);  // keeps "\\udc.." (an escaped backslash) as is
      ++i;
    } else {
      out += json[i];
    }
  }
  return out;
}

std::string RestoreBytes(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    // U+F780..U+F7FF in UTF-8: EF 9E 80..BF, EF 9F 80..BF.
    if (i + 2 < s.size() && b(i) == 0xEF && (b(i + 1) == 0x9E || b(i + 1) == 0x9F)) {
      out += static_cast<char>(((b(i + 1) & 0x03) << 6) | (b(i + 2) & 0x3F));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

absl::Status Fill(const Value& v, const FieldDescriptor* f, int depth,
                  Message* msg);

absl::Status FillMessage(const Value& v, int depth, Message* msg) {
  if (v.kind_case() != Value::kStructValue) {
    return absl::InvalidArgumentError(
        absl::StrCat(msg->GetDescriptor()->name(), " is not an object"));
  }
  for (const auto& [name, field_value] : v.struct_value().fields()) {
    const FieldDescriptor* f =
        msg->GetDescriptor()->FindFieldByCamelcaseName(name);
    if (f == nullptr) continue;  // ignore unknown fields
    if (absl::Status s = Fill(field_value, f, depth, msg); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// One scalar or message element of field `f` from `v`.
absl::Status AddOne(const Value& v, const FieldDescriptor* f, int depth,
                    Message* msg) {
  const auto* r = msg->GetReflection();
  const bool rep = f->is_repeated();
  auto text = [&]() -> std::string {
    if (v.kind_case() == Value::kStringValue) return RestoreBytes(v.string_value());
    if (v.kind_case() == Value::kNumberValue) return absl::StrCat(v.number_value());
    return "";
  };
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      rep ? r->AddString(msg, f, text()) : r->SetString(msg, f, text());
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_BOOL:
      rep ? r->AddBool(msg, f, v.bool_value()) : r->SetBool(msg, f, v.bool_value());
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* ev = f->enum_type()->FindValueByName(v.string_value());
      if (ev == nullptr) return absl::InvalidArgumentError("bad enum value");
      rep ? r->AddEnum(msg, f, ev) : r->SetEnum(msg, f, ev);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message* sub = rep ? r->AddMessage(msg, f) : r->MutableMessage(msg, f);
      return FillMessage(v, depth + 1, sub);
    }
    default: {
      int64_t n = 0;
      uint64_t u = 0;
      const std::string t = text();
      const bool ok = absl::SimpleAtoi(t, &n) || absl::SimpleAtoi(t, &u);
      if (!ok) return absl::InvalidArgumentError(absl::StrCat("bad number ", t));
      if (u == 0) u = static_cast<uint64_t>(n);
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32:
          rep ? r->AddInt32(msg, f, n) : r->SetInt32(msg, f, n);
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          rep ? r->AddUInt32(msg, f, u) : r->SetUInt32(msg, f, u);
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          rep ? r->AddInt64(msg, f, n) : r->SetInt64(msg, f, n);
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          rep ? r->AddUInt64(msg, f, u) : r->SetUInt64(msg, f, u);
          break;
        default:
          return absl::InvalidArgumentError("unsupported field type");
      }
      return absl::OkStatus();
    }
  }
}

absl::Status Fill(const Value& v, const FieldDescriptor* f, int depth,
                  Message* msg) {
  const auto* r = msg->GetReflection();
  if (f->is_repeated() && f->type() == FieldDescriptor::TYPE_MESSAGE &&
      v.kind_case() == Value::kStructValue) {
    // A Counter or Param list, written as an object.
    for (const auto& [key, value] : v.struct_value().fields()) {
      Message* entry = r->AddMessage(msg, f);
      const auto* d = entry->GetDescriptor();
      entry->GetReflection()->SetString(entry, d->FindFieldByNumber(1),
                                        RestoreBytes(key));
      if (absl::Status s = AddOne(value, d->FindFieldByNumber(2), depth, entry);
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }
  if (f->is_repeated()) {
    for (const Value& e : v.list_value().values()) {
      if (absl::Status s = AddOne(e, f, depth, msg); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  return AddOne(v, f, depth, msg);
}

// Fills `msg` from mrctl's JSON of a message of its type.
absl::Status ParseMrctlJson(const std::string& json, Message* msg) {
  Value value;
  const auto s =
      google::protobuf::util::JsonStringToMessage(HideSurrogates(json), &value);
  absl::Status filled = s.ok() ? FillMessage(value, 0, msg)
                               : absl::InvalidArgumentError(s.ToString());
  if (!filled.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a ", msg->GetDescriptor()->name(), " JSON (",
                     filled.message(), "): '", json, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<mrpb::JobStatus> ParseJobStatusJson(const std::string& json) {
  mrpb::JobStatus status;
  RETURN_IF_ERROR(ParseMrctlJson(json, &status));
  return status;
}

absl::StatusOr<mrpb::ListWorkersResponse> ParseListWorkersJson(
    const std::string& json) {
  mrpb::ListWorkersResponse workers;
  RETURN_IF_ERROR(ParseMrctlJson(json, &workers));
  return workers;
}

int64_t JobCounter(const mrpb::JobStatus& status, const std::string& name) {
  const CounterMap counters = CountersFromProto(status.counters());
  auto it = counters.find(name);
  return it == counters.end() ? -1 : it->second;
}

}  // namespace test
}  // namespace mr
