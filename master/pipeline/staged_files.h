// Reading and writing the part files of staged data (the contract is at the
// top of apps/pipeline/plan.h): JSON Lines, one JSON object per line, column
// name -> typed value. The loaders (postgres_load.h, file_load.h) read them
// with StagedRowReader; the PostgreSQL extract (postgres_extract.h) and the
// file load write their files with PartFileWriter.
//
// Thread-safety: neither class is thread-safe; use one per thread.
#ifndef MR_MASTER_PIPELINE_STAGED_FILES_H_
#define MR_MASTER_PIPELINE_STAGED_FILES_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mr {
namespace pipeline {

// One value of a staged row, as it was written.
struct StagedValue {
  enum class Kind { kNull, kString, kNumber, kBool, kJson };
  std::string_view name;  // the column name, unescaped
  Kind kind = Kind::kNull;
  // kString: the string, unescaped (UTF-8); kNumber: the number's text as
  // written ("12.50" stays so); kBool: "true" or "false"; kJson (a nested
  // object or array): its JSON text; kNull: empty.
  std::string_view text;
};

// Reads the rows of one staged part file, one line at a time (memory is
// bounded by the longest line, not the file). Lines that are empty or hold
// only white space are skipped; every other line must be one JSON object.
//
//   StagedRowReader rows;
//   RETURN_IF_ERROR(rows.Open(path));
//   while (true) {
//     ASSIGN_OR_RETURN(bool more, rows.Next());
//     if (!more) break;
//     for (const StagedValue& v : rows.values()) ...
//   }
class StagedRowReader {
 public:
  StagedRowReader();
  ~StagedRowReader();
  StagedRowReader(const StagedRowReader&) = delete;
  StagedRowReader& operator=(const StagedRowReader&) = delete;

  // Opens `path` (closing any file open before). NotFound or
  // PermissionDenied naming the path.
  absl::Status Open(const std::string& path);

  // Reads the next row: true when there is one, false at the end of the
  // file. DataLoss "PATH:LINE: <reason>" for a line that is not one JSON
  // object (malformed JSON, invalid UTF-8, a number that is not one, a
  // second value after the object); Internal for a read error.
  absl::StatusOr<bool> Next();

  // The row Next() read, its values in the order of the line. The views
  // stay valid until the next call to Next() or Open().
  const std::vector<StagedValue>& values() const { return values_; }
  // The row's line as in the file, without its line end.
  std::string_view line() const { return line_; }
  // The row's line number in the file (1-based).
  int64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }

 private:
  struct Parser;

  // Sets line_ to the next line of the file; false at its end.
  absl::StatusOr<bool> ReadLine();
  // Parses line_ into values_; the reason when it is not one JSON object.
  std::string ParseLine();

  std::string path_;
  std::FILE* file_ = nullptr;
  std::string buffer_;  // file bytes; [begin_, end_) not yet returned
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  std::string_view line_;
  int64_t line_number_ = 0;
  std::vector<StagedValue> values_;
  std::unique_ptr<Parser> parser_;
};

// Writes one new file through a large buffer. Errors name the path.
class PartFileWriter {
 public:
  PartFileWriter() = default;
  ~PartFileWriter();  // closes without checking; call Close() to know
  PartFileWriter(const PartFileWriter&) = delete;
  PartFileWriter& operator=(const PartFileWriter&) = delete;

  // Creates (or truncates) `path`.
  absl::Status Open(const std::string& path);
  void Append(std::string_view bytes);
  // Flushes, syncs (a loaded partition must survive a machine crash once
  // published) and closes; the first error of any Append() or of the close.
  absl::Status Close();
  int64_t bytes_written() const { return bytes_; }

 private:
  absl::Status Flush();

  std::string path_;
  int fd_ = -1;
  std::string buffer_;
  absl::Status status_;
  int64_t bytes_ = 0;
};

}  // namespace pipeline
}  // namespace mr

#endif  // MR_MASTER_PIPELINE_STAGED_FILES_H_
