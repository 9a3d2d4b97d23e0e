// Shared helpers for the libFuzzer targets of tests/fuzz.
//
// FUZZ_CHECK(cond) << "what": a property every input must satisfy. When it
// does not hold, prints the condition and the message and aborts, which
// libFuzzer reports as a crash and saves the input as crash-<sha1>.
#ifndef MR_TESTS_FUZZ_FUZZ_UTIL_H_
#define MR_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace mr {
namespace fuzz {

class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

// Writes `bytes` to a file in this process's scratch directory (under
// $TMPDIR, removed at exit) and returns its path; the same name each call
// with the same `name`.
std::string WriteScratchFile(const std::string& name, std::string_view bytes);

// Reads the fuzzer's bytes as a sequence of fields: each call consumes one
// little piece (an integer, a byte, a length-prefixed string); past the end
// everything is zero/empty. For targets that need several inputs from one.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}
  uint8_t Byte();
  uint32_t Uint32();
  // A value in [0, bound) (bound > 0).
  uint64_t Below(uint64_t bound);
  // Up to max_len bytes, the length taken from the input first.
  std::string String(size_t max_len);
  // All that is left.
  std::string_view Rest();
  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace fuzz
}  // namespace mr

#define FUZZ_CHECK(cond)                                                   \
  if (cond) {                                                              \
  } else                                                                   \
    ::mr::fuzz::CheckFailure(__FILE__, __LINE__, #cond).stream()

#endif  // MR_TESTS_FUZZ_FUZZ_UTIL_H_
