// Fuzzes the format map output is stored, shuffled and merged in: record
// blocks (common/record_block.h) and the reducer's run files that frame
// them (worker/internal/run_file.h). The first byte picks a mode:
//
//   0 stored block: the rest is a stored block (fixed32 raw_size, fixed32
//     crc32c, LZ4 data) with whatever checksum it carries. Decoding and
//     re-encoding gives the same bytes; unless the checksum matches, the
//     block is DataLoss.
//   1 hostile LZ4: byte `s`, then raw_size (fixed32 if s is odd, else a
//     value below 4 * size + 64 from a fixed32), then LZ4 data that gets a
//     valid checksum, so the decoder sees it. Either exactly raw_size bytes
//     come out or DataLoss naming where; and the same bytes read as a raw
//     block give records that tile it, or DataLoss naming the bad record.
//   2 round trip: fixed32 `flip`, byte `cut`, then records (see
//     ReadRecord) built into two blocks (the first `cut` records, then the
//     rest, with one builder), stored, decoded, decompressed and read back:
//     exactly the records, in order. The block with one bit of its data
//     flipped (bit `flip`), or a raw size one off, is DataLoss.
//   3 run file: byte `kind`, fixed32 `pos`, then records (a record's flag
//     bit 7 ends the block before it) written with RunFileWriter; kind % 3
//     is 0 intact, 1 truncated to pos % (size + 1) bytes, 2 bit pos flipped.
//     RunFileReader returns the records of the intact blocks before the
//     damage, in order, then DataLoss naming the file and the damaged
//     block's offset (a cut between blocks is a shorter, valid run).
//
// Every DataLoss is checked for naming where: the offset of the bad record
// in its block, the LZ4 byte where decoding stopped, the run file block.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/crc32c.h"
#include "common/record_block.h"
#include "tests/fuzz/fuzz_util.h"
#include "worker/internal/run_file.h"

namespace mr {
namespace {

using fuzz::FuzzInput;
using Record = std::pair<std::string, std::string>;
using Records = std::vector<Record>;

// All record bytes one input may ask for (values are repeated to get long
// lengths cheaply).
constexpr size_t kMaxRawBytes = 1 << 20;

std::string Message(const absl::Status& s) {
  return std::string(s.message().data(), s.message().size());
}

// The reference varint32 decoder (LevelDB's encoding, at most 5 bytes).
bool ParseVarint32(std::string_view* in, uint32_t* v) {
  uint64_t result = 0;
  for (int i = 0; i < 5 && !in->empty(); ++i) {
    const uint8_t byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *v = static_cast<uint32_t>(result);
      return true;
    }
  }
  return false;
}

size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Reads `raw` as a record block. Records must tile it: each one's header is
// the reference decoding of the bytes before its key, its value follows its
// key, and the next record starts where its value ends. The end is either
// the end of `raw` with OK, or DataLoss at the first record the reference
// decoder cannot read, naming its offset. Returns the records.
Records CheckReader(std::string_view raw) {
  RecordBlockReader reader(raw);
  Records out;
  size_t pos = 0;  // where the next record starts
  std::string_view key, value;
  absl::Status s;
  while (reader.Next(&key, &value, &s)) {
    FUZZ_CHECK(s.ok()) << s;
    FUZZ_CHECK(key.data() >= raw.data() + pos &&
               value.data() + value.size() <= raw.data() + raw.size())
        << "record outside its block at " << pos;
    FUZZ_CHECK(value.data() == key.data() + key.size()) << "at " << pos;
    std::string_view header =
        raw.substr(pos, static_cast<size_t>(key.data() - raw.data()) - pos);
    uint32_t klen = 0, vlen = 0;
    FUZZ_CHECK(ParseVarint32(&header, &klen) && ParseVarint32(&header, &vlen) &&
               header.empty() && klen == key.size() && vlen == value.size())
        << "record at " << pos << " is not what its header says: " << klen
        << "/" << key.size() << " " << vlen << "/" << value.size();
    out.emplace_back(std::string(key), std::string(value));
    pos = static_cast<size_t>(value.data() + value.size() - raw.data());
  }
  std::string_view rest = raw.substr(pos);
  uint32_t klen = 0, vlen = 0;
  const bool well_formed =
      rest.empty() || (ParseVarint32(&rest, &klen) && ParseVarint32(&rest, &vlen) &&
                       rest.size() >= uint64_t{klen} + vlen);
  if (s.ok()) {
    FUZZ_CHECK(pos == raw.size())
        << "reader stopped cleanly at " << pos << " of " << raw.size();
  } else {
    FUZZ_CHECK(s.code() == absl::StatusCode::kDataLoss) << s;
    FUZZ_CHECK(!well_formed) << "DataLoss for a readable record at " << pos;
    const std::string where = absl::StrCat("at byte ", pos, " of a ", raw.size(),
                                           "-byte block");
    FUZZ_CHECK(absl::StrContains(s.message(), where))
        << "'" << s.message() << "' does not say '" << where << "'";
    // A failed reader stays failed.
    absl::Status again;
    FUZZ_CHECK(!reader.Next(&key, &value, &again) && again.ok());
  }
  return out;
}

// DecompressBlock of data whose checksum is `crc` (which matches): exactly
// raw_size bytes, and then no other size decodes; or DataLoss saying why
// and where. Returns whether it decompressed (into *raw).
bool CheckDecompress(std::string_view data, uint32_t raw_size, std::string* raw) {
  const uint32_t crc = Crc32c(data.data(), data.size());
  absl::Status s = DecompressBlock(data, raw_size, crc, raw);
  if (s.ok()) {
    FUZZ_CHECK(raw->size() == raw_size) << raw->size() << " != " << raw_size;
    FUZZ_CHECK(raw_size <= 255 * uint64_t{data.size()}) << raw_size;
    std::string other;
    FUZZ_CHECK(absl::IsDataLoss(DecompressBlock(data, raw_size + 1, crc, &other)))
        << "decodes to " << raw_size << " and " << raw_size + 1 << " bytes";
    if (raw_size > 0) {
      FUZZ_CHECK(absl::IsDataLoss(DecompressBlock(data, raw_size - 1, crc, &other)))
          << "decodes to " << raw_size << " and " << raw_size - 1 << " bytes";
    }
    return true;
  }
  FUZZ_CHECK(absl::IsDataLoss(s)) << s;
  const std::string msg = Message(s);
  const std::string_view kAt = "decoding fails at byte ";
  if (const size_t at = msg.find(kAt); at != std::string::npos) {
    const std::string tail = msg.substr(at + kAt.size());
    uint64_t byte = 0;
    FUZZ_CHECK(absl::SimpleAtoi(tail.substr(0, tail.find(' ')), &byte)) << msg;
    FUZZ_CHECK(byte <= data.size()) << msg;
  } else {
    FUZZ_CHECK(absl::StrContains(msg, absl::StrCat("raw size of ", raw_size, " bytes")) ||
               absl::StrContains(msg, absl::StrCat("its stated ", raw_size, " bytes: it holds ")))
        << "'" << msg << "' does not say where the block is corrupt";
  }
  return false;
}

// A record from the input: byte `flags`, key (up to 48 bytes), value (up to
// 200 bytes, repeated 1 + (flags & 0x7f) / 2 times when flags is odd, for
// lengths that take 2 and 3 varint bytes).
Record ReadRecord(FuzzInput& in, uint8_t* flags_out = nullptr) {
  const uint8_t flags = in.Byte();
  if (flags_out != nullptr) *flags_out = flags;
  Record r;
  r.first = in.String(48);
  std::string value = in.String(200);
  if (flags & 1) {
    const int reps = 1 + (flags & 0x7f) / 2;
    for (int i = 0; i < reps; ++i) r.second += value;
  } else {
    r.second = std::move(value);
  }
  return r;
}

size_t RawSize(const Records& records) {
  size_t n = 0;
  for (const auto& [k, v] : records) {
    n += VarintLength(k.size()) + VarintLength(v.size()) + k.size() + v.size();
  }
  return n;
}

void StoredBlockMode(std::string_view stored) {
  uint32_t raw_size = 0, crc = 0;
  std::string_view data;
  absl::Status s = DecodeStoredBlock(stored, &raw_size, &crc, &data);
  if (stored.size() < 8) {
    FUZZ_CHECK(absl::IsDataLoss(s)) << s;
    FUZZ_CHECK(absl::StrContains(s.message(), absl::StrCat(stored.size(), " bytes"))) << s;
    return;
  }
  FUZZ_CHECK(s.ok()) << s;
  FUZZ_CHECK(data.data() == stored.data() + 8 && data.size() == stored.size() - 8);
  CompressedBlock block;
  block.raw_size = raw_size;
  block.crc32c = crc;
  block.data = std::string(data);
  FUZZ_CHECK(EncodeStoredBlock(block) == stored) << "decode/encode changed it";

  std::string raw;
  if (Crc32c(data.data(), data.size()) != crc) {
    s = DecompressBlock(data, raw_size, crc, &raw);
    FUZZ_CHECK(absl::IsDataLoss(s) && absl::StrContains(s.message(), "checksum")) << s;
    return;
  }
  if (CheckDecompress(data, raw_size, &raw)) CheckReader(raw);
}

void HostileLz4Mode(FuzzInput& in) {
  const uint8_t how = in.Byte();
  const uint32_t size_field = in.Uint32();
  const std::string_view data = in.Rest();
  const uint32_t raw_size =
      (how & 1) ? size_field
                : static_cast<uint32_t>(size_field % (4 * data.size() + 64));
  std::string raw;
  if (CheckDecompress(data, raw_size, &raw)) CheckReader(raw);
  // The same bytes as a decompressed block.
  CheckReader(data);
}

// Builds `records` into a block with `builder` (which must be empty) and
// checks it all the way back; damaged copies must be DataLoss.
void CheckBlockRoundTrip(RecordBlockBuilder& builder, const Records& records,
                         uint32_t flip) {
  FUZZ_CHECK(builder.empty());
  for (const auto& [k, v] : records) builder.Add(k, v);
  FUZZ_CHECK(builder.raw_size() == RawSize(records));
  CompressedBlock block;
  builder.Finish(&block);
  FUZZ_CHECK(builder.empty() && builder.raw_size() == 0);
  FUZZ_CHECK(block.raw_size == RawSize(records));
  FUZZ_CHECK(block.crc32c == Crc32c(block.data.data(), block.data.size()));

  const std::string stored = EncodeStoredBlock(block);
  uint32_t raw_size = 0, crc = 0;
  std::string_view data;
  absl::Status s = DecodeStoredBlock(stored, &raw_size, &crc, &data);
  FUZZ_CHECK(s.ok()) << s;
  FUZZ_CHECK(raw_size == block.raw_size && crc == block.crc32c && data == block.data);
  std::string raw;
  s = DecompressBlock(data, raw_size, crc, &raw);
  FUZZ_CHECK(s.ok()) << s;
  FUZZ_CHECK(CheckReader(raw) == records) << "records changed in a round trip";

  // One bit of damage, or a wrong size, is caught.
  std::string damaged(data);
  const size_t bit = flip % (8 * damaged.size());  // LZ4 data is never empty
  damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
  s = DecompressBlock(damaged, raw_size, crc, &raw);
  FUZZ_CHECK(absl::IsDataLoss(s) && absl::StrContains(s.message(), "checksum"))
      << "bit " << bit << " flipped: " << s;
  FUZZ_CHECK(!CheckDecompress(data, raw_size + 1, &raw));
  if (raw_size > 0) {
    FUZZ_CHECK(!CheckDecompress(data, raw_size - 1, &raw));
  }
}

void RoundTripMode(FuzzInput& in) {
  const uint32_t flip = in.Uint32();
  const size_t cut = in.Byte();
  Records records;
  size_t total = 0;
  while (!in.empty() && total < kMaxRawBytes) {
    records.push_back(ReadRecord(in));
    total += records.back().first.size() + records.back().second.size();
  }
  const size_t split = std::min(cut, records.size());
  RecordBlockBuilder builder;
  CheckBlockRoundTrip(builder, Records(records.begin(), records.begin() + split),
                      flip);
  CheckBlockRoundTrip(builder, Records(records.begin() + split, records.end()),
                      flip / 3);
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void RunFileMode(FuzzInput& in) {
  const uint8_t kind = in.Byte() % 3;
  const uint32_t pos = in.Uint32();
  // The blocks' records, as written.
  std::vector<Records> blocks(1);
  size_t total = 0;
  while (!in.empty() && total < kMaxRawBytes) {
    uint8_t flags = 0;
    Record r = ReadRecord(in, &flags);
    if ((flags & 0x80) && !blocks.back().empty()) blocks.emplace_back();
    total += r.first.size() + r.second.size();
    blocks.back().push_back(std::move(r));
  }
  if (blocks.back().empty()) blocks.pop_back();

  const std::string path = fuzz::WriteScratchFile("run", "");
  std::vector<uint64_t> frame_start;  // and one past the last frame's end
  {
    RunFileWriter writer;
    absl::Status s = writer.Open(path);
    FUZZ_CHECK(s.ok()) << s;
    RecordBlockBuilder builder;
    uint64_t offset = 0;
    for (const Records& records : blocks) {
      for (const auto& [k, v] : records) builder.Add(k, v);
      CompressedBlock block;
      builder.Finish(&block);
      s = writer.Append(block.raw_size, block.crc32c, block.data);
      FUZZ_CHECK(s.ok()) << s;
      frame_start.push_back(offset);
      offset += 12 + block.data.size();
    }
    frame_start.push_back(offset);
    s = writer.Close();
    FUZZ_CHECK(s.ok()) << s;
  }
  std::string bytes = ReadWholeFile(path);
  FUZZ_CHECK(bytes.size() == frame_start.back());

  // The frames before the damage (all when none), and whether the damage
  // leaves a valid run of them (a cut between frames).
  size_t bad = blocks.size();
  bool clean_cut = true;
  if (kind == 1) {
    const uint64_t keep = pos % (bytes.size() + 1);
    bytes.resize(keep);
    bad = 0;
    while (bad < blocks.size() && frame_start[bad + 1] <= keep) ++bad;
    clean_cut = keep == frame_start[bad];
  } else if (kind == 2 && !bytes.empty()) {
    const uint64_t bit = pos % (8 * bytes.size());
    bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
    bad = 0;
    while (frame_start[bad + 1] <= bit / 8) ++bad;
    clean_cut = false;
  }
  fuzz::WriteScratchFile("run", bytes);

  Records want;
  for (size_t b = 0; b < bad; ++b) want.insert(want.end(), blocks[b].begin(), blocks[b].end());
  Records got;
  RunFileReader reader;
  absl::Status s = reader.Open(path);
  while (s.ok() && reader.Valid()) {
    got.emplace_back(std::string(reader.key()), std::string(reader.value()));
    FUZZ_CHECK(got.size() <= want.size() && got.back() == want[got.size() - 1])
        << "record " << got.size() - 1 << " of the run is not what was written";
    s = reader.Next();
  }
  if (clean_cut) {
    FUZZ_CHECK(s.ok()) << s;
    FUZZ_CHECK(got == want) << got.size() << " of " << want.size() << " records";
    return;
  }
  FUZZ_CHECK(absl::IsDataLoss(s)) << "damage in block " << bad << " not caught: " << s;
  FUZZ_CHECK(got == want) << got.size() << " of " << want.size() << " records";
  const std::string where =
      absl::StrCat("run file ", path, ": block at byte ", frame_start[bad], ":");
  FUZZ_CHECK(absl::StrContains(s.message(), where))
      << "'" << s.message() << "' does not say '" << where << "'";
}

}  // namespace
}  // namespace mr

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mr::fuzz::FuzzInput in(data, size);
  switch (in.Byte() % 4) {
    case 0:
      mr::StoredBlockMode(in.Rest());
      break;
    case 1:
      mr::HostileLz4Mode(in);
      break;
    case 2:
      mr::RoundTripMode(in);
      break;
    case 3:
      mr::RunFileMode(in);
      break;
  }
  return 0;
}
