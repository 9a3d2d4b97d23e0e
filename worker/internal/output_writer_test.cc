#include "worker/internal/output_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/file_util.h"

namespace mr {
namespace {

// The bytes `format` writes for the records (key, value).
std::string Written(mrpb::OutputFormat format,
                    const std::vector<std::pair<std::string, std::string>>& kv) {
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("output_writer_test_" + std::to_string(getpid())))
          .string();
  OutputWriter w(format);
  EXPECT_TRUE(w.Open(path).ok());
  for (const auto& [k, v] : kv) EXPECT_TRUE(w.Write(k, v).ok());
  EXPECT_TRUE(w.Close().ok());
  absl::StatusOr<std::string> got = ReadFileToString(path);
  unlink(path.c_str());
  return got.ok() ? *got : "<unreadable>";
}

TEST(OutputWriterTest, EveryFormat) {
  const std::vector<std::pair<std::string, std::string>> kv = {
      {"a", "1"}, {"b c", ""}, {"q\"x", "l1\nl2,"}};
  EXPECT_EQ(Written(mrpb::OUTPUT_TEXT, kv), "a 1\nb c\nq\"x l1\nl2,\n");
  EXPECT_EQ(Written(mrpb::OUTPUT_TSV, kv), "a\t1\nb c\t\nq\"x\tl1\nl2,\n");
  EXPECT_EQ(Written(mrpb::OUTPUT_CSV, kv),
            "a,1\r\nb c,\r\n\"q\"\"x\",\"l1\nl2,\"\r\n");
  EXPECT_EQ(Written(mrpb::OUTPUT_BINARY, kv), "a1b cq\"xl1\nl2,");
  EXPECT_EQ(Written(mrpb::OUTPUT_JSONL, kv),
            "{\"key\":\"a\",\"value\":\"1\"}\n"
            "{\"key\":\"b c\",\"value\":\"\"}\n"
            "{\"key\":\"q\\\"x\",\"value\":\"l1\\nl2,\"}\n");
}

TEST(OutputWriterTest, JsonLinesEscapeEveryByte) {
  // UTF-8 stays; a byte that is not UTF-8 becomes \udcNN; controls and
  // backslashes are escaped.
  EXPECT_EQ(Written(mrpb::OUTPUT_JSONL,
                    {{"caf\xc3\xa9", std::string("\xe9\\\t\x01\0z", 6)}}),
            "{\"key\":\"caf\xc3\xa9\",\"value\":\"\\udce9\\\\\\t\\u0001\\u0000z\"}\n");
}

}  // namespace
}  // namespace mr
