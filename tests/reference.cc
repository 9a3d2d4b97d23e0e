#include "tests/reference.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace mr {
namespace test {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::string> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat("no file ", path));
    return absl::InternalError(absl::StrCat("cannot open ", path, ": ", strerror(err)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat("cannot read ", path));
  return ss.str();
}

bool IsLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Calls fn(word) for each maximal run of letters in `text`.
template <typename Fn>
void Words(const std::string& text, Fn fn) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    while (i < n && !IsLetter(text[i])) ++i;
    const size_t start = i;
    while (i < n && IsLetter(text[i])) ++i;
    if (i > start) fn(text.substr(start, i - start));
  }
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// Byte order: std::string compares via char_traits<char>, which compares as
// unsigned char.
bool ByteLess(const std::string& a, const std::string& b) { return a < b; }

bool IsPartFileName(const std::string& name, int* index) {
  if (name.size() != 12 || name.compare(0, 7, "part-r-") != 0) return false;
  int v = 0;
  for (size_t i = 7; i < 12; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + (name[i] - '0');
  }
  *index = v;
  return true;
}

}  // namespace

absl::StatusOr<std::map<std::string, int64_t>> WordCountReference(
    const std::vector<std::string>& files) {
  std::map<std::string, int64_t> counts;
  for (const std::string& f : files) {
    absl::StatusOr<std::string> text = Slurp(f);
    if (!text.ok()) return text.status();
    Words(*text, [&](std::string w) { ++counts[std::move(w)]; });
  }
  return counts;
}

absl::StatusOr<std::map<std::string, std::set<std::string>>> IndexerReference(
    const std::vector<std::string>& files) {
  std::map<std::string, std::set<std::string>> index;
  for (const std::string& f : files) {
    absl::StatusOr<std::string> text = Slurp(f);
    if (!text.ok()) return text.status();
    const std::string base = fs::path(f).filename().string();
    Words(*text, [&](std::string w) { index[std::move(w)].insert(base); });
  }
  return index;
}

std::string RenderWordCount(const std::map<std::string, int64_t>& counts) {
  std::string out;
  for (const auto& [word, n] : counts) absl::StrAppend(&out, word, " ", n, "\n");
  return SortLines(out);
}

std::string RenderIndex(
    const std::map<std::string, std::set<std::string>>& index) {
  std::string out;
  for (const auto& [word, docs] : index) {
    absl::StrAppend(&out, word, " ", docs.size(), " ", absl::StrJoin(docs, ","),
                    "\n");
  }
  return SortLines(out);
}

std::string SortLines(const std::string& text) {
  std::vector<std::string> lines = SplitLines(text);
  std::sort(lines.begin(), lines.end(), ByteLess);
  std::string out;
  out.reserve(text.size() + 1);
  for (const std::string& l : lines) absl::StrAppend(&out, l, "\n");
  return out;
}

size_t CountLines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

absl::StatusOr<std::string> ConcatenateParts(const std::string& dir,
                                             const std::string& kind) {
  std::string all;
  int p = 0;
  for (;; ++p) {
    const std::string path = absl::StrFormat("%s/part-%s-%05d", dir, kind, p);
    std::error_code ec;
    if (!fs::exists(path, ec)) break;
    absl::StatusOr<std::string> text = Slurp(path);
    if (!text.ok()) return text.status();
    all += *text;
  }
  if (p == 0) {
    return absl::NotFoundError(
        absl::StrCat(dir, " holds no part-", kind, "-00000"));
  }
  return all;
}

absl::StatusOr<std::string> ReadJobOutput(const std::string& dir,
                                          const JobOutputOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("no output directory ", dir));
  }
  std::map<int, std::string> parts;  // index -> path
  bool success = false;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    int index = -1;
    if (name == "_SUCCESS" && entry.is_regular_file()) {
      success = true;
    } else if (IsPartFileName(name, &index) && entry.is_regular_file()) {
      parts[index] = entry.path().string();
    } else {
      return absl::FailedPreconditionError(
          absl::StrCat("unexpected entry '", name, "' in job output ", dir));
    }
  }
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  }
  if (!success) {
    return absl::FailedPreconditionError(absl::StrCat("no _SUCCESS in ", dir));
  }
  if (options.expected_parts >= 0 &&
      parts.size() != static_cast<size_t>(options.expected_parts)) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir, " holds ", parts.size(), " part files, expected ",
        options.expected_parts));
  }
  int expect = 0;
  for (const auto& [index, path] : parts) {
    if (index != expect) {
      return absl::FailedPreconditionError(
          absl::StrCat(dir, ": part files not numbered without gaps: missing ",
                       expect, " (found ", index, ")"));
    }
    ++expect;
  }

  std::string all;
  for (const auto& [index, path] : parts) {
    absl::StatusOr<std::string> text = Slurp(path);
    if (!text.ok()) return text.status();
    if (!text->empty() && text->back() != '\n') {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " does not end with a newline"));
    }
    if (options.check_key_order) {
      std::string prev;
      bool first = true;
      size_t lineno = 0;
      for (const std::string& line : SplitLines(*text)) {
        ++lineno;
        std::string key = line.substr(0, line.find(' '));
        if (!first && !ByteLess(prev, key)) {
          return absl::FailedPreconditionError(absl::StrCat(
              path, " line ", lineno, ": key '", key,
              "' does not sort after the previous key '", prev, "'"));
        }
        prev = std::move(key);
        first = false;
      }
    }
    all += *text;
  }
  return SortLines(all);
}

namespace {
std::string EnvOr(const char* name, const char* fallback) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}
}  // namespace

std::string BinDir() { return EnvOr("MR_BIN_DIR", MR_TEST_DEFAULT_BIN_DIR); }
std::string LibDir() { return EnvOr("MR_LIB_DIR", MR_TEST_DEFAULT_LIB_DIR); }
std::string DataDir() { return EnvOr("MR_DATA_DIR", MR_TEST_DEFAULT_DATA_DIR); }
std::string SourceDir() {
  return EnvOr("MR_SOURCE_DIR", MR_TEST_DEFAULT_SOURCE_DIR);
}

absl::StatusOr<int> ReserveLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    return absl::InternalError(absl::StrCat("reserving a port: ", error));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

absl::StatusOr<std::vector<std::string>> GutenbergFiles() {
  std::error_code ec;
  const fs::path dir = fs::absolute(DataDir(), ec).lexically_normal();
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 7 && name.compare(0, 3, "pg-") == 0 &&
        name.compare(name.size() - 4, 4, ".txt") == 0 && entry.is_regular_file()) {
      files.push_back((dir / name).string());
    }
  }
  if (ec) {
    return absl::NotFoundError(absl::StrCat("cannot list ", dir.string(), ": ", ec.message()));
  }
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat("no pg-*.txt in ", dir.string()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

absl::StatusOr<std::string> ExpectedWordCountOfBooks() {
  absl::StatusOr<std::vector<std::string>> files = GutenbergFiles();
  if (!files.ok()) return files.status();
  absl::StatusOr<std::map<std::string, int64_t>> counts =
      WordCountReference(*files);
  if (!counts.ok()) return counts.status();
  return RenderWordCount(*counts);
}

std::string DescribeTree(const std::string& dir) {
  std::string out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    out += "  " + std::filesystem::relative(it->path(), dir).string() +
           (it->is_directory() ? "/" : "") + "\n";
  }
  return out;
}

}  // namespace test
}  // namespace mr
