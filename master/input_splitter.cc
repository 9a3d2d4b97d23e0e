#include "master/input_splitter.h"

#include <algorithm>

#include "common/input_codec.h"

namespace mr {

std::vector<mrpb::InputSplit> ComputeSplits(const std::vector<InputFile>& files,
                                            uint64_t split_size) {
  std::vector<mrpb::InputSplit> splits;
  mrpb::InputSplit current;
  uint64_t current_bytes = 0;
  auto close_current = [&] {
    splits.push_back(std::move(current));
    current = mrpb::InputSplit();
    current_bytes = 0;
  };
  auto add_chunk = [&](const InputFile& file, uint64_t offset, uint64_t take) {
    mrpb::FileChunk* chunk = current.add_chunks();
    chunk->set_path(file.path);
    chunk->set_offset(offset);
    chunk->set_length(take);
    chunk->set_input_index(file.input_index);
    current_bytes += take;
    if (current_bytes >= split_size) close_current();
  };
  for (const InputFile& file : files) {
    if (file.size > 0 && InputCodecOf(file.path) != InputCodec::kNone) {
      if (current_bytes > 0 && file.size > split_size - current_bytes) {
        close_current();
      }
      add_chunk(file, 0, file.size);
      continue;
    }
    uint64_t offset = 0;
    while (offset < file.size) {
      const uint64_t take =
          std::min(file.size - offset, split_size - current_bytes);
      add_chunk(file, offset, take);
      offset += take;
    }
  }
  if (current_bytes > 0) splits.push_back(std::move(current));
  return splits;
}

}  // namespace mr
