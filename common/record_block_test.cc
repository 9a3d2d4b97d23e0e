#include "common/record_block.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crc32c.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mr {
namespace {

using ::testing::HasSubstr;
using Records = std::vector<std::pair<std::string, std::string>>;

// Builds, compresses, decompresses and reads back `records`.
Records RoundTrip(const Records& records, CompressedBlock* block_out = nullptr) {
  RecordBlockBuilder builder;
  for (const auto& [k, v] : records) builder.Add(k, v);
  CompressedBlock block;
  builder.Finish(&block);
  EXPECT_TRUE(builder.empty());
  EXPECT_EQ(builder.raw_size(), 0u);
  std::string raw;
  absl::Status s = DecompressBlock(block.data, block.raw_size, block.crc32c, &raw);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(raw.size(), block.raw_size);
  Records out;
  RecordBlockReader reader(raw);
  std::string_view k, v;
  absl::Status rs;
  while (reader.Next(&k, &v, &rs)) out.emplace_back(std::string(k), std::string(v));
  EXPECT_TRUE(rs.ok()) << rs;
  if (block_out != nullptr) *block_out = std::move(block);
  return out;
}

TEST(RecordBlockTest, ManyRecordsRoundTrip) {
  Records records;
  for (int i = 0; i < 20000; ++i) {
    records.emplace_back(absl::StrCat("key-", i), absl::StrCat(i * 31));
  }
  EXPECT_EQ(RoundTrip(records), records);
}

TEST(RecordBlockTest, EmptyKeysAndValues) {
  const Records records = {{"", ""}, {"", "v"}, {"k", ""}, {"", ""}, {"kk", "vv"}};
  EXPECT_EQ(RoundTrip(records), records);
}

TEST(RecordBlockTest, BinaryBytesAndLongFields) {
  Records records;
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  records.emplace_back(all, std::string("\0\n\r\xff", 4));
  records.emplace_back(std::string(1, '\0'), all);
  // Lengths past one varint byte (>= 128) and past two (>= 16384).
  records.emplace_back(std::string(200, 'a'), std::string(20000, '\x80'));
  records.emplace_back(std::string(70000, '\x01'), "x");
  EXPECT_EQ(RoundTrip(records), records);
}

TEST(RecordBlockTest, EmptyBlock) {
  CompressedBlock block;
  EXPECT_TRUE(RoundTrip({}, &block).empty());
  EXPECT_EQ(block.raw_size, 0u);
}

TEST(RecordBlockTest, BuilderIsReusableAfterFinish) {
  RecordBlockBuilder builder;
  builder.Add("a", "1");
  CompressedBlock first;
  builder.Finish(&first);
  builder.Add("b", "2");
  EXPECT_FALSE(builder.empty());
  CompressedBlock second;
  builder.Finish(&second);
  std::string raw;
  ASSERT_TRUE(DecompressBlock(second.data, second.raw_size, second.crc32c, &raw).ok());
  RecordBlockReader reader(raw);
  std::string_view k, v;
  absl::Status s;
  ASSERT_TRUE(reader.Next(&k, &v, &s));
  EXPECT_EQ(k, "b");
  EXPECT_EQ(v, "2");
  EXPECT_FALSE(reader.Next(&k, &v, &s));
  EXPECT_TRUE(s.ok());
}

TEST(RecordBlockTest, CorruptCompressedByteIsDataLoss) {
  Records records;
  for (int i = 0; i < 1000; ++i) records.emplace_back(absl::StrCat("k", i), "value");
  CompressedBlock block;
  RoundTrip(records, &block);
  ASSERT_GT(block.data.size(), 10u);
  for (size_t pos : {size_t{0}, block.data.size() / 2, block.data.size() - 1}) {
    std::string corrupt = block.data;
    corrupt[pos] = static_cast<char>(corrupt[pos] ^ 0x01);
    std::string raw;
    absl::Status s = DecompressBlock(corrupt, block.raw_size, block.crc32c, &raw);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "byte " << pos << ": " << s;
  }
}

TEST(RecordBlockTest, WrongChecksumOrSizeIsDataLoss) {
  CompressedBlock block;
  RoundTrip({{"key", "value"}, {"key2", "value2"}}, &block);
  std::string raw;
  EXPECT_EQ(DecompressBlock(block.data, block.raw_size, block.crc32c ^ 1, &raw).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecompressBlock(block.data, block.raw_size + 1, block.crc32c, &raw).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecompressBlock(block.data, block.raw_size - 1, block.crc32c, &raw).code(),
            absl::StatusCode::kDataLoss);
}

TEST(RecordBlockTest, TruncatedRawBlockIsDataLoss) {
  RecordBlockBuilder builder;
  builder.Add("alpha", "1");
  builder.Add("beta", "22");
  builder.Add(std::string(300, 'g'), "333");
  CompressedBlock block;
  builder.Finish(&block);
  std::string raw;
  ASSERT_TRUE(DecompressBlock(block.data, block.raw_size, block.crc32c, &raw).ok());
  // Every proper prefix that does not end on a record boundary is malformed.
  const size_t first = 2 + 5 + 1;   // "alpha" "1"
  const size_t second = first + 2 + 4 + 2;  // "beta" "22"
  ASSERT_EQ(raw.size(), second + 3 + 300 + 3);  // 300 needs a 2-byte varint
  for (size_t len = 1; len < raw.size(); ++len) {
    RecordBlockReader reader(std::string_view(raw).substr(0, len));
    std::string_view k, v;
    absl::Status s;
    int n = 0;
    while (reader.Next(&k, &v, &s)) ++n;
    if (len == first || len == second) {
      EXPECT_TRUE(s.ok()) << "len " << len;
      EXPECT_EQ(n, len == first ? 1 : 2);
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "len " << len;
      EXPECT_EQ(n, len < first ? 0 : len < second ? 1 : 2) << "len " << len;
      // The error names the truncated record's offset in the block.
      const size_t at = len < first ? 0 : len < second ? first : second;
      EXPECT_THAT(std::string(s.message()),
                  HasSubstr(absl::StrCat("malformed record at byte ", at, " of a ",
                                         len, "-byte block")))
          << "len " << len;
    }
  }
}

TEST(RecordBlockTest, MalformedRecordErrorSaysWhatAndWhere) {
  RecordBlockBuilder builder;
  builder.Add("k", "v");  // 4 bytes at 0
  CompressedBlock block;
  builder.Finish(&block);
  std::string raw;
  ASSERT_TRUE(DecompressBlock(block.data, block.raw_size, block.crc32c, &raw).ok());
  struct Case {
    std::string tail;
    std::string what;
  } cases[] = {
      {"\x80", "its key length is not a complete varint32"},
      {"\xff\xff\xff\xff\xff\x01", "its key length is not a complete varint32"},
      {"\x01", "its value length is not a complete varint32"},
      {"\x03\x02" "abcd", "its key and value (3 + 2 bytes) run past the block's end"},
  };
  for (const Case& c : cases) {
    const std::string bad = raw + c.tail;
    RecordBlockReader reader(bad);
    std::string_view k, v;
    absl::Status s;
    ASSERT_TRUE(reader.Next(&k, &v, &s));
    EXPECT_FALSE(reader.Next(&k, &v, &s));
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(s.message(), absl::StrCat("malformed record at byte 4 of a ", bad.size(),
                                        "-byte block: ", c.what));
    // It stays at the end.
    absl::Status again;
    EXPECT_FALSE(reader.Next(&k, &v, &again));
    EXPECT_TRUE(again.ok());
  }
}

TEST(RecordBlockTest, ImpossibleRawSizeIsDataLossBeforeAllocating) {
  // The checksum covers the data only: a corrupt raw_size in a stored block
  // must not make the reader allocate it (up to 4 GiB).
  CompressedBlock block;
  RoundTrip({{"key", "value"}}, &block);
  for (uint32_t raw_size : {0xffffffffu, 0x80000000u,
                            static_cast<uint32_t>(255 * block.data.size() + 1)}) {
    std::string raw;
    absl::Status s = DecompressBlock(block.data, raw_size, block.crc32c, &raw);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << raw_size;
    EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat("raw size of ", raw_size, " bytes")));
    EXPECT_LT(raw.capacity(), size_t{1} << 20) << raw_size;
  }
}

TEST(RecordBlockTest, MostCompressibleBlockIsWithinTheRawSizeBound) {
  // 16 MiB of one byte: LZ4's best ratio (close to 255:1) still decodes.
  const Records records = {{"k", std::string(16 << 20, 'z')}};
  CompressedBlock block;
  EXPECT_EQ(RoundTrip(records, &block), records);
  EXPECT_GT(block.raw_size, 250 * block.data.size());
}

TEST(RecordBlockTest, WrongSizeOrBadLz4SaysWhere) {
  CompressedBlock block;
  RoundTrip({{"key", "value"}, {"key2", "value2"}}, &block);
  std::string raw;
  absl::Status s = DecompressBlock(block.data, block.raw_size + 1, block.crc32c, &raw);
  EXPECT_EQ(s.message(), absl::StrCat("block does not decompress to its stated ",
                                      block.raw_size + 1, " bytes: it holds ",
                                      block.raw_size));
  // A token of 5 literals with 2 of them present: decoding stops in the
  // data, and the message says at which byte.
  const std::string bad_lz4("\x50" "ab", 3);
  s = DecompressBlock(bad_lz4, 5, Crc32c(bad_lz4.data(), bad_lz4.size()), &raw);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("block does not decompress to its stated 5 bytes: "
                                     "LZ4 decoding fails at byte "));
  EXPECT_THAT(std::string(s.message()), HasSubstr(" of 3"));
}

TEST(RecordBlockTest, StoredBlockRoundTrip) {
  CompressedBlock block;
  RoundTrip({{"a", "1"}, {"b", std::string(1000, 'z')}}, &block);
  const std::string stored = EncodeStoredBlock(block);
  ASSERT_EQ(stored.size(), 8 + block.data.size());
  uint32_t raw_size = 0, crc = 0;
  std::string_view data;
  ASSERT_TRUE(DecodeStoredBlock(stored, &raw_size, &crc, &data).ok());
  EXPECT_EQ(raw_size, block.raw_size);
  EXPECT_EQ(crc, block.crc32c);
  EXPECT_EQ(data, block.data);
  std::string raw;
  EXPECT_TRUE(DecompressBlock(data, raw_size, crc, &raw).ok());
}

TEST(RecordBlockTest, StoredBlockTooShortIsDataLoss) {
  uint32_t raw_size = 0, crc = 0;
  std::string_view data;
  for (size_t len = 0; len < 8; ++len) {
    const std::string stored(len, 'x');
    absl::Status s = DecodeStoredBlock(stored, &raw_size, &crc, &data);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "len " << len;
    EXPECT_EQ(s.message(), absl::StrCat("stored block too short: ", len,
                                        " bytes, the header is 8"));
  }
  // Exactly the header: an empty payload is well-formed at this layer.
  CompressedBlock empty;
  EXPECT_TRUE(DecodeStoredBlock(EncodeStoredBlock(empty), &raw_size, &crc, &data).ok());
  EXPECT_TRUE(data.empty());
}

TEST(RecordBlockTest, Fixed32IsLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  ASSERT_EQ(s, std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(DecodeFixed32(s.data()), 0x04030201u);
}

}  // namespace
}  // namespace mr
