// The word-count kernel shared by the wordcount app and bench/wc_baseline:
// a word is a maximal run of ASCII letters [A-Za-z]+, case kept. Words are
// found 64 bytes at a time with SSE2 bit masks; words of up to 15 bytes are
// counted under 16-byte inline keys (no allocation, no pointer chase),
// longer ones under string keys.
//
// Thread-safety: a WordCounter is used from one thread.
#ifndef MR_APPS_INTERNAL_WORD_COUNTER_H_
#define MR_APPS_INTERNAL_WORD_COUNTER_H_

#include <emmintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace mr {
namespace apps {

constexpr size_t kPad = 64;  // readable bytes CountWords needs past its text

// Reads 8 bytes at p; callers guarantee they are readable (buffers keep
// kPad spare bytes past their data).
inline uint64_t Load8(const char* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
inline uint64_t LowBytes(size_t n) {  // mask of the first n bytes, n in 1..8
  return n >= 8 ? ~0ull : (1ull << (8 * n)) - 1;
}
inline uint64_t Mix(uint64_t x) {  // 64x64->128 multiply, folded
  __uint128_t m = static_cast<__uint128_t>(x) * 0x9E3779B97F4A7C15ull;
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}

// A word of at most kMaxShortWord bytes, held inline in 16 bytes: bytes
// 0-7 in lo, bytes 8-14 in hi (zero padded), the length in hi's top byte.
// Hashing and comparing it touches no other memory, which matters: the
// table of ~22k distinct words does not fit in L1/L2.
constexpr size_t kMaxShortWord = 15;
struct ShortWord {
  uint64_t lo, hi;
  bool operator==(const ShortWord& o) const { return lo == o.lo && hi == o.hi; }
  std::string ToString() const {
    char b[16];
    memcpy(b, &lo, 8);
    memcpy(b + 8, &hi, 8);
    return std::string(b, hi >> 56);
  }
};
struct ShortWordHash {
  size_t operator()(const ShortWord& w) const { return Mix(w.lo ^ Mix(w.hi)); }
};

class WordCounter;
inline void CountWords(const unsigned char* p, const unsigned char* limit,
                WordCounter* counter);

class WordCounter {
 public:
  // Counts the word [p, p + n). REQUIRES: 16 readable bytes at p.
  void Add(const char* p, size_t n) {
    ++total_;
    if (n > kMaxShortWord) {  // rare in text: a plain string map
      ++long_.try_emplace(absl::string_view(p, n), 0).first->second;
      return;
    }
    ShortWord w;
    if (n <= 8) {
      w.lo = Load8(p) & LowBytes(n);
      w.hi = static_cast<uint64_t>(n) << 56;
    } else {
      w.lo = Load8(p);
      w.hi = (Load8(p + 8) & LowBytes(n - 8)) | static_cast<uint64_t>(n) << 56;
    }
    ++short_[w];
  }
  uint64_t total() const { return total_; }
  size_t distinct() const { return short_.size() + long_.size(); }

  // Counts the words of `text`, which needs no padding (it is copied into
  // a padded buffer in pieces that end at word boundaries).
  void AddText(std::string_view text);

  // Calls fn(std::string_view word, int64_t count) for every word, in no
  // particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    char b[16];
    for (const auto& [w, c] : short_) {
      memcpy(b, &w.lo, 8);
      memcpy(b + 8, &w.hi, 8);
      fn(std::string_view(b, w.hi >> 56), c);
    }
    for (const auto& [w, c] : long_) fn(std::string_view(w), c);
  }

  void Clear() {
    short_.clear();
    long_.clear();
  }

  // All (word, count) pairs, sorted by word.
  std::vector<std::pair<std::string, int64_t>> Sorted() const {
    std::vector<std::pair<std::string, int64_t>> rows;
    rows.reserve(distinct());
    for (const auto& [w, c] : short_) rows.emplace_back(w.ToString(), c);
    for (const auto& [w, c] : long_) rows.emplace_back(w, c);
    std::sort(rows.begin(), rows.end());
    return rows;
  }

 private:
  absl::flat_hash_map<ShortWord, int64_t, ShortWordHash> short_;
  absl::flat_hash_map<std::string, int64_t> long_;
  uint64_t total_ = 0;
};

// Bit i set <=> p[i] is an ASCII letter, for the 64 bytes at p (SSE2).
// (c | 0x20) maps exactly A-Z onto a-z; a letter is then (c|0x20) - 'a' < 26,
// done as a signed compare after shifting 'a' to -128.
inline uint64_t LetterMask64(const unsigned char* p) {
  const __m128i lower = _mm_set1_epi8(0x20);
  const __m128i shift = _mm_set1_epi8(static_cast<char>(128 - 'a'));
  const __m128i bound = _mm_set1_epi8(static_cast<char>(-128 + 26));
  uint64_t mask = 0;
  for (int i = 0; i < 4; ++i) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    v = _mm_add_epi8(_mm_or_si128(v, lower), shift);
    uint32_t m = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmplt_epi8(v, bound)));
    mask |= static_cast<uint64_t>(m) << (16 * i);
  }
  return mask;
}

// Counts every word of [p, limit). REQUIRES: kPad readable bytes past
// limit; limit is at a word boundary (limit[-1] is no letter, or the file
// ends there).
inline void CountWords(const unsigned char* p, const unsigned char* limit,
                WordCounter* counter) {
  uint64_t prev = 0;  // 1 when the byte before the block is a letter
  const unsigned char* word = nullptr;  // start of the word we are in
  for (const unsigned char* block = p; block < limit; block += 64) {
    uint64_t letters = LetterMask64(block);
    if (limit - block < 64) letters &= (1ull << (limit - block)) - 1;
    const uint64_t shifted = (letters << 1) | prev;
    uint64_t starts = letters & ~shifted;
    uint64_t ends = ~letters & shifted;  // first byte after a word
    prev = letters >> 63;
    // Starts and ends alternate; inside a word the next event is its end.
    for (;;) {
      if (word == nullptr) {
        if (starts == 0) break;
        word = block + __builtin_ctzll(starts);
        starts &= starts - 1;
      }
      if (ends == 0) break;
      const unsigned char* end = block + __builtin_ctzll(ends);
      ends &= ends - 1;
      counter->Add(reinterpret_cast<const char*>(word),
                   static_cast<size_t>(end - word));
      word = nullptr;
    }
  }
  if (word != nullptr) {  // ends exactly at limit, on a block boundary
    counter->Add(reinterpret_cast<const char*>(word),
                 static_cast<size_t>(limit - word));
  }
}

// The one definition of a word's bytes: [A-Za-z].
inline bool IsLetter(unsigned char c) {
  return static_cast<unsigned char>((c | 0x20) - 'a') < 26;
}

// Calls fn(std::string_view word) for each word of `text`, in order, one
// byte at a time (for callers that need each word, not counts). The views
// point into `text`; nothing is allocated.
template <typename Fn>
inline void ForEachWord(std::string_view text, Fn&& fn) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* const end = p + text.size();
  while (p < end) {
    while (p < end && !IsLetter(*p)) ++p;
    const unsigned char* start = p;
    while (p < end && IsLetter(*p)) ++p;
    if (p != start) {
      fn(std::string_view(reinterpret_cast<const char*>(start),
                          static_cast<size_t>(p - start)));
    }
  }
}


inline void WordCounter::AddText(std::string_view text) {
  // Whole text in one padded copy when it is short (a line, typically);
  // otherwise in pieces cut where no word is cut.
  constexpr size_t kPiece = 4096;
  alignas(64) unsigned char buf[kPiece + kPad];
  while (!text.empty()) {
    size_t n = std::min(text.size(), kPiece);
    if (n < text.size()) {
      while (n > 0 && IsLetter(static_cast<unsigned char>(text[n - 1]))) --n;
      if (n == 0) {  // a word longer than a piece: count it alone
        size_t w = 0;
        while (w < text.size() && IsLetter(static_cast<unsigned char>(text[w]))) ++w;
        std::string word(text.substr(0, w));
        word.resize(w + kPad);
        CountWords(reinterpret_cast<const unsigned char*>(word.data()),
                   reinterpret_cast<const unsigned char*>(word.data()) + w,
                   this);
        text.remove_prefix(w);
        continue;
      }
    }
    memcpy(buf, text.data(), n);
    memset(buf + n, 0, kPad);
    CountWords(buf, buf + n, this);
    text.remove_prefix(n);
  }
}

}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_INTERNAL_WORD_COUNTER_H_
