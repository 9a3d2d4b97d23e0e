#include "master/pipeline/staged_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace mr {
namespace pipeline {
namespace {

namespace ondemand = simdjson::ondemand;

constexpr size_t kReadBlock = 1 << 20;
constexpr size_t kWriteBlock = 1 << 20;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// JSON text without the white space raw_json_token() and raw_json() may
// leave after it.
std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 8259's number grammar. simdjson's On Demand API only checks a number
// when it is converted, and we pass numbers on as their text.
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (IsDigit(s[i])) {
    while (i < n && IsDigit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i >= n || !IsDigit(s[i])) return false;
    while (i < n && IsDigit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || !IsDigit(s[i])) return false;
    while (i < n && IsDigit(s[i])) ++i;
  }
  return i == n;
}

}  // namespace

struct StagedRowReader::Parser {
  ondemand::parser parser;
  std::string padded;  // the line, with simdjson's padding after it
};

StagedRowReader::StagedRowReader() : parser_(std::make_unique<Parser>()) {}

StagedRowReader::~StagedRowReader() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status StagedRowReader::Open(const std::string& path) {
  if (file_ != nullptr) std::fclose(file_);
  path_ = path;
  begin_ = end_ = 0;
  eof_ = false;
  line_number_ = 0;
  values_.clear();
  file_ = std::fopen(path.c_str(), "re");
  if (file_ == nullptr) {
    const int err = errno;
    const std::string message =
        absl::StrCat("cannot open staged file ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::InternalError(message);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> StagedRowReader::ReadLine() {
  while (true) {
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl != nullptr) {
      const size_t len = static_cast<const char*>(nl) - start;
      line_ = std::string_view(start, len);
      begin_ += len + 1;
      return true;
    }
    if (eof_) {
      if (begin_ == end_) return false;
      line_ = std::string_view(start, end_ - begin_);  // no final line end
      begin_ = end_;
      return true;
    }
    // Keep the partial line, and read more after it.
    if (begin_ > 0) {
      std::memmove(buffer_.data(), start, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buffer_.size() - end_ < kReadBlock) buffer_.resize(end_ + kReadBlock);
    const size_t got = std::fread(buffer_.data() + end_, 1, kReadBlock, file_);
    if (got < kReadBlock) {
      if (std::ferror(file_)) {
        return absl::InternalError(
            absl::StrCat("cannot read staged file ", path_, ": ", std::strerror(errno)));
      }
      eof_ = true;
    }
    end_ += got;
  }
}

absl::StatusOr<bool> StagedRowReader::Next() {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError("StagedRowReader::Next() before Open()");
  }
  while (true) {
    absl::StatusOr<bool> more = ReadLine();
    if (!more.ok() || !*more) return more;
    ++line_number_;
    size_t i = 0;
    while (i < line_.size() && IsSpace(line_[i])) ++i;
    if (i == line_.size()) continue;  // a blank line holds no row
    std::string reason = ParseLine();
    if (!reason.empty()) {
      return absl::DataLossError(
          absl::StrCat(path_, ":", line_number_, ": ", reason));
    }
    return true;
  }
}

std::string StagedRowReader::ParseLine() {
  values_.clear();
  std::string& buf = parser_->padded;
  buf.assign(line_.data(), line_.size());
  buf.resize(line_.size() + simdjson::SIMDJSON_PADDING);
  auto bad = [](simdjson::error_code e) {
    return absl::StrCat("not a JSON object: ", simdjson::error_message(e));
  };
  ondemand::document doc;
  if (auto e = parser_->parser.iterate(buf.data(), line_.size(), buf.size()).get(doc)) {
    return bad(e);
  }
  ondemand::object object;
  if (auto e = doc.get_object().get(object)) return bad(e);
  for (auto field : object) {
    StagedValue v;
    if (auto e = field.unescaped_key().get(v.name)) return bad(e);
    ondemand::value value;
    if (auto e = field.value().get(value)) return bad(e);
    ondemand::json_type type;
    if (auto e = value.type().get(type)) return bad(e);
    switch (type) {
      case ondemand::json_type::string:
        v.kind = StagedValue::Kind::kString;
        if (auto e = value.get_string().get(v.text)) return bad(e);
        break;
      case ondemand::json_type::null: {
        v.kind = StagedValue::Kind::kNull;
        bool is_null = false;
        if (auto e = value.is_null().get(is_null)) return bad(e);
        if (!is_null) return bad(simdjson::N_ATOM_ERROR);
        break;
      }
      case ondemand::json_type::boolean: {
        v.kind = StagedValue::Kind::kBool;
        bool b;
        if (auto e = value.get_bool().get(b)) return bad(e);
        v.text = b ? "true" : "false";
        break;
      }
      case ondemand::json_type::number:
        v.kind = StagedValue::Kind::kNumber;
        v.text = TrimRight(value.raw_json_token());
        if (!IsJsonNumber(v.text)) {
          return absl::StrCat("column '", std::string(v.name),
                              "': not a JSON number: ", std::string(v.text));
        }
        break;
      case ondemand::json_type::object: {
        v.kind = StagedValue::Kind::kJson;
        ondemand::object o;
        if (auto e = value.get_object().get(o)) return bad(e);
        if (auto e = o.raw_json().get(v.text)) return bad(e);
        v.text = TrimRight(v.text);
        break;
      }
      case ondemand::json_type::array: {
        v.kind = StagedValue::Kind::kJson;
        ondemand::array a;
        if (auto e = value.get_array().get(a)) return bad(e);
        if (auto e = a.raw_json().get(v.text)) return bad(e);
        v.text = TrimRight(v.text);
        break;
      }
    }
    values_.push_back(v);
  }
  // Anything after the object (a second value) makes the line not one
  // object.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return "not one JSON object: text follows the object";
  }
  return {};
}

PartFileWriter::~PartFileWriter() {
  if (fd_ >= 0) close(fd_);
}

absl::Status PartFileWriter::Open(const std::string& path) {
  if (fd_ >= 0) close(fd_);
  path_ = path;
  buffer_.clear();
  status_ = absl::OkStatus();
  bytes_ = 0;
  fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    return absl::InternalError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

void PartFileWriter::Append(std::string_view bytes) {
  buffer_.append(bytes.data(), bytes.size());
  bytes_ += bytes.size();
  if (buffer_.size() >= kWriteBlock && status_.ok()) status_ = Flush();
}

absl::Status PartFileWriter::Flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(
          absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
    }
    done += n;
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status PartFileWriter::Close() {
  if (fd_ < 0) return absl::FailedPreconditionError("PartFileWriter: not open");
  if (status_.ok()) status_ = Flush();
  if (status_.ok() && fsync(fd_) != 0) {
    status_ = absl::InternalError(
        absl::StrCat("cannot sync ", path_, ": ", std::strerror(errno)));
  }
  if (close(fd_) != 0 && status_.ok()) {
    status_ = absl::InternalError(
        absl::StrCat("cannot close ", path_, ": ", std::strerror(errno)));
  }
  fd_ = -1;
  return status_;
}

}  // namespace pipeline
}  // namespace mr
