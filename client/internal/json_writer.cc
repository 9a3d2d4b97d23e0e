#include "client/internal/json_writer.h"

#include <google/protobuf/descriptor.h>

#include "absl/strings/str_cat.h"
#include "common/names.h"

namespace mr {
namespace client_internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

class JsonWriter {
 public:
  std::string Write(const Message& msg) {
    WriteMessage(msg, 0);
    out_ += '\n';
    return std::move(out_);
  }

 private:
  static std::string Indent(int depth) { return std::string(depth, ' '); }

  // A repeated Counter or Param: a map in all but name.
  static bool IsMapLike(const FieldDescriptor* f) {
    if (!f->is_repeated() || f->type() != FieldDescriptor::TYPE_MESSAGE) {
      return false;
    }
    const std::string& name = f->message_type()->full_name();
    return name == "mrpb.Counter" || name == "mrpb.Param";
  }

  void WriteMessage(const Message& msg, int depth) {
    const Reflection* r = msg.GetReflection();
    const auto* d = msg.GetDescriptor();
    std::vector<const FieldDescriptor*> fields;
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      // Unset messages are left out, as protobuf's printer does.
      if (!f->is_repeated() && f->type() == FieldDescriptor::TYPE_MESSAGE &&
          !r->HasField(msg, f)) {
        continue;
      }
      fields.push_back(f);
    }
    if (fields.empty()) {
      out_ += "{}";
      return;
    }
    out_ += "{\n";
    for (size_t i = 0; i < fields.size(); ++i) {
      const FieldDescriptor* f = fields[i];
      absl::StrAppend(&out_, Indent(depth + 1), JsonString(f->json_name()),
                      ": ");
      if (IsMapLike(f)) {
        WriteMapLike(msg, f, depth + 1);
      } else if (f->is_repeated()) {
        WriteRepeated(msg, f, depth + 1);
      } else {
        WriteValue(msg, f, -1, depth + 1);
      }
      out_ += i + 1 < fields.size() ? ",\n" : "\n";
    }
    absl::StrAppend(&out_, Indent(depth), "}");
  }

  void WriteRepeated(const Message& msg, const FieldDescriptor* f, int depth) {
    const int n = msg.GetReflection()->FieldSize(msg, f);
    if (n == 0) {
      out_ += "[]";
      return;
    }
    out_ += "[\n";
    for (int i = 0; i < n; ++i) {
      out_ += Indent(depth + 1);
      WriteValue(msg, f, i, depth + 1);
      out_ += i + 1 < n ? ",\n" : "\n";
    }
    absl::StrAppend(&out_, Indent(depth), "]");
  }

  void WriteMapLike(const Message& msg, const FieldDescriptor* f, int depth) {
    const Reflection* r = msg.GetReflection();
    const int n = r->FieldSize(msg, f);
    if (n == 0) {
      out_ += "{}";
      return;
    }
    out_ += "{\n";
    for (int i = 0; i < n; ++i) {
      const Message& entry = r->GetRepeatedMessage(msg, f, i);
      const auto* ed = entry.GetDescriptor();
      const Reflection* er = entry.GetReflection();
      // Field 1 is the name (bytes), field 2 the value.
      const FieldDescriptor* key = ed->FindFieldByNumber(1);
      const FieldDescriptor* value = ed->FindFieldByNumber(2);
      absl::StrAppend(&out_, Indent(depth + 1),
                      JsonString(er->GetString(entry, key)), ": ");
      WriteValue(entry, value, -1, depth + 1);
      out_ += i + 1 < n ? ",\n" : "\n";
    }
    absl::StrAppend(&out_, Indent(depth), "}");
  }

  // The value of field `f` (element `index` of a repeated field, or the
  // field itself when index < 0).
  void WriteValue(const Message& msg, const FieldDescriptor* f, int index,
                  int depth) {
    const Reflection* r = msg.GetReflection();
    const bool rep = index >= 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        absl::StrAppend(&out_, rep ? r->GetRepeatedInt32(msg, f, index)
                                   : r->GetInt32(msg, f));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        absl::StrAppend(&out_, rep ? r->GetRepeatedUInt32(msg, f, index)
                                   : r->GetUInt32(msg, f));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        absl::StrAppend(&out_, "\"",
                        rep ? r->GetRepeatedInt64(msg, f, index)
                            : r->GetInt64(msg, f),
                        "\"");
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        absl::StrAppend(&out_, "\"",
                        rep ? r->GetRepeatedUInt64(msg, f, index)
                            : r->GetUInt64(msg, f),
                        "\"");
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        absl::StrAppend(&out_, rep ? r->GetRepeatedDouble(msg, f, index)
                                   : r->GetDouble(msg, f));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        absl::StrAppend(&out_, rep ? r->GetRepeatedFloat(msg, f, index)
                                   : r->GetFloat(msg, f));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ += (rep ? r->GetRepeatedBool(msg, f, index) : r->GetBool(msg, f))
                    ? "true"
                    : "false";
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int v = rep ? r->GetRepeatedEnumValue(msg, f, index)
                          : r->GetEnumValue(msg, f);
        const auto* ev = f->enum_type()->FindValueByNumber(v);
        if (ev != nullptr) {
          out_ += JsonString(ev->name());
        } else {
          absl::StrAppend(&out_, v);
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING:
        out_ += JsonString(rep ? r->GetRepeatedString(msg, f, index)
                               : r->GetString(msg, f));
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        WriteMessage(rep ? r->GetRepeatedMessage(msg, f, index)
                         : r->GetMessage(msg, f),
                     depth);
        break;
    }
  }

  std::string out_;
};

}  // namespace

std::string ToJson(const google::protobuf::Message& msg) {
  return JsonWriter().Write(msg);
}

}  // namespace client_internal
}  // namespace mr
