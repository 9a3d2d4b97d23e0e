// join: an equi-join of two tables on key columns, for CSV and JSON Lines
// inputs. Two ways to run it:
//
// Reduce-side join of two inputs, the left one first (each example is one
// command):
//
//   mrctl submit --app join --input users.csv orders.csv
//       --input-format csv:header --param keys=user_id --param type=left
//       --reduces 4 --output out
//
// Map-side (broadcast) join of the input against a small side file, loaded
// into memory by every map task; map-only, no shuffle:
//
//   mrctl submit --app join --input orders.csv --input-format csv:header
//       --file users.csv --param side=users.csv --param keys=user_id
//       --output out
//
// Parameters:
//   keys=COL[,COL...]   the key columns, named the same on both sides; or
//   left_keys=COL[,...] and right_keys=COL[,...], as many on each side.
//                       A column is named by its CSV header or JSON member
//                       name, or given by 0-based position as #N (for CSV
//                       without a header: --input-format csv).
//   type=inner|left|full  default inner. left keeps every left row, full
//                       every row of both sides (a row without a match gets
//                       empty fields, or no members, for the other side).
//   output=csv|jsonl    default csv (see Output).
//   side=NAME           a broadcast join against the side file NAME, shipped
//                       with `mrctl submit --file PATH` (NAME is PATH's base
//                       name). The input (every --input) is the left side,
//                       NAME the right; type inner or left. NAME's format
//                       comes from its extension: .csv (RFC 4180, comma,
//                       with a header row), .jsonl or .ndjson (one JSON
//                       object per line).
//   missing=fail|null   a row that lacks a key column (no such header, a JSON
//                       object without the member, too few CSV fields) fails
//                       the task (default: "join: no column 'user_id' in the
//                       left input's record at FILE:OFFSET"), or, with null,
//                       has a null key.
//   skew=on|off         default on: spread hot keys (see Skew); off plans
//                       no hot keys (every key on one reduce).
// Without side=, the job takes exactly two inputs: --input LEFT RIGHT (each
// a file, directory or glob), each read with its --input-format (csv:header,
// csv, jsonl; e.g. --input-format csv:header --input users.csv
// --input-format jsonl --input orders.jsonl), and needs reduces (the master
// refuses --reduces 0: the job samples its input).
//
// Keys. Values are compared as text: a CSV field, a JSON string's
// characters, another JSON value's text as written (so JSON 7 matches CSV
// "7" and JSON "7", but not 7.0). A key with a null value (JSON null, a
// missing member under missing=null, or an empty value: "" or an empty CSV
// field) is null and matches nothing, as in SQL; outer joins keep such rows
// unmatched.
//
// Output. One line per output row, written by the default --output-format
// (text): each row is a map or reduce output key with an empty value, so
// the engine writes it and "\n". The columns:
//   - csv: the key columns once (from the left row, or from the right one
//     when there is no left row), then the left row's other columns in
//     input order, then the right row's; a missing side gives as many empty
//     fields as that side has other columns (as its first row in input
//     order has; 0 when the side is empty). No header row. Fields are quoted
//     as RFC 4180 requires (a ',', '"', CR or LF inside); JSON null is an
//     empty field, other JSON values their text.
//   - jsonl: one object per row: the key members (named as the left keys
//     are given: "user_id", or "#0"), then the left row's other members,
//     then the right row's; a member name that the other side (or a key)
//     also has is prefixed "left." or "right."; a missing side's members
//     are left out. JSON values keep their type; CSV fields are strings; a
//     headerless CSV column is named "#N" (its position).
// For CSV output, every row of a side should have the same columns (a CSV
// input's do); JSON Lines rows whose members vary are best written as jsonl.
//
// Order. Each reduce partition's part file holds its join keys in the
// bytewise order of their values (composite keys column by column), rows
// with null keys last; within a key, the left rows in input order (by file
// path, then offset), each with the right rows in input order. Which keys a
// partition holds depends on R and on the skew plan; the part files
// together hold the same rows whatever they are. A broadcast join writes,
// per map, its input rows in order, each with its matching side rows in
// side-file order.
//
// Skew (reduce-side). The job samples its input before the maps
// (JobTraits::plans; see Plan()) and counts each join key's rows per side.
// A key is hot when its rows on its larger side exceed half of a reduce
// partition's share of the sample (sampled rows / R / 2); those rows are
// then spread over S = ceil(rows / half-share) partitions (at most R):
// each row of that side goes to one of S salted keys (round-robin), each
// row of the other side with that key to all S, and salt i of a key lands
// on the partition after the unsalted key's by i. The output is the same
// rows as without salting (see JoinPlan in apps/internal/join_plan.h).
//
// Counters: "join null-key rows" (rows whose key is null, kept or not),
// "join salted rows" (hot-key rows spread over several partitions), "join
// replicated rows" (copies of rows sent to more than one partition).
//
// Memory: a reduce holds one key's rows (of one salt) at a time; a broadcast
// join holds the whole side file.
//
// Thread-safety: like every Job, used from one thread.
#ifndef MR_APPS_JOIN_H_
#define MR_APPS_JOIN_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "apps/internal/join_plan.h"
#include "apps/internal/join_render.h"
#include "apps/internal/join_row.h"
#include "apps/internal/join_side_table.h"
#include "mr/mapreduce.h"

namespace mr {
namespace apps {

class Join : public Job {
 public:
  enum class Type { kInner, kLeft, kFull };

  Join();
  ~Join() override;

  // Refuses with "join needs --param keys=COL[,COL...] (or left_keys=...
  // and right_keys=...)", "join: left_keys names 2 columns and right_keys
  // 1; they must name as many", "join: keys has an empty column name",
  // "join: type must be inner, left or full, got 'V'", "join: output must
  // be csv or jsonl, got 'V'", "join: missing must be fail or null, got
  // 'V'", "join: skew must be on or off, got 'V'", "join: a broadcast join (side=FILE) is inner or left, got
  // type=full", "join: unknown parameter 'P'".
  std::string Setup(const std::map<std::string, std::string>& params) override;
  // side=: map_only. Otherwise plans (a reduce-side join samples for skew).
  JobTraits Traits() const override;
  // REQUIRES: Setup() succeeded. Fails the task (Context::Fail()) on a
  // record that is not CSV or JSON Lines, one from a third input, a missing
  // key column (unless missing=null), and (broadcast) a side file that is
  // not shipped or does not load.
  void Map(const InputRecord& record, Context& ctx) override;
  void Reduce(std::string_view key, ValueIterator& values,
              Context& ctx) override;
  // A reduce-side map task sends each reduce partition the first row it
  // saw of each side (what a missing side's CSV fields are).
  void Finish(Context& ctx) override;
  uint32_t Partition(std::string_view key, uint32_t num_partitions) override;

  // The hot keys of the sample (internal::JoinPlan::FromSample()).
  std::string Plan(const Sample& sample, uint32_t num_partitions) override;
  // Refuses a plan that does not decode, and a plan for 0 reduces ("join:
  // a reduce-side join needs reduces; a map-only join is a broadcast join:
  // side=FILE").
  std::string LoadPlan(std::string_view plan) override;

 private:
  // Sets keys_ from keys= or left_keys=/right_keys=; returns the refusal.
  std::string ParseKeys(const std::map<std::string, std::string>& params);
  // Reads the record's columns into columns_ and finds its key columns
  // (key_positions_); false (after failing the task) when one is missing
  // and missing=fail. A missing column under missing=null is added as null.
  bool ReadRecord(const InputRecord& record, uint8_t side, Context& ctx);
  // Whether any key column of columns_ is null.
  bool KeyIsNull() const;
  // key_ := 0x01 + the encoded key columns.
  void BuildKey();
  void MapBroadcast(const InputRecord& record, Context& ctx);
  bool LoadSideTable(Context& ctx);
  void NoteFirstRow(uint8_t side, const InputRecord& record);
  void AddSchemaRow(std::string_view value);
  // Emits one key group's output; `salted_side` is the side spread over
  // salts for a salted key, -1 otherwise.
  void JoinGroup(const std::vector<const internal::JoinRow*>& left,
                 const std::vector<const internal::JoinRow*>& right,
                 int salted_side, Context& ctx);
  void EmitRow(const internal::JoinRow* left, const internal::JoinRow* right,
               Context& ctx);
  void Fail(Context& ctx, std::string_view message);

  // Parameters (constant after Setup()).
  Type type_ = Type::kInner;
  std::vector<internal::JoinKeySpec> keys_[2];  // left, right
  bool jsonl_output_ = false;
  bool missing_is_null_ = false;
  bool skew_ = true;
  std::string side_name_;  // broadcast join when not empty

  internal::JoinPlan plan_;
  std::unique_ptr<internal::JoinRenderer> renderer_;
  bool failed_ = false;
  bool in_map_ = false;

  // Map side.
  internal::RowReader reader_;
  std::vector<internal::JoinColumn> columns_;
  std::vector<size_t> key_positions_;
  std::string key_, value_, line_;
  // The first row in input order of each side this map saw (encoded).
  bool have_first_[2] = {false, false};
  std::string first_file_[2];
  uint64_t first_offset_[2] = {0, 0};
  std::string first_row_[2];
  // The next salt of each hot key.
  absl::flat_hash_map<const internal::JoinPlan::HotKey*, uint32_t> next_salt_;
  // Broadcast join.
  std::unique_ptr<internal::JoinSideTable> side_table_;
  internal::JoinRow row_;

  // Reduce side: the side schemas (first rows) and one key group's rows.
  std::string schema_bytes_[2];
  internal::JoinRow schema_[2];
  bool have_schema_[2] = {false, false};
  std::string arena_;
  std::vector<std::pair<size_t, size_t>> extents_;
  std::vector<internal::JoinRow> pool_;
  std::vector<const internal::JoinRow*> sides_[2];
};

}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_JOIN_H_
