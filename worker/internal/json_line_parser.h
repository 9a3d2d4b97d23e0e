// The fields of one JSON Lines record, parsed with simdjson.
//
// A line holds one JSON value (RFC 8259), checked in full. When it is an
// object, its fields are its members in order: name the member's name
// (unescaped), value a string's unescaped text, null as "", any other value
// (number, true/false, object, array) as its JSON text as written. Any other
// value is one field named "" with the same rendering.
//
// Thread-safety: not thread-safe. Reuses its buffers from line to line.
#ifndef MR_WORKER_INTERNAL_JSON_LINE_PARSER_H_
#define MR_WORKER_INTERNAL_JSON_LINE_PARSER_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "mr/mapreduce.h"

namespace mr {

class JsonLineParser : public RecordFields {
 public:
  JsonLineParser();
  ~JsonLineParser() override;
  JsonLineParser(const JsonLineParser&) = delete;
  JsonLineParser& operator=(const JsonLineParser&) = delete;

  // Whether `line` holds only JSON whitespace (an empty line: no record).
  static bool IsBlank(std::string_view line);

  // Parses `line`; the fields stay valid until the next Parse().
  // InvalidArgument with simdjson's reason when it is not one JSON value.
  absl::Status Parse(std::string_view line);

  size_t size() const override { return fields_.size(); }
  std::string_view name(size_t i) const override { return fields_[i].first; }
  std::string_view value(size_t i) const override {
    return fields_[i].second;
  }
  bool Find(std::string_view name, std::string_view* value) const override;

 private:
  struct Parsers;
  std::unique_ptr<Parsers> parsers_;
  std::string padded_;  // the line, followed by simdjson's padding
  std::vector<std::pair<std::string_view, std::string_view>> fields_;
};

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_JSON_LINE_PARSER_H_
