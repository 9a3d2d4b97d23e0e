// Fuzzes the text split reader (worker/internal/split_reader.h): a file cut
// into chunks at arbitrary offsets, each chunk read on its own, must give
// every line of the file exactly once, in order, by the chunk that holds its
// first byte; a line longer than max_record_bytes is reported at its offset
// instead of handed on.
//
// Input: byte `flags` (bit 0: line numbers; bit 1: the file is made of
// repeated segments, for lines past the 1 MiB read size; bit 2: the
// compressed copy is gzip rather than LZ4; bit 3: also read the chunks with
// ForEachInputRecord; bit 4: also read a compressed copy), byte `m` (max_record_bytes:
// m % 65 below 160, 1 MiB - 32 + (m - 160) % 64 below 224, (m - 223) * 256 KiB
// below 240, else the default 64 MiB), byte `n`, n % 8 cut points (fixed32
// each, modulo the file size + 1), then the file: the bytes as they are, or
// segments (a string of up to 16 bytes, then byte r: repeated 2^(r % 21)
// times; 1.5 MiB at most).
//
// Checked, against lines computed here (split at '\n'; a last line without
// '\n' is a line, an empty one is not):
//  - ReadChunkBlocks over every chunk [cut_i, cut_i+1): blocks of whole,
//    contiguous lines that say where they are (offset, line_count, line
//    numbers) and carry their padding; every line and malformed offset
//    inside its chunk; all chunks together give exactly the expected lines
//    and malformed offsets, in file order; the stats obey the header's
//    bounds.
//  - ForEachInputRecord (TEXT) over the same chunks: the same (flag bit 3).
//  - ReadTextBlocks over a compressed copy (one chunk at offset 0): the
//    same; a chunk of it at another offset reads nothing (flag bit 4).
#include <lz4frame.h>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/job_limits.h"
#include "mr/mapreduce.h"
#include "proto/job.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "worker/internal/input_reader.h"
#include "worker/internal/split_reader.h"

namespace mr {
namespace {

using fuzz::FuzzInput;

constexpr uint64_t kReadSize = 1 << 20;  // split_reader.cc's read size
constexpr size_t kMaxExpandedBytes = 3 << 19;

// Walks the file's lines (split at '\n'; a last line without '\n' is a
// line, an empty one is not) along with what a reader reports: each report
// must be the next line, handed on when it is at most max_line bytes and
// reported malformed otherwise; Finish() checks that none was left out.
// Nothing is copied, so a file of a million lines costs no more than its
// bytes.
class LineCursor {
 public:
  LineCursor(std::string_view file, uint64_t max_line, bool numbers,
             const char* reader)
      : file_(file), max_line_(max_line), numbers_(numbers), reader_(reader) {}

  // Reports must come from the chunk [begin, end).
  void SetChunk(uint64_t begin, uint64_t end) {
    begin_ = begin;
    end_ = end;
  }

  void Line(uint64_t offset, uint64_t number, std::string_view text) {
    const uint64_t len = Expect(offset, "line");
    FUZZ_CHECK(len <= max_line_)
        << reader_ << ": handed on the " << len << "-byte line at " << offset
        << " (limit " << max_line_ << ")";
    FUZZ_CHECK(text == file_.substr(pos_, len))
        << reader_ << ": the line at " << offset << " reads " << text.size()
        << " bytes, not the file's " << len;
    FUZZ_CHECK(number == (numbers_ ? number_ + 1 : 0))
        << reader_ << ": the line at " << offset << " is numbered " << number
        << ", not " << (numbers_ ? number_ + 1 : 0);
    Advance(len);
  }

  void Malformed(uint64_t offset) {
    const uint64_t len = Expect(offset, "malformed line");
    FUZZ_CHECK(len > max_line_)
        << reader_ << ": reported the " << len << "-byte line at " << offset
        << " as malformed (limit " << max_line_ << ")";
    Advance(len);
  }

  void Finish() {
    FUZZ_CHECK(pos_ == file_.size())
        << reader_ << ": the line at " << pos_ << " (and any after it) of "
        << file_.size() << " bytes was never reported";
  }

 private:
  // Checks that `offset` is where the next line starts, inside the chunk;
  // returns that line's length.
  uint64_t Expect(uint64_t offset, const char* what) {
    FUZZ_CHECK(offset >= begin_ && offset < end_)
        << reader_ << ": " << what << " at " << offset
        << " reported by the chunk [" << begin_ << ", " << end_ << ")";
    FUZZ_CHECK(offset == pos_ && pos_ < file_.size())
        << reader_ << ": " << what << " at " << offset << ", but the next line "
        << (pos_ < file_.size() ? "starts at " : "is none: the file ends at ")
        << pos_;
    const size_t nl = file_.find('\n', pos_);
    return (nl == std::string_view::npos ? file_.size() : nl) - pos_;
  }

  void Advance(uint64_t len) {
    pos_ = std::min<uint64_t>(file_.size(), pos_ + len + 1);
    ++number_;
  }

  const std::string_view file_;
  const uint64_t max_line_;
  const bool numbers_;
  const char* const reader_;
  uint64_t begin_ = 0, end_ = UINT64_MAX;
  uint64_t pos_ = 0;     // where the next line starts
  uint64_t number_ = 0;  // lines before it
};

// Checks a block against the InputBlock contract (whole lines, each but
// the file's last ending in '\n', line_count of them, readable padding)
// and hands its lines to `cursor`. Returns the longest.
uint64_t CheckBlock(const InputBlock& block, std::string_view path,
                    uint64_t file_size, bool numbers, LineCursor& cursor) {
  FUZZ_CHECK(block.file == path) << block.file;
  FUZZ_CHECK(block.line_count > 0 && !block.data.empty())
      << "empty block at " << block.offset;
  if (!numbers) {
    FUZZ_CHECK(block.first_line_number == 0);
  }
  // The padding is readable (ASan reports it otherwise).
  volatile char sink = 0;
  for (size_t i = 0; i < kInputBlockPadding; ++i) {
    sink = sink ^ block.data.data()[block.data.size() + i];
  }
  std::string_view rest = block.data;
  uint64_t offset = block.offset;
  uint64_t count = 0, longest = 0;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const size_t len = nl == std::string_view::npos ? rest.size() : nl;
    if (nl == std::string_view::npos) {
      FUZZ_CHECK(offset + len == file_size)
          << "line at " << offset << " without '\\n' is not the file's last";
    }
    cursor.Line(offset, numbers ? block.first_line_number + count : 0,
                rest.substr(0, len));
    longest = std::max<uint64_t>(longest, len);
    const size_t used = nl == std::string_view::npos ? len : len + 1;
    rest.remove_prefix(used);
    offset += used;
    ++count;
  }
  FUZZ_CHECK(count == block.line_count)
      << "block at " << block.offset << " says " << block.line_count
      << " lines, holds " << count;
  // The helper jobs use reads the block the same way.
  offset = block.offset;
  count = 0;
  ForEachLine(block, [&](const InputRecord& r) {
    FUZZ_CHECK(r.offset == offset && r.file == block.file &&
               r.line_number == (numbers ? block.first_line_number + count : 0) &&
               r.line.data() == block.data.data() + (offset - block.offset))
        << "ForEachLine disagrees at line " << count << " of the block at "
        << block.offset;
    offset += r.line.size() + 1;
    ++count;
  });
  FUZZ_CHECK(count == block.line_count);
  return longest;
}

mrpb::FileChunk Chunk(const std::string& path, uint64_t offset, uint64_t length) {
  mrpb::FileChunk c;
  c.set_path(path);
  c.set_offset(offset);
  c.set_length(length);
  return c;
}

std::string Gzip(std::string_view data) {
  z_stream z{};
  FUZZ_CHECK(deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8,
                          Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  FUZZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Lz4Frame(std::string_view data) {
  std::string out(LZ4F_compressFrameBound(data.size(), nullptr), '\0');
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(),
                                      data.size(), nullptr);
  FUZZ_CHECK(!LZ4F_isError(n)) << LZ4F_getErrorName(n);
  out.resize(n);
  return out;
}

uint64_t MaxRecordBytes(uint8_t m) {
  if (m < 160) return m % 65;
  if (m < 224) return kReadSize - 32 + (m - 160) % 64;
  if (m < 240) return (m - 223) * (kReadSize / 4);
  return kDefaultMaxRecordBytes;
}

std::string ExpandedFile(FuzzInput& in) {
  std::string file;
  while (!in.empty() && file.size() < kMaxExpandedBytes) {
    const std::string segment = in.String(16);
    const size_t reps = size_t{1} << (in.Byte() % 21);
    for (size_t i = 0; i < reps && file.size() < kMaxExpandedBytes; ++i) {
      file += segment;
    }
  }
  return file;
}

void FuzzOne(FuzzInput& in) {
  const uint8_t flags = in.Byte();
  const bool numbers = flags & 1;
  const bool records = flags & 8;
  const bool compressed_copy = flags & 16;
  const uint64_t max_line = MaxRecordBytes(in.Byte());
  std::vector<uint32_t> raw_cuts(in.Byte() % 8);
  for (uint32_t& c : raw_cuts) c = in.Uint32();
  const std::string file = (flags & 2) ? ExpandedFile(in) : std::string(in.Rest());

  std::vector<uint64_t> bounds = {0, file.size()};
  for (uint32_t c : raw_cuts) bounds.push_back(c % (file.size() + 1));
  std::sort(bounds.begin(), bounds.end());

  const std::string path = fuzz::WriteScratchFile("input.txt", file);
  LineCursor blocks(file, max_line, numbers, "ReadChunkBlocks");
  LineCursor lines(file, max_line, numbers, "ForEachInputRecord");
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    const uint64_t begin = bounds[i], end = bounds[i + 1];
    const mrpb::FileChunk chunk = Chunk(path, begin, end - begin);
    SplitReaderStats stats;
    SplitReaderOptions options;
    options.line_numbers = numbers;
    options.max_record_bytes = max_line;
    options.stats = &stats;
    blocks.SetChunk(begin, end);
    uint64_t longest = 0;
    absl::Status s = ReadChunkBlocks(
        chunk, options,
        [&](const InputBlock& block) {
          longest = std::max(longest,
                             CheckBlock(block, path, file.size(), numbers, blocks));
        },
        [&](uint64_t offset) { blocks.Malformed(offset); });
    FUZZ_CHECK(s.ok()) << s;
    // The header's costs: each byte searched at most once per read; the
    // bytes read are the chunk's (and the one before it) plus at most a
    // line and a read past its end, a long line's twice; the buffer holds
    // a read or two plus the longest line handed on.
    const uint64_t from = begin > 0 ? begin - 1 : 0;
    const uint64_t reachable = std::min<uint64_t>(
        file.size() - std::min<uint64_t>(file.size(), from),
        (end - from) + max_line + kReadSize);
    FUZZ_CHECK(stats.bytes_examined <= stats.bytes_read)
        << stats.bytes_examined << " > " << stats.bytes_read;
    FUZZ_CHECK(stats.bytes_read <= 2 * reachable)
        << "read " << stats.bytes_read << " bytes for chunk [" << begin << ", "
        << end << ") of " << file.size();
    FUZZ_CHECK(stats.max_buffer_bytes <= 2 * kReadSize + longest + 1)
        << "buffer of " << stats.max_buffer_bytes << " for lines of at most "
        << longest;

    // The record API over the same chunk.
    if (!records) continue;
    lines.SetChunk(begin, end);
    s = ForEachInputRecord(
        chunk, mrpb::InputFormat(), options,
        [&](const InputRecord& r) {
          FUZZ_CHECK(r.file == path && r.fields == nullptr);
          lines.Line(r.offset, r.line_number, r.line);
        },
        [&](uint64_t offset, const std::string& reason) {
          FUZZ_CHECK(!reason.empty());
          lines.Malformed(offset);
        });
    FUZZ_CHECK(s.ok()) << s;
  }
  blocks.Finish();
  if (records) lines.Finish();
  if (!compressed_copy) return;

  // A compressed copy is read whole by its chunk at 0 (whatever its length).
  const bool gzip = (flags & 4) && file.size() < (64 << 10);
  const std::string compressed = gzip ? Gzip(file) : Lz4Frame(file);
  const std::string cpath =
      fuzz::WriteScratchFile(gzip ? "input.gz" : "input.lz4", compressed);
  SplitReaderOptions options;
  options.line_numbers = numbers;
  options.max_record_bytes = max_line;
  LineCursor decompressed(file, max_line, numbers,
                          gzip ? "ReadTextBlocks (gzip)" : "ReadTextBlocks (lz4)");
  auto on_block = [&](const InputBlock& block) {
    CheckBlock(block, cpath, file.size(), numbers, decompressed);
  };
  auto on_malformed = [&](uint64_t offset) { decompressed.Malformed(offset); };
  absl::Status s = ReadTextBlocks(Chunk(cpath, 0, bounds.size() > 2 ? bounds[1] : 1),
                                  options, on_block, on_malformed);
  FUZZ_CHECK(s.ok()) << s;
  decompressed.Finish();
  // A chunk of it at another offset reads nothing.
  decompressed.SetChunk(0, 0);
  s = ReadTextBlocks(Chunk(cpath, 1 + bounds[1] % compressed.size(), compressed.size()),
                     options, on_block, on_malformed);
  FUZZ_CHECK(s.ok()) << s;
}

}  // namespace
}  // namespace mr

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mr::fuzz::FuzzInput in(data, size);
  mr::FuzzOne(in);
  return 0;
}
