// Fuzzes the fixed-length input format (ForEachInputRecord, FIXED): records
// of N bytes, N from the input (1 to 64), in a file of the fuzzer's bytes
// cut into chunks.
//
// Input: a byte [N-1:6][equal chunks:1], then either a chunk size byte
// (equal chunks) or up to 4 cut points (a count byte, then two bytes each),
// then the file.
//
// Properties:
//  - a record starts at a multiple of N inside its chunk, holds N bytes,
//    those of the file at its offset, and has no fields or line number;
//  - the chunks' events, in order, and those of the file read as one chunk,
//    are the file cut in N-byte pieces, then, when the file's size is no
//    multiple of N, its tail reported malformed at its offset, as truncated.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/input_format_fuzz.h"

namespace mr {
namespace fuzz {
namespace {

// Checks `events` against the file cut into `n`-byte records.
void CheckAgainstModel(std::string_view file, uint64_t n,
                       const std::vector<InputEvent>& events,
                       const char* what) {
  const uint64_t whole = file.size() / n;
  const bool tail = file.size() % n != 0;
  FUZZ_CHECK(events.size() == whole + (tail ? 1 : 0))
      << what << ": " << events.size() << " events for " << file.size()
      << " bytes of " << n << "-byte records; " << Describe(events);
  for (uint64_t i = 0; i < whole; ++i) {
    const InputEvent& e = events[i];
    FUZZ_CHECK(!e.malformed && e.offset == i * n &&
               e.line == file.substr(i * n, n) && e.fields.empty() &&
               e.line_number == 0)
        << what << ": record " << i << " is " << Describe(e);
  }
  if (tail) {
    const InputEvent& e = events.back();
    FUZZ_CHECK(e.malformed && e.offset == whole * n &&
               e.line.find("truncated") != std::string::npos)
        << what << ": the truncated tail is " << Describe(e);
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace mr

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mr::fuzz;
  FuzzInput in(data, size);
  const uint8_t bits = in.Byte();
  const uint64_t n = 1 + (bits & 63);
  const bool equal_chunks = bits & 64;
  const uint64_t chunk_size = equal_chunks ? 1 + in.Byte() : 0;
  const std::vector<uint32_t> raw_cuts =
      equal_chunks ? std::vector<uint32_t>() : ConsumeCuts(in, 4);
  const std::string_view bytes = in.Rest();
  FreshFile file(".bin", bytes);

  mrpb::InputFormat format;
  format.set_kind(mrpb::InputFormat::FIXED);
  format.set_record_bytes(static_cast<uint32_t>(n));
  const mr::SplitReaderOptions options;
  const std::vector<InputEvent> whole =
      ReadWholeFile(file.path(), bytes.size(), format, options);
  CheckAgainstModel(bytes, n, whole, "the whole file");

  std::vector<uint64_t> cuts;
  if (equal_chunks) {
    for (uint64_t c = chunk_size; c < bytes.size(); c += chunk_size) {
      cuts.push_back(c);
    }
  } else {
    cuts = CutsIn(raw_cuts, bytes.size());
  }
  if (!cuts.empty()) {
    // ReadCutFile checks each event lies in its chunk.
    const std::vector<InputEvent> chunked =
        ReadCutFile(file.path(), bytes.size(), cuts, format, options);
    CheckAgainstModel(bytes, n, chunked, "the chunks");
  }
  return 0;
}
