#include "common/csv.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace mr {

void AppendCsvField(std::string_view field, std::string* out) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(field.data(), field.size());
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

size_t CountCsvQuotes(std::string_view data) {
  // A plain counting loop: the compiler vectorizes it.
  size_t n = 0;
  const char* p = data.data();
  for (size_t i = 0; i < data.size(); ++i) n += p[i] == '"';
  return n;
}

size_t FindCsvRecordEnd(std::string_view data, bool* in_quotes) {
  const char* const begin = data.data();
  const char* const end = begin + data.size();
  const char* p = begin;
  if (*in_quotes) {
    const char* close = static_cast<const char*>(memchr(p, '"', end - p));
    if (close == nullptr) return std::string_view::npos;
    p = close + 1;
    *in_quotes = false;
  }
  const char* nl = nullptr;  // the next '\n' at or after p; `end` for none
  while (p < end) {
    if (nl == nullptr || nl < p) {
      nl = static_cast<const char*>(memchr(p, '\n', end - p));
      if (nl == nullptr) nl = end;
    }
    // Outside quotes: the next line end or opening quote.
    const char* q = static_cast<const char*>(memchr(p, '"', nl - p));
    if (q == nullptr) {
      if (nl != end) return nl - begin;
      break;
    }
    // Inside quotes: the quote that closes them (a doubled quote closes and
    // reopens, which comes to the same).
    const char* close =
        static_cast<const char*>(memchr(q + 1, '"', end - (q + 1)));
    if (close == nullptr) {
      *in_quotes = true;
      break;
    }
    p = close + 1;
  }
  return std::string_view::npos;
}

size_t CsvRecordLength(std::string_view data, bool at_eof) {
  bool in_quotes = false;
  const size_t nl = FindCsvRecordEnd(data, &in_quotes);
  if (nl != std::string_view::npos) return nl + 1;
  return at_eof ? data.size() : 0;
}

absl::Status SplitCsvRecord(std::string_view record, char delimiter,
                            std::string* values, std::vector<size_t>* ends) {
  values->clear();
  ends->clear();
  if (record.empty()) return absl::OkStatus();
  const size_t n = record.size();
  size_t i = 0;
  while (true) {
    if (i < n && record[i] == '"') {
      const size_t open = i++;
      while (true) {
        const size_t q = record.find('"', i);
        if (q == std::string_view::npos) {
          return absl::InvalidArgumentError(absl::StrCat(
              "the quoted field that opens at byte ", open, " is not closed"));
        }
        values->append(record.data() + i, q - i);
        i = q + 1;
        if (i < n && record[i] == '"') {  // an escaped quote
          values->push_back('"');
          ++i;
          continue;
        }
        break;
      }
      ends->push_back(values->size());
      if (i == n) return absl::OkStatus();
      if (record[i] != delimiter) {
        return absl::InvalidArgumentError(
            absl::StrCat("a byte other than the delimiter follows the closing "
                         "quote, at byte ",
                         i));
      }
      ++i;
      continue;
    }
    size_t d = record.find(delimiter, i);
    if (d == std::string_view::npos) d = n;
    const std::string_view field = record.substr(i, d - i);
    if (const size_t q = field.find('"'); q != std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a quote inside an unquoted field, at byte ", i + q));
    }
    values->append(field.data(), field.size());
    ends->push_back(values->size());
    if (d == n) return absl::OkStatus();
    i = d + 1;
  }
}

absl::Status SplitCsvRecord(std::string_view record, char delimiter,
                            std::vector<std::string>* fields) {
  std::string values;
  std::vector<size_t> ends;
  fields->clear();
  absl::Status s = SplitCsvRecord(record, delimiter, &values, &ends);
  if (!s.ok()) return s;
  size_t begin = 0;
  for (size_t end : ends) {
    fields->emplace_back(values, begin, end - begin);
    begin = end;
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> ParseCsvRecord(std::string_view data, bool at_eof,
                                      char delimiter,
                                      std::vector<std::string>* fields) {
  fields->clear();
  const size_t length = CsvRecordLength(data, at_eof);
  if (length == 0) return 0;
  std::string_view record = data.substr(0, length);
  if (!record.empty() && record.back() == '\n') {
    record.remove_suffix(1);
    if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
  }
  absl::Status s = SplitCsvRecord(record, delimiter, fields);
  if (!s.ok()) return s;
  return length;
}

}  // namespace mr
