// Input and output formats on a real cluster: CSV (header, quoted newlines,
// splits that cut quoted fields), JSON Lines (with a malformed line),
// gzip and LZ4 inputs, inputs of different formats in one job, and every
// output format byte for byte. The `fields` app (apps/fields.h) shows how
// each record was parsed; expected outputs are rendered here from the
// values the test wrote.
#include <dirent.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "tests/external_mini_cluster.h"
#include "tests/reference.h"
#include "worker/internal/compress_for_test.h"

namespace mr {
namespace test {
namespace {

using testing_compress::Gzip;
using testing_compress::Lz4;

std::string Real(const std::string& path) {
  absl::StatusOr<std::string> real = ResolvePath(path);
  return real.ok() ? *real : path;
}

// The fields app's escaping.
std::string Esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

// A CSV field as a writer quotes it.
std::string Quote(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// A CSV file with a header and quoted newlines, and the fields app's output
// lines for it (unsorted), for the file at `path` of input `index`.
struct CsvCase {
  std::string contents;
  std::vector<std::string> lines;
};

CsvCase MakeCsv(const std::string& path, int index, int records) {
  CsvCase c;
  c.contents = "id,text,n\r\n";
  for (int i = 0; i < records; ++i) {
    std::string text;
    switch (i % 4) {
      case 0: text = absl::StrCat("line one ", i, "\nline two"); break;
      case 1: text = absl::StrCat("say \"hi\", ", i); break;
      case 2: text = absl::StrCat("word", i); break;
      default: text = "crlf\r\ninside, \"quoted\"\n"; break;
    }
    if (i == records / 2) c.contents += "\n";  // an empty line: no record
    const uint64_t offset = c.contents.size();
    c.contents += absl::StrCat(i, ",", Quote(text), ",", i * 7,
                               i % 2 ? "\r\n" : "\n");
    c.lines.push_back(absl::StrCat(index, ":", path, ":", offset, " id=", i,
                                   "\ttext=", Esc(text), "\tn=", i * 7));
  }
  return c;
}

// Every part file of a job output, their lines sorted.
std::string ReadPartsSorted(const std::string& dir, const std::string& prefix,
                            int* parts) {
  std::string all;
  *parts = 0;
  DIR* d = opendir(dir.c_str());
  EXPECT_NE(d, nullptr) << dir;
  if (d == nullptr) return all;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    absl::StatusOr<std::string> text = ReadFileToString(dir + "/" + name);
    EXPECT_TRUE(text.ok()) << text.status();
    if (text.ok()) all += *text;
    ++*parts;
  }
  closedir(d);
  return SortLines(all);
}

std::string Joined(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

class FormatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.Start();
    ASSERT_TRUE(s.ok()) << s;
    in_ = Real(cluster_.PathUnderRoot("in"));
    ASSERT_TRUE(MakeDirs(in_).ok());
  }

  std::string Write(const std::string& name, const std::string& data) {
    const std::string path = in_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomically(path, data).ok());
    return path;
  }

  // Runs `mrctl submit ARGS --output OUT --wait --json`; returns the final
  // status and sets *out.
  mrpb::JobStatus Submit(std::vector<std::string> args, std::string* out) {
    *out = cluster_.PathUnderRoot(absl::StrCat("out-", runs_++));
    args.push_back("--output");
    args.push_back(*out);
    absl::StatusOr<mrpb::JobStatus> status =
        cluster_.SubmitAndWait(std::move(args));
    EXPECT_TRUE(status.ok()) << status.status();
    if (!status.ok()) return {};
    EXPECT_EQ(status->state(), mrpb::JOB_SUCCEEDED) << status->DebugString();
    return *status;
  }

  ExternalMiniCluster cluster_;
  std::string in_;
  int runs_ = 0;
};

TEST_F(FormatsTest, CsvWithHeaderAndQuotedNewlinesAcrossTinySplits) {
  const std::string path = in_ + "/a.csv";
  const CsvCase c = MakeCsv(path, 0, 40);
  Write("a.csv", c.contents);
  const std::string want = Joined(c.lines);
  std::string out;
  int parts = 0;
  // 64-byte splits: many cuts fall inside quoted fields.
  mrpb::JobStatus s = Submit({"--app", "fields", "--input-format", "csv:header",
                              "--input", path, "--split-size", "64",
                              "--reduces", "0"},
                             &out);
  EXPECT_EQ(ReadPartsSorted(out, "part-m-", &parts), want);
  EXPECT_EQ(parts, static_cast<int>((c.contents.size() + 63) / 64));
  EXPECT_EQ(JobCounter(s, "map input records"), 40);
  EXPECT_EQ(JobCounter(s, "malformed records"), -1);

  s = Submit({"--app", "fields", "--input-format", "csv:header", "--input",
              path, "--split-size", "64", "--reduces", "3"},
             &out);
  EXPECT_EQ(ReadPartsSorted(out, "part-r-", &parts), want);
  EXPECT_EQ(parts, 3);
}

TEST_F(FormatsTest, JsonLinesWithAMalformedLine) {
  std::string data;
  std::vector<std::string> lines;
  const std::string path = in_ + "/b.jsonl";
  uint64_t bad_offset = 0;
  for (int i = 0; i < 20; ++i) {
    if (i == 7) {
      bad_offset = data.size();
      data += "{\"k\": \"broken\"\n";
    }
    if (i == 12) data += "\n";
    const uint64_t offset = data.size();
    if (i % 5 == 4) {
      data += absl::StrCat("\"just a string\\twith tab ", i, "\"\n");
      lines.push_back(absl::StrCat("0:", path, ":", offset,
                                   " =just a string\\twith tab ", i));
      continue;
    }
    data += absl::StrCat("{\"k\":\"v", i, "\",\"n\":", i,
                         ",\"o\":{\"x\":[", i, "]},\"z\":null}\n");
    lines.push_back(absl::StrCat("0:", path, ":", offset, " k=v", i, "\tn=", i,
                                 "\to={\"x\":[", i, "]}\tz="));
  }
  Write("b.jsonl", data);
  std::string out;
  int parts = 0;
  mrpb::JobStatus s = Submit({"--app", "fields", "--input-format", "jsonl",
                              "--input", path, "--split-size", "100",
                              "--reduces", "0"},
                             &out);
  EXPECT_EQ(ReadPartsSorted(out, "part-m-", &parts), Joined(lines));
  EXPECT_EQ(JobCounter(s, "malformed records"), 1);
  ASSERT_EQ(s.malformed_records_size(), 1);
  EXPECT_EQ(s.malformed_records(0).path(), path);
  EXPECT_EQ(s.malformed_records(0).offset(), bad_offset);
  EXPECT_EQ(s.malformed_records(0).reason().rfind("not JSON: ", 0), 0u)
      << s.malformed_records(0).reason();

  // `mrctl status --json` shows it too.
  absl::StatusOr<CommandResult> r =
      cluster_.RunMrctl({"status", s.job_id(), "--json"});
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<mrpb::JobStatus> again = ParseJobStatusJson(r->out);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->malformed_records_size(), 1);
  EXPECT_EQ(again->malformed_records(0).path(), path);
  EXPECT_EQ(again->malformed_records(0).offset(), bad_offset);
}

TEST_F(FormatsTest, CompressedInputsReadLikePlainOnes) {
  // A gzip'd CSV (two members): the same records, offsets in the
  // decompressed stream.
  const std::string gz = in_ + "/c.csv.gz";
  const CsvCase c = MakeCsv(gz, 0, 30);
  Write("c.csv.gz", Gzip(c.contents.substr(0, 100)) + Gzip(c.contents.substr(100)));
  std::string out;
  int parts = 0;
  Submit({"--app", "fields", "--input-format", "csv:header", "--input", gz,
          "--split-size", "64", "--reduces", "0"},
         &out);
  EXPECT_EQ(ReadPartsSorted(out, "part-m-", &parts), Joined(c.lines));
  EXPECT_EQ(parts, 1);  // a compressed file is one split

  // Word count over a gzip'd and an LZ4'd book equals it over the books.
  absl::StatusOr<std::vector<std::string>> books = GutenbergFiles();
  ASSERT_TRUE(books.ok()) << books.status();
  ASSERT_GE(books->size(), 2u);
  const std::vector<std::string> plain = {(*books)[0], (*books)[1]};
  absl::StatusOr<std::string> b0 = ReadFileToString(plain[0]);
  absl::StatusOr<std::string> b1 = ReadFileToString(plain[1]);
  ASSERT_TRUE(b0.ok() && b1.ok());
  const std::string gzbook = Write("book0.txt.gz", Gzip(*b0));
  const std::string lzbook = Write("book1.txt.lz4", Lz4(*b1));
  mrpb::JobStatus s = Submit({"--app", "wordcount", "--input", gzbook, lzbook,
                              "--split-size", "65536", "--reduces", "2"},
                             &out);
  absl::StatusOr<std::map<std::string, int64_t>> counts =
      WordCountReference(plain);
  ASSERT_TRUE(counts.ok()) << counts.status();
  absl::StatusOr<std::string> got = ReadJobOutput(out);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, RenderWordCount(*counts));
  auto lines = [](const std::string& t) {
    return static_cast<int64_t>(std::count(t.begin(), t.end(), '\n') +
                                (!t.empty() && t.back() != '\n'));
  };
  EXPECT_EQ(JobCounter(s, "map input records"), lines(*b0) + lines(*b1));
}

TEST_F(FormatsTest, TwoInputsInDifferentFormats) {
  const std::string a = in_ + "/a.csv";
  const CsvCase c = MakeCsv(a, 0, 10);
  Write("a.csv", c.contents);
  const std::string b = Write("b.jsonl", "{\"x\":1}\n[true]\n");
  std::vector<std::string> lines = c.lines;
  lines.push_back(absl::StrCat("1:", b, ":0 x=1"));
  lines.push_back(absl::StrCat("1:", b, ":8 =[true]"));
  std::string out;
  int parts = 0;
  Submit({"--app", "fields", "--input-format", "csv:header", "--input", a,
          "--input-format", "jsonl", "--input", b, "--reduces", "1"},
         &out);
  EXPECT_EQ(ReadPartsSorted(out, "part-r-", &parts), Joined(lines));
}

TEST_F(FormatsTest, EveryOutputFormatByteForByte) {
  const std::string path = Write("o.csv", "x,y\n\"a,b\",\"q\"\"\"\n");
  const std::string key = absl::StrCat("0:", path, ":4");
  const std::string value = "x=a,b\ty=q\"";
  const std::vector<std::pair<std::string, std::string>> want = {
      {"text", key + " " + value + "\n"},
      {"tsv", key + "\t" + value + "\n"},
      {"csv", key + ",\"x=a,b\ty=q\"\"\"\r\n"},
      {"jsonl", "{\"key\":\"" + key + "\",\"value\":\"x=a,b\\ty=q\\\"\"}\n"},
      {"binary", key + value},
  };
  for (const auto& [format, bytes] : want) {
    std::string out;
    Submit({"--app", "fields", "--input-format", "csv:header", "--input", path,
            "--reduces", "1", "--output-format", format},
           &out);
    absl::StatusOr<std::string> got = ReadFileToString(out + "/part-r-00000");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, bytes) << format;
  }
}

}  // namespace
}  // namespace test
}  // namespace mr
