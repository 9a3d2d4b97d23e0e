// fields: shows how the engine parsed each input record (a format check).
//
// For every record, Map() emits
//   key   "INPUT_INDEX:FILE:OFFSET" (InputRecord::input_index, file, offset
//         in decimal),
//   value the record's fields (CSV, JSON Lines) as NAME=VALUE joined by
//         '\t', in order (NAME "" when the input has none: "=VALUE"); for
//         text and fixed-length input, the record's bytes.
// Names and values are escaped so that a record stays one line: '\\' as
// "\\\\", '\n' as "\\n", '\r' as "\\r", '\t' as "\\t".
// Reduce() emits each value of a key as it comes. Works map-only
// (--reduces 0) too.
//
// Thread-safety: like every Job, used from one thread.
#ifndef MR_APPS_FIELDS_H_
#define MR_APPS_FIELDS_H_

#include <string>
#include <string_view>

#include "mr/mapreduce.h"

namespace mr {
namespace apps {

class Fields : public Job {
 public:
  void Map(const InputRecord& record, Context& ctx) override;
  void Reduce(std::string_view key, ValueIterator& values,
              Context& ctx) override;

 private:
  std::string key_;    // reused per record
  std::string value_;  // reused per record
};

}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_FIELDS_H_
