// Cuts an input stream (worker/internal/input_stream.h) into records: lines,
// or CSV records (common/csv.h: a line end inside a quoted field does not
// end one).
//
// Records longer than max_record_bytes (not counting their line end) are
// never held: once a record under way outgrows that, the scanner drops its
// bytes as it reads on to the record's end, and reports it by offset.
// Memory: a read (1 MiB) plus the longest record held (max_record_bytes).
//
// Thread-safety: not thread-safe.
#ifndef MR_WORKER_INTERNAL_RECORD_SCANNER_H_
#define MR_WORKER_INTERNAL_RECORD_SCANNER_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "worker/internal/input_stream.h"

namespace mr {

class RecordScanner {
 public:
  enum class Mode {
    kLines,  // records end at '\n', which is dropped
    kCsv,    // records end at '\n' outside quotes; "\n" or "\r\n" dropped
  };

  struct Record {
    uint64_t offset = 0;     // of the record's first byte in the stream
    std::string_view bytes;  // without the line end; valid until Next()
    bool too_long = false;   // longer than max_record_bytes: `bytes` empty
  };

  // Reads `stream`, whose first byte is at offset `start` of the whole
  // stream. `in_quotes` (kCsv): whether that byte is inside a quoted field.
  // `skip_partial`: the bytes up to and including the first record end are
  // the tail of a record that started before `start`: skipped, not
  // reported.
  RecordScanner(std::unique_ptr<InputStream> stream, uint64_t start,
                Mode mode, bool in_quotes, bool skip_partial,
                uint64_t max_record_bytes);
  RecordScanner(const RecordScanner&) = delete;
  RecordScanner& operator=(const RecordScanner&) = delete;

  // The next record: true, or false at the end of the stream. A last record
  // without a line end is a record.
  absl::StatusOr<bool> Next(Record* record);

 private:
  // Looks for the current record's end in [scan_, tail_); sets *nl to the
  // '\n' and returns true when found.
  bool FindEnd(size_t* nl);
  // Reads more bytes after tail_, dropping the ones before head_ first and
  // growing the buffer when a record fills it. Sets eof_ at the end.
  absl::Status Fill();
  // Drops the current record's bytes through its end.
  absl::Status DropRecord();

  const std::unique_ptr<InputStream> stream_;
  const Mode mode_;
  const uint64_t max_record_bytes_;
  bool skip_partial_;

  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  uint64_t base_;     // the stream offset of buf_[0]
  size_t head_ = 0;   // the current record's first byte
  size_t scan_ = 0;   // where the search for its end goes on
  size_t tail_ = 0;   // the end of the bytes read
  bool in_quotes_;    // kCsv: the quote state at scan_
  bool eof_ = false;
};

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_RECORD_SCANNER_H_
