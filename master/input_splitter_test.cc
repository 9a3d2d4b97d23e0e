#include "master/input_splitter.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

std::string Describe(const std::vector<mrpb::InputSplit>& splits) {
  std::string out;
  for (const auto& split : splits) {
    out += "[";
    for (const auto& c : split.chunks()) {
      out += c.path() + ":" + std::to_string(c.offset()) + "+" +
             std::to_string(c.length()) + " ";
    }
    out += "]";
  }
  return out;
}

TEST(InputSplitterTest, CombinesSmallFilesUpToSplitSize) {
  auto splits = ComputeSplits({{"a", 30}, {"b", 30}, {"c", 30}}, 64);
  EXPECT_EQ(Describe(splits), "[a:0+30 b:0+30 c:0+4 ][c:4+26 ]");
}

TEST(InputSplitterTest, CutsLargeFiles) {
  auto splits = ComputeSplits({{"big", 250}}, 100);
  EXPECT_EQ(Describe(splits), "[big:0+100 ][big:100+100 ][big:200+50 ]");
}

TEST(InputSplitterTest, ExactMultipleAndEmptyFiles) {
  auto splits = ComputeSplits({{"e", 0}, {"a", 100}, {"f", 0}, {"b", 100}}, 100);
  EXPECT_EQ(Describe(splits), "[a:0+100 ][b:0+100 ]");
  EXPECT_TRUE(ComputeSplits({{"e", 0}}, 100).empty());
}

TEST(InputSplitterTest, CompressedFilesAreNeverCut) {
  // z.gz fits in what the first split has left; big.lz4 does not, and
  // overfills a split of its own; the rest packs as usual.
  auto splits = ComputeSplits(
      {{"a", 30}, {"z.gz", 20}, {"big.lz4", 250}, {"b", 120}, {"y.gz", 0}},
      100);
  EXPECT_EQ(Describe(splits),
            "[a:0+30 z.gz:0+20 ][big.lz4:0+250 ][b:0+100 ][b:100+20 ]");
  // One that fits exactly.
  EXPECT_EQ(Describe(ComputeSplits({{"a", 30}, {"z.gz", 70}, {"b", 10}}, 100)),
            "[a:0+30 z.gz:0+70 ][b:0+10 ]");
}

TEST(InputSplitterTest, ChunksCarryTheirInputIndex) {
  auto splits = ComputeSplits({{"a", 60, 0}, {"b", 60, 2}}, 100);
  ASSERT_EQ(splits.size(), 2u);
  ASSERT_EQ(splits[0].chunks_size(), 2);
  EXPECT_EQ(splits[0].chunks(0).input_index(), 0u);
  EXPECT_EQ(splits[0].chunks(1).input_index(), 2u);
  EXPECT_EQ(splits[1].chunks(0).input_index(), 2u);
}

TEST(InputSplitterTest, GutenbergEightMaps) {
  // The eight books total 3,301,104 bytes: ceil(3301104 / 412638) == 8.
  std::vector<InputFile> files = {{"1", 138885}, {"2", 453168}, {"3", 441033},
                                  {"4", 540174}, {"5", 594262}, {"6", 139054},
                                  {"7", 581863}, {"8", 412665}};
  EXPECT_EQ(ComputeSplits(files, 412638).size(), 8u);
  EXPECT_EQ(ComputeSplits(files, 65536).size(), 51u);
}

}  // namespace
}  // namespace mr
