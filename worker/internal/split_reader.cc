#include "worker/internal/split_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace mr {
namespace {

constexpr size_t kReadSize = 1 << 20;

// The first '\n' in [p, p + n), or null. n may be 0 with p null (the
// buffer before the first read), which memchr does not allow.
const char* FindNewline(const char* p, size_t n) {
  return n == 0 ? nullptr : static_cast<const char*>(memchr(p, '\n', n));
}

// A byte buffer that keeps kInputBlockPadding readable bytes past its end
// (InputBlock's contract), and grows without zero-filling.
class PaddedBuffer {
 public:
  const char* data() const { return mem_.get(); }
  char* data() { return mem_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }

  // Drops the first n bytes.
  void Consume(size_t n) {
    if (n == 0) return;
    memmove(mem_.get(), mem_.get() + n, size_ - n);
    size_ -= n;
  }

  // Room for `more` bytes after size(); returns where they go. Grows the
  // capacity geometrically, but not past `limit` unless size() + more is.
  char* Reserve(size_t more, size_t limit) {
    if (size_ + more > cap_) {
      const size_t cap = std::max(size_ + more, std::min(2 * cap_, limit));
      std::unique_ptr<char[]> mem(new char[cap + kInputBlockPadding]);
      if (size_ > 0) memcpy(mem.get(), mem_.get(), size_);
      memset(mem.get() + cap, 0, kInputBlockPadding);
      mem_ = std::move(mem);
      cap_ = cap;
    }
    return mem_.get() + size_;
  }

  // Makes the capacity at least `cap` bytes, exactly.
  void ReserveTotal(size_t cap) {
    if (cap > cap_) Reserve(cap - size_, cap);
  }

  void Grow(size_t n) { size_ += n; }

 private:
  std::unique_ptr<char[]> mem_;
  size_t cap_ = 0;
  size_t size_ = 0;
};

// A file read forward in large blocks.
class Reader {
 public:
  // The buffer grows past `buffer_limit` bytes only if one read needs it.
  Reader(std::string path, size_t buffer_limit)
      : path_(std::move(path)), buffer_limit_(buffer_limit) {}
  ~Reader() {
    if (fd_ >= 0) close(fd_);
  }

  absl::Status Open(uint64_t offset) {
    // O_NONBLOCK: a FIFO put in the input's place must not hang the open.
    fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) return Error("cannot open input");
    struct stat st;
    if (fstat(fd_, &st) != 0) return Error("cannot stat input");
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot open input ", path_, ": not a regular file"));
    }
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
    if (lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
      return Error("cannot seek in input");
    }
    pos_ = offset;
    posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    return absl::OkStatus();
  }

  // Makes more bytes (at most `most`, at most kReadSize) available in buf_
  // after the unconsumed tail; false at the end of the file.
  absl::StatusOr<bool> Fill(size_t most = kReadSize) {
    most = std::max<size_t>(1, std::min(most, kReadSize));
    buf_.Consume(start_);
    base_ += start_;
    scan_ -= std::min(scan_, start_);
    start_ = 0;
    if (line_capacity_ > 0) {
      buf_.ReserveTotal(line_capacity_);
      line_capacity_ = 0;
    }
    char* dst = buf_.Reserve(kReadSize, buffer_limit_);
    ssize_t n;
    do {
      n = read(fd_, dst, most);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Error("cannot read input");
    buf_.Grow(n);
    bytes_read_ += n;
    return n > 0;
  }

  // Scans the file from offset `from` for a '\n' without buffering what it
  // scans (the read position stays): the number of bytes before it (before
  // the end of the file when there is none), or `limit` + 1 as soon as
  // there are more than `limit`.
  absl::StatusOr<uint64_t> MeasureLine(uint64_t from, uint64_t limit) {
    if (!scratch_) scratch_.reset(new char[kReadSize]);
    uint64_t n = 0;
    while (n <= limit) {
      const size_t want = static_cast<size_t>(
          std::min<uint64_t>(kReadSize, limit + 1 - n));
      ssize_t got;
      do {
        got = pread(fd_, scratch_.get(), want, static_cast<off_t>(from + n));
      } while (got < 0 && errno == EINTR);
      if (got < 0) return Error("cannot read input");
      if (got == 0) return n;
      bytes_read_ += got;
      const char* nl = static_cast<const char*>(memchr(scratch_.get(), '\n', got));
      examined_ += nl ? nl + 1 - scratch_.get() : got;
      if (nl != nullptr) return n + (nl - scratch_.get());
      n += got;
    }
    return limit + 1;
  }

  // The next Fill() makes the buffer's capacity `bytes` at once (a long
  // line of known length, without growing step by step).
  void ReserveForLine(size_t bytes) { line_capacity_ = bytes; }

  // Drops the buffer and goes on reading at file offset `offset`.
  absl::Status SkipTo(uint64_t offset) {
    buf_.Consume(buf_.size());
    start_ = scan_ = 0;
    base_ = offset - pos_;
    if (lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
      return Error("cannot seek in input");
    }
    return absl::OkStatus();
  }

  absl::Status Error(const char* what) const {
    const std::string msg = absl::StrCat(what, " ", path_, ": ", strerror(errno));
    if (errno == ENOENT) return absl::NotFoundError(msg);
    if (errno == EACCES) return absl::PermissionDeniedError(msg);
    return absl::InternalError(msg);
  }

  // The file offset of buf_[i].
  uint64_t OffsetOf(size_t i) const { return pos_ + base_ + i; }

  PaddedBuffer buf_;
  size_t start_ = 0;  // first unconsumed byte in buf_
  size_t scan_ = 0;   // where the search for '\n' resumes (no byte twice)
  uint64_t bytes_read_ = 0;
  uint64_t examined_ = 0;  // by MeasureLine()
  uint64_t base_ = 0; // file offset of buf_[0], relative to pos_
  uint64_t pos_ = 0;  // file offset where reading began

 private:
  const std::string path_;
  const size_t buffer_limit_;
  int fd_ = -1;
  size_t line_capacity_ = 0;
  std::unique_ptr<char[]> scratch_;  // MeasureLine()'s
};

absl::StatusOr<uint64_t> CountNewlines(const std::string& path, uint64_t end) {
  Reader r(path, kReadSize);
  if (absl::Status s = r.Open(0); !s.ok()) return s;
  uint64_t count = 0, seen = 0;
  while (seen < end) {
    auto more = r.Fill();
    if (!more.ok()) return more.status();
    if (!*more) break;
    const size_t n = std::min<uint64_t>(r.buf_.size(), end - seen);
    const char* p = r.buf_.data();
    const char* stop = p + n;
    while ((p = static_cast<const char*>(memchr(p, '\n', stop - p))) != nullptr) {
      ++count;
      ++p;
    }
    seen += n;
    r.start_ = r.buf_.size();
  }
  return count;
}

}  // namespace

absl::Status ReadChunkBlocks(const mrpb::FileChunk& chunk,
                             const SplitReaderOptions& options,
                             const std::function<void(const InputBlock&)>& fn,
                             const std::function<void(uint64_t)>& on_malformed) {
  const uint64_t begin = chunk.offset();
  const uint64_t end = chunk.offset() + chunk.length();
  const uint64_t max_line = options.max_record_bytes;
  // Start one byte early: if that byte ends a line, a line starts at `begin`.
  const uint64_t read_from = begin > 0 ? begin - 1 : 0;
  // The buffer holds at most one line of max_line bytes plus one read.
  Reader r(chunk.path(),
           static_cast<size_t>(std::min<uint64_t>(max_line, SIZE_MAX / 2)) +
               kReadSize);
  if (absl::Status s = r.Open(read_from); !s.ok()) return s;

  // Dropping bytes up to the next '\n': of the line that started before
  // `begin` (the previous chunk's), or of a malformed line of ours.
  bool dropping = begin > 0;
  uint64_t line_number = 0;
  bool numbered = false;
  // The lines found in the buffer and not yet handed to fn: they are
  // contiguous, [block_start, block_end) of r.buf_.
  InputBlock block;
  block.file = chunk.path();
  size_t block_start = 0, block_end = 0;
  auto flush = [&] {
    if (block.line_count == 0) return;
    block.data = std::string_view(r.buf_.data() + block_start,
                                  block_end - block_start);
    fn(block);
    block.line_count = 0;
  };
  bool eof = false;
  uint64_t examined = 0;
  uint64_t measured = UINT64_MAX;  // the offset of the line last measured
  while (true) {
    const char* data = r.buf_.data();
    const size_t avail = r.buf_.size();
    bool done = false;
    if (dropping) {
      const char* nl = FindNewline(data + r.start_, avail - r.start_);
      examined += (nl ? nl + 1 - data : avail) - r.start_;
      r.start_ = nl == nullptr ? avail : nl - data + 1;
      r.scan_ = r.start_;
      dropping = nl == nullptr;
      // No '\n' up to the chunk's end: no line starts in the rest of it.
      done = r.OffsetOf(r.start_) >= end;
    }
    while (!dropping && !done) {
      const uint64_t line_offset = r.OffsetOf(r.start_);
      if (line_offset >= end) {
        done = true;
        break;
      }
      const char* nl = FindNewline(data + r.scan_, avail - r.scan_);
      examined += (nl ? nl + 1 - data : avail) - r.scan_;
      const size_t line_len = (nl ? nl - data : avail) - r.start_;
      bool too_long = line_len > max_line;
      uint64_t skip_to = 0;  // when too long: where its known bytes end
      if (nl == nullptr) {
        r.scan_ = avail;
        if (!too_long && !eof) {
          if (line_len < kReadSize || measured == line_offset) {
            break;  // need more bytes
          }
          // A long line: learn its length before buffering more of it, so
          // that an over-long one is never buffered and a long one is
          // buffered without growing step by step.
          auto rest = r.MeasureLine(r.OffsetOf(avail), max_line - line_len);
          if (!rest.ok()) return rest.status();
          measured = line_offset;
          if (line_len + *rest <= max_line) {
            r.ReserveForLine(line_len + *rest + 1 + kReadSize);
            break;  // need more bytes
          }
          too_long = true;
          skip_to = r.OffsetOf(avail) + *rest;
        }
        if (!too_long && line_len == 0) {  // the end of the file
          done = true;
          break;
        }
      }
      if (options.line_numbers && !numbered) {
        auto before = CountNewlines(chunk.path(), line_offset);
        if (!before.ok()) return before.status();
        line_number = *before;
        numbered = true;
      }
      ++line_number;
      const size_t line_end = nl ? nl - data + 1 : avail;
      if (too_long) {
        // Malformed: not handed to fn, and not read further than needed.
        flush();
        on_malformed(line_offset);
        r.start_ = line_end;
        r.scan_ = line_end;
        if (nl == nullptr) {
          if (skip_to > 0) {
            // Measured: no '\n' before skip_to.
            if (absl::Status s = r.SkipTo(skip_to); !s.ok()) return s;
          }
          // The rest is dropped as it comes, up to the chunk's end (no line
          // of ours starts after that).
          done = eof || r.OffsetOf(r.start_) >= end;
          dropping = !done;
        }
        continue;
      }
      if (block.line_count == 0) {
        block_start = r.start_;
        block.offset = line_offset;
        block.first_line_number = options.line_numbers ? line_number : 0;
      }
      ++block.line_count;
      block_end = line_end;
      r.start_ = line_end;
      r.scan_ = line_end;
      if (!nl) {
        done = true;
        break;
      }
    }
    flush();  // before Fill() moves the buffer
    if (done || eof) {
      if (options.stats != nullptr) {
        options.stats->bytes_read += r.bytes_read_;
        options.stats->bytes_examined += examined + r.examined_;
        options.stats->max_buffer_bytes =
            std::max(options.stats->max_buffer_bytes, r.buf_.capacity());
      }
      return absl::OkStatus();
    }
    // Bytes dropped past the chunk's end would only be dropped again by the
    // next chunk: read no further than the end while dropping.
    const uint64_t next = r.OffsetOf(r.buf_.size());
    auto more = r.Fill(dropping && next < end ? end - next : kReadSize);
    if (!more.ok()) return more.status();
    eof = !*more;
  }
}

}  // namespace mr
