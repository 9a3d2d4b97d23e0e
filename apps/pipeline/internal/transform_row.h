// Rows of pipeline transforms (apps/pipeline/transform.h): typed values as
// read from a staged table's JSON Lines (or a CSV record's fields), written
// back as JSON, carried through the shuffle in a compact binary form, and
// compared and keyed the way transform.h documents.
//
// Thread-safety: plain functions and values; a RowReader is used by one
// thread.
#ifndef MR_APPS_PIPELINE_INTERNAL_TRANSFORM_ROW_H_
#define MR_APPS_PIPELINE_INTERNAL_TRANSFORM_ROW_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mr/mapreduce.h"

namespace mr {
namespace pipeline {
namespace internal {

// A value's JSON type. (The numbers are part of the shuffle encoding.)
enum class Kind : uint8_t { kNull = 0, kBool, kNumber, kString, kJson };

struct Datum {
  Kind kind = Kind::kNull;
  // bool: "true" or "false"; number: its JSON text as read; string: the
  // bytes, unescaped; json (an object or an array): its JSON text; null:
  // empty.
  std::string text;
};

struct Column {
  std::string name;
  Datum value;
};

// The columns of one row, in order. Cleared and refilled from row to row:
// its strings keep their capacity.
class Row {
 public:
  size_t size() const { return size_; }
  Column& at(size_t i) { return columns_[i]; }
  const Column& at(size_t i) const { return columns_[i]; }
  void Clear() { size_ = 0; }

  // A new last column named `name`, null.
  Column& Add(std::string_view name) {
    if (size_ == columns_.size()) columns_.emplace_back();
    Column& c = columns_[size_++];
    c.name.assign(name.data(), name.size());
    c.value.kind = Kind::kNull;
    c.value.text.clear();
    return c;
  }
  // The index of the first column named `name`, or -1.
  int Find(std::string_view name) const {
    for (size_t i = 0; i < size_; ++i) {
      if (columns_[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
  void CopyFrom(const Row& other);
  void Swap(Row& other) {
    columns_.swap(other.columns_);
    std::swap(size_, other.size_);
  }
  // {"name":value,...}: strings with JsonString() (common/names.h), other
  // values as their text.
  void AppendJson(std::string* out) const;
  std::string Json() const;

 private:
  std::vector<Column> columns_;
  size_t size_ = 0;
};

// Where a row was read: its file and byte offset, for error messages.
struct Origin {
  std::string_view file;  // empty: a row the reduce made (an aggregate's)
  uint64_t offset = 0;
};

// For messages: "null", "true", "the number 12", "the string 'abc'" (cut
// at 40 bytes), "the JSON [1,2]".
std::string Describe(const Datum& v);

// The shuffle's encodings. Get* return false on malformed input.
void PutVarint(uint64_t v, std::string* out);
bool GetVarint(std::string_view* in, uint64_t* v);
void PutDatum(const Datum& v, std::string* out);
bool GetDatum(std::string_view* in, Datum* v);
// A row: its origin, then its columns.
void EncodeRow(const Row& row, const Origin& origin, std::string* out);
// *origin's file is a view into `in`.
bool DecodeRow(std::string_view in, Row* row, Origin* origin);

// A number, or a string that holds one (IsJsonNumber()).
bool IsNumericDatum(const Datum& v);

// Compares two non-null values: numbers by value (CompareNumbers()),
// strings byte by byte except two UTC timestamps ("...:56Z" < "...:56.5Z"),
// false < true. A string holding a number compares with a number as that
// number, "true"/"false" with a bool as that bool. False when the two do
// not compare (a string and a number, JSON objects or arrays).
bool CompareValues(const Datum& a, const Datum& b, int* result);

// Unescapes a JSON string token, quotes included. A \udcNN escape (NN from
// 80 to ff) is the byte NN: JsonString()'s surrogateescape, which simdjson
// refuses as a lone surrogate.
bool UnescapeJsonString(std::string_view token, std::string* out);

// Reads input records into rows: a line holding a JSON object keeps its
// values' types; a CSV record (InputRecord::fields) gives strings, an
// empty field null.
class RowReader {
 public:
  RowReader();
  ~RowReader();
  // False with *error ("not a JSON object", ...) for a record it cannot
  // read.
  bool Read(const InputRecord& record, Row* row, std::string* error);

 private:
  bool ReadJson(std::string_view line, Row* row, std::string* error);

  struct Parser;
  std::unique_ptr<Parser> parser_;
};

// Appends `v` to a composite key as one AppendOrderedString() field (mr/
// mapreduce.h): a kind tag, then the text; numbers by CanonicalNumber()
// when `by_value`.
void AppendKeyField(const Datum& v, bool by_value, std::string* key);
// The fields of an AppendKeyField() key, in order.
bool DecodeKey(std::string_view key, std::vector<Datum>* values);

}  // namespace internal
}  // namespace pipeline
}  // namespace mr

#endif  // MR_APPS_PIPELINE_INTERNAL_TRANSFORM_ROW_H_
