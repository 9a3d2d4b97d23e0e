#include "apps/fields.h"

#include "absl/strings/str_cat.h"

namespace mr {
namespace apps {
namespace {

void AppendEscaped(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: out->push_back(c);
    }
  }
}

}  // namespace

void Fields::Map(const InputRecord& record, Context& ctx) {
  key_.clear();
  absl::StrAppend(&key_, record.input_index, ":");
  key_.append(record.file.data(), record.file.size());
  absl::StrAppend(&key_, ":", record.offset);
  value_.clear();
  if (record.fields == nullptr) {
    AppendEscaped(record.line, &value_);
  } else {
    for (size_t i = 0; i < record.fields->size(); ++i) {
      if (i > 0) value_.push_back('\t');
      AppendEscaped(record.fields->name(i), &value_);
      value_.push_back('=');
      AppendEscaped(record.fields->value(i), &value_);
    }
  }
  ctx.Emit(key_, value_);
}

void Fields::Reduce(std::string_view key, ValueIterator& values,
                    Context& ctx) {
  std::string_view v;
  while (values.Next(&v)) ctx.Emit(key, v);
}

}  // namespace apps
}  // namespace mr
