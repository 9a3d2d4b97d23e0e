// A part file of a job's output: records written in the job's output
// format (mrpb::OutputFormat: text "key value\n", TSV "key\tvalue\n", CSV
// two RFC 4180 fields ending "\r\n", JSON Lines {"key":K,"value":V}
// (JSON strings; a byte that is not part of valid UTF-8 is escaped as the
// lone surrogate \udcNN, as `mrctl --json` escapes names: common/names.h
// JsonString), binary key and value bytes with nothing added) through a
// large buffer, and synced on Close()
// so that an attempt reports success only once its output is durable.
//
// Thread-safety: not thread-safe.
#ifndef MR_WORKER_INTERNAL_OUTPUT_WRITER_H_
#define MR_WORKER_INTERNAL_OUTPUT_WRITER_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "proto/job.pb.h"

namespace mr {

class OutputWriter {
 public:
  explicit OutputWriter(mrpb::OutputFormat format) : format_(format) {}
  ~OutputWriter();
  OutputWriter(const OutputWriter&) = delete;
  OutputWriter& operator=(const OutputWriter&) = delete;

  // Creates (truncates) `path`.
  absl::Status Open(const std::string& path);
  // Appends one record. ResourceExhausted when the disk is full.
  absl::Status Write(std::string_view key, std::string_view value);
  // Flushes, syncs and closes the file.
  absl::Status Close();

 private:
  absl::Status Flush();
  void AppendJsonString(std::string_view s);
  absl::Status Error(const char* what) const;

  const mrpb::OutputFormat format_;
  std::string path_;
  int fd_ = -1;
  std::string buf_;
};

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_OUTPUT_WRITER_H_
