#include "worker/internal/run_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/record_block.h"

namespace mr {
namespace {

using ::testing::HasSubstr;
using Records = std::vector<std::pair<std::string, std::string>>;

class RunFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("run_file_test_" + std::to_string(getpid())))
                .string();
  }
  void TearDown() override { RemoveAll(path_).IgnoreError(); }

  // Writes one block per element of `blocks`; returns each block's offset.
  std::vector<uint64_t> Write(const std::vector<Records>& blocks) {
    RunFileWriter writer;
    EXPECT_TRUE(writer.Open(path_).ok());
    std::vector<uint64_t> offsets;
    uint64_t offset = 0;
    for (const Records& records : blocks) {
      RecordBlockBuilder builder;
      for (const auto& [k, v] : records) builder.Add(k, v);
      CompressedBlock block;
      builder.Finish(&block);
      EXPECT_TRUE(writer.Append(block.raw_size, block.crc32c, block.data).ok());
      offsets.push_back(offset);
      offset += 12 + block.data.size();
    }
    EXPECT_TRUE(writer.Close().ok());
    return offsets;
  }

  std::string Contents() {
    std::ifstream f(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  void SetContents(const std::string& bytes) {
    std::ofstream f(path_, std::ios::binary | std::ios::trunc);
    f << bytes;
  }

  // Reads the run; the records read before the status it ends with.
  absl::Status ReadAll(Records* out) {
    RunFileReader reader;
    absl::Status s = reader.Open(path_);
    while (s.ok() && reader.Valid()) {
      out->emplace_back(std::string(reader.key()), std::string(reader.value()));
      s = reader.Next();
    }
    return s;
  }

  std::string path_;
  const std::vector<Records> blocks_ = {{{"a", "1"}, {"b", "2"}},
                                        {{"c", std::string(500, 'x')}},
                                        {{"d", "4"}}};
};

TEST_F(RunFileTest, RoundTrip) {
  Write(blocks_);
  Records got;
  ASSERT_TRUE(ReadAll(&got).ok());
  EXPECT_EQ(got, (Records{{"a", "1"}, {"b", "2"}, {"c", std::string(500, 'x')},
                          {"d", "4"}}));
}

TEST_F(RunFileTest, CorruptDataSizeIsDataLossNamingTheBlock) {
  // A data size past the end of the file is caught before it is allocated.
  const std::vector<uint64_t> offsets = Write(blocks_);
  std::string bytes = Contents();
  std::string huge;
  PutFixed32(&huge, 0xfffffff0u);
  bytes.replace(offsets[1] + 8, 4, huge);
  SetContents(bytes);
  Records got;
  absl::Status s = ReadAll(&got);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(absl::StrCat("run file ", path_, ": block at byte ",
                                     offsets[1], ": truncated data (4294967280 "
                                     "bytes stated, ")));
  EXPECT_EQ(got, blocks_[0]);
}

TEST_F(RunFileTest, CorruptRawSizeIsDataLossNamingTheBlock) {
  const std::vector<uint64_t> offsets = Write(blocks_);
  std::string bytes = Contents();
  std::string huge;
  PutFixed32(&huge, 0xffffffffu);
  bytes.replace(offsets[2], 4, huge);
  SetContents(bytes);
  Records got;
  absl::Status s = ReadAll(&got);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(absl::StrCat("block at byte ", offsets[2],
                                     ": block states a raw size of 4294967295")));
  EXPECT_EQ(got.size(), 3u);
}

TEST_F(RunFileTest, TruncationIsDataLossNamingTheBlock) {
  const std::vector<uint64_t> offsets = Write(blocks_);
  const std::string bytes = Contents();
  // In the second block's header, then in its data.
  for (uint64_t keep : {offsets[1] + 5, offsets[1] + 20}) {
    SetContents(bytes.substr(0, keep));
    Records got;
    absl::Status s = ReadAll(&got);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << keep;
    EXPECT_THAT(std::string(s.message()),
                HasSubstr(absl::StrCat("block at byte ", offsets[1], ": truncated ")))
        << keep;
    EXPECT_EQ(got, blocks_[0]) << keep;
  }
  // Between blocks: a shorter run.
  SetContents(bytes.substr(0, offsets[2]));
  Records got;
  EXPECT_TRUE(ReadAll(&got).ok());
  EXPECT_EQ(got.size(), 3u);
}

TEST_F(RunFileTest, FlippedDataByteIsDataLossNamingTheBlock) {
  const std::vector<uint64_t> offsets = Write(blocks_);
  std::string bytes = Contents();
  bytes[offsets[1] + 14] ^= 0x10;
  SetContents(bytes);
  Records got;
  absl::Status s = ReadAll(&got);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(absl::StrCat("block at byte ", offsets[1],
                                     ": block checksum mismatch")));
  EXPECT_EQ(got, blocks_[0]);
}

}  // namespace
}  // namespace mr
