// What the input-format fuzzers (csv, jsonl, fixed, compressed) share:
// reading one chunk of a file through ForEachInputRecord
// (worker/internal/input_reader.h) into a list of comparable events,
// checking on the way what holds for every chunk of every format, and the
// chunk layouts a fuzzer picks from its input.
#ifndef MR_TESTS_FUZZ_INPUT_FORMAT_FUZZ_H_
#define MR_TESTS_FUZZ_INPUT_FORMAT_FUZZ_H_

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/job.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "worker/internal/input_reader.h"

namespace mr {
namespace fuzz {

// One record handed on, or one malformed record reported.
struct InputEvent {
  uint64_t offset = 0;
  bool malformed = false;
  std::string line;  // the record's bytes; for a malformed one, the reason
  uint64_t line_number = 0;
  std::vector<std::pair<std::string, std::string>> fields;  // name, value

  bool operator==(const InputEvent& o) const {
    return offset == o.offset && malformed == o.malformed && line == o.line &&
           line_number == o.line_number && fields == o.fields;
  }
  bool operator!=(const InputEvent& o) const { return !(*this == o); }
};

inline std::string Describe(const InputEvent& e) {
  std::string s = absl::StrCat(e.offset, e.malformed ? "!" : "|");
  for (char c : e.line) {
    if (c == '\n') {
      s += "\\n";
    } else if (c == '\r') {
      s += "\\r";
    } else {
      s += c;
    }
  }
  if (e.line_number != 0) absl::StrAppend(&s, " #", e.line_number);
  for (const auto& [name, value] : e.fields) {
    absl::StrAppend(&s, " [", name, "=", value, "]");
  }
  return s;
}

inline std::string Describe(const std::vector<InputEvent>& events) {
  std::string s = absl::StrCat(events.size(), " events");
  for (const InputEvent& e : events) absl::StrAppend(&s, "\n  ", Describe(e));
  return s;
}

// The first index where `a` and `b` differ, for a readable failure.
inline std::string FirstDifference(const std::vector<InputEvent>& a,
                                   const std::vector<InputEvent>& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return absl::StrCat(
      "first difference at event ", i, ": ",
      i < a.size() ? Describe(a[i]) : std::string("(none)"), " vs ",
      i < b.size() ? Describe(b[i]) : std::string("(none)"), "\nleft: ",
      Describe(a), "\nright: ", Describe(b));
}

// A chunk to read and what every one of its events must satisfy.
struct ChunkRead {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool sample_window = false;
  // Every event's offset lies in [min_offset, max_offset).
  uint64_t min_offset = 0;
  uint64_t max_offset = UINT64_MAX;
};

// Reads `c` with ForEachInputRecord, appending its events to `out`, and
// checks what holds for any chunk: events come in ascending offsets, within
// the chunk's bounds; a record names its file and input; a malformed one has
// a reason; the record's fields answer Find() by their names.
inline absl::Status ReadInputChunk(const ChunkRead& c,
                                   const mrpb::InputFormat& format,
                                   const SplitReaderOptions& options,
                                   std::vector<InputEvent>* out) {
  constexpr uint32_t kInputIndex = 3;
  mrpb::FileChunk chunk;
  chunk.set_path(c.path);
  chunk.set_offset(c.offset);
  chunk.set_length(c.length);
  chunk.set_input_index(kInputIndex);
  chunk.set_sample_window(c.sample_window);
  bool any = false;
  uint64_t last = 0;
  auto check_offset = [&](uint64_t offset) {
    FUZZ_CHECK(offset >= c.min_offset && offset < c.max_offset)
        << "event at " << offset << " outside [" << c.min_offset << ", "
        << c.max_offset << ") for chunk " << c.offset << "+" << c.length;
    FUZZ_CHECK(!any || offset > last)
        << "event at " << offset << " after one at " << last;
    any = true;
    last = offset;
  };
  return ForEachInputRecord(
      chunk, format, options,
      [&](const InputRecord& r) {
        check_offset(r.offset);
        FUZZ_CHECK(r.file == c.path) << r.file;
        FUZZ_CHECK(r.input_index == kInputIndex) << r.input_index;
        InputEvent e;
        e.offset = r.offset;
        e.line = std::string(r.line);
        e.line_number = r.line_number;
        if (r.fields != nullptr) {
          for (size_t i = 0; i < r.fields->size(); ++i) {
            e.fields.emplace_back(std::string(r.fields->name(i)),
                                  std::string(r.fields->value(i)));
          }
          for (size_t i = 0; i < e.fields.size(); ++i) {
            const std::string& name = e.fields[i].first;
            if (name.empty()) continue;
            size_t first = 0;
            while (e.fields[first].first != name) ++first;
            std::string_view found;
            FUZZ_CHECK(r.fields->Find(name, &found))
                << "Find(\"" << name << "\") misses field " << i;
            FUZZ_CHECK(found == e.fields[first].second)
                << "Find(\"" << name << "\") gives another value";
          }
        }
        out->push_back(std::move(e));
      },
      [&](uint64_t offset, const std::string& reason) {
        check_offset(offset);
        FUZZ_CHECK(!reason.empty()) << "malformed record at " << offset
                                    << " without a reason";
        InputEvent e;
        e.offset = offset;
        e.malformed = true;
        e.line = reason;
        out->push_back(std::move(e));
      });
}

// A whole file as one chunk.
inline std::vector<InputEvent> ReadWholeFile(
    const std::string& path, uint64_t size, const mrpb::InputFormat& format,
    const SplitReaderOptions& options) {
  std::vector<InputEvent> events;
  ChunkRead c;
  c.path = path;
  c.length = size;
  const absl::Status s = ReadInputChunk(c, format, options, &events);
  FUZZ_CHECK(s.ok()) << "reading " << path << " whole: " << s;
  return events;
}

// Reads a plain file cut at `cuts` (ascending, inside the file), chunk after
// chunk, checking each event lies in its chunk; returns the events of all.
inline std::vector<InputEvent> ReadCutFile(const std::string& path,
                                           uint64_t size,
                                           const std::vector<uint64_t>& cuts,
                                           const mrpb::InputFormat& format,
                                           const SplitReaderOptions& options) {
  std::vector<InputEvent> events;
  uint64_t begin = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const uint64_t end = i < cuts.size() ? cuts[i] : size;
    ChunkRead c;
    c.path = path;
    c.offset = begin;
    c.length = end - begin;
    c.min_offset = begin;
    c.max_offset = end;
    const absl::Status s = ReadInputChunk(c, format, options, &events);
    FUZZ_CHECK(s.ok()) << "reading " << path << " [" << begin << ", " << end
                       << "): " << s;
    begin = end;
  }
  return events;
}

// Up to `max` raw cut points from the input (two bytes each), before the
// file's size is known: CutsIn() places them.
inline std::vector<uint32_t> ConsumeCuts(FuzzInput& in, size_t max) {
  std::vector<uint32_t> raw(in.Below(max + 1));
  for (uint32_t& r : raw) r = in.Byte() | (uint32_t{in.Byte()} << 8);
  return raw;
}

// The raw cut points as ascending, distinct offsets strictly inside a file
// of `size` bytes.
inline std::vector<uint64_t> CutsIn(const std::vector<uint32_t>& raw,
                                    uint64_t size) {
  std::vector<uint64_t> cuts;
  if (size < 2) return cuts;
  for (uint32_t r : raw) cuts.push_back(1 + r % (size - 1));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

// A scratch file under a name not used before in this process, removed when
// this goes away. (A fresh name each run: the CSV reader remembers, per
// path, where its last quote count stopped, and a file's contents never
// change under a job.)
class FreshFile {
 public:
  FreshFile(std::string_view suffix, std::string_view bytes) {
    static uint64_t counter = 0;
    path_ = WriteScratchFile(absl::StrCat("in", ++counter, std::string(suffix)),
                             bytes);
  }
  ~FreshFile() { unlink(path_.c_str()); }
  FreshFile(const FreshFile&) = delete;
  FreshFile& operator=(const FreshFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace fuzz
}  // namespace mr

#endif  // MR_TESTS_FUZZ_INPUT_FORMAT_FUZZ_H_
