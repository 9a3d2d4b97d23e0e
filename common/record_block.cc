#include "common/record_block.h"

#include <lz4.h>

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/crc32c.h"

namespace mr {
namespace {

void PutVarint32(std::string* dst, uint32_t v) {
  char buf[5];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  dst->append(buf, n);
}

bool GetVarint32(std::string_view* in, uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0; shift <= 28 && !in->empty(); shift += 7) {
    const uint32_t byte = static_cast<unsigned char>((*in)[0]);
    in->remove_prefix(1);
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

}  // namespace

void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  memcpy(buf, &v, 4);  // little-endian hosts only (x86-64, arm64)
  dst->append(buf, 4);
}

uint32_t DecodeFixed32(const char* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

void RecordBlockBuilder::Add(std::string_view key, std::string_view value) {
  PutVarint32(&raw_, static_cast<uint32_t>(key.size()));
  PutVarint32(&raw_, static_cast<uint32_t>(value.size()));
  raw_.append(key.data(), key.size());
  raw_.append(value.data(), value.size());
}

void RecordBlockBuilder::Finish(CompressedBlock* out) {
  const int bound = LZ4_compressBound(static_cast<int>(raw_.size()));
  out->data.resize(bound);
  const int n = LZ4_compress_default(raw_.data(), out->data.data(),
                                     static_cast<int>(raw_.size()), bound);
  out->data.resize(n);
  out->raw_size = static_cast<uint32_t>(raw_.size());
  out->crc32c = Crc32c(out->data.data(), out->data.size());
  raw_.clear();
}

absl::Status DecompressBlock(std::string_view data, uint32_t raw_size,
                             uint32_t crc32c, std::string* raw) {
  const uint32_t actual = Crc32c(data.data(), data.size());
  if (actual != crc32c) {
    return absl::DataLossError(absl::StrCat("block checksum mismatch: stored ",
                                            crc32c, ", computed ", actual));
  }
  // The checksum covers the data, not raw_size: a corrupt size must fail
  // here rather than allocate up to 4 GiB. An LZ4 block makes at most 255
  // bytes of each byte (a match length goes up by 255 per byte), and the
  // decoder takes an int.
  if (raw_size > 255 * static_cast<uint64_t>(data.size()) ||
      raw_size > static_cast<uint32_t>(std::numeric_limits<int>::max())) {
    return absl::DataLossError(
        absl::StrCat("block states a raw size of ", raw_size,
                     " bytes, more than LZ4 makes of ", data.size(), " bytes"));
  }
  raw->resize(raw_size);
  const int n = LZ4_decompress_safe(data.data(), raw->data(),
                                    static_cast<int>(data.size()),
                                    static_cast<int>(raw_size));
  if (n < 0) {
    // LZ4 returns -(the input position where it stopped) - 1.
    return absl::DataLossError(absl::StrCat(
        "block does not decompress to its stated ", raw_size,
        " bytes: LZ4 decoding fails at byte ", -static_cast<int64_t>(n) - 1,
        " of ", data.size()));
  }
  if (static_cast<uint32_t>(n) != raw_size) {
    return absl::DataLossError(absl::StrCat("block does not decompress to its stated ",
                                            raw_size, " bytes: it holds ", n));
  }
  return absl::OkStatus();
}

bool RecordBlockReader::Next(std::string_view* key, std::string_view* value,
                             absl::Status* status) {
  if (pos_ >= raw_.size()) return false;
  std::string_view rest = raw_.substr(pos_);
  uint32_t klen, vlen;
  if (!GetVarint32(&rest, &klen)) {
    return Malformed("its key length is not a complete varint32", status);
  }
  if (!GetVarint32(&rest, &vlen)) {
    return Malformed("its value length is not a complete varint32", status);
  }
  if (rest.size() < static_cast<size_t>(klen) + vlen) {
    return Malformed(absl::StrCat("its key and value (", klen, " + ", vlen,
                                  " bytes) run past the block's end"),
                     status);
  }
  *key = rest.substr(0, klen);
  *value = rest.substr(klen, vlen);
  pos_ = raw_.size() - rest.size() + klen + vlen;
  return true;
}

bool RecordBlockReader::Malformed(std::string_view problem, absl::Status* status) {
  *status = absl::DataLossError(absl::StrCat(
      "malformed record at byte ", pos_, " of a ", raw_.size(), "-byte block: ",
      absl::string_view(problem.data(), problem.size())));
  pos_ = raw_.size();
  return false;
}

std::string EncodeStoredBlock(const CompressedBlock& block) {
  std::string out;
  out.reserve(8 + block.data.size());
  PutFixed32(&out, block.raw_size);
  PutFixed32(&out, block.crc32c);
  out.append(block.data);
  return out;
}

absl::Status DecodeStoredBlock(std::string_view stored, uint32_t* raw_size,
                               uint32_t* crc32c, std::string_view* data) {
  if (stored.size() < 8) {
    return absl::DataLossError(absl::StrCat("stored block too short: ",
                                            stored.size(), " bytes, the header is 8"));
  }
  *raw_size = DecodeFixed32(stored.data());
  *crc32c = DecodeFixed32(stored.data() + 4);
  *data = stored.substr(8);
  return absl::OkStatus();
}

}  // namespace mr
