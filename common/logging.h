// A minimal logger (Debian's Abseil has no logging library).
//
//   MR_LOG(INFO) << "registered worker " << id;
//
// Writes one line per statement to stderr: level, UTC time, pid, file:line.
// MR_LOG(FATAL) aborts after writing. Thread-safe: each line is written with
// a single write(2).
#ifndef MR_COMMON_LOGGING_H_
#define MR_COMMON_LOGGING_H_

#include <sstream>

namespace mr {
namespace internal {

class LogMessage {
 public:
  LogMessage(char level, const char* file, int line);
  ~LogMessage();
  std::ostream& stream() { return stream_; }

 private:
  const char level_;
  std::ostringstream stream_;
};

}  // namespace internal
}  // namespace mr

#define MR_LOG_LEVEL_INFO 'I'
#define MR_LOG_LEVEL_WARNING 'W'
#define MR_LOG_LEVEL_ERROR 'E'
#define MR_LOG_LEVEL_FATAL 'F'
#define MR_LOG(level) \
  ::mr::internal::LogMessage(MR_LOG_LEVEL_##level, __FILE__, __LINE__).stream()

#endif  // MR_COMMON_LOGGING_H_
