#include "common/path_policy.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace mr {
namespace {

constexpr char kInputFlag[] = "--allowed_input_roots";
constexpr char kOutputFlag[] = "--allowed_output_roots";
// Symbolic links followed by hand (dangling ones) before giving up, as the
// kernel's own limit (40) does for a loop.
constexpr int kMaxLinks = 40;

absl::Status ErrnoStatus(const std::string& what, int err) {
  const std::string msg = absl::StrCat(what, ": ", strerror(err));
  switch (err) {
    case ENOENT: return absl::NotFoundError(msg);
    case EACCES:
    case EPERM: return absl::PermissionDeniedError(msg);
    case ELOOP:
    case ENOTDIR:
    case ENAMETOOLONG: return absl::InvalidArgumentError(msg);
    // I/O errors (EIO, ESTALE...): no verdict on the path (Check()).
    default: return absl::InternalError(msg);
  }
}

std::string JoinPath(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) absl::StrAppend(&out, "/", parts[i]);
  return out.empty() ? "/" : out;
}

absl::StatusOr<std::string> CanonicalizeAt(const std::string& path,
                                           int depth) {
  if (depth > kMaxLinks) {
    return ErrnoStatus(absl::StrCat("cannot resolve ", path), ELOOP);
  }
  const std::vector<std::string> parts =
      absl::StrSplit(path, '/', absl::SkipEmpty());
  // The longest existing ancestor is parts[0, n); the rest does not exist.
  size_t n = parts.size();
  char buf[PATH_MAX];
  while (true) {
    const std::string prefix = JoinPath(parts, n);
    if (realpath(prefix.c_str(), buf) != nullptr) break;
    const int err = errno;
    if (err != ENOENT || n == 0) {
      return ErrnoStatus(absl::StrCat("cannot resolve ", prefix), err);
    }
    struct stat st;
    if (lstat(prefix.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      // A dangling symbolic link: a write through it creates its target,
      // so the target (with the rest of the path) is what is checked.
      const ssize_t len = readlink(prefix.c_str(), buf, sizeof(buf) - 1);
      if (len < 0) {
        return ErrnoStatus(absl::StrCat("cannot read link ", prefix), errno);
      }
      std::string next(buf, len);
      if (next.empty() || next[0] != '/') {
        next = absl::StrCat(JoinPath(parts, n - 1), "/", next);
      }
      for (size_t i = n; i < parts.size(); ++i) {
        absl::StrAppend(&next, "/", parts[i]);
      }
      return CanonicalizeAt(next, depth + 1);
    }
    --n;
  }
  std::string out = buf;
  for (size_t i = n; i < parts.size(); ++i) {
    if (parts[i] == "." || parts[i] == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": '", parts[i], "' follows ", JoinPath(parts, i),
          ", which does not exist"));
    }
    if (out != "/") out += "/";
    out += parts[i];
  }
  return out;
}

// The roots of one flag, resolved, sorted, without duplicates.
absl::StatusOr<std::vector<std::string>> ResolveRoots(
    const std::vector<std::string>& roots, const char* flag) {
  std::vector<std::string> out;
  for (const std::string& root : roots) {
    if (root.empty() || root[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, ": root '", root, "' is not an absolute path"));
    }
    char buf[PATH_MAX];
    if (realpath(root.c_str(), buf) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": root ", root, ": ", strerror(errno)));
    }
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": root ", root, " is not a directory"));
    }
    out.push_back(buf);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string RootsText(const std::vector<std::string>& roots) {
  return absl::StrJoin(roots, ", ");
}

}  // namespace

absl::StatusOr<PathPolicy> PathPolicy::Create(
    const std::vector<std::string>& input_roots,
    const std::vector<std::string>& output_roots) {
  PathPolicy policy;
  ASSIGN_OR_RETURN(policy.input_roots_, ResolveRoots(input_roots, kInputFlag));
  ASSIGN_OR_RETURN(policy.output_roots_,
                   ResolveRoots(output_roots, kOutputFlag));
  return policy;
}

absl::StatusOr<PathPolicy> PathPolicy::FromFlags(
    const std::string& input_roots, const std::string& output_roots) {
  return Create(absl::StrSplit(input_roots, ',', absl::SkipEmpty()),
                absl::StrSplit(output_roots, ',', absl::SkipEmpty()));
}

absl::StatusOr<std::string> PathPolicy::Canonicalize(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not an absolute path"));
  }
  return CanonicalizeAt(path, 0);
}

absl::Status PathPolicy::Check(const std::vector<std::string>& roots,
                               const char* kind, const char* flag,
                               const std::string& path) {
  if (roots.empty()) return absl::OkStatus();
  const std::string allowed =
      absl::StrCat("the allowed ", kind, " roots ", RootsText(roots), " (",
                   flag, ")");
  if (path.empty() || path[0] != '/') {
    return absl::PermissionDeniedError(absl::StrCat(
        kind, " '", path, "' is not an absolute path; it must lie in ",
        allowed));
  }
  absl::StatusOr<std::string> real = Canonicalize(path);
  if (!real.ok() && absl::IsInternal(real.status())) {
    // An I/O error (EIO, ESTALE on NFS, ENOMEM...) is no verdict: the caller
    // may try again, elsewhere or later.
    return absl::UnavailableError(
        absl::StrCat(kind, " ", path, " cannot be checked against ", allowed,
                     " now: ", real.status().message()));
  }
  if (!real.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat(kind, " ", path, " cannot be checked against ", allowed,
                     ": ", real.status().message()));
  }
  for (const std::string& root : roots) {
    if (PathIsWithin(*real, root)) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      kind, " ", path,
      *real == path ? std::string(" is")
                    : absl::StrCat(" resolves to ", *real, ","),
      " outside ", allowed));
}

absl::Status PathPolicy::CheckInput(const std::string& path) const {
  return Check(input_roots_, "input", kInputFlag, path);
}

absl::Status PathPolicy::CheckOutput(const std::string& path) const {
  return Check(output_roots_, "output", kOutputFlag, path);
}

absl::Status PathPolicy::CheckOutputDir(const std::string& path) const {
  RETURN_IF_ERROR(CheckOutput(path));
  if (!restricts_outputs()) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::string real, Canonicalize(path));
  const size_t slash = real.rfind('/');
  const std::string parent = slash == 0 ? "/" : real.substr(0, slash);
  for (const std::string& root : output_roots_) {
    if (PathIsWithin(parent, root)) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "output ", path, real == path ? "" : absl::StrCat(" (", real, ")"),
      " is an allowed output root itself: a job builds its output beside it, "
      "in ",
      parent, ", outside the allowed output roots ", RootsText(output_roots_),
      " (", kOutputFlag, "); write to a directory inside the root"));
}

std::string PathPolicy::Describe() const {
  auto one = [](const std::vector<std::string>& roots, const char* kind,
                const char* flag) {
    return roots.empty() ? absl::StrCat(kind, "s anywhere")
                         : absl::StrCat(kind, "s under ", RootsText(roots),
                                        " (", flag, ")");
  };
  return absl::StrCat(one(input_roots_, "input", kInputFlag), "; ",
                      one(output_roots_, "output", kOutputFlag));
}

}  // namespace mr
