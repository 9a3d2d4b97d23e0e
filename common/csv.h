// RFC 4180 CSV records: where one ends, and its fields.
//
// A record is the bytes up to a line end ("\n" or "\r\n") that lies outside
// any quoted field, or to the end of the data. Whether a line end is inside
// quotes depends only on how many '"' bytes precede it: an odd number means
// inside (an escaped quote inside a quoted field is written "" and counts
// twice, so the parity holds). Record ends are therefore a function of the
// bytes alone, whether the record is well formed or not: a reader that starts
// mid-file (a map split) finds the same record starts as one that starts at
// byte 0, given the quote parity of the bytes before its start.
//
// Fields are separated by the delimiter (one byte, ',' by default). A field
// is either unquoted (no '"' in it; it may hold any other byte, a lone '\r'
// included) or quoted: '"', any bytes with each '"' doubled (delimiters and
// line ends included), '"', and then the delimiter or the record's end.
// Malformed records (InvalidArgument, the reason says which byte of the
// record): a '"' inside an unquoted field, a byte other than the delimiter
// after a closing quote, a quoted field left open at the end of the data.
//
// An empty record (an empty line) has no fields; readers skip it. A CSV
// writer that means one empty field writes "" (as Python's csv module does).
//
// Example, for a side file held in memory (a join's small table):
//
//   std::string_view rest = contents;
//   std::vector<std::string> fields;
//   while (!rest.empty()) {
//     absl::StatusOr<size_t> n = ParseCsvRecord(rest, true, ',', &fields);
//     if (!n.ok()) {  // malformed: skip it
//       rest.remove_prefix(CsvRecordLength(rest, true));
//       continue;
//     }
//     rest.remove_prefix(*n);
//     if (!fields.empty()) Use(fields);
//   }
//
// Thread-safety: plain functions.
#ifndef MR_COMMON_CSV_H_
#define MR_COMMON_CSV_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mr {

// Appends `field` as one RFC 4180 field with ',' delimiters: quoted (each
// '"' doubled) when it holds a ',', '"', CR or LF, as it is otherwise.
void AppendCsvField(std::string_view field, std::string* out);

// The number of '"' bytes in `data` (for the parity of a prefix).
size_t CountCsvQuotes(std::string_view data);

// The position in `data` of the '\n' that ends the record under way at its
// start, or npos when there is none in `data`. `*in_quotes` is whether
// `data` starts inside a quoted field (the parity of the quotes before it
// since the record's start); when npos is returned it is set to the state
// at the end of `data`, so that a scan can go on in the next buffer.
size_t FindCsvRecordEnd(std::string_view data, bool* in_quotes);

// The length of the first record of `data`, its line end included; 0 when
// `data` holds no whole record: it is empty, or (unless `at_eof`) no line
// end outside quotes is in it yet. With `at_eof`, a non-empty `data` always
// holds one: the rest of the data when no line end follows.
// REQUIRES: `data` starts at a record start.
size_t CsvRecordLength(std::string_view data, bool at_eof);

// Splits one record, `record` being its bytes without the line end, into
// fields, unquoted: field i is (*values)[ends[i-1], ends[i]) (from 0 for
// i = 0). Both are cleared first, and reused without allocating once large
// enough. InvalidArgument for a malformed record (the reason names the
// byte's position in the record).
absl::Status SplitCsvRecord(std::string_view record, char delimiter,
                            std::string* values, std::vector<size_t>* ends);

// The same, into separate strings.
absl::Status SplitCsvRecord(std::string_view record, char delimiter,
                            std::vector<std::string>* fields);

// Parses the first record of `data` into `fields` and returns its length,
// line end included (what to skip to reach the next record); 0 when `data`
// holds no whole record (see CsvRecordLength). InvalidArgument for a
// malformed record: skip CsvRecordLength(data, at_eof) bytes to go on.
absl::StatusOr<size_t> ParseCsvRecord(std::string_view data, bool at_eof,
                                      char delimiter,
                                      std::vector<std::string>* fields);

}  // namespace mr

#endif  // MR_COMMON_CSV_H_
