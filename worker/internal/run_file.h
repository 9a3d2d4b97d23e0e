// A sorted run fetched by a reducer, kept on local disk as the map task
// compressed it: a sequence of frames
//   fixed32 raw_size, fixed32 crc32c, fixed32 data_size, data (LZ4 block).
// RunFileReader walks the records of a run, one decompressed block in memory
// at a time.
//
// Thread-safety: not thread-safe.
#ifndef MR_WORKER_INTERNAL_RUN_FILE_H_
#define MR_WORKER_INTERNAL_RUN_FILE_H_

#include <cstdio>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/record_block.h"

namespace mr {

class RunFileWriter {
 public:
  ~RunFileWriter();
  absl::Status Open(const std::string& path);
  absl::Status Append(uint32_t raw_size, uint32_t crc32c, std::string_view data);
  absl::Status Close();

 private:
  std::string path_;
  FILE* file_ = nullptr;
};

class RunFileReader {
 public:
  ~RunFileReader();
  // Opens the run and positions on its first record (if any).
  absl::Status Open(const std::string& path);

  bool Valid() const { return valid_; }
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }
  // Moves to the next record. The previous key/value views become invalid.
  // DataLoss on a corrupt or truncated block, naming the file and the
  // block's offset in it.
  absl::Status Next();

 private:
  absl::Status LoadBlock(bool* loaded);
  absl::Status Corrupt(absl::string_view what) const;

  std::string path_;
  FILE* file_ = nullptr;
  uint64_t file_size_ = 0;
  uint64_t next_offset_ = 0;   // of the next block's header
  uint64_t block_offset_ = 0;  // of the block being read
  std::string compressed_;
  std::string raw_;
  RecordBlockReader block_{std::string_view()};
  bool valid_ = false;
  std::string_view key_, value_;
};

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_RUN_FILE_H_
