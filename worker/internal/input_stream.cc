#include "worker/internal/input_stream.h"

#include <fcntl.h>
#include <lz4frame.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/input_codec.h"

namespace mr {
namespace {

constexpr size_t kCompressedReadSize = 256 << 10;

absl::Status FileError(const char* what, const std::string& path) {
  const std::string msg = absl::StrCat(what, " ", path, ": ", strerror(errno));
  if (errno == ENOENT) return absl::NotFoundError(msg);
  if (errno == EACCES) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

// The file's bytes from an offset.
class FileStream : public InputStream {
 public:
  explicit FileStream(std::string path) : path_(std::move(path)) {}
  ~FileStream() override {
    if (fd_ >= 0) close(fd_);
  }

  absl::Status Open(uint64_t offset) {
    // O_NONBLOCK: a FIFO put in the input's place must not hang the open.
    fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) return FileError("cannot open input", path_);
    struct stat st;
    if (fstat(fd_, &st) != 0) return FileError("cannot stat input", path_);
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot open input ", path_, ": not a regular file"));
    }
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
    posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    pos_ = offset;
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    while (true) {
      const ssize_t r = pread(fd_, buf, n, static_cast<off_t>(pos_));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return FileError("cannot read input", path_);
      pos_ += r;
      return static_cast<size_t>(r);
    }
  }

  const std::string& path() const { return path_; }
  void Rewind() { pos_ = 0; }

 private:
  const std::string path_;
  int fd_ = -1;
  uint64_t pos_ = 0;
};

// Checks the first bytes of `file` against `magic`.
absl::Status CheckMagic(FileStream* file, std::string_view magic,
                        const char* format) {
  char head[8];
  size_t got = 0;
  while (got < magic.size()) {
    absl::StatusOr<size_t> n = file->Read(head + got, magic.size() - got);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    got += *n;
  }
  // An empty file is an empty stream.
  if (got == 0 || std::string_view(head, got) == magic) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("input ", file->path(), " is not ",
                                          format, " (its name says it is)"));
}

// gzip members, inflated one after the other.
class GzipStream : public InputStream {
 public:
  explicit GzipStream(std::unique_ptr<FileStream> file)
      : file_(std::move(file)), in_(new char[kCompressedReadSize]) {}
  ~GzipStream() override {
    if (initialized_) inflateEnd(&z_);
  }

  absl::Status Init() {
    if (absl::Status s = CheckMagic(file_.get(), "\x1f\x8b", "gzip data");
        !s.ok()) {
      return s;
    }
    file_->Rewind();
    memset(&z_, 0, sizeof(z_));
    // 16 + 15: a gzip wrapper, the largest window.
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) {
      return absl::InternalError(
          absl::StrCat("cannot start inflating input ", file_->path()));
    }
    initialized_ = true;
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = static_cast<uInt>(n);
    while (z_.avail_out == n) {
      if (z_.avail_in == 0 && !file_eof_) {
        absl::StatusOr<size_t> got = file_->Read(in_.get(), kCompressedReadSize);
        if (!got.ok()) return got.status();
        if (*got == 0) {
          file_eof_ = true;
        } else {
          z_.next_in = reinterpret_cast<Bytef*>(in_.get());
          z_.avail_in = static_cast<uInt>(*got);
        }
      }
      if (z_.avail_in == 0 && file_eof_) {
        if (in_member_) {
          return absl::DataLossError(absl::StrCat(
              "corrupt gzip input ", file_->path(), ": it ends mid-member"));
        }
        break;
      }
      if (!in_member_ && members_ > 0) {
        // Zero bytes after a member are padding (a tape block's, say), as
        // GNU gzip has it: skipped.
        while (z_.avail_in > 0 && *z_.next_in == 0) {
          ++z_.next_in;
          --z_.avail_in;
        }
        if (z_.avail_in == 0) continue;
      }
      in_member_ = true;
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // Another member may follow.
        in_member_ = false;
        ++members_;
        inflateReset(&z_);
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return absl::DataLossError(
            absl::StrCat("corrupt gzip input ", file_->path(), ": ",
                         z_.msg != nullptr ? z_.msg : zError(rc)));
      }
    }
    return n - z_.avail_out;
  }

 private:
  std::unique_ptr<FileStream> file_;
  std::unique_ptr<char[]> in_;
  z_stream z_;
  bool initialized_ = false;
  bool file_eof_ = false;
  bool in_member_ = false;  // bytes of a member fed, its end not yet seen
  uint64_t members_ = 0;    // members ended so far
};

// LZ4 frames, decompressed one after the other.
class Lz4Stream : public InputStream {
 public:
  explicit Lz4Stream(std::unique_ptr<FileStream> file)
      : file_(std::move(file)), in_(new char[kCompressedReadSize]) {}
  ~Lz4Stream() override {
    if (ctx_ != nullptr) LZ4F_freeDecompressionContext(ctx_);
  }

  absl::Status Init() {
    if (absl::Status s =
            CheckMagic(file_.get(), "\x04\x22\x4d\x18", "LZ4 frame data");
        !s.ok()) {
      return s;
    }
    file_->Rewind();
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx_, LZ4F_VERSION))) {
      return absl::InternalError(
          absl::StrCat("cannot start decompressing input ", file_->path()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t produced = 0;
    while (produced == 0) {
      if (in_pos_ == in_size_ && !file_eof_) {
        absl::StatusOr<size_t> got = file_->Read(in_.get(), kCompressedReadSize);
        if (!got.ok()) return got.status();
        in_pos_ = 0;
        in_size_ = *got;
        if (*got == 0) file_eof_ = true;
      }
      if (in_pos_ == in_size_ && file_eof_) {
        if (in_frame_) {
          return absl::DataLossError(absl::StrCat(
              "corrupt LZ4 input ", file_->path(), ": it ends mid-frame"));
        }
        break;
      }
      size_t out_size = n - produced;
      size_t in_size = in_size_ - in_pos_;
      const size_t hint = LZ4F_decompress(ctx_, buf + produced, &out_size,
                                          in_.get() + in_pos_, &in_size,
                                          nullptr);
      if (LZ4F_isError(hint)) {
        return absl::DataLossError(absl::StrCat("corrupt LZ4 input ",
                                                file_->path(), ": ",
                                                LZ4F_getErrorName(hint)));
      }
      in_pos_ += in_size;
      produced += out_size;
      // 0: a frame ended (the context starts the next one by itself).
      in_frame_ = hint != 0;
    }
    return produced;
  }

 private:
  std::unique_ptr<FileStream> file_;
  std::unique_ptr<char[]> in_;
  size_t in_pos_ = 0, in_size_ = 0;
  LZ4F_dctx* ctx_ = nullptr;
  bool file_eof_ = false;
  bool in_frame_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<InputStream>> OpenInputStream(
    const std::string& path, uint64_t offset) {
  auto file = std::make_unique<FileStream>(path);
  if (absl::Status s = file->Open(offset); !s.ok()) return s;
  const InputCodec codec = InputCodecOf(path);
  if (codec != InputCodec::kNone && offset != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "compressed input ", path, " cannot be read from offset ", offset));
  }
  switch (codec) {
    case InputCodec::kNone:
      return std::unique_ptr<InputStream>(std::move(file));
    case InputCodec::kGzip: {
      auto gz = std::make_unique<GzipStream>(std::move(file));
      if (absl::Status s = gz->Init(); !s.ok()) return s;
      return std::unique_ptr<InputStream>(std::move(gz));
    }
    case InputCodec::kLz4: {
      auto lz = std::make_unique<Lz4Stream>(std::move(file));
      if (absl::Status s = lz->Init(); !s.ok()) return s;
      return std::unique_ptr<InputStream>(std::move(lz));
    }
  }
  return absl::InternalError("unknown codec");
}

}  // namespace mr
