// The TeraSort trio, on the sort benchmark's record format (100-byte
// records, 10-byte keys; see apps/internal/gensort.h):
//
//   mrctl submit --app teragen --maps M --param records=N
//   mrctl submit --app terasort --input GEN_OUTPUT --reduces R
//   mrctl submit --app teravalidate --input SORT_OUTPUT
//
// teragen writes records 0..N-1 exactly as gensort does (seed 0), split
// evenly over the maps; terasort sorts them by key (total order: the part
// files concatenated are sorted); teravalidate checks that its input, read
// in part-file order, is sorted and reports its record count and checksum,
// which must equal teragen's counters.
//
// Checksums: the sum over records of RecordCrc() (zlib crc32 of the 100
// bytes, as gensort -c and valsort compute it), taken modulo 2^64. Both
// teragen and teravalidate add it to the job counter "record checksum",
// whose int64 value is that sum's bit pattern (compare it as uint64).
//
// Thread-safety: like every Job, each instance is used from one thread.
#ifndef MR_APPS_TERASORT_H_
#define MR_APPS_TERASORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "apps/internal/gensort.h"
#include "mr/mapreduce.h"

namespace mr {
namespace apps {

// teragen: generates the benchmark's input; reads no input, map-only, raw
// output (each map's part file is its records back to back).
//
// Parameters: "records" (required, N > 0), "format" ("binary", the default,
// or "ascii": gensort -a), "seed" (a non-negative integer, default 0; 0
// reproduces gensort, others shift the random stream: see gensort.h).
//
// Map i of M writes records [i*N/M, (i+1)*N/M) in order, and adds to the
// counters "teragen records" (its record count) and "record checksum".
class TeraGen : public Job {
 public:
  // Refuses with "teragen needs --param records=N (N > 0)" (plus ", got
  // 'V'" when a bad value V was given), "teragen: format must be 'binary' or
  // 'ascii', got 'V'", or "teragen: seed must be a non-negative integer, got
  // 'V'".
  std::string Setup(const std::map<std::string, std::string>& params) override;
  JobTraits Traits() const override;
  // REQUIRES: Setup() succeeded.
  void Generate(uint32_t map_index, uint32_t num_maps, Context& ctx) override;
  // Never called (the job reads no input and has no reduce).
  void Map(const InputRecord& record, Context& ctx) override {}
  void Reduce(std::string_view key, ValueIterator& values,
              Context& ctx) override {}

  // The records map `map_index` of `num_maps` writes: [*begin, *end).
  static void MapRange(uint64_t records, uint32_t map_index, uint32_t num_maps,
                       uint64_t* begin, uint64_t* end);

 private:
  uint64_t records_ = 0;
  bool ascii_ = false;
  uint64_t seed_ = 0;
};

// terasort: sorts 100-byte records by their bytes (so by the 10-byte key,
// ties broken by the rest of the record); duplicates are kept. Input:
// fixed-length 100-byte records; output: raw, a total order over the part
// files. No combiner.
//
// A record that is not 100 bytes (a file's truncated tail) is dropped and
// counted in "short records".
class TeraSort : public Job {
 public:
  JobTraits Traits() const override;
  // Emits (record, "").
  void Map(const InputRecord& record, Context& ctx) override;
  // Emits (key, "") once per value.
  void Reduce(std::string_view key, ValueIterator& values,
              Context& ctx) override;
};

// One map's summary of a run of its input: consecutive records of one file
// at contiguous offsets. Exposed for tests.
struct TeraRunSummary {
  // Encoded size: first, last, then five 8-byte big-endian numbers
  // (records, duplicate_keys, misordered, first_misorder_offset, checksum).
  static constexpr size_t kEncodedBytes =
      2 * internal::kGensortRecordBytes + 5 * 8;

  std::string first;  // the run's first record (100 bytes)
  std::string last;   // its last record
  uint64_t records = 0;
  // Records whose key equals the previous record's key.
  uint64_t duplicate_keys = 0;
  // Records whose key is less than the previous record's key.
  uint64_t misordered = 0;
  // The file offset of the first of those (when misordered > 0).
  uint64_t first_misorder_offset = 0;
  uint64_t checksum = 0;  // sum of RecordCrc(), mod 2^64

  std::string Encode() const;
  // False when `data` is not an encoded summary.
  static bool Decode(std::string_view data, TeraRunSummary* summary);
};

// The map output key of a run: file + '\0' + its start offset as 8 bytes
// big-endian, so that runs sort by file, then by offset.
std::string TeraRunKey(std::string_view file, uint64_t start_offset);

// teravalidate: checks that its input, taken file by file in path order
// (part-r-00000, part-r-00001, ...), is sorted by 10-byte key. Input:
// fixed-length 100-byte records; one reduce, whose output is the report:
//
//   records N
//   checksum HEX               (the 64-bit sum, lower-case hex)
//   duplicate keys D           (records whose key equals the previous one's)
//   misordered records K       (records whose key is less than the previous
//   one's) first misorder FILE:OFFSET (only when K > 0)
//
// Counters: "check failures" (kCheckFailuresCounter) gets K, plus one per
// record that is not 100 bytes ("short records", a truncated file) and per
// undecodable run summary ("bad run summaries"); "teravalidate records"
// gets N and "record checksum" the checksum, to compare with teragen's.
//
// Each map summarizes its runs (TeraRunSummary, keyed by TeraRunKey); the
// reduce walks the runs in key order, checks each run's first key against
// the previous run's last key, and sums. A reduce that gets no input
// writes the report of zero records; a map that gets none writes nothing
// (Finish() tells them apart by Context::Kind()). Reduce() skips empty
// values, which no map writes.
class TeraValidate : public Job {
 public:
  JobTraits Traits() const override;
  void Map(const InputRecord& record, Context& ctx) override;
  void Reduce(std::string_view key, ValueIterator& values,
              Context& ctx) override;
  void Finish(Context& ctx) override;

 private:

  // Map side.
  void StartRun(const InputRecord& record);
  void FlushRun(Context& ctx);
  // Reduce side.
  void AddRun(std::string_view file, uint64_t start, const TeraRunSummary& run);
  void EmitReport(Context& ctx);


  // Map side: the run being read.
  bool in_run_ = false;
  std::string run_file_;
  uint64_t run_start_ = 0;
  uint64_t next_offset_ = 0;  // where the run's next record must start
  TeraRunSummary run_;

  // Reduce side: totals over the runs so far, in key order.
  bool have_previous_ = false;
  std::string previous_last_key_;  // the last run's last key (10 bytes)
  TeraRunSummary total_;           // first/last unused
  std::string first_misorder_;     // "FILE:OFFSET"; "" while none
  int64_t bad_summaries_ = 0;
};

}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_TERASORT_H_
