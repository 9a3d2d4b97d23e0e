#include "worker/internal/record_scanner.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/csv.h"

namespace mr {
namespace {

constexpr size_t kReadSize = 1 << 20;

}  // namespace

RecordScanner::RecordScanner(std::unique_ptr<InputStream> stream,
                             uint64_t start, Mode mode, bool in_quotes,
                             bool skip_partial, uint64_t max_record_bytes)
    : stream_(std::move(stream)),
      mode_(mode),
      max_record_bytes_(max_record_bytes),
      skip_partial_(skip_partial),
      base_(start),
      in_quotes_(mode == Mode::kCsv && in_quotes) {}

bool RecordScanner::FindEnd(size_t* nl) {
  if (scan_ == tail_) return false;
  const std::string_view rest(buf_.get() + scan_, tail_ - scan_);
  size_t at;
  if (mode_ == Mode::kCsv) {
    at = FindCsvRecordEnd(rest, &in_quotes_);
  } else {
    const void* p = memchr(rest.data(), '\n', rest.size());
    at = p == nullptr ? std::string_view::npos
                      : static_cast<const char*>(p) - rest.data();
  }
  if (at == std::string_view::npos) {
    scan_ = tail_;
    return false;
  }
  *nl = scan_ + at;
  scan_ = *nl + 1;
  return true;
}

absl::Status RecordScanner::Fill() {
  if (head_ > 0) {
    memmove(buf_.get(), buf_.get() + head_, tail_ - head_);
    base_ += head_;
    scan_ -= head_;
    tail_ -= head_;
    head_ = 0;
  }
  if (cap_ - tail_ < kReadSize / 4) {
    const size_t cap = std::max(kReadSize, 2 * cap_);
    std::unique_ptr<char[]> buf(new char[cap]);
    if (tail_ > 0) memcpy(buf.get(), buf_.get(), tail_);
    buf_ = std::move(buf);
    cap_ = cap;
  }
  absl::StatusOr<size_t> n =
      stream_->Read(buf_.get() + tail_, std::min(cap_ - tail_, kReadSize));
  if (!n.ok()) return n.status();
  if (*n == 0) eof_ = true;
  tail_ += *n;
  return absl::OkStatus();
}

absl::Status RecordScanner::DropRecord() {
  while (true) {
    size_t nl;
    if (FindEnd(&nl)) {
      head_ = nl + 1;
      return absl::OkStatus();
    }
    // Nothing of the record is kept: the buffer never grows for it.
    base_ += tail_;
    head_ = scan_ = tail_ = 0;
    if (eof_) return absl::OkStatus();
    if (absl::Status s = Fill(); !s.ok()) return s;
  }
}

absl::StatusOr<bool> RecordScanner::Next(Record* record) {
  if (skip_partial_) {
    skip_partial_ = false;
    if (absl::Status s = DropRecord(); !s.ok()) return s;
  }
  while (true) {
    size_t nl;
    if (FindEnd(&nl)) {
      size_t end = nl;
      if (mode_ == Mode::kCsv && end > head_ && buf_[end - 1] == '\r') --end;
      record->offset = base_ + head_;
      record->too_long = end - head_ > max_record_bytes_;
      record->bytes = record->too_long
                          ? std::string_view()
                          : std::string_view(buf_.get() + head_, end - head_);
      head_ = nl + 1;
      return true;
    }
    if (eof_) {
      if (head_ == tail_) return false;
      record->offset = base_ + head_;
      record->too_long = tail_ - head_ > max_record_bytes_;
      record->bytes =
          record->too_long ? std::string_view()
                           : std::string_view(buf_.get() + head_, tail_ - head_);
      head_ = scan_ = tail_;
      return true;
    }
    // +1: a CSV record's '\r' before its '\n' is not its own.
    if (tail_ - head_ > max_record_bytes_ + 1) {
      record->offset = base_ + head_;
      record->too_long = true;
      record->bytes = std::string_view();
      if (absl::Status s = DropRecord(); !s.ok()) return s;
      return true;
    }
    if (absl::Status s = Fill(); !s.ok()) return s;
  }
}

}  // namespace mr
