// wc_baseline: the honest single-threaded word count the cluster is measured
// against. It counts with the same kernel as the wordcount app
// (apps/internal/word_counter.h: SSE2 word scanning, 16-byte inline keys),
// in one thread over large read() buffers, so the benchmark's ratio measures
// what the engine adds (parallelism, minus its overhead), not two different
// tokenizers.
//
//   wc_baseline [--output FILE] FILE...
//
// Prints "total words: N" and "distinct words: M" on stdout; with --output,
// writes "word count" lines sorted by byte order of the word (the same bytes
// as the cluster's part files concatenated and sorted). Exit 1 on I/O error.
#include <emmintrin.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "apps/internal/word_counter.h"

namespace {

using mr::apps::CountWords;
using mr::apps::IsLetter;
using mr::apps::kPad;
using mr::apps::WordCounter;

constexpr size_t kBufferSize = 1 << 20;

// Counts the words of `path`. Returns false (after printing why) on an I/O
// error.
bool CountFile(const char* path, WordCounter* counter) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "wc_baseline: %s: %s\n", path, strerror(errno));
    return false;
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  size_t capacity = kBufferSize;
  std::unique_ptr<unsigned char[]> buf(new unsigned char[capacity + kPad]());
  size_t carry = 0;  // bytes of an unfinished word at the start of buf
  for (;;) {
    if (carry == capacity) {  // a giant word: grow
      std::unique_ptr<unsigned char[]> bigger(
          new unsigned char[2 * capacity + kPad]());
      memcpy(bigger.get(), buf.get(), carry);
      buf = std::move(bigger);
      capacity *= 2;
    }
    ssize_t n = read(fd, buf.get() + carry, capacity - carry);
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "wc_baseline: %s: %s\n", path, strerror(errno));
      close(fd);
      return false;
    }
    const bool eof = n == 0;
    const unsigned char* const end = buf.get() + carry + n;
    // Words before `limit` are complete; a word touching the end of the
    // buffer may go on in the next read, so it waits (as the carry).
    const unsigned char* limit = end;
    if (!eof) {
      while (limit > buf.get() && IsLetter(limit[-1])) --limit;
    }
    CountWords(buf.get(), limit, counter);
    if (eof) break;
    carry = static_cast<size_t>(end - limit);
    memmove(buf.get(), limit, carry);
  }
  close(fd);
  return true;
}

bool WriteSorted(const char* path, const WordCounter& counter) {
  const auto rows = counter.Sorted();
  FILE* f = fopen(path, "w");
  if (f == nullptr) {
    fprintf(stderr, "wc_baseline: %s: %s\n", path, strerror(errno));
    return false;
  }
  std::string out;
  char num[24];
  for (const auto& [word, count] : rows) {
    out.append(word.data(), word.size());
    out.push_back(' ');
    out.append(num, std::to_chars(num, num + sizeof(num), count).ptr);
    out.push_back('\n');
  }
  bool ok = fwrite(out.data(), 1, out.size(), f) == out.size();
  ok = (fclose(f) == 0) && ok;
  if (!ok) fprintf(stderr, "wc_baseline: writing %s failed\n", path);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  const char* output = nullptr;
  std::vector<const char*> files;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--output") == 0 && i + 1 < argc) {
      output = argv[++i];
    } else if (strncmp(argv[i], "--output=", 9) == 0) {
      output = argv[i] + 9;
    } else {
      files.push_back(argv[i]);
    }
  }
  if (files.empty()) {
    fprintf(stderr, "usage: wc_baseline [--output FILE] FILE...\n");
    return 2;
  }
  WordCounter counter;
  for (const char* f : files) {
    if (!CountFile(f, &counter)) return 1;
  }
  printf("total words: %llu\ndistinct words: %zu\n",
         static_cast<unsigned long long>(counter.total()),
         counter.distinct());
  if (output != nullptr && !WriteSorted(output, counter)) return 1;
  return 0;
}
