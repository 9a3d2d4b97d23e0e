// The sort benchmark's record generator: a port of Chris Nyberg's gensort
// 1.5 (sortbenchmark.org / ordinal.com, gensort-1.5.tar.gz): rand16.c's
// 128-bit linear congruential generator with skip-ahead, gensort.c's
// init_rand_queue()/bump_queue(), gen_rec() (binary records) and
// gen_ascii_rec() (ASCII records). Skewed records (gensort -s) are not
// ported. With seed 0, GensortGenerator(b, ascii).Next() called n times
// writes byte for byte what `gensort [-a] -bB N FILE` writes, and the sum of
// RecordCrc() over those records is what `gensort -c` prints (as long as the
// sum fits in 64 bits, which it does below 2^32 records).
//
// The generator: X(k+1) = (a * X(k) + c) mod 2^128 from X(0) = 0, with
//   a = 0x2360ed051fc65da44385df649fccf645,
//   c = 0x4a696d47726179524950202020202001.
// Record r uses X(r+1) .. X(r+10) (a 10-deep queue):
//   binary (gen_rec): bytes 0..9 (the key) are the top 10 bytes of X(r+1);
//     bytes 10i..10i+9 for i = 1..9 are the top 10 bytes of X(r+1+i) xor'ed
//     with a constant for part i. Every byte is pseudo-random.
//   ASCII (gen_ascii_rec), from X(r+1) alone: bytes 0..9 the key, printable
//     ' '..'~' (base-95 digits of the high 64 bits, then of the low 64
//     bits); 10..11 "  "; 12..43 the record number as 32 upper-case hex
//     digits; 44..45 "  "; 46..97 the 13 hex digits of X(r+1)'s low 52
//     bits, high digit first, each written 4 times; 98..99 "\r\n".
//
// Versions: gensort 1.1/1.2 built record r from X(r+1) alone; ASCII records
// are unchanged since then, but 1.2's binary body was break bytes 00 11,
// the record number in hex, 88 99 AA BB, hex filler, CC DD EE FF. Hadoop's
// TeraGen (hadoop-mapreduce-examples .../terasort/Random16.java and
// GenSort.java, "based on gensort.c version 1.1") keeps that layout: its
// binary records equal ours in the 10-byte key only (same generator, same
// X(r+1)). `gensort -c` prints the checksum as lower-case hex.
//
// Seed s != 0 (our extension): the random stream of record r starts at
// position r + s * 2^64 instead of r (X(r + s*2^64 + 1) ...); the ASCII
// record-number field stays r. Deterministic for a given seed and record
// range, and disjoint from seed 0's stream for any range below 2^64 records.
//
// Thread-safety: the free functions are thread-safe; a GensortGenerator is
// used from one thread.
#ifndef MR_APPS_INTERNAL_GENSORT_H_
#define MR_APPS_INTERNAL_GENSORT_H_

#include <cstddef>
#include <cstdint>

namespace mr {
namespace apps {
namespace internal {

inline constexpr size_t kGensortRecordBytes = 100;
inline constexpr size_t kGensortKeyBytes = 10;

using Uint128 = unsigned __int128;

// X(n): the generator advanced n steps from X(0) = 0 (rand16.c's
// skip_ahead_rand()), in at most 128 multiply-adds.
Uint128 GensortSkipAhead(Uint128 n);

// X(k+1) from X(k) (rand16.c's next_rand()).
Uint128 GensortNextRand(Uint128 x);

// Generates consecutive records first_record, first_record + 1, ...: skips
// ahead once, then steps the generator once per record.
class GensortGenerator {
 public:
  GensortGenerator(uint64_t first_record, bool ascii, uint64_t seed = 0);

  // Writes record next_record() to out[0..99] and advances.
  void Next(char* out);

  // The record number the next Next() writes.
  uint64_t next_record() const { return record_; }

 private:
  static constexpr int kQueueSize = 10;

  void GenerateBinary(unsigned char* out) const;
  void GenerateAscii(unsigned char* out) const;
  // X of queue slot i (0 = the head, this record's X(r+1)).
  Uint128 Queue(int i) const {
    const int j = head_ + i;
    return queue_[j >= kQueueSize ? j - kQueueSize : j];
  }

  const bool ascii_;
  uint64_t record_;
  int head_ = 0;
  Uint128 queue_[kQueueSize];
};

// Record `record_number` alone (skips ahead from scratch: for a range, use
// a GensortGenerator).
void GenerateRecord(uint64_t record_number, bool ascii, char* out,
                    uint64_t seed = 0);

// zlib's crc32 of the record's 100 bytes, as gensort -c and valsort sum.
uint32_t RecordCrc(const char* record);

}  // namespace internal
}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_INTERNAL_GENSORT_H_
