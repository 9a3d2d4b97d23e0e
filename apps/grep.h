// grep: the input lines that match a POSIX extended regular expression.
//
// Parameters: "pattern" (required, regcomp() with REG_EXTENDED), and
// "ignore_case" ("true" adds REG_ICASE).
//
// Output lines: "path:lineno:line", sorted by path, then line number (the
// map key is path + '\0' + the 8-byte big-endian line number). No combiner.
//
// Thread-safety: like every Job, used from one thread.
#ifndef MR_APPS_GREP_H_
#define MR_APPS_GREP_H_

#include <regex.h>

#include <map>
#include <string>
#include <string_view>

#include "mr/mapreduce.h"

namespace mr {
namespace apps {

class Grep : public Job {
 public:
  Grep() = default;
  ~Grep() override;
  Grep(const Grep&) = delete;
  Grep& operator=(const Grep&) = delete;

  // Refuses with "grep needs --param pattern=REGEX" or
  // "grep: bad pattern '<pattern>': <regerror text>".
  std::string Setup(const std::map<std::string, std::string>& params) override;
  // REQUIRES: Setup() succeeded.
  void Map(const InputRecord& record, Context& ctx) override;
  void Reduce(std::string_view key, ValueIterator& values,
              Context& ctx) override;
  bool WantsLineNumbers() const override { return true; }

 private:
  bool Matches(std::string_view line);

  regex_t regex_;
  bool compiled_ = false;
  std::string scratch_;  // NUL-terminated copy of a line, reused
  std::string key_;      // reused per match
  std::string value_;    // reused per match
};

}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_GREP_H_
