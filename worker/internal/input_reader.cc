#include "worker/internal/input_reader.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/csv.h"
#include "common/file_util.h"
#include "common/input_codec.h"
#include "worker/internal/input_stream.h"
#include "worker/internal/json_line_parser.h"
#include "worker/internal/record_scanner.h"

namespace mr {
namespace {

constexpr size_t kReadSize = 1 << 20;
constexpr size_t kBlockBytes = 1 << 20;

using Malformed = std::function<void(uint64_t, const std::string&)>;

std::string TooLong(const SplitReaderOptions& options) {
  return absl::StrCat("longer than ", options.max_record_bytes, " bytes");
}

bool IsCompressed(const mrpb::FileChunk& chunk) {
  return InputCodecOf(chunk.path()) != InputCodec::kNone;
}

// The records that start in a chunk: the scanner's, until one starts at
// `end` or later. A null scanner: none.
struct ChunkScan {
  std::unique_ptr<RecordScanner> scanner;
  uint64_t end = 0;
};

// Whether byte `n` of the (uncompressed) file `path` is inside a quoted CSV
// field: the parity of the quotes before it (common/csv.h).
// Where the last InQuotesAt() call of this process stopped: the sample task
// reads many windows of one file in ascending order, and each resumes the
// count there instead of at the file's start.
struct QuoteCount {
  std::string path;
  uint64_t position = 0;
  bool odd = false;
};
absl::Mutex quote_count_mu;
QuoteCount* const last_quote_count ABSL_PT_GUARDED_BY(quote_count_mu) =
    new QuoteCount;

absl::StatusOr<bool> InQuotesAt(const std::string& path, uint64_t n) {
  uint64_t from = 0;
  bool odd = false;
  {
    absl::MutexLock lock(&quote_count_mu);
    if (last_quote_count->path == path && last_quote_count->position <= n) {
      from = last_quote_count->position;
      odd = last_quote_count->odd;
    }
  }
  absl::StatusOr<std::unique_ptr<InputStream>> in = OpenInputStream(path, from);
  if (!in.ok()) return in.status();
  std::unique_ptr<char[]> buf(new char[kReadSize]);
  size_t quotes = odd ? 1 : 0;
  uint64_t left = n - from;
  while (left > 0) {
    absl::StatusOr<size_t> got =
        (*in)->Read(buf.get(), std::min<uint64_t>(left, kReadSize));
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    quotes += CountCsvQuotes(std::string_view(buf.get(), *got));
    left -= *got;
  }
  absl::MutexLock lock(&quote_count_mu);
  *last_quote_count = QuoteCount{path, n - left, quotes % 2 == 1};
  return quotes % 2 == 1;
}

absl::StatusOr<ChunkScan> OpenChunk(const mrpb::FileChunk& chunk,
                                    RecordScanner::Mode mode,
                                    uint64_t max_record_bytes) {
  ChunkScan scan;
  const uint64_t offset = chunk.offset();
  if (IsCompressed(chunk)) {
    if (offset > 0) return scan;  // the chunk at 0 reads the whole stream
    // A sample window: the records that start in its first `length`
    // decompressed bytes.
    scan.end = chunk.sample_window() ? chunk.length()
                                     : std::numeric_limits<uint64_t>::max();
  } else {
    scan.end = offset + chunk.length();
  }
  if (offset == 0) {
    absl::StatusOr<std::unique_ptr<InputStream>> in =
        OpenInputStream(chunk.path(), 0);
    if (!in.ok()) return in.status();
    scan.scanner = std::make_unique<RecordScanner>(
        std::move(*in), 0, mode, false, false, max_record_bytes);
    return scan;
  }
  // The first record that starts at `offset` or later follows the first
  // record end at offset - 1 or later.
  bool in_quotes = false;
  if (mode == RecordScanner::Mode::kCsv) {
    absl::StatusOr<bool> q = InQuotesAt(chunk.path(), offset - 1);
    if (!q.ok()) return q.status();
    in_quotes = *q;
  }
  absl::StatusOr<std::unique_ptr<InputStream>> in =
      OpenInputStream(chunk.path(), offset - 1);
  if (!in.ok()) return in.status();
  scan.scanner = std::make_unique<RecordScanner>(
      std::move(*in), offset - 1, mode, in_quotes, true, max_record_bytes);
  return scan;
}

// Calls fn(record) for each record of `scan`.
template <typename Fn>
absl::Status ForEachScanned(ChunkScan& scan, Fn&& fn) {
  if (scan.scanner == nullptr) return absl::OkStatus();
  RecordScanner::Record r;
  while (true) {
    absl::StatusOr<bool> more = scan.scanner->Next(&r);
    if (!more.ok()) return more.status();
    if (!*more || r.offset >= scan.end) return absl::OkStatus();
    fn(r);
  }
}

// ---- CSV

class CsvFields : public RecordFields {
 public:
  size_t size() const override { return ends_.size(); }
  std::string_view name(size_t i) const override {
    return i < names_.size() ? std::string_view(names_[i]) : std::string_view();
  }
  std::string_view value(size_t i) const override {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(values_).substr(begin, ends_[i] - begin);
  }
  bool Find(std::string_view name, std::string_view* value) const override {
    for (size_t i = 0; i < std::min(names_.size(), ends_.size()); ++i) {
      if (names_[i] == name) {
        *value = this->value(i);
        return true;
      }
    }
    return false;
  }

  absl::Status Split(std::string_view record, char delimiter) {
    return SplitCsvRecord(record, delimiter, &values_, &ends_);
  }
  // The current record's fields become the column names.
  void TakeNames() {
    names_.clear();
    for (size_t i = 0; i < ends_.size(); ++i) names_.emplace_back(value(i));
  }
  void SetNames(std::vector<std::string> names) { names_ = std::move(names); }

 private:
  std::vector<std::string> names_;
  std::string values_;
  std::vector<size_t> ends_;
};

// A CSV file's header: its first non-empty record.
struct CsvHeader {
  std::optional<uint64_t> offset;  // none: the file has no record
  std::vector<std::string> names;  // empty when malformed
};

absl::StatusOr<CsvHeader> ReadCsvHeader(const std::string& path,
                                        char delimiter,
                                        uint64_t max_record_bytes) {
  CsvHeader header;
  absl::StatusOr<std::unique_ptr<InputStream>> in = OpenInputStream(path, 0);
  if (!in.ok()) return in.status();
  RecordScanner scanner(std::move(*in), 0, RecordScanner::Mode::kCsv, false,
                        false, max_record_bytes);
  RecordScanner::Record r;
  while (true) {
    absl::StatusOr<bool> more = scanner.Next(&r);
    if (!more.ok()) return more.status();
    if (!*more) return header;
    if (!r.too_long && r.bytes.empty()) continue;
    header.offset = r.offset;
    if (!r.too_long) {
      SplitCsvRecord(r.bytes, delimiter, &header.names).IgnoreError();
    }
    return header;
  }
}

absl::Status ReadCsv(const mrpb::FileChunk& chunk,
                     const mrpb::InputFormat& format,
                     const SplitReaderOptions& options, InputRecord& record,
                     const std::function<void(const InputRecord&)>& fn,
                     const Malformed& on_malformed) {
  const char delimiter =
      format.delimiter().empty() ? ',' : format.delimiter()[0];
  CsvFields fields;
  // Where the header is: the first non-empty record, which a chunk at 0
  // meets first; a chunk elsewhere reads it apart.
  std::optional<uint64_t> header_at;
  bool header_pending = format.header() && chunk.offset() == 0;
  if (format.header() && chunk.offset() > 0 && !IsCompressed(chunk)) {
    absl::StatusOr<CsvHeader> header =
        ReadCsvHeader(chunk.path(), delimiter, options.max_record_bytes);
    if (!header.ok()) return header.status();
    header_at = header->offset;
    fields.SetNames(std::move(header->names));
  }
  absl::StatusOr<ChunkScan> scan =
      OpenChunk(chunk, RecordScanner::Mode::kCsv, options.max_record_bytes);
  if (!scan.ok()) return scan.status();
  const std::string too_long = TooLong(options);
  record.fields = &fields;
  return ForEachScanned(*scan, [&](const RecordScanner::Record& r) {
    if (!r.too_long && r.bytes.empty()) return;  // an empty line
    const bool is_header =
        header_pending || (header_at.has_value() && r.offset == *header_at);
    header_pending = false;
    if (r.too_long) {
      on_malformed(r.offset, too_long);
      return;
    }
    if (absl::Status s = fields.Split(r.bytes, delimiter); !s.ok()) {
      on_malformed(r.offset, std::string(s.message()));
      return;
    }
    if (is_header) {
      fields.TakeNames();
      return;
    }
    record.offset = r.offset;
    record.line = r.bytes;
    fn(record);
  });
}

// ---- JSON Lines

absl::Status ReadJsonl(const mrpb::FileChunk& chunk,
                       const SplitReaderOptions& options, InputRecord& record,
                       const std::function<void(const InputRecord&)>& fn,
                       const Malformed& on_malformed) {
  // The scanner counts the '\r' of a "\r\n" line end as the line's: it may
  // hold one byte more, and the line is measured without it.
  const uint64_t max = options.max_record_bytes;
  absl::StatusOr<ChunkScan> scan =
      OpenChunk(chunk, RecordScanner::Mode::kLines,
                max == std::numeric_limits<uint64_t>::max() ? max : max + 1);
  if (!scan.ok()) return scan.status();
  JsonLineParser parser;
  const std::string too_long = TooLong(options);
  record.fields = &parser;
  return ForEachScanned(*scan, [&](const RecordScanner::Record& r) {
    std::string_view line = r.bytes;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (r.too_long || line.size() > max) {
      on_malformed(r.offset, too_long);
      return;
    }
    if (JsonLineParser::IsBlank(line)) return;
    if (absl::Status s = parser.Parse(line); !s.ok()) {
      on_malformed(r.offset, std::string(s.message()));
      return;
    }
    record.offset = r.offset;
    record.line = line;
    fn(record);
  });
}

// ---- Compressed text and fixed-length records

// Calls fn(record) for each line of a compressed text chunk, on_malformed
// for each too-long one; line numbers count both.
template <typename Fn>
absl::Status ReadCompressedLines(const mrpb::FileChunk& chunk,
                                 const SplitReaderOptions& options, Fn&& fn,
                                 const std::function<void(uint64_t)>& on_malformed) {
  absl::StatusOr<ChunkScan> scan =
      OpenChunk(chunk, RecordScanner::Mode::kLines, options.max_record_bytes);
  if (!scan.ok()) return scan.status();
  uint64_t line_number = 0;
  return ForEachScanned(*scan, [&](const RecordScanner::Record& r) {
    ++line_number;
    if (r.too_long) {
      on_malformed(r.offset);
    } else {
      fn(r, options.line_numbers ? line_number : 0);
    }
  });
}

// The fixed-length records whose first byte lies in `chunk` (records start
// at multiples of record_bytes): a plain file's are read from the first
// record start in the chunk, the last one past the chunk's end if it
// straddles it; a compressed file's chunk at 0 is its whole stream, or a
// sample window's first `length` decompressed bytes. A truncated last
// record is malformed.
absl::Status ReadFixed(const mrpb::FileChunk& chunk, uint32_t record_bytes,
                       InputRecord& record,
                       const std::function<void(const InputRecord&)>& fn,
                       const Malformed& on_malformed) {
  constexpr uint64_t kAll = std::numeric_limits<uint64_t>::max();
  const uint64_t rb = record_bytes;
  uint64_t first = 0, end = kAll;  // records start in [first, end)
  if (IsCompressed(chunk)) {
    if (chunk.offset() > 0) return absl::OkStatus();
    if (chunk.sample_window()) end = chunk.length();
  } else {
    first = (chunk.offset() + rb - 1) / rb * rb;
    end = chunk.offset() + chunk.length();
  }
  if (first >= end) return absl::OkStatus();
  // Where the last record that starts before `end` ends: no read goes past.
  const uint64_t stop =
      end == kAll ? kAll : first + (end - first + rb - 1) / rb * rb;
  absl::StatusOr<std::unique_ptr<InputStream>> in =
      OpenInputStream(chunk.path(), first);
  if (!in.ok()) return in.status();
  const size_t cap = std::max<size_t>(rb, kReadSize / rb * rb);
  std::unique_ptr<char[]> buf(new char[cap]);
  size_t filled = 0;
  uint64_t offset = first;  // of buf[0]
  while (true) {
    const size_t want = static_cast<size_t>(
        std::min<uint64_t>(cap - filled, stop - (offset + filled)));
    size_t got = 0;
    if (want > 0) {
      absl::StatusOr<size_t> read = (*in)->Read(buf.get() + filled, want);
      if (!read.ok()) return read.status();
      got = *read;
    }
    filled += got;
    if (got == 0 || filled == cap) {
      size_t i = 0;
      for (; i + rb <= filled; i += rb) {
        record.offset = offset + i;
        record.line = std::string_view(buf.get() + i, rb);
        fn(record);
      }
      offset += i;
      if (got == 0) {
        if (i < filled) {
          on_malformed(offset, absl::StrCat("a truncated record (shorter than ",
                                            rb, " bytes)"));
        }
        return absl::OkStatus();
      }
      filled = 0;
    }
  }
}

}  // namespace

mrpb::InputFormat InputFormatOf(const mrpb::JobSpec& spec,
                                const mrpb::FileChunk& chunk) {
  if (spec.input_formats_size() == 1) return spec.input_formats(0);
  if (static_cast<int>(chunk.input_index()) < spec.input_formats_size()) {
    return spec.input_formats(static_cast<int>(chunk.input_index()));
  }
  return mrpb::InputFormat();
}

absl::Status ForEachInputRecord(
    const mrpb::FileChunk& chunk, const mrpb::InputFormat& format,
    const SplitReaderOptions& options,
    const std::function<void(const InputRecord&)>& fn,
    const std::function<void(uint64_t, const std::string&)>& on_malformed) {
  InputRecord record;
  record.file = chunk.path();
  record.input_index = chunk.input_index();
  switch (format.kind()) {
    case mrpb::InputFormat::CSV:
      return ReadCsv(chunk, format, options, record, fn, on_malformed);
    case mrpb::InputFormat::JSONL:
      return ReadJsonl(chunk, options, record, fn, on_malformed);
    case mrpb::InputFormat::FIXED:
      return ReadFixed(chunk, format.record_bytes(), record, fn, on_malformed);
    default:
      break;
  }
  const std::string too_long = TooLong(options);
  auto on_too_long = [&](uint64_t offset) { on_malformed(offset, too_long); };
  if (IsCompressed(chunk)) {
    return ReadCompressedLines(
        chunk, options,
        [&](const RecordScanner::Record& r, uint64_t line_number) {
          record.offset = r.offset;
          record.line_number = line_number;
          record.line = r.bytes;
          fn(record);
        },
        on_too_long);
  }
  return ReadChunkBlocks(
      chunk, options,
      [&](const InputBlock& block) {
        ForEachLine(block, [&](const InputRecord& line) {
          record.offset = line.offset;
          record.line_number = line.line_number;
          record.line = line.line;
          fn(record);
        });
      },
      on_too_long);
}

absl::Status ReadTextBlocks(const mrpb::FileChunk& chunk,
                            const SplitReaderOptions& options,
                            const std::function<void(const InputBlock&)>& fn,
                            const std::function<void(uint64_t)>& on_malformed) {
  if (!IsCompressed(chunk)) {
    return ReadChunkBlocks(chunk, options, fn, on_malformed);
  }
  InputBlock block;
  block.file = chunk.path();
  std::string data;
  data.reserve(kBlockBytes + kInputBlockPadding);
  auto flush = [&] {
    if (block.line_count == 0) return;
    // InputBlock's contract: padding readable past the data.
    data.reserve(data.size() + kInputBlockPadding);
    block.data = data;
    fn(block);
    data.clear();
    block.line_count = 0;
  };
  absl::Status s = ReadCompressedLines(
      chunk, options,
      [&](const RecordScanner::Record& r, uint64_t line_number) {
        if (block.line_count == 0) {
          block.offset = r.offset;
          block.first_line_number = line_number;
        }
        data.append(r.bytes.data(), r.bytes.size());
        data.push_back('\n');
        ++block.line_count;
        if (data.size() >= kBlockBytes) flush();
      },
      [&](uint64_t offset) {
        flush();
        on_malformed(offset);
      });
  if (!s.ok()) return s;
  flush();
  return absl::OkStatus();
}

}  // namespace mr
