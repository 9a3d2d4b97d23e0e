#include "worker/internal/split_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/file_util.h"

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
  // "offset:line_number:text".
  std::vector<std::string> ReadAll(const std::string& contents, uint64_t chunk,
                                   bool numbers) {
    EXPECT_TRUE(WriteFileAtomically(path_, contents).ok());
    std::vector<std::string> lines;
    for (uint64_t off = 0; off < contents.size(); off += chunk) {
      mrpb::FileChunk c;
      c.set_path(path_);
      c.set_offset(off);
      c.set_length(std::min<uint64_t>(chunk, contents.size() - off));
      absl::Status s = ReadChunkBlocks(c, numbers, [&](const InputBlock& b) {
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
      });
      EXPECT_TRUE(s.ok()) << s;
    }
    return lines;
  }

  std::string path_;
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
  absl::Status s = ReadChunkBlocks(c, false, [](const InputBlock&) {});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find(".missing"), std::string::npos) << s;
}

}  // namespace
}  // namespace mr
