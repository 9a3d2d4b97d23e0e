#include "apps/grep.h"

#include "absl/strings/str_cat.h"

namespace mr {
namespace apps {

Grep::~Grep() {
  if (compiled_) regfree(&regex_);
}

std::string Grep::Setup(const std::map<std::string, std::string>& params) {
  auto it = params.find("pattern");
  if (it == params.end()) return "grep needs --param pattern=REGEX";
  const std::string& pattern = it->second;
  int flags = REG_EXTENDED | REG_NOSUB;
  auto ic = params.find("ignore_case");
  if (ic != params.end() && ic->second == "true") flags |= REG_ICASE;
  if (compiled_) {
    regfree(&regex_);
    compiled_ = false;
  }
  int rc = regcomp(&regex_, pattern.c_str(), flags);
  if (rc != 0) {
    char err[256];
    regerror(rc, &regex_, err, sizeof(err));
    return absl::StrCat("grep: bad pattern '", pattern, "': ", err);
  }
  compiled_ = true;
  return {};
}

bool Grep::Matches(std::string_view line) {
#ifdef REG_STARTEND
  // glibc: match [rm_so, rm_eo) directly; no copy, embedded NULs allowed.
  regmatch_t range;
  range.rm_so = 0;
  range.rm_eo = static_cast<regoff_t>(line.size());
  return regexec(&regex_, line.data(), 1, &range, REG_STARTEND) == 0;
#else
  scratch_.assign(line.data(), line.size());
  return regexec(&regex_, scratch_.c_str(), 0, nullptr, 0) == 0;
#endif
}

void Grep::Map(const InputRecord& record, Context& ctx) {
  if (!compiled_ || !Matches(record.line)) return;
  key_.assign(record.file.data(), record.file.size());
  key_.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) {
    key_.push_back(static_cast<char>((record.line_number >> shift) & 0xff));
  }
  value_.clear();
  absl::StrAppend(&value_, absl::string_view(record.file.data(), record.file.size()),
                  ":", record.line_number, ":",
                  absl::string_view(record.line.data(), record.line.size()));
  ctx.Emit(key_, value_);
}

void Grep::Reduce(std::string_view key, ValueIterator& values, Context& ctx) {
  std::string_view v;
  while (values.Next(&v)) ctx.Emit(v, {});
}

}  // namespace apps
}  // namespace mr
