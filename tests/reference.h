// Single-process reference implementations of the built-in apps, written
// from their specification (not from apps/), and readers of a job's output,
// so that multi-process tests can compare exact bytes.
//
// A word is a maximal run of ASCII letters [A-Za-z], case kept.
//
// Thread-safety: plain functions, no shared state.
#ifndef MR_TESTS_REFERENCE_H_
#define MR_TESTS_REFERENCE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mr {
namespace test {

// word -> number of occurrences over all `files`.
absl::StatusOr<std::map<std::string, int64_t>> WordCountReference(
    const std::vector<std::string>& files);

// word -> base names of the files it occurs in.
absl::StatusOr<std::map<std::string, std::set<std::string>>> IndexerReference(
    const std::vector<std::string>& files);

// "word count\n" lines, sorted as SortLines() sorts.
std::string RenderWordCount(const std::map<std::string, int64_t>& counts);

// "word N doc1,doc2,...\n" lines (docs sorted, N = number of docs), sorted as
// SortLines() sorts.
std::string RenderIndex(
    const std::map<std::string, std::set<std::string>>& index);

// The '\n'-terminated lines of `text` sorted in byte order (unsigned), each
// '\n'-terminated. A missing final newline is added.
std::string SortLines(const std::string& text);

// The number of '\n'-terminated lines in `text`.
size_t CountLines(const std::string& text);

struct JobOutputOptions {
  // Require exactly this many part files (part-r-00000 .. part-r-(n-1)).
  // Default: -1, any number, but numbered without gaps from 00000.
  int expected_parts = -1;
  // Check that within each part file the keys (text before the first space,
  // or the whole line) ascend strictly in byte order. Default: true.
  bool check_key_order = true;
};

// Reads a committed job output directory and returns the concatenation of
// its part files with all lines sorted (SortLines). FailedPrecondition when:
// a file other than part-r-NNNNN and _SUCCESS is there (a leftover
// _temporary in particular); _SUCCESS is missing; the part files are not
// numbered 00000.. without gaps or not as many as expected; a non-empty part
// file does not end with '\n'; or keys do not ascend within a part file.
// NotFound when `dir` does not exist.
// The word count of the Gutenberg books as the expected job output
// (GutenbergFiles, WordCountReference, RenderWordCount).
absl::StatusOr<std::string> ExpectedWordCountOfBooks();

// Every path under `dir` (relative; directories with a trailing '/'), one
// per line: for failure messages about what a job left behind.
std::string DescribeTree(const std::string& dir);

absl::StatusOr<std::string> ReadJobOutput(const std::string& dir,
                                          const JobOutputOptions& options = {});

// The part files `dir`/part-`kind`-00000, -00001, ... ("r" for reduces',
// "m" for a map-only job's) concatenated in order, as they are, up to the
// first number missing. NotFound when there is none.
absl::StatusOr<std::string> ConcatenateParts(const std::string& dir,
                                             const std::string& kind);

// Where the tests find their things: the environment variable MR_BIN_DIR /
// MR_LIB_DIR / MR_DATA_DIR when set, else the build's bin/ and lib/ and the
// Gutenberg corpus, as configured by CMake.
std::string BinDir();
std::string LibDir();
std::string DataDir();
// The source tree (for its scripts): $MR_SOURCE_DIR, else as configured.
std::string SourceDir();

// A port on 127.0.0.1 that nothing listens on now (bound to port 0, then
// released), for a server that cannot be given port 0.
absl::StatusOr<int> ReserveLoopbackPort();

// The pg-*.txt books in DataDir(), absolute and sorted. NotFound when it
// holds none.
absl::StatusOr<std::vector<std::string>> GutenbergFiles();

}  // namespace test
}  // namespace mr

#endif  // MR_TESTS_REFERENCE_H_
