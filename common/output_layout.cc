#include "common/output_layout.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/names.h"
#include "common/status_macros.h"

namespace mr {
namespace {

constexpr char kSuccess[] = "_SUCCESS";
constexpr char kTemporary[] = "_temporary";

// Whether `dir` holds any entry. NotFound when it does not exist.
absl::StatusOr<bool> HasEntries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    const int err = errno;
    const std::string msg = absl::StrCat("cannot list ", dir, ": ", strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg) : absl::InternalError(msg);
  }
  bool any = false;
  while (const dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      any = true;
      break;
    }
  }
  closedir(d);
  return any;
}

}  // namespace

OutputLayout::OutputLayout(std::string output_dir, std::string job_id,
                           Parts parts)
    : job_id_(std::move(job_id)),
      parts_(parts),
      staging_(std::move(output_dir), job_id_) {}

std::string OutputLayout::temporary_dir() const {
  return absl::StrCat(staging_dir(), "/", kTemporary);
}

std::string OutputLayout::AttemptDir(uint64_t attempt) const {
  return absl::StrCat(temporary_dir(), "/attempt-", attempt);
}

std::string OutputLayout::AttemptFile(uint64_t attempt,
                                      uint32_t partition) const {
  return absl::StrCat(AttemptDir(attempt), "/", PartFileName(partition, parts_));
}

std::string OutputLayout::StagedPartFile(uint32_t partition) const {
  return absl::StrCat(staging_dir(), "/", PartFileName(partition, parts_));
}

std::string OutputLayout::PartFileName(uint32_t partition, Parts parts) {
  // Two calls: StrFormat checks a constant format string at compile time
  // (clang refuses a conditional one).
  return parts == Parts::kMap ? absl::StrFormat("part-m-%05d", partition)
                              : absl::StrFormat("part-r-%05d", partition);
}

absl::Status OutputLayout::CheckSideOutputName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 32 && name != "part" &&
            name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "bad side output name '", EscapeName(name),
      "' (1 to 32 of [a-z0-9_], starting with a letter, not 'part')"));
}

std::string OutputLayout::SideFileName(const std::string& name,
                                       uint32_t partition) const {
  return parts_ == Parts::kMap ? absl::StrFormat("%s-m-%05d", name, partition)
                               : absl::StrFormat("%s-r-%05d", name, partition);
}

std::string OutputLayout::AttemptSideFile(uint64_t attempt,
                                          const std::string& name,
                                          uint32_t partition) const {
  return absl::StrCat(AttemptDir(attempt), "/", SideFileName(name, partition));
}

absl::Status OutputLayout::CheckTarget(const std::string& output_dir,
                                       bool overwrite) {
  struct stat st;
  if (stat(output_dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("cannot stat ", output_dir, ": ", strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(output_dir, " exists and is not a directory"));
  }
  if (overwrite) return absl::OkStatus();
  if (PathExists(absl::StrCat(output_dir, "/", kSuccess))) {
    return absl::AlreadyExistsError(absl::StrCat(
        output_dir, " already holds a committed result (", kSuccess,
        "); use --overwrite to replace it"));
  }
  ASSIGN_OR_RETURN(bool entries, HasEntries(output_dir));
  if (entries) {
    return absl::AlreadyExistsError(absl::StrCat(
        output_dir, " exists and is not empty (it holds no committed result); "
        "use --overwrite to replace it"));
  }
  return absl::OkStatus();
}

absl::Status OutputLayout::Prepare() const {
  RETURN_IF_ERROR(staging_.Create());
  return MakeDirs(temporary_dir());
}

std::string OutputLayout::CommitToken(int64_t submit_time_ms) const {
  return absl::StrCat("committed by ", job_id_, " (submitted at ",
                      submit_time_ms, " ms)\n");
}

absl::Status OutputLayout::Commit(uint32_t num_parts, const std::string& token,
                                  const CommitOptions& options) const {
  if (!IsCommitted(token)) {
    // Moved out of the staged output first: a losing attempt still writing
    // in its own directory writes into the moved tree, and late attempts
    // cannot create one any more (CreateAttemptDir()). So what stragglers
    // do cannot fail the commit or leave anything in the output.
    const std::string trash = staging_dir() + ".temporary";
    if (rename(temporary_dir().c_str(), trash.c_str()) != 0 && errno != ENOENT) {
      return absl::InternalError(absl::StrCat("cannot move ", temporary_dir(),
                                              " aside: ", strerror(errno)));
    }
    absl::Status removed;
    for (int i = 0; i < 3; ++i) {
      removed = RemoveAll(trash);
      if (removed.ok()) break;
    }
    if (!removed.ok()) MR_LOG(WARNING) << removed << " (left beside the output)";
    for (uint32_t p = 0; p < num_parts; ++p) {
      if (!PathExists(StagedPartFile(p))) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the staged output ", staging_dir(), " lacks ",
            PartFileName(p, parts_)));
      }
    }
  }
  StagedDirectory::PublishOptions publish;
  publish.replace = options.overwrite ? StagedDirectory::Replace::kAlways
                                      : StagedDirectory::Replace::kNever;
  publish.inject = options.inject;
  return staging_.Publish(kSuccess, token, publish);
}

bool OutputLayout::IsCommitted(const std::string& token) const {
  return staging_.IsPublished(kSuccess, token);
}

absl::Status OutputLayout::Abort() const { return staging_.Discard(); }

absl::Status OutputLayout::CreateAttemptDir(uint64_t attempt) const {
  const std::string dir = AttemptDir(attempt);
  if (mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return absl::OkStatus();
  const int err = errno;
  if (err == ENOENT) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the job's staging directory ", temporary_dir(),
        " is gone (the job has ended)"));
  }
  return absl::InternalError(
      absl::StrCat("cannot create directory ", dir, ": ", strerror(err)));
}

absl::Status OutputLayout::CommitAttempt(uint64_t attempt,
                                         uint32_t partition) const {
  const std::string part = PartFileName(partition, parts_);
  // This partition's side files are "NAME<suffix>".
  const std::string suffix = part.substr(strlen("part"));
  auto side_files = [&](const std::string& dir) -> absl::StatusOr<std::set<std::string>> {
    std::set<std::string> names;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) {
      const int err = errno;
      return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", strerror(err)));
    }
    while (const dirent* e = readdir(d)) {
      const absl::string_view n(e->d_name);
      if (n != part && absl::EndsWith(n, suffix) && n.size() > suffix.size() &&
          CheckSideOutputName(std::string(n.substr(0, n.size() - suffix.size()))).ok()) {
        names.insert(std::string(n));
      }
    }
    closedir(d);
    return names;
  };
  absl::StatusOr<std::set<std::string>> mine = side_files(AttemptDir(attempt));
  if (!mine.ok()) return mine.status();
  // An attempt that moves side files first leaves a marker in _temporary
  // (which the job commit removes): only when an earlier attempt of this
  // partition did can stale side files be staged, so only then is the
  // staging directory (one entry per task: large) listed.
  const std::string marker = absl::StrCat(temporary_dir(), "/sides-", part);
  if (PathExists(marker)) {
    absl::StatusOr<std::set<std::string>> staged = side_files(staging_dir());
    if (!staged.ok()) return staged.status();
    for (const std::string& stale : *staged) {
      if (mine->count(stale) > 0) continue;
      const std::string path = absl::StrCat(staging_dir(), "/", stale);
      if (unlink(path.c_str()) != 0 && errno != ENOENT) {
        const int err = errno;
        return absl::InternalError(absl::StrCat("cannot remove ", path, ": ", strerror(err)));
      }
    }
  } else if (!mine->empty()) {
    if (absl::Status s = WriteFileAtomically(marker, ""); !s.ok()) return s;
  }
  std::vector<std::string> names(mine->begin(), mine->end());
  names.push_back(part);  // last: see the header
  for (const std::string& name : names) {
    const std::string from = absl::StrCat(AttemptDir(attempt), "/", name);
    const std::string to = absl::StrCat(staging_dir(), "/", name);
    if (rename(from.c_str(), to.c_str()) != 0) {
      const int err = errno;
      return absl::InternalError(absl::StrCat("cannot rename ", from, " to ", to,
                                              ": ", strerror(err)));
    }
  }
  RemoveAttempt(attempt);
  return absl::OkStatus();
}

void OutputLayout::RemoveAttempt(uint64_t attempt) const {
  RemoveAll(AttemptDir(attempt)).IgnoreError();
}

}  // namespace mr
