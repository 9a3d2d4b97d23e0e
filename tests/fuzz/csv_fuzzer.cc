// Fuzzes the CSV input format (ForEachInputRecord over RecordScanner and
// common/csv.h): a file of the fuzzer's bytes, with options (header, the
// delimiter, sometimes a small max_record_bytes) and cut points from the
// input, read chunk by chunk.
//
// Input: an options byte [header:1][delimiter:3][small max:2], a delimiter
// byte or a max byte when those bits ask for one, up to 4 cut points (a
// count byte, then two bytes each), then the file.
//
// Properties:
//  - every record's and malformed record's offset lies inside its chunk;
//  - the chunks' events, in order, are those of the file read as one chunk
//    (records with their bytes, fields and header names; malformed offsets
//    and reasons);
//  - which equal a model built on the in-memory parser alone
//    (CsvRecordLength + SplitCsvRecord over the whole file, no scanner, no
//    chunk boundaries), including which records are too long;
//  - a malformed reason names a byte of its record that is what the reason
//    says (a quote, the byte after a closing quote);
//  - the fields, written back as the CSV output writer writes them
//    (AppendCsvField, ',' and "\r\n") and read again, by ParseCsvRecord and by
//    the reader itself (with the header's names), are the same fields.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/csv.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/input_format_fuzz.h"

namespace mr {
namespace fuzz {
namespace {

struct Options {
  bool header = false;
  char delimiter = ',';
  uint64_t max_record_bytes = 1 << 20;
};

Options ConsumeOptions(FuzzInput& in) {
  Options o;
  const uint8_t bits = in.Byte();
  o.header = bits & 1;
  switch ((bits >> 1) & 7) {
    case 1: o.delimiter = ';'; break;
    case 2: o.delimiter = '\t'; break;
    case 3: o.delimiter = '|'; break;
    case 4: {
      // Any byte the job validator accepts as a delimiter.
      const char d = static_cast<char>(in.Byte());
      if (d != '"' && d != '\n' && d != '\r') o.delimiter = d;
      break;
    }
    default: break;
  }
  if (((bits >> 4) & 3) == 1) o.max_record_bytes = 1 + in.Byte() % 64;
  return o;
}

// The byte position a SplitCsvRecord reason names ("... at byte K" or
// "... opens at byte K ..."), or -1.
int64_t NamedByte(std::string_view reason) {
  for (std::string_view key : {"at byte "}) {
    const size_t at = reason.find(key);
    if (at == std::string_view::npos) continue;
    std::string_view rest = reason.substr(at + key.size());
    size_t n = 0;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    int64_t k;
    if (n > 0 && absl::SimpleAtoi(absl::string_view(rest.data(), n), &k)) {
      return k;
    }
  }
  return -1;
}

// Checks that a malformed record's reason names where it is.
void CheckReason(std::string_view record, char delimiter,
                 std::string_view reason) {
  const int64_t k = NamedByte(reason);
  FUZZ_CHECK(k >= 0 && static_cast<uint64_t>(k) < record.size() + 1)
      << "reason '" << reason << "' names no byte of a " << record.size()
      << "-byte record";
  const size_t i = static_cast<size_t>(k);
  if (reason.find("quote inside an unquoted field") != std::string_view::npos) {
    FUZZ_CHECK(i < record.size() && record[i] == '"') << reason;
  } else if (reason.find("opens at byte") != std::string_view::npos) {
    FUZZ_CHECK(i < record.size() && record[i] == '"') << reason;
  } else if (reason.find("follows the closing quote") !=
             std::string_view::npos) {
    FUZZ_CHECK(i >= 1 && i < record.size() && record[i - 1] == '"' &&
               record[i] != delimiter)
        << reason;
  } else {
    FUZZ_CHECK(false) << "unknown reason '" << reason << "'";
  }
}

// The events of `file` read whole, from the in-memory parser alone; the
// header's names in `*names`.
std::vector<InputEvent> Model(std::string_view file, const Options& o,
                              std::vector<std::string>* names) {
  std::vector<InputEvent> events;
  std::vector<std::string> fields;
  names->clear();
  bool header_pending = o.header;
  uint64_t offset = 0;
  while (offset < file.size()) {
    const std::string_view rest = file.substr(offset);
    const size_t length = CsvRecordLength(rest, true);
    FUZZ_CHECK(length > 0) << "CsvRecordLength 0 at EOF, offset " << offset;
    // Its line end, if it has one: a '\n' outside quotes ("\r\n" dropped
    // whole). A record that runs to the end of the file inside an open
    // quote keeps a last '\n' as its own byte (ParseCsvRecord drops it, but
    // the record is malformed either way).
    bool in_quotes = false;
    const bool ended = FindCsvRecordEnd(rest, &in_quotes) == length - 1;
    std::string_view record = rest.substr(0, length);
    if (ended) {
      record.remove_suffix(1);
      if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
    }
    const uint64_t at = offset;
    offset += length;
    const bool too_long = record.size() > o.max_record_bytes;
    if (!too_long && record.empty()) continue;
    const bool is_header = header_pending;
    header_pending = false;
    InputEvent e;
    e.offset = at;
    if (too_long) {
      e.malformed = true;
      e.line = absl::StrCat("longer than ", o.max_record_bytes, " bytes");
      events.push_back(e);
      continue;
    }
    if (absl::Status s = SplitCsvRecord(record, o.delimiter, &fields);
        !s.ok()) {
      FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument) << s;
      CheckReason(record, o.delimiter,
                  std::string_view(s.message().data(), s.message().size()));
      e.malformed = true;
      e.line = std::string(s.message());
      events.push_back(e);
      continue;
    }
    if (is_header) {
      *names = fields;
      continue;
    }
    e.line = std::string(record);
    for (size_t i = 0; i < fields.size(); ++i) {
      e.fields.emplace_back(i < names->size() ? (*names)[i] : "", fields[i]);
    }
    events.push_back(e);
  }
  return events;
}

// One record as the CSV output writer writes its fields. (AppendCsvField
// writes an empty field as nothing; a record of just one would be an empty
// line, so it is written "" as common/csv.h asks of a writer.)
std::string Encode(const std::vector<std::string>& fields) {
  std::string out;
  if (fields.size() == 1 && fields[0].empty()) return "\"\"\r\n";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendCsvField(fields[i], &out);
  }
  out += "\r\n";
  return out;
}

// Writes the records back (after their header's `names`) and reads them
// again: the same fields, the same names.
void CheckRoundTrip(const std::vector<InputEvent>& events,
                    const std::vector<std::string>& names, const Options& o) {
  std::string file;
  std::vector<std::string> values, parsed;
  for (const InputEvent& e : events) {
    if (e.malformed) continue;
    values.clear();
    for (const auto& [name, value] : e.fields) values.push_back(value);
    const std::string line = Encode(values);
    absl::StatusOr<size_t> n = ParseCsvRecord(line, false, ',', &parsed);
    FUZZ_CHECK(n.ok() && *n == line.size() && parsed == values)
        << "fields do not survive AppendCsvField and ParseCsvRecord: "
        << Describe(e);
    file += line;
  }
  if (file.empty()) return;
  // Without names (no header, or a malformed one) every name is "".
  const bool header = o.header && !names.empty();
  std::string with_header;
  if (header) with_header = Encode(names);
  with_header += file;
  FreshFile f(".csv", with_header);
  mrpb::InputFormat format;
  format.set_kind(mrpb::InputFormat::CSV);
  format.set_header(header);
  const std::vector<InputEvent> again =
      ReadWholeFile(f.path(), with_header.size(), format, SplitReaderOptions());
  size_t j = 0;
  for (const InputEvent& e : events) {
    if (e.malformed) continue;
    FUZZ_CHECK(j < again.size() && !again[j].malformed)
        << "record lost writing it back: " << Describe(e) << "\nread back: "
        << Describe(again);
    FUZZ_CHECK(again[j].fields.size() == e.fields.size())
        << Describe(e) << " vs " << Describe(again[j]);
    FUZZ_CHECK(again[j].fields == e.fields)
        << Describe(e) << " vs " << Describe(again[j]);
    ++j;
  }
  FUZZ_CHECK(j == again.size()) << "extra records: " << Describe(again);
}

}  // namespace
}  // namespace fuzz
}  // namespace mr

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mr::fuzz;
  FuzzInput in(data, size);
  const Options o = ConsumeOptions(in);
  const std::vector<uint32_t> raw_cuts = ConsumeCuts(in, 4);
  const std::string_view bytes = in.Rest();
  FreshFile file(".csv", bytes);

  mrpb::InputFormat format;
  format.set_kind(mrpb::InputFormat::CSV);
  format.set_header(o.header);
  if (o.delimiter != ',') format.set_delimiter(std::string(1, o.delimiter));
  mr::SplitReaderOptions options;
  options.max_record_bytes = o.max_record_bytes;

  const std::vector<InputEvent> whole =
      ReadWholeFile(file.path(), bytes.size(), format, options);
  std::vector<std::string> names;
  const std::vector<InputEvent> model = Model(bytes, o, &names);
  FUZZ_CHECK(whole == model) << "the reader and the in-memory parser differ; "
                             << FirstDifference(whole, model);
  const std::vector<uint64_t> cuts = CutsIn(raw_cuts, bytes.size());
  if (!cuts.empty()) {
    const std::vector<InputEvent> chunked =
        ReadCutFile(file.path(), bytes.size(), cuts, format, options);
    FUZZ_CHECK(chunked == whole)
        << "chunks read other records than the whole file; "
        << FirstDifference(chunked, whole);
  }
  CheckRoundTrip(whole, names, o);
  return 0;
}
