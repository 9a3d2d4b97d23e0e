#include "common/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mr {
namespace {

using Fields = std::vector<std::string>;

// Parses every record of `data` (at EOF); malformed ones as "!reason".
std::vector<Fields> ParseAll(std::string_view data, char delimiter = ',') {
  std::vector<Fields> out;
  Fields fields;
  while (!data.empty()) {
    absl::StatusOr<size_t> n = ParseCsvRecord(data, true, delimiter, &fields);
    if (!n.ok()) {
      EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
      out.push_back({"!" + std::string(n.status().message())});
      data.remove_prefix(CsvRecordLength(data, true));
      continue;
    }
    EXPECT_GT(*n, 0u);
    data.remove_prefix(*n);
    out.push_back(fields);
  }
  return out;
}

TEST(CsvTest, PlainAndQuotedFields) {
  EXPECT_EQ(ParseAll("a,b,c\n1,,3\n"),
            (std::vector<Fields>{{"a", "b", "c"}, {"1", "", "3"}}));
  EXPECT_EQ(ParseAll("\"x,y\",\"he said \"\"hi\"\"\",\"\"\n"),
            (std::vector<Fields>{{"x,y", "he said \"hi\"", ""}}));
  EXPECT_EQ(ParseAll("a,\n,\n"),
            (std::vector<Fields>{{"a", ""}, {"", ""}}));
}

TEST(CsvTest, NewlinesInsideQuotesAndCrLf) {
  EXPECT_EQ(ParseAll("\"line1\nline2\",b\r\nc,\"x\r\ny\"\r\nlast"),
            (std::vector<Fields>{{"line1\nline2", "b"}, {"c", "x\r\ny"},
                                 {"last"}}));
  // A lone '\r' inside an unquoted field is data.
  EXPECT_EQ(ParseAll("a\rb,c\n"), (std::vector<Fields>{{"a\rb", "c"}}));
}

TEST(CsvTest, EmptyLineIsARecordWithNoFields) {
  EXPECT_EQ(ParseAll("a\n\nb\n"), (std::vector<Fields>{{"a"}, {}, {"b"}}));
}

TEST(CsvTest, Delimiter) {
  EXPECT_EQ(ParseAll("a;\"b;c\";d,e\n", ';'),
            (std::vector<Fields>{{"a", "b;c", "d,e"}}));
  EXPECT_EQ(ParseAll("a\tb\n", '\t'), (std::vector<Fields>{{"a", "b"}}));
}

TEST(CsvTest, MalformedRecordsAndRecovery) {
  EXPECT_EQ(ParseAll("ab\"c,d\nok\n"),
            (std::vector<Fields>{
                {"!a quote inside an unquoted field, at byte 2"}}));
  // The stray quote opened a quoted region that the next quote closes: the
  // record runs to the line end after it (record ends depend on quote
  // parity alone, so that every split reader agrees on them).
  EXPECT_EQ(ParseAll("ab\"c\nd\"\nok\n"),
            (std::vector<Fields>{
                {"!a quote inside an unquoted field, at byte 2"}, {"ok"}}));
  EXPECT_EQ(ParseAll("\"ab\"x,c\nok\n"),
            (std::vector<Fields>{
                {"!a byte other than the delimiter follows the closing quote, "
                 "at byte 4"},
                {"ok"}}));
  EXPECT_EQ(ParseAll("ok\na,\"open\nnever closed\n"),
            (std::vector<Fields>{
                {"ok"}, {"!the quoted field that opens at byte 2 is not closed"}}));
}

TEST(CsvTest, RecordLengthWaitsForMoreData) {
  EXPECT_EQ(CsvRecordLength("", false), 0u);
  EXPECT_EQ(CsvRecordLength("", true), 0u);
  EXPECT_EQ(CsvRecordLength("a,b", false), 0u);
  EXPECT_EQ(CsvRecordLength("a,b", true), 3u);
  EXPECT_EQ(CsvRecordLength("\"a\nb", false), 0u);
  EXPECT_EQ(CsvRecordLength("\"a\nb\"\nc", false), 6u);
  EXPECT_EQ(CsvRecordLength("a\r\nb", false), 3u);
  Fields fields;
  absl::StatusOr<size_t> n = ParseCsvRecord("x,\"y", false, ',', &fields);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST(CsvTest, FindRecordEndCarriesQuoteStateAcrossBuffers) {
  // "a,\"b\nc\"\"d\"\ne": scanned in two pieces cut at every byte.
  const std::string data = "a,\"b\nc\"\"d\"\ne";
  const size_t want = data.find("\ne");
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    bool in_quotes = false;
    size_t nl = FindCsvRecordEnd(std::string_view(data).substr(0, cut),
                                 &in_quotes);
    if (nl == std::string_view::npos) {
      nl = FindCsvRecordEnd(std::string_view(data).substr(cut), &in_quotes);
      ASSERT_NE(nl, std::string_view::npos) << cut;
      nl += cut;
    }
    EXPECT_EQ(nl, want) << cut;
  }
  EXPECT_EQ(CountCsvQuotes(data), 4u);
}

TEST(CsvTest, SplitIntoValuesAndEnds) {
  std::string values = "junk";
  std::vector<size_t> ends = {9};
  ASSERT_TRUE(SplitCsvRecord("ab,\"c\"\"d\",", ',', &values, &ends).ok());
  EXPECT_EQ(values, "abc\"d");
  EXPECT_EQ(ends, (std::vector<size_t>{2, 5, 5}));
}

TEST(CsvTest, AppendCsvFieldQuotesWhatNeedsIt) {
  std::string out;
  AppendCsvField("plain", &out);
  out += '|';
  AppendCsvField("a,b", &out);
  out += '|';
  AppendCsvField("say \"hi\"", &out);
  out += '|';
  AppendCsvField("two\nlines", &out);
  EXPECT_EQ(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"");
}

}  // namespace
}  // namespace mr
