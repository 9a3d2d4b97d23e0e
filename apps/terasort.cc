#include "apps/terasort.h"

#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace mr {
namespace apps {
namespace {

using internal::kGensortKeyBytes;
using internal::kGensortRecordBytes;
using internal::RecordCrc;

constexpr char kShortRecordsCounter[] = "short records";
constexpr char kChecksumCounter[] = "record checksum";

// A decimal uint64 with nothing else (no sign, no spaces).
bool ParseUint64(const std::string& text, uint64_t* value) {
  const char* const end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return !text.empty() && ec == std::errc() && ptr == end;
}

void AppendBigEndian64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint64_t ReadBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// "FILE:OFFSET".
std::string Location(std::string_view file, uint64_t offset) {
  return absl::StrCat(absl::string_view(file.data(), file.size()), ":", offset);
}

// Compares the 10-byte keys of two records, bytewise unsigned.
int CompareKeys(const char* a, const char* b) {
  return memcmp(a, b, kGensortKeyBytes);
}

}  // namespace

// ---- TeraGen ----

std::string TeraGen::Setup(const std::map<std::string, std::string>& params) {
  constexpr char kNeedRecords[] = "teragen needs --param records=N (N > 0)";
  auto it = params.find("records");
  if (it == params.end()) return kNeedRecords;
  if (!ParseUint64(it->second, &records_) || records_ == 0) {
    return absl::StrCat(kNeedRecords, ", got '", it->second, "'");
  }
  ascii_ = false;
  it = params.find("format");
  if (it != params.end() && it->second != "binary") {
    if (it->second != "ascii") {
      return absl::StrCat("teragen: format must be 'binary' or 'ascii', got '",
                          it->second, "'");
    }
    ascii_ = true;
  }
  seed_ = 0;
  it = params.find("seed");
  if (it != params.end() && !ParseUint64(it->second, &seed_)) {
    return absl::StrCat("teragen: seed must be a non-negative integer, got '",
                        it->second, "'");
  }
  return {};
}

JobTraits TeraGen::Traits() const {
  JobTraits t;
  t.generates_input = true;
  t.map_only = true;
  t.raw_output = true;
  return t;
}

void TeraGen::MapRange(uint64_t records, uint32_t map_index, uint32_t num_maps,
                       uint64_t* begin, uint64_t* end) {
  if (num_maps == 0 || map_index >= num_maps) {
    *begin = *end = records;
    return;
  }
  // records * (map_index + 1) needs up to 96 bits.
  using internal::Uint128;
  *begin = static_cast<uint64_t>(Uint128{records} * map_index / num_maps);
  *end = static_cast<uint64_t>(Uint128{records} * (map_index + 1) / num_maps);
}

void TeraGen::Generate(uint32_t map_index, uint32_t num_maps, Context& ctx) {
  uint64_t begin, end;
  MapRange(records_, map_index, num_maps, &begin, &end);
  internal::GensortGenerator generator(begin, ascii_, seed_);
  char record[kGensortRecordBytes];
  uint64_t checksum = 0;
  for (uint64_t r = begin; r < end; ++r) {
    generator.Next(record);
    checksum += RecordCrc(record);
    ctx.Emit(std::string_view(record, sizeof(record)), {});
  }
  ctx.IncrementCounter("teragen records", static_cast<int64_t>(end - begin));
  ctx.IncrementCounter(kChecksumCounter, static_cast<int64_t>(checksum));
}

// ---- TeraSort ----

JobTraits TeraSort::Traits() const {
  JobTraits t;
  t.total_order = true;
  t.record_bytes = kGensortRecordBytes;
  t.raw_output = true;
  return t;
}

void TeraSort::Map(const InputRecord& record, Context& ctx) {
  if (record.line.size() != kGensortRecordBytes) {
    ctx.IncrementCounter(kShortRecordsCounter, 1);
    return;
  }
  ctx.Emit(record.line, {});
}

void TeraSort::Reduce(std::string_view key, ValueIterator& values,
                      Context& ctx) {
  std::string_view value;
  while (values.Next(&value)) ctx.Emit(key, {});
}

// ---- TeraRunSummary ----

std::string TeraRunSummary::Encode() const {
  std::string out;
  out.reserve(kEncodedBytes);
  out.append(first);
  out.append(last);
  AppendBigEndian64(records, &out);
  AppendBigEndian64(duplicate_keys, &out);
  AppendBigEndian64(misordered, &out);
  AppendBigEndian64(first_misorder_offset, &out);
  AppendBigEndian64(checksum, &out);
  return out;
}

bool TeraRunSummary::Decode(std::string_view data, TeraRunSummary* summary) {
  if (data.size() != kEncodedBytes) return false;
  summary->first.assign(data.data(), kGensortRecordBytes);
  summary->last.assign(data.data() + kGensortRecordBytes, kGensortRecordBytes);
  const char* p = data.data() + 2 * kGensortRecordBytes;
  summary->records = ReadBigEndian64(p);
  summary->duplicate_keys = ReadBigEndian64(p + 8);
  summary->misordered = ReadBigEndian64(p + 16);
  summary->first_misorder_offset = ReadBigEndian64(p + 24);
  summary->checksum = ReadBigEndian64(p + 32);
  return summary->records > 0;
}

std::string TeraRunKey(std::string_view file, uint64_t start_offset) {
  std::string key(file);
  key.push_back('\0');
  AppendBigEndian64(start_offset, &key);
  return key;
}

// ---- TeraValidate ----

JobTraits TeraValidate::Traits() const {
  JobTraits t;
  t.record_bytes = kGensortRecordBytes;
  t.num_reduces = 1;
  return t;
}

void TeraValidate::StartRun(const InputRecord& record) {
  in_run_ = true;
  run_file_.assign(record.file.data(), record.file.size());
  run_start_ = record.offset;
  run_.first.assign(record.line.data(), record.line.size());
  run_.last = run_.first;
  run_.records = 1;
  run_.duplicate_keys = 0;
  run_.misordered = 0;
  run_.first_misorder_offset = 0;
  run_.checksum = RecordCrc(record.line.data());
  next_offset_ = record.offset + kGensortRecordBytes;
}

void TeraValidate::Map(const InputRecord& record, Context& ctx) {
  if (record.line.size() != kGensortRecordBytes) {
    // A truncated tail: invalid output, and it ends the run.
    ctx.IncrementCounter(kShortRecordsCounter, 1);
    ctx.IncrementCounter(kCheckFailuresCounter, 1);
    FlushRun(ctx);
    return;
  }
  if (!in_run_ || record.offset != next_offset_ || record.file != run_file_) {
    FlushRun(ctx);
    StartRun(record);
    return;
  }
  const int cmp = CompareKeys(record.line.data(), run_.last.data());
  if (cmp < 0) {
    if (run_.misordered == 0) run_.first_misorder_offset = record.offset;
    ++run_.misordered;
  } else if (cmp == 0) {
    ++run_.duplicate_keys;
  }
  run_.last.assign(record.line.data(), record.line.size());
  ++run_.records;
  run_.checksum += RecordCrc(record.line.data());
  next_offset_ += kGensortRecordBytes;
}

void TeraValidate::FlushRun(Context& ctx) {
  if (!in_run_) return;
  in_run_ = false;
  ctx.Emit(TeraRunKey(run_file_, run_start_), run_.Encode());
}

void TeraValidate::AddRun(std::string_view file, uint64_t start,
                          const TeraRunSummary& run) {
  // The boundary with the previous run comes before anything in this one.
  if (have_previous_) {
    const int cmp = CompareKeys(run.first.data(), previous_last_key_.data());
    if (cmp < 0) {
      if (total_.misordered == 0) first_misorder_ = Location(file, start);
      ++total_.misordered;
    } else if (cmp == 0) {
      ++total_.duplicate_keys;
    }
  }
  if (run.misordered > 0 && total_.misordered == 0) {
    first_misorder_ = Location(file, run.first_misorder_offset);
  }
  total_.misordered += run.misordered;
  total_.duplicate_keys += run.duplicate_keys;
  total_.records += run.records;
  total_.checksum += run.checksum;
  previous_last_key_.assign(run.last.data(), kGensortKeyBytes);
  have_previous_ = true;
}

void TeraValidate::Reduce(std::string_view key, ValueIterator& values,
                          Context& ctx) {
  const bool is_run_key = key.size() >= 9 && key[key.size() - 9] == '\0';
  const std::string_view file =
      is_run_key ? key.substr(0, key.size() - 9) : std::string_view();
  const uint64_t start =
      is_run_key ? ReadBigEndian64(key.data() + key.size() - 8) : 0;
  TeraRunSummary run;
  std::string_view value;
  while (values.Next(&value)) {
    if (value.empty()) continue;  // an input-less map's zero report
    if (!is_run_key || !TeraRunSummary::Decode(value, &run)) {
      ++bad_summaries_;
      continue;
    }
    AddRun(file, start, run);
  }
}

void TeraValidate::EmitReport(Context& ctx) {
  ctx.Emit(absl::StrCat("records ", total_.records), {});
  ctx.Emit(absl::StrCat("checksum ", absl::Hex(total_.checksum)), {});
  ctx.Emit(absl::StrCat("duplicate keys ", total_.duplicate_keys), {});
  ctx.Emit(absl::StrCat("misordered records ", total_.misordered), {});
  if (total_.misordered > 0) {
    ctx.Emit(absl::StrCat("first misorder ", first_misorder_), {});
  }
  const int64_t failures =
      static_cast<int64_t>(total_.misordered) + bad_summaries_;
  if (failures > 0) ctx.IncrementCounter(kCheckFailuresCounter, failures);
  if (bad_summaries_ > 0) {
    ctx.IncrementCounter("bad run summaries", bad_summaries_);
  }
  ctx.IncrementCounter("teravalidate records",
                       static_cast<int64_t>(total_.records));
  ctx.IncrementCounter(kChecksumCounter, static_cast<int64_t>(total_.checksum));
}

void TeraValidate::Finish(Context& ctx) {
  if (ctx.Kind() == TaskKind::kReduce) {
    EmitReport(ctx);  // even over no input: the report of zero records
  } else {
    FlushRun(ctx);
  }
}

}  // namespace apps
}  // namespace mr
