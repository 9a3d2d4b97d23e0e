// Fuzzes compressed input (".gz" with zlib, ".lz4" with LZ4's frame API:
// worker/internal/input_stream.h) through ForEachInputRecord and
// ReadTextBlocks, in every input format, and with it the plain TEXT path
// (split_reader.h), which the compressed one is compared with.
//
// Input: a mode byte [round trip:1][format:2][lz4:1][csv header:1]
// [small max:1][line numbers:1][repeat:1], then the record length for
// FIXED and the max for a small max, then:
//  - raw mode: the compressed file itself, arbitrary bytes;
//  - round trip: two bytes of codec settings, up to 3 cut points where the
//    text is split into gzip members or LZ4 frames, a sample window's length
//    (two bytes), a chunk length and an offset (a byte each), then the text.
//
// Properties, raw mode: reading the file either succeeds or fails with
// DataLoss naming the file (never a crash or a hang); the stream read in
// small pieces of varying size succeeds exactly when that read does, and
// then the file's records are those of its decompressed bytes as a plain
// file.
//
// Properties, round trip (the text compressed with varied settings: level,
// window, strategy, header fields, flushes, zero padding, several members;
// LZ4 block sizes, linked blocks, checksums, content size, skippable
// frames):
//  - the stream, read in small pieces, gives back the text;
//  - the compressed file's records (and malformed ones) are the plain
//    file's read as one chunk, whatever the chunk's length;
//  - a chunk of it at another offset reads nothing;
//  - a sample window of `length` bytes reads those of them that start in
//    its first `length` decompressed bytes;
//  - TEXT: ReadTextBlocks gives the same lines (offsets, line numbers, too
//    long ones) from the compressed file as from the plain one, and as
//    ForEachInputRecord.
#include <lz4frame.h>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/input_format_fuzz.h"
#include "worker/internal/input_stream.h"

namespace mr {
namespace fuzz {
namespace {

struct Mode {
  bool round_trip = false;
  bool lz4 = false;
  bool repeat = false;
  mrpb::InputFormat format;
  SplitReaderOptions options;
};

Mode ConsumeMode(FuzzInput& in) {
  Mode m;
  const uint8_t bits = in.Byte();
  m.round_trip = bits & 1;
  static constexpr mrpb::InputFormat::Kind kKinds[] = {
      mrpb::InputFormat::TEXT, mrpb::InputFormat::CSV,
      mrpb::InputFormat::JSONL, mrpb::InputFormat::FIXED};
  m.format.set_kind(kKinds[(bits >> 1) & 3]);
  m.lz4 = bits & 8;
  if (m.format.kind() == mrpb::InputFormat::CSV) m.format.set_header(bits & 16);
  if (m.format.kind() == mrpb::InputFormat::FIXED) {
    m.format.set_record_bytes(1 + in.Byte() % 64);
  }
  m.options.max_record_bytes = 1 << 20;
  if (bits & 32) m.options.max_record_bytes = 1 + in.Byte() % 64;
  m.options.line_numbers = bits & 64;
  m.repeat = bits & 128;
  return m;
}

// ---- Compressing

// One gzip member of `data`, made with settings from `a` and `b`.
std::string GzipMember(std::string_view data, uint8_t a, uint8_t b) {
  static constexpr int kStrategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED,
                                        Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
  const int level = a % 10;
  const int window_bits = 9 + (a >> 4) % 7;
  const int mem_level = 1 + b % 9;
  const int strategy = kStrategies[(b >> 4) % 5];
  z_stream z{};
  FUZZ_CHECK(deflateInit2(&z, level, Z_DEFLATED, 16 + window_bits, mem_level,
                          strategy) == Z_OK);
  gz_header header{};
  char name[] = "file.txt";
  char comment[] = "a comment";
  unsigned char extra[] = {'x', 'y', 2, 0, 'h', 'i'};
  if (b & 128) {
    header.name = reinterpret_cast<Bytef*>(name);
    header.comment = reinterpret_cast<Bytef*>(comment);
    header.extra = extra;
    header.extra_len = sizeof(extra);
    header.hcrc = 1;
    header.time = 1234567890;
    FUZZ_CHECK(deflateSetHeader(&z, &header) == Z_OK);
  }
  std::string out(deflateBound(&z, data.size()) + 256, '\0');
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  // A full flush in the middle (b & 8): a stored empty block, a reset
  // dictionary.
  const size_t half = (b & 8) ? data.size() / 2 : 0;
  if (half > 0) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(half);
    FUZZ_CHECK(deflate(&z, Z_FULL_FLUSH) == Z_OK);
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + half));
  z.avail_in = static_cast<uInt>(data.size() - half);
  FUZZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// One LZ4 frame of `data`, made with settings from `a` and `b`.
std::string Lz4Frame(std::string_view data, uint8_t a, uint8_t b) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = static_cast<LZ4F_blockSizeID_t>(4 + a % 4);
  prefs.frameInfo.blockMode =
      (a & 4) ? LZ4F_blockIndependent : LZ4F_blockLinked;
  prefs.frameInfo.contentChecksumFlag =
      (a & 8) ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag =
      (a & 16) ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
  prefs.frameInfo.contentSize = (a & 32) ? data.size() : 0;
  prefs.compressionLevel = (a >> 6) == 0 ? 0 : (a >> 6) * 4;  // 0, 4, 8, 12
  prefs.autoFlush = b & 1;
  std::string out(LZ4F_compressFrameBound(data.size(), &prefs), '\0');
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(),
                                      data.size(), &prefs);
  FUZZ_CHECK(!LZ4F_isError(n)) << LZ4F_getErrorName(n);
  out.resize(n);
  return out;
}

// An LZ4 skippable frame of `n` bytes of payload.
std::string Lz4SkippableFrame(uint8_t n) {
  std::string out = {'\x50', '\x2a', '\x4d', '\x18', static_cast<char>(n),
                     '\0', '\0', '\0'};
  out.append(n, 's');
  return out;
}

// `text` compressed, cut at `cuts` into members or frames.
std::string Compress(std::string_view text, const std::vector<uint64_t>& cuts,
                     bool lz4, uint8_t a, uint8_t b) {
  std::string out;
  uint64_t begin = 0;
  // b & 2: an empty member or frame first; b & 4 (gzip): zero padding after
  // each member; (lz4): a skippable frame after each frame.
  if (b & 2) out += lz4 ? Lz4Frame("", a, b) : GzipMember("", a, b);
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const uint64_t end = i < cuts.size() ? cuts[i] : text.size();
    const std::string_view piece = text.substr(begin, end - begin);
    if (lz4) {
      out += Lz4Frame(piece, a, b);
      if (b & 4) out += Lz4SkippableFrame(static_cast<uint8_t>(a + i));
    } else {
      out += GzipMember(piece, a, b);
      if (b & 4) out.append(1 + (a + i) % 40, '\0');
    }
    begin = end;
  }
  return out;
}

// ---- Reading

// The decompressed stream of `path`, read in pieces of varying small sizes.
absl::Status ReadStream(const std::string& path, std::string* out) {
  out->clear();
  absl::StatusOr<std::unique_ptr<InputStream>> in = OpenInputStream(path, 0);
  if (!in.ok()) return in.status();
  char buf[4096];
  for (uint64_t k = 0;; ++k) {
    // 1, 2, 3, ... then larger, mixed: exercises a read that ends inside a
    // block, a member, a frame.
    const size_t n = k < 16 ? k + 1 : 1 + (k * k * 7919) % sizeof(buf);
    absl::StatusOr<size_t> got = (*in)->Read(buf, n);
    if (!got.ok()) return got.status();
    FUZZ_CHECK(*got <= n) << "Read(" << n << ") gave " << *got;
    if (*got == 0) return absl::OkStatus();
    out->append(buf, *got);
  }
}

void CheckNamesFile(const absl::Status& s, const std::string& path) {
  FUZZ_CHECK(s.code() == absl::StatusCode::kDataLoss &&
             s.message().find(path) != absl::string_view::npos)
      << "reading a corrupt compressed file: " << s;
}

// The lines of `path` by ReadTextBlocks, as events (too long ones malformed,
// without a reason); checks each block's own contract.
std::vector<InputEvent> TextBlockEvents(const std::string& path, uint64_t size,
                                        const SplitReaderOptions& options) {
  mrpb::FileChunk chunk;
  chunk.set_path(path);
  chunk.set_length(size);
  std::vector<InputEvent> events;
  const absl::Status s = ReadTextBlocks(
      chunk, options,
      [&](const InputBlock& b) {
        FUZZ_CHECK(b.file == path);
        FUZZ_CHECK(b.line_count > 0 && !b.data.empty());
        uint64_t lines = 0;
        ForEachLine(b, [&](const InputRecord& r) {
          ++lines;
          InputEvent e;
          e.offset = r.offset;
          e.line = std::string(r.line);
          e.line_number = r.line_number;
          events.push_back(std::move(e));
        });
        FUZZ_CHECK(lines == b.line_count)
            << "a block of " << b.line_count << " lines holds " << lines;
      },
      [&](uint64_t offset) {
        InputEvent e;
        e.offset = offset;
        e.malformed = true;
        events.push_back(std::move(e));
      });
  FUZZ_CHECK(s.ok()) << "ReadTextBlocks " << path << ": " << s;
  return events;
}

void RawMode(const Mode& m, std::string_view bytes) {
  FreshFile file(m.lz4 ? ".lz4" : ".gz", bytes);
  std::vector<InputEvent> events;
  ChunkRead c;
  c.path = file.path();
  c.length = bytes.size();
  const absl::Status s = ReadInputChunk(c, m.format, m.options, &events);
  if (!s.ok()) CheckNamesFile(s, file.path());
  std::string stream;
  const absl::Status s2 = ReadStream(file.path(), &stream);
  if (!s2.ok()) CheckNamesFile(s2, file.path());
  FUZZ_CHECK(s.ok() == s2.ok())
      << "the reader says " << s << "; the stream read in small pieces says "
      << s2;
  if (!s.ok()) return;
  FreshFile plain(".txt", stream);
  const std::vector<InputEvent> want =
      ReadWholeFile(plain.path(), stream.size(), m.format, m.options);
  FUZZ_CHECK(events == want)
      << "the compressed file's records are not its stream's; "
      << FirstDifference(events, want);
}

void RoundTripMode(const Mode& m, FuzzInput& in) {
  const uint8_t a = in.Byte();
  const uint8_t b = in.Byte();
  const std::vector<uint32_t> raw_cuts = ConsumeCuts(in, 3);
  const uint32_t raw_window = in.Byte() | (uint32_t{in.Byte()} << 8);
  const uint64_t short_length = in.Byte();
  const uint64_t other_offset = 1 + in.Byte();
  std::string text(in.Rest());
  if (m.repeat && !text.empty()) {
    // Past 64 KiB: several LZ4 blocks, past gzip's window.
    const std::string once = text;
    while (text.size() <= (64 << 10)) text += once;
  }
  const std::vector<uint64_t> cuts = CutsIn(raw_cuts, text.size());
  const std::string compressed = Compress(text, cuts, m.lz4, a, b);
  FreshFile file(m.lz4 ? ".lz4" : ".gz", compressed);
  FreshFile plain(".txt", text);

  std::string stream;
  const absl::Status s = ReadStream(file.path(), &stream);
  FUZZ_CHECK(s.ok()) << "reading back what zlib/LZ4 wrote: " << s;
  FUZZ_CHECK(stream == text) << "decompressing gives " << stream.size()
                             << " bytes, not the " << text.size() << " written";

  const std::vector<InputEvent> want =
      ReadWholeFile(plain.path(), text.size(), m.format, m.options);
  // A chunk at 0 reads the whole stream, whatever its length.
  std::vector<InputEvent> got;
  ChunkRead whole;
  whole.path = file.path();
  whole.length = short_length;
  absl::Status rs = ReadInputChunk(whole, m.format, m.options, &got);
  FUZZ_CHECK(rs.ok()) << rs;
  FUZZ_CHECK(got == want) << "the compressed file reads other records than "
                             "the plain one; "
                          << FirstDifference(got, want);

  // Another offset: nothing.
  std::vector<InputEvent> none;
  ChunkRead other = whole;
  other.offset = other_offset;
  rs = ReadInputChunk(other, m.format, m.options, &none);
  FUZZ_CHECK(rs.ok() && none.empty())
      << rs << "; a chunk at " << other_offset << " reads " << Describe(none);

  // A sample window: the records that start in its first `length` bytes.
  const uint64_t window = raw_window % (text.size() + 2);
  std::vector<InputEvent> sampled;
  ChunkRead sample;
  sample.path = file.path();
  sample.length = window;
  sample.sample_window = true;
  sample.max_offset = window;
  rs = ReadInputChunk(sample, m.format, m.options, &sampled);
  FUZZ_CHECK(rs.ok()) << rs;
  std::vector<InputEvent> want_sampled;
  for (const InputEvent& e : want) {
    if (e.offset < window) want_sampled.push_back(e);
  }
  FUZZ_CHECK(sampled == want_sampled)
      << "a window of " << window << " bytes; "
      << FirstDifference(sampled, want_sampled);

  if (m.format.kind() != mrpb::InputFormat::TEXT) return;
  const std::vector<InputEvent> blocks =
      TextBlockEvents(file.path(), compressed.size(), m.options);
  const std::vector<InputEvent> plain_blocks =
      TextBlockEvents(plain.path(), text.size(), m.options);
  FUZZ_CHECK(blocks == plain_blocks)
      << "ReadTextBlocks: compressed and plain differ; "
      << FirstDifference(blocks, plain_blocks);
  std::vector<InputEvent> records = want;
  for (InputEvent& e : records) {
    if (e.malformed) e.line.clear();
  }
  FUZZ_CHECK(blocks == records)
      << "ReadTextBlocks and ForEachInputRecord differ; "
      << FirstDifference(blocks, records);
}

}  // namespace
}  // namespace fuzz
}  // namespace mr

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mr::fuzz;
  FuzzInput in(data, size);
  const Mode m = ConsumeMode(in);
  if (m.round_trip) {
    RoundTripMode(m, in);
  } else {
    RawMode(m, in.Rest());
  }
  return 0;
}
