// The in-memory side of the join app's broadcast join (apps/join.h): a CSV
// or JSON Lines side file, its rows indexed by join key.
//
// Thread-safety: Load() once, then const methods from any thread.
#ifndef MR_APPS_INTERNAL_JOIN_SIDE_TABLE_H_
#define MR_APPS_INTERNAL_JOIN_SIDE_TABLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "apps/internal/join_row.h"

namespace mr {
namespace apps {
namespace internal {

class JoinSideTable {
 public:
  JoinSideTable() = default;
  // Not copyable: rows point into the table's own buffer.
  JoinSideTable(const JoinSideTable&) = delete;
  JoinSideTable& operator=(const JoinSideTable&) = delete;

  // Reads `path` (shown in errors as `name`): CSV with a header row when
  // `name` ends in ".csv", JSON Lines (one object per line; blank lines
  // skipped) when it ends in ".jsonl" or ".ndjson". Its rows become side 1
  // (right) rows, keyed by the columns `keys`; a row with a null key value
  // is left out (it matches nothing), as is one that lacks a key column when
  // `missing_is_null` (otherwise that is an error). Rows keep their names
  // when `with_names`.
  // Errors (InvalidArgument, naming the file): another extension, a
  // malformed CSV record or JSON line (with its line number), a key column
  // the header (or a JSON line) lacks; NotFound / Internal when it cannot
  // be read.
  absl::Status Load(const std::string& path, std::string_view name,
                    const std::vector<JoinKeySpec>& keys, bool missing_is_null,
                    bool with_names);

  // The rows whose key encodes (AppendKeyComponent(), one per key column)
  // to `key`, in file order; null when none.
  const std::vector<JoinRow>* Find(std::string_view key) const;

  // What the side's rows look like (JoinRenderer::SetSchema()): the header
  // for CSV, the first row for JSON Lines; null when the file has none.
  const JoinRow* schema() const { return has_schema_ ? &schema_ : nullptr; }

  size_t num_rows() const { return num_rows_; }

 private:
  // Encodes one row (or, with `is_schema`, the schema row) into arena_.
  absl::Status AddRow(const std::vector<JoinColumn>& columns, uint64_t offset,
                      uint64_t line, bool is_schema);
  absl::Status LoadCsv(std::string_view contents);
  absl::Status LoadJsonLines(std::string_view contents);

  std::string name_;
  std::vector<JoinKeySpec> keys_;
  bool missing_is_null_ = false;
  bool with_names_ = false;

  // While loading: every encoded row back to back, and each row's key and
  // extent in arena_ (rows_ point into it once loading is done).
  std::string arena_;
  struct Pending {
    std::string key;
    size_t begin, end;
  };
  std::vector<Pending> pending_;
  size_t schema_begin_ = 0, schema_end_ = 0;

  absl::flat_hash_map<std::string, std::vector<JoinRow>> rows_;
  JoinRow schema_;
  bool has_schema_ = false;
  size_t num_rows_ = 0;
};

}  // namespace internal
}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_INTERNAL_JOIN_SIDE_TABLE_H_
