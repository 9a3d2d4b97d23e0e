#include "common/staged_directory.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace mr {
namespace {

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string StagingPath(const std::string& target, const std::string& tag) {
  const size_t slash = target.rfind('/');
  return absl::StrCat(target.substr(0, slash + 1), ".",
                      target.substr(slash + 1), ".", tag, ".staging");
}

// rm -rf, again when a straggling writer (a late task attempt finishing its
// file) slipped an entry in while the tree was being removed.
absl::Status RemoveTree(const std::string& path) {
  absl::Status s;
  for (int i = 0; i < 3; ++i) {
    s = RemoveAll(path);
    if (s.ok()) return s;
  }
  return s;
}

// Makes a rename in `dir` durable (for a machine crash; a process crash
// needs nothing).
void SyncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  if (fsync(fd) != 0) MR_LOG(WARNING) << "fsync " << dir << ": " << strerror(errno);
  close(fd);
}

}  // namespace

StagedDirectory::StagedDirectory(std::string target, const std::string& tag)
    : target_(std::move(target)), staging_(StagingPath(target_, tag)) {}

absl::Status StagedDirectory::Create() const {
  RETURN_IF_ERROR(MakeDirs(Parent(target_)));
  RETURN_IF_ERROR(RemoveTree(staging_));
  if (mkdir(staging_.c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("cannot create directory ", staging_,
                                            ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

bool StagedDirectory::IsPublished(const std::string& marker,
                                  const std::string& token) const {
  absl::StatusOr<std::string> held =
      ReadFileToString(absl::StrCat(target_, "/", marker));
  return held.ok() && *held == token;
}

absl::Status StagedDirectory::Discard() const { return RemoveTree(staging_); }

absl::Status StagedDirectory::Publish(const std::string& marker,
                                      const std::string& token,
                                      const PublishOptions& options) const {
  auto inject = [&options](Point p) {
    return options.inject ? options.inject(p) : absl::OkStatus();
  };
  if (!IsPublished(marker, token)) {
    struct stat st;
    if (stat(staging_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the staging directory ", staging_, " is missing, and ", target_,
          " does not hold the version it staged"));
    }
    RETURN_IF_ERROR(
        WriteFileAtomically(absl::StrCat(staging_, "/", marker), token));
    RETURN_IF_ERROR(inject(Point::kBeforeSwap));
    RETURN_IF_ERROR(Swap(options.replace));
    SyncDirectory(Parent(target_));
    RETURN_IF_ERROR(inject(Point::kAfterSwap));
  }
  // The new version is in place: what is left at the staging path (the old
  // version, after an exchange) goes.
  if (absl::Status s = RemoveTree(staging_); !s.ok()) {
    MR_LOG(WARNING) << "published " << target_
                    << " but cannot remove the old version: " << s;
  }
  return absl::OkStatus();
}

absl::Status StagedDirectory::Swap(Replace replace) const {
  const char* from = staging_.c_str();
  const char* to = target_.c_str();
  if (replace == Replace::kNever) {
    // rename(2) replaces an empty directory, and nothing else.
    if (rename(from, to) == 0) return absl::OkStatus();
    const int err = errno;
    if (err == ENOTEMPTY || err == EEXIST || err == ENOTDIR || err == EISDIR) {
      return absl::FailedPreconditionError(absl::StrCat(
          target_, " exists and is not an empty directory; not replacing it"));
    }
    return absl::InternalError(absl::StrCat("cannot rename ", staging_, " to ",
                                            target_, ": ", strerror(err)));
  }
  // The target may appear or vanish meanwhile: each call below either acts
  // atomically or fails without a change.
  for (int i = 0; i < 3; ++i) {
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) == 0) {
      return absl::OkStatus();
    }
    int err = errno;
    if (err == ENOENT) {  // no target (the staging directory exists)
      if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
        return absl::OkStatus();
      }
      err = errno;
      if (err == EEXIST) continue;
    }
    if (err == EINVAL) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the filesystem of ", target_,
          " cannot exchange two directories atomically "
          "(renameat2 RENAME_EXCHANGE): ",
          strerror(err)));
    }
    return absl::InternalError(absl::StrCat("cannot swap ", staging_, " and ",
                                            target_, ": ", strerror(err)));
  }
  return absl::InternalError(
      absl::StrCat(target_, " keeps appearing and vanishing; not replaced"));
}

}  // namespace mr
