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

// A byte buffer that keeps kInputBlockPadding readable bytes past its end
// (InputBlock's contract), and grows without zero-filling.
class PaddedBuffer {
 public:
  const char* data() const { return mem_.get(); }
  char* data() { return mem_.get(); }
  size_t size() const { return size_; }

  // Drops the first n bytes.
  void Consume(size_t n) {
    memmove(mem_.get(), mem_.get() + n, size_ - n);
    size_ -= n;
  }

  // Room for `more` bytes after size(); returns where they go.
  char* Reserve(size_t more) {
    if (size_ + more > cap_) {
      const size_t cap = std::max(size_ + more, 2 * cap_);
      std::unique_ptr<char[]> mem(new char[cap + kInputBlockPadding]);
      if (size_ > 0) memcpy(mem.get(), mem_.get(), size_);
      memset(mem.get() + cap, 0, kInputBlockPadding);
      mem_ = std::move(mem);
      cap_ = cap;
    }
    return mem_.get() + size_;
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
  explicit Reader(std::string path) : path_(std::move(path)) {}
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

  // Makes more bytes available in buf_ after the unconsumed tail; false at
  // the end of the file.
  absl::StatusOr<bool> Fill() {
    buf_.Consume(start_);
    base_ += start_;
    start_ = 0;
    char* dst = buf_.Reserve(kReadSize);
    ssize_t n;
    do {
      n = read(fd_, dst, kReadSize);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Error("cannot read input");
    buf_.Grow(n);
    return n > 0;
  }

  absl::Status Error(const char* what) const {
    const std::string msg = absl::StrCat(what, " ", path_, ": ", strerror(errno));
    if (errno == ENOENT) return absl::NotFoundError(msg);
    if (errno == EACCES) return absl::PermissionDeniedError(msg);
    return absl::InternalError(msg);
  }

  PaddedBuffer buf_;
  size_t start_ = 0;  // first unconsumed byte in buf_
  uint64_t base_ = 0; // file offset of buf_[0], relative to pos_
  uint64_t pos_ = 0;  // file offset where reading began

 private:
  const std::string path_;
  int fd_ = -1;
};

absl::StatusOr<uint64_t> CountNewlines(const std::string& path, uint64_t end) {
  Reader r(path);
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

absl::Status ReadChunkBlocks(const mrpb::FileChunk& chunk, bool line_numbers,
                             const std::function<void(const InputBlock&)>& fn) {
  const uint64_t begin = chunk.offset();
  const uint64_t end = chunk.offset() + chunk.length();
  // Start one byte early: if that byte ends a line, a line starts at `begin`.
  const uint64_t read_from = begin > 0 ? begin - 1 : 0;
  Reader r(chunk.path());
  if (absl::Status s = r.Open(read_from); !s.ok()) return s;

  bool skipping = begin > 0;  // inside the line that started before `begin`
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
  while (true) {
    const char* data = r.buf_.data();
    const size_t avail = r.buf_.size();
    if (skipping) {
      const char* nl = static_cast<const char*>(
          memchr(data + r.start_, '\n', avail - r.start_));
      if (nl == nullptr) {
        r.start_ = avail;
      } else {
        r.start_ = nl - data + 1;
        skipping = false;
      }
    }
    bool done = false;
    while (!skipping) {
      const uint64_t line_offset = r.pos_ + r.base_ + r.start_;
      if (line_offset >= end) {
        done = true;
        break;
      }
      const char* nl = static_cast<const char*>(
          memchr(data + r.start_, '\n', avail - r.start_));
      if (nl == nullptr && !eof) break;  // need more bytes
      if (nl == nullptr && r.start_ == avail) {
        done = true;
        break;
      }
      const size_t line_end = nl ? nl - data + 1 : avail;
      if (line_numbers && !numbered) {
        auto before = CountNewlines(chunk.path(), line_offset);
        if (!before.ok()) return before.status();
        line_number = *before;
        numbered = true;
      }
      ++line_number;
      if (block.line_count == 0) {
        block_start = r.start_;
        block.offset = line_offset;
        block.first_line_number = line_numbers ? line_number : 0;
      }
      ++block.line_count;
      block_end = line_end;
      r.start_ = line_end;
      if (!nl) {
        done = true;
        break;
      }
    }
    flush();  // before Fill() moves the buffer
    if (done || eof) return absl::OkStatus();
    auto more = r.Fill();
    if (!more.ok()) return more.status();
    eof = !*more;
  }
}

}  // namespace mr
