#include "worker/internal/input_reader.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "worker/internal/fixed_record_reader.h"

namespace mr {

mrpb::InputFormat InputFormatOf(const mrpb::JobSpec& spec,
                                const mrpb::FileChunk& chunk) {
  if (spec.input_formats_size() == 1) return spec.input_formats(0);
  if (static_cast<int>(chunk.input_index()) < spec.input_formats_size()) {
    return spec.input_formats(static_cast<int>(chunk.input_index()));
  }
  return mrpb::InputFormat();
}

absl::Status ForEachInputRecord(
    const mrpb::FileChunk& chunk, const mrpb::InputFormat& format,
    const SplitReaderOptions& options,
    const std::function<void(const InputRecord&)>& fn,
    const std::function<void(uint64_t, const std::string&)>& on_malformed) {
  InputRecord record;
  record.file = chunk.path();
  record.input_index = chunk.input_index();
  if (format.kind() == mrpb::InputFormat::FIXED) {
    const uint32_t rb = format.record_bytes();
    return ReadFixedRecords(
        chunk, rb,
        [&](std::string_view records, uint64_t offset) {
          for (size_t i = 0; i < records.size(); i += rb) {
            record.offset = offset + i;
            record.line = records.substr(i, rb);
            fn(record);
          }
        },
        [&](uint64_t offset) {
          on_malformed(offset, absl::StrCat("a truncated record (shorter than ",
                                            rb, " bytes)"));
        });
  }
  const std::string too_long =
      absl::StrCat("longer than ", options.max_record_bytes, " bytes");
  return ReadChunkBlocks(
      chunk, options,
      [&](const InputBlock& block) {
        ForEachLine(block, [&](const InputRecord& line) {
          record.offset = line.offset;
          record.line_number = line.line_number;
          record.line = line.line;
          fn(record);
        });
      },
      [&](uint64_t offset) { on_malformed(offset, too_long); });
}

}  // namespace mr
