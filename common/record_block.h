// The unit in which map output is stored, shuffled and merged: a block of
// sorted key/value records, LZ4-compressed once by the map task and
// decompressed once by the reducer.
//
// Raw layout: repeated { varint32 key_len, varint32 value_len, key, value }.
// Stored/shuffled as a CompressedBlock: LZ4 block data, the raw size, and the
// CRC-32C of the compressed bytes.
#ifndef MR_COMMON_RECORD_BLOCK_H_
#define MR_COMMON_RECORD_BLOCK_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace mr {

struct CompressedBlock {
  uint32_t raw_size = 0;
  uint32_t crc32c = 0;  // of `data`
  std::string data;
};

// Accumulates records; not thread-safe.
class RecordBlockBuilder {
 public:
  void Add(std::string_view key, std::string_view value);
  size_t raw_size() const { return raw_.size(); }
  bool empty() const { return raw_.empty(); }
  // Compresses what was added into *out and empties the builder.
  void Finish(CompressedBlock* out);

 private:
  std::string raw_;
};

// Checks the checksum and decompresses into *raw (exactly raw_size bytes).
// DataLoss when the block is corrupt: the checksum does not match; raw_size
// is more than LZ4 can make of data.size() bytes (255 times as many; checked
// before *raw is allocated, so a corrupt size costs no memory); or the data
// does not decode to exactly raw_size bytes (the message names the byte of
// `data` where decoding stopped).
absl::Status DecompressBlock(std::string_view data, uint32_t raw_size,
                             uint32_t crc32c, std::string* raw);

// Iterates over a decompressed block. The views returned stay valid as long
// as the raw buffer does.
class RecordBlockReader {
 public:
  explicit RecordBlockReader(std::string_view raw) : raw_(raw) {}
  // Returns true and sets key/value, or false at the end. Sets *status to
  // DataLoss on a malformed block (then returns false, and keeps returning
  // false): the message names the offset of the malformed record in the
  // block ("at byte N") and what is wrong with it.
  bool Next(std::string_view* key, std::string_view* value,
            absl::Status* status);

 private:
  // Sets *status to DataLoss for the record at pos_ and moves to the end.
  bool Malformed(std::string_view problem, absl::Status* status);

  std::string_view raw_;
  size_t pos_ = 0;  // where the next record starts in raw_
};

// A stored block value: fixed32 raw_size, fixed32 crc32c, LZ4 data. Used for
// RocksDB values and the reducer's local run files.
std::string EncodeStoredBlock(const CompressedBlock& block);
absl::Status DecodeStoredBlock(std::string_view stored, uint32_t* raw_size,
                               uint32_t* crc32c, std::string_view* data);

void PutFixed32(std::string* dst, uint32_t v);
uint32_t DecodeFixed32(const char* p);

}  // namespace mr

#endif  // MR_COMMON_RECORD_BLOCK_H_
