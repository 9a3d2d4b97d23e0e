#include "apps/internal/gensort.h"

#include <zlib.h>

#include <array>

namespace mr {
namespace apps {
namespace internal {
namespace {

constexpr Uint128 Make128(uint64_t hi, uint64_t lo) {
  return (static_cast<Uint128>(hi) << 64) | lo;
}

// rand16.c's Gen[0]: f(x) = (a * x + c) mod 2^128.
constexpr Uint128 kA = Make128(0x2360ed051fc65da4ull, 0x4385df649fccf645ull);
constexpr Uint128 kC = Make128(0x4a696d4772617952ull, 0x4950202020202001ull);

struct Step {
  Uint128 a;
  Uint128 c;
};

// kPowers[i] is f applied 2^i times: rand16.c's Gen[] table, which it
// lists as literals; squaring gives the same numbers (terasort_test checks
// some of them against the published table).
constexpr std::array<Step, 128> MakePowers() {
  std::array<Step, 128> p{};
  p[0] = {kA, kC};
  for (int i = 1; i < 128; ++i) {
    // f(f(x)) = a*(a*x + c) + c = a^2 x + (a*c + c).
    p[i] = {p[i - 1].a * p[i - 1].a, p[i - 1].a * p[i - 1].c + p[i - 1].c};
  }
  return p;
}

constexpr std::array<Step, 128> kPowers = MakePowers();

// gen_rec()'s xor constants for the 10-byte parts 1..9 (as hi8, the top
// 16 bits of lo8; the rest of lo8 never reaches the record).
struct XorConstant {
  uint64_t hi;
  uint64_t lo;
};
constexpr XorConstant kPartXor[10] = {
    {0, 0},
    {0xF0E8E4E2E1D8D4D2ull, 0xD1CC000000000000ull},
    {0xCAC9C6C5C3B8B4B2ull, 0xB1AC000000000000ull},
    {0xAAA9A6A5A39C9A99ull, 0x9695000000000000ull},
    {0x938E8D8B87787472ull, 0x716C000000000000ull},
    {0x6A696665635C5A59ull, 0x5655000000000000ull},
    {0x534E4D4B473C3A39ull, 0x3635000000000000ull},
    {0x332E2D2B271E1D1Bull, 0x170F000000000000ull},
    {0xC8C4C2C198949291ull, 0x8CE0000000000000ull},
    {0x170F332E2D2B271Eull, 0x1D1B000000000000ull},
};

// gensort.c's ASSIGN_10_BYTES: the top 10 bytes of x, big-endian.
inline void Assign10Bytes(unsigned char* out, uint64_t hi, uint64_t lo) {
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
  out[8] = static_cast<unsigned char>(lo >> 56);
  out[9] = static_cast<unsigned char>(lo >> 48);
}

inline unsigned char HexDigit(uint64_t nibble) {
  return static_cast<unsigned char>(nibble >= 10 ? 'A' + nibble - 10
                                                 : '0' + nibble);
}

}  // namespace

Uint128 GensortSkipAhead(Uint128 n) {
  Uint128 x = 0;
  for (int i = 0; n != 0 && i < 128; ++i, n >>= 1) {
    if (n & 1) x = x * kPowers[i].a + kPowers[i].c;
  }
  return x;
}

Uint128 GensortNextRand(Uint128 x) { return x * kA + kC; }

GensortGenerator::GensortGenerator(uint64_t first_record, bool ascii,
                                   uint64_t seed)
    : ascii_(ascii), record_(first_record) {
  // init_rand_queue(): the queue holds X(r+1) .. X(r+10).
  queue_[0] = GensortNextRand(GensortSkipAhead(Make128(seed, first_record)));
  for (int i = 1; i < kQueueSize; ++i) {
    queue_[i] = GensortNextRand(queue_[i - 1]);
  }
}

void GensortGenerator::Next(char* out) {
  unsigned char* const rec = reinterpret_cast<unsigned char*>(out);
  if (ascii_) {
    GenerateAscii(rec);
  } else {
    GenerateBinary(rec);
  }
  // bump_queue(): the head's slot becomes the new tail, X(r+11).
  const int tail = head_ == 0 ? kQueueSize - 1 : head_ - 1;
  queue_[head_] = GensortNextRand(queue_[tail]);
  if (++head_ == kQueueSize) head_ = 0;
  ++record_;
}

void GensortGenerator::GenerateBinary(unsigned char* out) const {
  for (int part = 0; part < kQueueSize; ++part) {
    const Uint128 x = Queue(part);
    Assign10Bytes(out + 10 * part,
                  static_cast<uint64_t>(x >> 64) ^ kPartXor[part].hi,
                  static_cast<uint64_t>(x) ^ kPartXor[part].lo);
  }
}

void GensortGenerator::GenerateAscii(unsigned char* out) const {
  const Uint128 x = Queue(0);
  const uint64_t hi = static_cast<uint64_t>(x >> 64);
  const uint64_t lo = static_cast<uint64_t>(x);
  uint64_t t = hi;
  for (int i = 0; i < 8; ++i, t /= 95) {
    out[i] = static_cast<unsigned char>(' ' + t % 95);
  }
  t = lo;
  for (int i = 8; i < 10; ++i, t /= 95) {
    out[i] = static_cast<unsigned char>(' ' + t % 95);
  }
  out[10] = out[11] = ' ';
  // The 128-bit record number in hex: our record numbers fit in 64 bits.
  for (int i = 0; i < 16; ++i) out[12 + i] = '0';
  for (int i = 0; i < 16; ++i)
    out[28 + i] = HexDigit((record_ >> (60 - 4 * i)) & 0xF);
  out[44] = out[45] = ' ';
  for (int i = 0; i < 13; ++i) {
    const unsigned char d = HexDigit((lo >> (48 - 4 * i)) & 0xF);
    out[46 + 4 * i] = out[47 + 4 * i] = out[48 + 4 * i] = out[49 + 4 * i] = d;
  }
  out[98] = '\r';
  out[99] = '\n';
}

void GenerateRecord(uint64_t record_number, bool ascii, char* out,
                    uint64_t seed) {
  GensortGenerator(record_number, ascii, seed).Next(out);
}

uint32_t RecordCrc(const char* record) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(record), kGensortRecordBytes));
}

}  // namespace internal
}  // namespace apps
}  // namespace mr
