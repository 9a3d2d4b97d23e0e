// Renders the join app's output rows (apps/join.h) as CSV or JSON Lines.
//
// Thread-safety: one instance per thread.
#ifndef MR_APPS_INTERNAL_JOIN_RENDER_H_
#define MR_APPS_INTERNAL_JOIN_RENDER_H_

#include <string>
#include <string_view>
#include <vector>

#include "apps/internal/join_row.h"

namespace mr {
namespace apps {
namespace internal {

class JoinRenderer {
 public:
  enum class Format { kCsv, kJsonl };

  // `key_names`: the JSON member names of the key columns.
  JoinRenderer(Format format, std::vector<std::string> key_names);

  // Takes what a side's rows look like from `row` (its first row in input
  // order): how many non-key columns it has (a missing row of that side is
  // as many empty CSV fields) and their names (a name both sides have is
  // prefixed in JSON). A side never given has no columns.
  void SetSchema(const JoinRow& row);

  // One output row into *out (replaced), without a newline: the key columns
  // (from `left`, or from `right` when there is no left row), then the left
  // row's other columns, then the right row's. One of `left` and `right` may
  // be null (an outer join's unmatched row).
  //
  // CSV: one record; a missing side gives empty fields; null is empty.
  // JSON Lines: one object: the key members, then the other members, a name
  // that the other side's columns (or the keys) also have prefixed "left."
  // or "right."; a missing side's members are left out; strings are JSON
  // strings, JSON values keep their type.
  void Render(const JoinRow* left, const JoinRow* right, std::string* out);

 private:
  struct Schema {
    size_t width = 0;
    std::vector<std::string> names;
  };

  void RenderCsv(const JoinRow* left, const JoinRow* right, std::string* out);
  void RenderJson(const JoinRow* left, const JoinRow* right, std::string* out);
  // Whether the non-key column `name` of side `side` clashes with a name of
  // the other side (`other` its row, or null) or a key's.
  bool Clashes(std::string_view name, int side, const JoinRow* other) const;

  const Format format_;
  const std::vector<std::string> key_names_;
  Schema schema_[2];
};

}  // namespace internal
}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_INTERNAL_JOIN_RENDER_H_
