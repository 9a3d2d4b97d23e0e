#include "worker/internal/split_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/job_limits.h"

namespace mr {
namespace {

class SplitReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("split_reader_test_" + std::to_string(getpid())))
                .string();
  }
  void TearDown() override { RemoveAll(path_).IgnoreError(); }

  // Reads `contents` in chunks of `chunk` bytes; returns every line seen as
  // "offset:line_number:text", and sets malformed_ to the offsets of the
  // malformed lines (stats_ adds up the chunks' reads).
  std::vector<std::string> ReadAll(const std::string& contents, uint64_t chunk,
                                   bool numbers,
                                   uint64_t max_record_bytes = kDefaultMaxRecordBytes) {
    EXPECT_TRUE(WriteFileAtomically(path_, contents).ok());
    malformed_.clear();
    stats_ = SplitReaderStats();
    std::vector<std::string> lines;
    for (uint64_t off = 0; off < contents.size(); off += chunk) {
      mrpb::FileChunk c;
      c.set_path(path_);
      c.set_offset(off);
      c.set_length(std::min<uint64_t>(chunk, contents.size() - off));
      SplitReaderOptions options;
      options.line_numbers = numbers;
      options.max_record_bytes = max_record_bytes;
      options.stats = &stats_;
      absl::Status s = ReadChunkBlocks(
          c, options,
          [&](const InputBlock& b) {
            uint64_t offset = b.offset;
            uint64_t number = b.first_line_number;
            std::string_view rest = b.data;
            uint64_t count = 0;
            while (!rest.empty()) {
              size_t nl = rest.find('\n');
              size_t len = nl == std::string_view::npos ? rest.size() : nl;
              lines.push_back(std::to_string(offset) + ":" +
                              std::to_string(number) + ":" +
                              std::string(rest.substr(0, len)));
              size_t used = nl == std::string_view::npos ? len : len + 1;
              rest.remove_prefix(used);
              offset += used;
              if (numbers) ++number;
              ++count;
            }
            EXPECT_EQ(count, b.line_count);
          },
          [&](uint64_t offset) { malformed_.push_back(offset); });
      EXPECT_TRUE(s.ok()) << s;
    }
    return lines;
  }

  std::string path_;
  std::vector<uint64_t> malformed_;
  SplitReaderStats stats_;
};

TEST_F(SplitReaderTest, EveryLineExactlyOnceForEveryChunkSize) {
  const std::string text = "alpha\nbeta\n\ngamma delta\nepsilon";  // no final \n
  const std::vector<std::string> want = {"0:1:alpha", "6:2:beta", "11:3:",
                                         "12:4:gamma delta", "24:5:epsilon"};
  for (uint64_t chunk = 1; chunk <= text.size() + 1; ++chunk) {
    EXPECT_EQ(ReadAll(text, chunk, /*numbers=*/true), want) << "chunk " << chunk;
  }
}

TEST_F(SplitReaderTest, LinesLongerThanTheReadBuffer) {
  // Lines of 3 MiB straddle the reader's 1 MiB buffer and chunk boundaries.
  const std::string big(3 << 20, 'x');
  const std::string text = big + "\nshort\n" + big + "\n";
  auto lines = ReadAll(text, 1 << 20, /*numbers=*/false);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "0:0:" + big);
  EXPECT_EQ(lines[1], std::to_string(big.size() + 1) + ":0:short");
  EXPECT_EQ(lines[2], std::to_string(big.size() + 7) + ":0:" + big);
}

TEST_F(SplitReaderTest, MissingFileIsNotFound) {
  mrpb::FileChunk c;
  c.set_path(path_ + ".missing");
  c.set_length(10);
  absl::Status s = ReadChunkBlocks(c, SplitReaderOptions(),
                                   [](const InputBlock&) {}, [](uint64_t) {});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find(".missing"), std::string::npos) << s;
}

TEST_F(SplitReaderTest, OverlongLineInTheMiddleIsSkippedAndReported) {
  // Limit 10: the 11-byte line at offset 6 is malformed, the 10-byte one
  // at 18 is not. Line numbers count the malformed line.
  const std::string text = "alpha\n" "0123456789X\n" "0123456789\n" "end\n";
  const std::vector<std::string> want = {"0:1:alpha", "18:3:0123456789",
                                         "29:4:end"};
  for (uint64_t chunk = 1; chunk <= text.size() + 1; ++chunk) {
    EXPECT_EQ(ReadAll(text, chunk, /*numbers=*/true, /*max=*/10), want)
        << "chunk " << chunk;
    EXPECT_EQ(malformed_, std::vector<uint64_t>{6}) << "chunk " << chunk;
  }
  // At the end of the file, without a newline.
  EXPECT_EQ(ReadAll("ok\n0123456789X", 4, /*numbers=*/false, /*max=*/10),
            (std::vector<std::string>{"0:0:ok"}));
  EXPECT_EQ(malformed_, std::vector<uint64_t>{3});
}

TEST_F(SplitReaderTest, OverlongLinesLongerThanTheReadBuffer) {
  // 3 MiB lines against a 1 MiB limit, in 1 MiB chunks: each is reported
  // once, by the chunk it starts in, and the short lines between come
  // through.
  const std::string big(3 << 20, 'x');
  const std::string text = "a\n" + big + "\nb\n" + big + "\nc";
  const uint64_t second = 2 + big.size() + 3;
  EXPECT_EQ(ReadAll(text, 1 << 20, /*numbers=*/true, /*max=*/1 << 20),
            (std::vector<std::string>{
                "0:1:a", std::to_string(big.size() + 3) + ":3:b",
                std::to_string(second + big.size() + 1) + ":5:c"}));
  EXPECT_EQ(malformed_, (std::vector<uint64_t>{2, second}));
  // Linear: a byte is read at most twice (by its chunk, and by the chunk of
  // a line that starts before it, up to the limit and one read); no byte is
  // searched twice in one read, and an over-long line is measured, never
  // buffered beyond two reads.
  EXPECT_LE(stats_.bytes_read, 2 * text.size());
  EXPECT_LE(stats_.bytes_examined, stats_.bytes_read);
  EXPECT_LE(stats_.max_buffer_bytes, (2u << 20));
}

TEST_F(SplitReaderTest, OverlongLineStraddlingChunksIsReportedOnce) {
  // The line at 4 runs from chunk 0 through chunk 2 (chunks of 8 bytes);
  // "tail" starts in chunk 3.
  const std::string text = "abc\n" + std::string(25, 'y') + "\ntail\n";
  for (uint64_t chunk : {8u, 5u, 29u, 30u}) {
    EXPECT_EQ(ReadAll(text, chunk, /*numbers=*/true, /*max=*/20),
              (std::vector<std::string>{"0:1:abc", "30:3:tail"}))
        << "chunk " << chunk;
    EXPECT_EQ(malformed_, std::vector<uint64_t>{4}) << "chunk " << chunk;
  }
}

TEST_F(SplitReaderTest, NoNewlineAtAllIsReadInLinearTime) {
  // 64 MiB and one byte without a newline, against the default limit of
  // 64 MiB, in one chunk and in 1 MiB chunks: one malformed record at 0.
  const std::string text((64 << 20) + 1, 'z');
  for (uint64_t chunk : {uint64_t{64 << 20} + 1, uint64_t{1} << 20}) {
    EXPECT_TRUE(ReadAll(text, chunk, /*numbers=*/false).empty());
    EXPECT_EQ(malformed_, std::vector<uint64_t>{0}) << "chunk " << chunk;
    // Linear: the first chunk reads up to the limit and one byte to know
    // the line is too long, every other chunk its own bytes and the one
    // before; each byte read is searched once. The line is measured, not
    // buffered: the buffer never grows past two reads.
    const uint64_t chunks = (text.size() + chunk - 1) / chunk;
    EXPECT_LE(stats_.bytes_read, 2 * text.size() + chunks) << "chunk " << chunk;
    EXPECT_LE(stats_.bytes_examined, stats_.bytes_read) << "chunk " << chunk;
    EXPECT_LE(stats_.max_buffer_bytes, (2u << 20)) << "chunk " << chunk;
  }
  // As long as the limit: one (long) record.
  const std::string exact(64 << 20, 'z');
  std::vector<std::string> lines = ReadAll(exact, 64 << 20, /*numbers=*/false);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].size(), 4 + exact.size());
  EXPECT_TRUE(malformed_.empty());
  // Measured once, then read into a buffer of its size: each byte read and
  // searched at most twice, and the buffer allocated once.
  EXPECT_LE(stats_.bytes_read, 2 * exact.size());
  EXPECT_LE(stats_.bytes_examined, stats_.bytes_read);
  EXPECT_EQ(stats_.max_buffer_bytes, exact.size() + 1 + (1 << 20));
}

}  // namespace
}  // namespace mr
