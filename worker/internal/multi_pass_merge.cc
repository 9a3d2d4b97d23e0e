#include "worker/internal/multi_pass_merge.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/record_block.h"
#include "worker/internal/run_file.h"
#include "worker/internal/run_merger.h"

namespace mr {
namespace {

// Merges `inputs` into one run file at `output`; returns its size.
absl::StatusOr<uint64_t> MergeInto(const std::vector<std::string>& inputs,
                                   const std::string& output,
                                   size_t block_bytes) {
  RunMerger merger;
  if (absl::Status s = merger.Open(inputs); !s.ok()) return s;
  RunFileWriter writer;
  if (absl::Status s = writer.Open(output); !s.ok()) return s;
  RecordBlockBuilder builder;
  CompressedBlock block;
  uint64_t bytes = 0;
  auto flush = [&]() -> absl::Status {
    if (builder.empty()) return absl::OkStatus();
    builder.Finish(&block);
    bytes += 12 + block.data.size();
    return writer.Append(block.raw_size, block.crc32c, block.data);
  };
  while (merger.Valid()) {
    builder.Add(merger.key(), merger.value());
    if (builder.raw_size() >= block_bytes) {
      if (absl::Status s = flush(); !s.ok()) return s;
    }
    if (absl::Status s = merger.Next(); !s.ok()) return s;
  }
  if (absl::Status s = flush(); !s.ok()) return s;
  if (absl::Status s = writer.Close(); !s.ok()) return s;
  return bytes;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> MergeDownToFactor(
    std::vector<std::string> runs, const MultiPassMergeOptions& options,
    MultiPassMergeStats* stats) {
  const size_t factor = std::max<uint32_t>(2, options.merge_factor);
  std::vector<std::string> paths;
  std::vector<uint64_t> sizes;
  for (std::string& run : runs) {
    auto size = FileSize(run);
    if (!size.ok()) return size.status();
    if (*size == 0) continue;
    paths.push_back(std::move(run));
    sizes.push_back(*size);
  }
  if (paths.size() <= factor) return paths;
  if (absl::Status s = MakeDirs(options.dir); !s.ok()) return s;

  // The first pass merges k runs, k - 1 = (N - 1) mod (F - 1) (or F when
  // that is 0): then every later pass reduces the count by exactly F - 1
  // and the last leaves exactly F.
  size_t width = (paths.size() - 1) % (factor - 1) + 1;
  if (width == 1) width = factor;
  int64_t serial = 0;
  while (paths.size() > factor) {
    // The window of `width` neighbours with the fewest bytes.
    uint64_t sum = 0;
    for (size_t i = 0; i < width; ++i) sum += sizes[i];
    uint64_t best_sum = sum;
    size_t best = 0;
    for (size_t i = width; i < paths.size(); ++i) {
      sum += sizes[i];
      sum -= sizes[i - width];
      if (sum < best_sum) {
        best_sum = sum;
        best = i - width + 1;
      }
    }
    const std::vector<std::string> inputs(paths.begin() + best,
                                          paths.begin() + best + width);
    const std::string output =
        absl::StrCat(options.dir, "/merged-", serial++);
    auto size = MergeInto(inputs, output, options.block_bytes);
    if (!size.ok()) return size.status();
    for (const std::string& input : inputs) unlink(input.c_str());
    paths.erase(paths.begin() + best + 1, paths.begin() + best + width);
    sizes.erase(sizes.begin() + best + 1, sizes.begin() + best + width);
    paths[best] = output;
    sizes[best] = *size;
    ++stats->passes;
    stats->runs_merged += width;
    stats->bytes_written += *size;
    width = factor;
  }
  return paths;
}

}  // namespace mr
