#include "worker/internal/input_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "worker/internal/compress_for_test.h"

namespace mr {
namespace {

using testing_compress::Gzip;
using testing_compress::Lz4;

absl::string_view A(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

mrpb::InputFormat Csv(bool header, char delimiter = ',') {
  mrpb::InputFormat f;
  f.set_kind(mrpb::InputFormat::CSV);
  f.set_header(header);
  if (delimiter != ',') f.set_delimiter(std::string(1, delimiter));
  return f;
}

mrpb::InputFormat Kind(mrpb::InputFormat::Kind kind, uint32_t rb = 0) {
  mrpb::InputFormat f;
  f.set_kind(kind);
  f.set_record_bytes(rb);
  return f;
}

class InputReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("input_reader_test_" + std::to_string(getpid())))
               .string();
    ASSERT_TRUE(MakeDirs(dir_).ok());
  }
  void TearDown() override { RemoveAll(dir_).IgnoreError(); }

  std::string Write(const std::string& name, const std::string& data) {
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomically(path, data).ok());
    return path;
  }

  // Reads [offset, offset + length) of `path`; appends each record as
  // "offset|line|name=value;..." (fields only for CSV and JSONL) and each
  // malformed one as "offset!reason".
  absl::Status ReadChunk(const std::string& path, uint64_t offset,
                         uint64_t length, const mrpb::InputFormat& format,
                         std::vector<std::string>* out,
                         uint64_t max_record_bytes = 1 << 20,
                         bool sample_window = false) {
    mrpb::FileChunk chunk;
    chunk.set_path(path);
    chunk.set_offset(offset);
    chunk.set_length(length);
    chunk.set_input_index(7);
    chunk.set_sample_window(sample_window);
    SplitReaderOptions options;
    options.max_record_bytes = max_record_bytes;
    return ForEachInputRecord(
        chunk, format, options,
        [&](const InputRecord& r) {
          EXPECT_EQ(r.input_index, 7u);
          EXPECT_EQ(r.file, path);
          std::string s = absl::StrCat(r.offset, "|", A(r.line), "|");
          if (r.fields != nullptr) {
            for (size_t i = 0; i < r.fields->size(); ++i) {
              absl::StrAppend(&s, A(r.fields->name(i)), "=", A(r.fields->value(i)),
                              ";");
            }
          }
          out->push_back(s);
        },
        [&](uint64_t off, const std::string& reason) {
          out->push_back(absl::StrCat(off, "!", reason));
        });
  }

  std::vector<std::string> ReadWhole(const std::string& path,
                                     const mrpb::InputFormat& format,
                                     uint64_t max_record_bytes = 1 << 20) {
    std::vector<std::string> out;
    absl::Status s = ReadChunk(path, 0, std::filesystem::file_size(path),
                               format, &out, max_record_bytes);
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  // Reads `path` cut at `cuts` (ascending, inside the file).
  std::vector<std::string> ReadCut(const std::string& path, uint64_t size,
                                   const std::vector<uint64_t>& cuts,
                                   const mrpb::InputFormat& format,
                                   uint64_t max_record_bytes = 1 << 20) {
    std::vector<std::string> out;
    uint64_t begin = 0;
    for (size_t i = 0; i <= cuts.size(); ++i) {
      const uint64_t end = i < cuts.size() ? cuts[i] : size;
      absl::Status s =
          ReadChunk(path, begin, end - begin, format, &out, max_record_bytes);
      EXPECT_TRUE(s.ok()) << s;
      begin = end;
    }
    return out;
  }

  std::string dir_;
};

// Quoted newlines, CRLF, doubled quotes, an empty line, a malformed record
// and a last record without a line end. (A malformed record with an odd
// number of quotes would swallow the lines up to the next quote: see
// CsvTest.MalformedRecordsAndRecovery.)
const char kCsv[] =
    "id,text,n\r\n"
    "1,\"two\nlines\",3\r\n"
    "2,\"a \"\"quoted\"\"\r\nword\",4\n"
    "\n"
    "3,bad\"quo\"te,5\n"
    "4,\"x,y\",\n"
    "5,\"\",\"last\nline\"";

TEST_F(InputReaderTest, CsvWithHeader) {
  const std::string path = Write("a.csv", kCsv);
  EXPECT_EQ(ReadWhole(path, Csv(true)),
            (std::vector<std::string>{
                "11|1,\"two\nlines\",3|id=1;text=two\nlines;n=3;",
                "28|2,\"a \"\"quoted\"\"\r\nword\",4|"
                "id=2;text=a \"quoted\"\r\nword;n=4;",
                "54!a quote inside an unquoted field, at byte 5",
                "69|4,\"x,y\",|id=4;text=x,y;n=;",
                "78|5,\"\",\"last\nline\"|id=5;text=;n=last\nline;",
            }));
}

TEST_F(InputReaderTest, CsvWithoutHeaderAndDelimiter) {
  const std::string path = Write("b.csv", "a;\"b;c\"\n\"d\ne\";f;g\n");
  EXPECT_EQ(ReadWhole(path, Csv(false, ';')),
            (std::vector<std::string>{"0|a;\"b;c\"|=a;=b;c;",
                                      "8|\"d\ne\";f;g|=d\ne;=f;=g;"}));
}

TEST_F(InputReaderTest, CsvFieldsFindByName) {
  const std::string path = Write("c.csv", "k,v\nx,1\n");
  mrpb::FileChunk chunk;
  chunk.set_path(path);
  chunk.set_length(8);
  int seen = 0;
  ASSERT_TRUE(ForEachInputRecord(
                  chunk, Csv(true), SplitReaderOptions(),
                  [&](const InputRecord& r) {
                    ++seen;
                    std::string_view v;
                    ASSERT_TRUE(r.fields->Find("v", &v));
                    EXPECT_EQ(v, "1");
                    EXPECT_FALSE(r.fields->Find("w", &v));
                  },
                  [](uint64_t, const std::string&) { FAIL(); })
                  .ok());
  EXPECT_EQ(seen, 1);
}

// Every record is read exactly once, in order, with its offset and the
// header's names, wherever the file is cut into 2 or 3 chunks, or into
// chunks of every equal size.
TEST_F(InputReaderTest, CsvEverySplitLayout) {
  const std::string data = kCsv;
  const std::string path = Write("split.csv", data);
  const uint64_t n = data.size();
  for (bool header : {true, false}) {
    const std::vector<std::string> want = ReadWhole(path, Csv(header));
    for (uint64_t a = 1; a < n; ++a) {
      ASSERT_EQ(ReadCut(path, n, {a}, Csv(header)), want) << a;
      for (uint64_t b = a + 1; b < n; ++b) {
        ASSERT_EQ(ReadCut(path, n, {a, b}, Csv(header)), want) << a << "," << b;
      }
    }
    for (uint64_t size = 1; size < n; ++size) {
      std::vector<uint64_t> cuts;
      for (uint64_t c = size; c < n; c += size) cuts.push_back(c);
      ASSERT_EQ(ReadCut(path, n, cuts, Csv(header)), want) << size;
    }
  }
}

// A stray quote makes its record run on to the next quote: every split
// layout still agrees on where records start.
TEST_F(InputReaderTest, CsvStrayQuoteEverySplitLayout) {
  const std::string data = "a,b\nc\"d,e\nf,g\nh,\"i\nj,k\n";
  const std::string path = Write("stray.csv", data);
  const std::vector<std::string> want = {
      "0|a,b|=a;=b;", "4!a quote inside an unquoted field, at byte 1",
      "19|j,k|=j;=k;"};
  EXPECT_EQ(ReadWhole(path, Csv(false)), want);
  for (uint64_t a = 1; a < data.size(); ++a) {
    for (uint64_t b = a + 1; b < data.size(); ++b) {
      ASSERT_EQ(ReadCut(path, data.size(), {a, b}, Csv(false)), want)
          << a << "," << b;
    }
  }
}

TEST_F(InputReaderTest, CsvTooLongRecordsAreMalformedAtEveryCut) {
  const std::string data = "a,b\n\"0123456789\n0123\",x\nc,d\n";
  const std::string path = Write("long.csv", data);
  const std::vector<std::string> want = {"0|a,b|=a;=b;", "4!longer than 10 bytes",
                                         "24|c,d|=c;=d;"};
  EXPECT_EQ(ReadWhole(path, Csv(false), 10), want);
  for (uint64_t a = 1; a < data.size(); ++a) {
    EXPECT_EQ(ReadCut(path, data.size(), {a}, Csv(false), 10), want) << a;
  }
}

TEST_F(InputReaderTest, CsvUnterminatedQuoteRunsToTheEnd) {
  const std::string data = "a\n\"b\nc\nd";
  const std::string path = Write("open.csv", data);
  const std::vector<std::string> want = {
      "0|a|=a;", "2!the quoted field that opens at byte 0 is not closed"};
  EXPECT_EQ(ReadWhole(path, Csv(false)), want);
  for (uint64_t a = 1; a < data.size(); ++a) {
    EXPECT_EQ(ReadCut(path, data.size(), {a}, Csv(false)), want) << a;
  }
}

const char kJsonl[] =
    "{\"a\":1,\"b\":\"x\\ty\",\"c\":null,\"d\":[1, 2],\"e\":{\"f\": true}}\n"
    "\n"
    "[1,2]\r\n"
    "{\"a\":\n"
    "\"str\\u00e9\"\n"
    "   \n"
    "42\n"
    "{\"k\":false} x";

TEST_F(InputReaderTest, JsonLines) {
  const std::string path = Write("a.jsonl", kJsonl);
  const std::vector<std::string> got = ReadWhole(path, Kind(mrpb::InputFormat::JSONL));
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0],
            "0|{\"a\":1,\"b\":\"x\\ty\",\"c\":null,\"d\":[1, 2],\"e\":{\"f\": "
            "true}}|a=1;b=x\ty;c=;d=[1, 2];e={\"f\": true};");
  EXPECT_EQ(got[1], "56|[1,2]|=[1,2];");
  EXPECT_EQ(got[2].substr(0, 3), "63!") << got[2];
  EXPECT_NE(got[2].find("not JSON: "), std::string::npos) << got[2];
  EXPECT_EQ(got[3], "69|\"str\\u00e9\"|=str\xc3\xa9;");
  EXPECT_EQ(got[4], "85|42|=42;");
  EXPECT_EQ(got[5].substr(0, 3), "88!") << got[5];

  const uint64_t n = sizeof(kJsonl) - 1;
  for (uint64_t a = 1; a < n; ++a) {
    ASSERT_EQ(ReadCut(path, n, {a}, Kind(mrpb::InputFormat::JSONL)), got) << a;
  }
}

// max_record_bytes does not count a line's "\r\n" (found by
// tests/fuzz/jsonl_fuzzer: the '\r' used to count).
TEST_F(InputReaderTest, JsonLinesMaxRecordBytesLeavesOutTheLineEnd) {
  const std::string data = "[1,2]\r\n[3,4]\n[1,23]\r\n\"abc\"\r";
  const std::string path = Write("max.jsonl", data);
  const std::vector<std::string> want = {
      "0|[1,2]|=[1,2];", "7|[3,4]|=[3,4];", "13!longer than 5 bytes",
      "21|\"abc\"|=abc;"};
  EXPECT_EQ(ReadWhole(path, Kind(mrpb::InputFormat::JSONL), 5), want);
  for (uint64_t a = 1; a < data.size(); ++a) {
    EXPECT_EQ(ReadCut(path, data.size(), {a}, Kind(mrpb::InputFormat::JSONL), 5),
              want)
        << a;
  }
}

// An object or array member's value is its text as written, without the
// spaces that follow it (found by tests/fuzz/jsonl_fuzzer).
TEST_F(InputReaderTest, JsonValuesWithoutTrailingSpaces) {
  const std::string path =
      Write("spaces.jsonl", "{\"x\" : [ 1 , 2 ] , \"y\" : { } , \"z\" : 3 }\n");
  EXPECT_EQ(ReadWhole(path, Kind(mrpb::InputFormat::JSONL)),
            (std::vector<std::string>{
                "0|{\"x\" : [ 1 , 2 ] , \"y\" : { } , \"z\" : 3 }|"
                "x=[ 1 , 2 ];y={ };z=3;"}));
}

TEST_F(InputReaderTest, GzipMembersReadAsOneStreamInEveryFormat) {
  const std::string csv = kCsv;
  const std::string path =
      Write("a.csv.gz", Gzip(csv.substr(0, 40)) + Gzip(csv.substr(40)));
  const std::string plain = Write("a.csv", csv);
  EXPECT_EQ(ReadWhole(path, Csv(true)), ReadWhole(plain, Csv(true)));
  // The compressed file is one chunk: one at another offset reads nothing.
  std::vector<std::string> none;
  ASSERT_TRUE(ReadChunk(path, 5, 10, Csv(true), &none).ok());
  EXPECT_TRUE(none.empty());
  // A sample window: the records that start in its first `length`
  // decompressed bytes.
  std::vector<std::string> window;
  ASSERT_TRUE(ReadChunk(path, 0, 20, Csv(true), &window, 1 << 20, true).ok());
  EXPECT_EQ(window, std::vector<std::string>(
                        {"11|1,\"two\nlines\",3|id=1;text=two\nlines;n=3;"}));
  // A chunk at 0 that is not a window reads the whole stream, whatever its
  // length (the file may have grown since the master measured it).
  std::vector<std::string> whole;
  ASSERT_TRUE(ReadChunk(path, 0, 20, Csv(true), &whole).ok());
  EXPECT_EQ(whole, ReadWhole(plain, Csv(true)));

  const std::string text = "alpha\nbeta\r\n\ngamma";
  EXPECT_EQ(ReadWhole(Write("t.gz", Gzip(text)), Kind(mrpb::InputFormat::TEXT)),
            (std::vector<std::string>{"0|alpha|", "6|beta\r|", "12||",
                                      "13|gamma|"}));
  EXPECT_EQ(ReadWhole(Write("f.gz", Gzip("abcdefg")),
                      Kind(mrpb::InputFormat::FIXED, 3)),
            (std::vector<std::string>{
                "0|abc|", "3|def|",
                "6!a truncated record (shorter than 3 bytes)"}));
  EXPECT_EQ(ReadWhole(Write("j.jsonl.gz", Gzip(kJsonl)),
                      Kind(mrpb::InputFormat::JSONL)),
            ReadWhole(Write("j.jsonl", kJsonl), Kind(mrpb::InputFormat::JSONL)));
  EXPECT_TRUE(ReadWhole(Write("empty.gz", ""), Kind(mrpb::InputFormat::TEXT))
                  .empty());
}

TEST_F(InputReaderTest, Lz4FramesReadAsOneStream) {
  std::string text;
  for (int i = 0; i < 50000; ++i) absl::StrAppend(&text, "line ", i, "\n");
  const std::string path =
      Write("t.lz4", Lz4(text.substr(0, 1000)) + Lz4(text.substr(1000)));
  const std::string plain = Write("t.txt", text);
  EXPECT_EQ(ReadWhole(path, Kind(mrpb::InputFormat::TEXT)),
            ReadWhole(plain, Kind(mrpb::InputFormat::TEXT)));

  // In blocks too (the map task's fast path), with line numbers.
  auto blocks = [&](const std::string& p) {
    mrpb::FileChunk chunk;
    chunk.set_path(p);
    chunk.set_length(std::filesystem::file_size(p));
    SplitReaderOptions options;
    options.line_numbers = true;
    std::string lines;
    EXPECT_TRUE(ReadTextBlocks(
                    chunk, options,
                    [&](const InputBlock& b) {
                      ForEachLine(b, [&](const InputRecord& r) {
                        absl::StrAppend(&lines, r.offset, ":", r.line_number,
                                        ":", A(r.line), "\n");
                      });
                    },
                    [](uint64_t) { FAIL(); })
                    .ok());
    return lines;
  };
  EXPECT_EQ(blocks(path), blocks(plain));
}

TEST_F(InputReaderTest, CompressedLongLinesAreMalformed) {
  const std::string path =
      Write("long.gz", Gzip("short\n" + std::string(30, 'x') + "\nend"));
  EXPECT_EQ(ReadWhole(path, Kind(mrpb::InputFormat::TEXT), 10),
            (std::vector<std::string>{"0|short|", "6!longer than 10 bytes",
                                      "37|end|"}));
}

TEST_F(InputReaderTest, ZeroPaddingAfterTheLastGzipMemberIsSkipped) {
  const std::string padded =
      Write("padded.gz", Gzip("one\n") + Gzip("two\n") + std::string(700, '\0'));
  EXPECT_EQ(ReadWhole(padded, Kind(mrpb::InputFormat::TEXT)),
            ReadWhole(Write("plain.txt", "one\ntwo\n"),
                      Kind(mrpb::InputFormat::TEXT)));
}

TEST_F(InputReaderTest, CorruptCompressedFilesFailNamingTheFile) {
  std::vector<std::string> out;
  const std::string notgz = Write("plain.gz", "just text\n");
  absl::Status s = ReadChunk(notgz, 0, 10, Kind(mrpb::InputFormat::TEXT), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "input " + notgz + " is not gzip data (its name says it is)");

  std::string gz = Gzip(std::string(1000, 'a') + "\n");
  const std::string truncated = Write("cut.gz", gz.substr(0, gz.size() - 5));
  s = ReadChunk(truncated, 0, 10, Kind(mrpb::InputFormat::TEXT), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "corrupt gzip input " + truncated + ": it ends mid-member");

  gz[gz.size() / 2] ^= 0x55;
  const std::string flipped = Write("flip.gz", gz + "garbage");
  s = ReadChunk(flipped, 0, 10, Kind(mrpb::InputFormat::TEXT), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("corrupt gzip input " + flipped + ": "),
            std::string::npos)
      << s;

  const std::string lz = Lz4(std::string(1000, 'b'));
  const std::string lzcut = Write("cut.lz4", lz.substr(0, lz.size() - 3));
  s = ReadChunk(lzcut, 0, 10, Kind(mrpb::InputFormat::TEXT), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "corrupt LZ4 input " + lzcut + ": it ends mid-frame");
  const std::string notlz = Write("plain.lz4", "text");
  s = ReadChunk(notlz, 0, 4, Kind(mrpb::InputFormat::TEXT), &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            "input " + notlz + " is not LZ4 frame data (its name says it is)");
}

TEST_F(InputReaderTest, InputFormatOfPicksTheChunksInput) {
  mrpb::JobSpec spec;
  mrpb::FileChunk chunk;
  chunk.set_input_index(1);
  EXPECT_EQ(InputFormatOf(spec, chunk).kind(), mrpb::InputFormat::TEXT);
  *spec.add_input_formats() = Csv(true);
  EXPECT_EQ(InputFormatOf(spec, chunk).kind(), mrpb::InputFormat::CSV);
  *spec.add_input_formats() = Kind(mrpb::InputFormat::JSONL);
  EXPECT_EQ(InputFormatOf(spec, chunk).kind(), mrpb::InputFormat::JSONL);
}

}  // namespace
}  // namespace mr
