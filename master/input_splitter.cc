#include "master/input_splitter.h"

#include <algorithm>

namespace mr {

std::vector<mrpb::InputSplit> ComputeSplits(const std::vector<InputFile>& files,
                                            uint64_t split_size) {
  std::vector<mrpb::InputSplit> splits;
  mrpb::InputSplit current;
  uint64_t current_bytes = 0;
  for (const InputFile& file : files) {
    uint64_t offset = 0;
    while (offset < file.size) {
      const uint64_t take =
          std::min(file.size - offset, split_size - current_bytes);
      mrpb::FileChunk* chunk = current.add_chunks();
      chunk->set_path(file.path);
      chunk->set_offset(offset);
      chunk->set_length(take);
      offset += take;
      current_bytes += take;
      if (current_bytes == split_size) {
        splits.push_back(std::move(current));
        current = mrpb::InputSplit();
        current_bytes = 0;
      }
    }
  }
  if (current_bytes > 0) splits.push_back(std::move(current));
  return splits;
}

}  // namespace mr
