#include "worker/internal/output_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/csv.h"
#include "common/names.h"

namespace mr {
namespace {

constexpr size_t kOutputBuffer = 1 << 20;

}  // namespace

OutputWriter::~OutputWriter() {
  if (fd_ >= 0) close(fd_);
}

absl::Status OutputWriter::Open(const std::string& path) {
  path_ = path;
  fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return Error("cannot create output");
  buf_.reserve(kOutputBuffer + 4096);
  return absl::OkStatus();
}

absl::Status OutputWriter::Write(std::string_view key, std::string_view value) {
  switch (format_) {
    case mrpb::OUTPUT_BINARY:
      buf_.append(key.data(), key.size());
      buf_.append(value.data(), value.size());
      break;
    case mrpb::OUTPUT_TSV:
      buf_.append(key.data(), key.size());
      buf_.push_back('\t');
      buf_.append(value.data(), value.size());
      buf_.push_back('\n');
      break;
    case mrpb::OUTPUT_CSV:
      AppendCsvField(key, &buf_);
      buf_.push_back(',');
      AppendCsvField(value, &buf_);
      buf_.append("\r\n");
      break;
    case mrpb::OUTPUT_JSONL:
      buf_.append("{\"key\":");
      AppendJsonString(key);
      buf_.append(",\"value\":");
      AppendJsonString(value);
      buf_.append("}\n");
      break;
    default:
      buf_.append(key.data(), key.size());
      if (!value.empty()) {
        buf_.push_back(' ');
        buf_.append(value.data(), value.size());
      }
      buf_.push_back('\n');
      break;
  }
  return buf_.size() >= kOutputBuffer ? Flush() : absl::OkStatus();
}

void OutputWriter::AppendJsonString(std::string_view s) {
  // Printable ASCII but '"' and '\\' goes as it is; anything else is
  // escaped as mrctl's JSON escapes names (common/names.h: JsonString), a
  // byte that is not part of valid UTF-8 as \udcNN.
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      buf_.append(JsonString(s));
      return;
    }
  }
  buf_.push_back('"');
  buf_.append(s.data(), s.size());
  buf_.push_back('"');
}

absl::Status OutputWriter::Close() {
  if (absl::Status s = Flush(); !s.ok()) return s;
  if (fsync(fd_) != 0) return Error("cannot sync output");
  const int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0) return Error("cannot close output");
  return absl::OkStatus();
}

absl::Status OutputWriter::Flush() {
  size_t done = 0;
  while (done < buf_.size()) {
    const ssize_t n = write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error("cannot write output");
    done += n;
  }
  buf_.clear();
  return absl::OkStatus();
}

absl::Status OutputWriter::Error(const char* what) const {
  const std::string msg = absl::StrCat(what, " ", path_, ": ", strerror(errno));
  if (errno == ENOSPC || errno == EDQUOT) {
    return absl::ResourceExhaustedError(msg);
  }
  return absl::InternalError(msg);
}

}  // namespace mr
