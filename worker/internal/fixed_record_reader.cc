#include "worker/internal/fixed_record_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

namespace mr {
namespace {

constexpr uint64_t kReadSize = 1 << 20;

absl::Status FileError(const char* what, const std::string& path) {
  const std::string msg = absl::StrCat(what, " ", path, ": ", strerror(errno));
  if (errno == ENOENT) return absl::NotFoundError(msg);
  if (errno == EACCES) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  const int fd_;
};

}  // namespace

absl::Status ReadFixedRecords(
    const mrpb::FileChunk& chunk, uint32_t record_bytes,
    const std::function<void(std::string_view, uint64_t)>& fn,
    const std::function<void(uint64_t)>& on_malformed) {
  const std::string& path = chunk.path();
  // O_NONBLOCK: a FIFO put in the input's place must not hang the open.
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return FileError("cannot open input", path);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return FileError("cannot stat input", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open input ", path, ": not a regular file"));
  }
  fcntl(fd.get(), F_SETFL, fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  const uint64_t rb = record_bytes;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  // The records whose first byte is in [offset, offset + length).
  const uint64_t first = (chunk.offset() + rb - 1) / rb * rb;
  const uint64_t chunk_end = std::min(size, chunk.offset() + chunk.length());
  uint64_t end = first;  // one past the last record's first byte, rounded
  if (chunk_end > first) end = first + (chunk_end - first + rb - 1) / rb * rb;
  end = std::min(end, size);

  const uint64_t per_read = std::max<uint64_t>(1, kReadSize / rb) * rb;
  std::unique_ptr<char[]> buf(new char[per_read]);
  uint64_t pos = first;
  while (pos < end) {
    const uint64_t want = std::min(per_read, end - pos);
    uint64_t got = 0;
    while (got < want) {
      const ssize_t n = pread(fd.get(), buf.get() + got, want - got,
                              static_cast<off_t>(pos + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return FileError("cannot read input", path);
      if (n == 0) break;  // the file shrank under us
      got += static_cast<uint64_t>(n);
    }
    const uint64_t whole = got / rb * rb;
    if (whole > 0) fn(std::string_view(buf.get(), whole), pos);
    if (whole < got) on_malformed(pos + whole);  // a truncated last record
    if (whole < got || got < want) break;
    pos += got;
  }
  return absl::OkStatus();
}

}  // namespace mr
