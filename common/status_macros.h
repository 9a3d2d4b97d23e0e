// Status helpers. Debian's Abseil 20220623 has no status macros, so these are
// ours. Each lets the caller prepend context on the way up, as Kudu's
// RETURN_NOT_OK_PREPEND does:
//
//   RETURN_IF_ERROR(WriteFile(path, data), "writing the job spec");
//   ASSIGN_OR_RETURN(auto files, ExpandGlobs(inputs), "resolving inputs");
#ifndef MR_COMMON_STATUS_MACROS_H_
#define MR_COMMON_STATUS_MACROS_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace mr {

// Returns `s` with "context: " prepended to its message; OK stays OK.
inline absl::Status Prepend(const absl::Status& s, absl::string_view context) {
  if (s.ok() || context.empty()) return s;
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

}  // namespace mr

#define MR_CONCAT_INNER_(a, b) a##b
#define MR_CONCAT_(a, b) MR_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR(expr) or RETURN_IF_ERROR(expr, "context").
#define RETURN_IF_ERROR(expr, ...)                                   \
  do {                                                               \
    ::absl::Status mr_status_ = (expr);                              \
    if (!mr_status_.ok()) return ::mr::Prepend(mr_status_, "" __VA_ARGS__); \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr) or ASSIGN_OR_RETURN(lhs, expr, "context").
#define ASSIGN_OR_RETURN(lhs, expr, ...)                                     \
  auto MR_CONCAT_(mr_statusor_, __LINE__) = (expr);                         \
  if (!MR_CONCAT_(mr_statusor_, __LINE__).ok())                             \
    return ::mr::Prepend(MR_CONCAT_(mr_statusor_, __LINE__).status(),       \
                         "" __VA_ARGS__);                                   \
  lhs = std::move(MR_CONCAT_(mr_statusor_, __LINE__)).value()

#endif  // MR_COMMON_STATUS_MACROS_H_
