#include "worker/internal/run_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace mr {
namespace {

constexpr size_t kIoBuffer = 256 << 10;

absl::Status IoError(const char* what, const std::string& path) {
  const std::string msg = absl::StrCat(what, " ", path, ": ", strerror(errno));
  if (errno == ENOSPC) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

}  // namespace

RunFileWriter::~RunFileWriter() {
  if (file_ != nullptr) fclose(file_);
}

absl::Status RunFileWriter::Open(const std::string& path) {
  path_ = path;
  file_ = fopen(path.c_str(), "wbe");
  if (file_ == nullptr) return IoError("cannot create run file", path);
  setvbuf(file_, nullptr, _IOFBF, kIoBuffer);
  return absl::OkStatus();
}

absl::Status RunFileWriter::Append(uint32_t raw_size, uint32_t crc32c,
                                   std::string_view data) {
  std::string header;
  PutFixed32(&header, raw_size);
  PutFixed32(&header, crc32c);
  PutFixed32(&header, static_cast<uint32_t>(data.size()));
  if (fwrite(header.data(), 1, header.size(), file_) != header.size() ||
      fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    return IoError("cannot write run file", path_);
  }
  return absl::OkStatus();
}

absl::Status RunFileWriter::Close() {
  FILE* f = file_;
  file_ = nullptr;
  if (f != nullptr && fclose(f) != 0) return IoError("cannot write run file", path_);
  return absl::OkStatus();
}

RunFileReader::~RunFileReader() {
  if (file_ != nullptr) fclose(file_);
}

absl::Status RunFileReader::Open(const std::string& path) {
  path_ = path;
  file_ = fopen(path.c_str(), "rbe");
  if (file_ == nullptr) return IoError("cannot open run file", path);
  struct stat st;
  if (fstat(fileno(file_), &st) != 0) return IoError("cannot stat run file", path);
  file_size_ = static_cast<uint64_t>(st.st_size);
  setvbuf(file_, nullptr, _IOFBF, kIoBuffer);
  return Next();
}

absl::Status RunFileReader::Corrupt(absl::string_view what) const {
  return absl::DataLossError(absl::StrCat("run file ", path_, ": block at byte ",
                                          block_offset_, ": ", what));
}

absl::Status RunFileReader::LoadBlock(bool* loaded) {
  block_offset_ = next_offset_;
  char header[12];
  const size_t n = fread(header, 1, sizeof(header), file_);
  if (n == 0 && feof(file_)) {
    *loaded = false;
    return absl::OkStatus();
  }
  if (n != sizeof(header)) {
    return Corrupt(absl::StrCat("truncated header (", n, " of 12 bytes)"));
  }
  const uint32_t raw_size = DecodeFixed32(header);
  const uint32_t crc = DecodeFixed32(header + 4);
  const uint32_t size = DecodeFixed32(header + 8);
  // A corrupt size must not allocate: no more than the file holds.
  const uint64_t left = file_size_ - std::min(file_size_, block_offset_ + 12);
  if (size > left) {
    return Corrupt(absl::StrCat("truncated data (", size, " bytes stated, ",
                                left, " left in the file)"));
  }
  compressed_.resize(size);
  if (fread(compressed_.data(), 1, size, file_) != size) {
    return Corrupt("truncated data (the file shrank while read)");
  }
  next_offset_ = block_offset_ + 12 + size;
  absl::Status s = DecompressBlock(compressed_, raw_size, crc, &raw_);
  if (!s.ok()) return Corrupt(s.message());
  block_ = RecordBlockReader(raw_);
  *loaded = true;
  return absl::OkStatus();
}

absl::Status RunFileReader::Next() {
  while (true) {
    absl::Status s;
    if (block_.Next(&key_, &value_, &s)) {
      valid_ = true;
      return absl::OkStatus();
    }
    valid_ = false;
    if (!s.ok()) return Corrupt(s.message());
    bool loaded = false;
    if (absl::Status l = LoadBlock(&loaded); !l.ok()) return l;
    if (!loaded) return absl::OkStatus();
  }
}

}  // namespace mr
