#include "tests/fuzz/fuzz_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace mr {
namespace fuzz {

CheckFailure::CheckFailure(const char* file, int line, const char* condition) {
  stream_ << file << ":" << line << ": property violated: " << condition << ": ";
}

CheckFailure::~CheckFailure() {
  std::string text = stream_.str();
  fprintf(stderr, "%s\n", text.c_str());
  fflush(stderr);
  abort();
}

namespace {

// The scratch directory, made on first use and removed at exit.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = getenv("TMPDIR");
    std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
    path_ = absl::StrCat(base, "/mr-fuzz.", getpid());
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

std::string WriteScratchFile(const std::string& name, std::string_view bytes) {
  static ScratchDir* dir = new ScratchDir();
  static bool registered = [] {
    atexit([] { delete dir; });
    return true;
  }();
  (void)registered;
  std::string path = absl::StrCat(dir->path(), "/", name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    abort();
  }
  return path;
}

uint8_t FuzzInput::Byte() {
  if (rest_.empty()) return 0;
  uint8_t b = static_cast<uint8_t>(rest_[0]);
  rest_.remove_prefix(1);
  return b;
}

uint32_t FuzzInput::Uint32() {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(Byte()) << (8 * i);
  return v;
}

uint64_t FuzzInput::Below(uint64_t bound) {
  if (bound <= 1) return 0;
  return Uint32() % bound;
}

std::string FuzzInput::String(size_t max_len) {
  size_t len = static_cast<size_t>(Below(max_len + 1));
  len = std::min(len, rest_.size());
  std::string s(rest_.substr(0, len));
  rest_.remove_prefix(len);
  return s;
}

std::string_view FuzzInput::Rest() {
  std::string_view r = rest_;
  rest_ = {};
  return r;
}

}  // namespace fuzz
}  // namespace mr
