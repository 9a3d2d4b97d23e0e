#include "common/names.h"

#include <string>

#include "gtest/gtest.h"

namespace mr {
namespace {

using namespace std::string_literals;

TEST(NamesTest, ValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain.txt"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9.txt"));          // café
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));          // U+1F600
  EXPECT_FALSE(IsValidUtf8("caf\xe9.txt"));              // Latin-1 é
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));                 // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));             // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));         // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));                 // cut short
}

TEST(NamesTest, EscapeNameKeepsUtf8AndEscapesTheRest) {
  EXPECT_EQ(EscapeName("plain.txt"), "plain.txt");
  EXPECT_EQ(EscapeName("caf\xc3\xa9.txt"), "caf\xc3\xa9.txt");
  EXPECT_EQ(EscapeName("caf\xe9.txt"), "caf\\xe9.txt");
  EXPECT_EQ(EscapeName("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(EscapeName("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(EscapeName("back\\slash"), "back\\\\slash");
  EXPECT_EQ(EscapeName("nul\0byte"s), "nul\\x00byte");
  EXPECT_EQ(EscapeName("c1\xc2\x9b"), "c1\\u009b");
  // Distinct names stay distinct: the escape of a backslash cannot be
  // confused with an escaped byte.
  EXPECT_NE(EscapeName("\\xe9"), EscapeName("\xe9"));
}

TEST(NamesTest, JsonStringEscapesAsJsonRequires) {
  EXPECT_EQ(JsonString(""), "\"\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("l1\nl2\x01"), "\"l1\\nl2\\u0001\"");
  EXPECT_EQ(JsonString("q\"b\\n\n\t\x01\xc3\xa9"),
            "\"q\\\"b\\\\n\\n\\t\\u0001\xc3\xa9\"");
  EXPECT_EQ(JsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  // Bytes that are not UTF-8: lone surrogates U+DC80..U+DCFF (PEP 383).
  EXPECT_EQ(JsonString("caf\xe9.txt"), "\"caf\\udce9.txt\"");
  EXPECT_EQ(JsonString("\xff\xfe"), "\"\\udcff\\udcfe\"");
}

}  // namespace
}  // namespace mr
