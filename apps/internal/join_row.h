// How the join app (apps/join.h) carries rows and join keys through the
// shuffle: the columns of one input record, the order-preserving encoding of
// a composite join key, and the shuffle value that holds a row.
//
// Thread-safety: plain functions and value types; RowReader instances are
// used from one thread.
#ifndef MR_APPS_INTERNAL_JOIN_ROW_H_
#define MR_APPS_INTERNAL_JOIN_ROW_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mr/mapreduce.h"

namespace mr {
namespace apps {
namespace internal {

// One column of a row: a CSV field, or a member of a JSON object.
struct JoinColumn {
  enum Kind : uint8_t {
    kString = 0,  // text is the (unquoted, unescaped) string
    kJson = 1,    // text is a JSON number, true, false, array or object
    kNull = 2,    // JSON null; text is empty
  };
  std::string_view name;  // "" when the input names none (headerless CSV)
  Kind kind = kString;
  std::string_view text;
};

// One key column, as given in a parameter: by name, or by 0-based position
// ("#N", N all digits).
struct JoinKeySpec {
  std::string name;          // the spec as written ("id", "#0")
  bool positional = false;
  uint32_t position = 0;     // when positional
};

// Parses "COL[,COL...]"; false (with *error set) when a column is empty or
// a position does not fit in 32 bits.
bool ParseJoinKeySpecs(std::string_view text, std::vector<JoinKeySpec>* specs,
                       std::string* error);

// Reads the columns of CSV and JSON Lines records. For a record whose line
// is a JSON object with the same members as its RecordFields (a JSON Lines
// record), the columns keep their JSON types (kJson, kNull); otherwise every
// column is a kString with RecordFields' value.
class RowReader {
 public:
  RowReader();
  ~RowReader();
  RowReader(const RowReader&) = delete;
  RowReader& operator=(const RowReader&) = delete;

  // Fills *columns from `record` (which must have fields). The views stay
  // valid until the next call, or while `record` is.
  void Read(const InputRecord& record, std::vector<JoinColumn>* columns);

  // Parses `line` as one JSON object into *columns (its members in order;
  // the views stay valid until the next call). False when it is not one.
  bool ReadJsonObject(std::string_view line, std::vector<JoinColumn>* columns);

 private:
  struct Parser;
  std::unique_ptr<Parser> parser_;
};

// Where each key column is among `columns`. Returns false when a key column
// is missing (a name no column has, a position past the end); *missing is
// then the spec.
bool FindKeyColumns(const std::vector<JoinColumn>& columns,
                    const std::vector<JoinKeySpec>& specs,
                    std::vector<size_t>* positions, const JoinKeySpec** missing);

// Whether a key value is null: a JSON null, or empty text (an empty CSV
// field, the empty JSON string). A null key matches nothing.
inline bool IsNullKeyValue(const JoinColumn& c) {
  return c.kind == JoinColumn::kNull || c.text.empty();
}

// Appends one key component to `key`, so that encoded tuples sort as the
// tuples of their byte strings do: each 0x00 byte becomes 0x00 0xFF, and the
// component ends with 0x00 0x01. The byte pair 0x00 0x02 never appears.
void AppendKeyComponent(std::string_view value, std::string* key);

// A row as the shuffle carries it: which side it is from, where it was in
// the input (its order within a key), then its key columns (in key order)
// followed by its other columns (in input order).
struct JoinRow {
  uint8_t side = 0;  // 0: left, 1: right
  std::string_view file;
  uint64_t offset = 0;
  uint32_t num_keys = 0;
  std::vector<JoinColumn> columns;  // num_keys key columns, then the others

  // Orders rows by input position (file path, then offset).
  static bool InputOrder(const JoinRow& a, const JoinRow& b) {
    if (a.file != b.file) return a.file < b.file;
    return a.offset < b.offset;
  }
};

// Appends the encoding of a row to `out`: its columns are `columns` with
// the key columns at `key_positions` moved to the front. Column names are
// kept only when `with_names` (JSON output needs them).
void EncodeJoinRow(uint8_t side, std::string_view file, uint64_t offset,
                   const std::vector<JoinColumn>& columns,
                   const std::vector<size_t>& key_positions, bool with_names,
                   std::string* out);

// Decodes what EncodeJoinRow() wrote; the views point into `data`. False
// when `data` is not such an encoding.
bool DecodeJoinRow(std::string_view data, JoinRow* row);

}  // namespace internal
}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_INTERNAL_JOIN_ROW_H_
