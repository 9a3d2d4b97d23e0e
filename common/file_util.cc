#include "common/file_util.h"

#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <google/protobuf/message_lite.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace mr {
namespace fs = std::filesystem;

namespace {

absl::Status ErrnoError(const std::string& what, const std::string& path,
                        int err) {
  const std::string msg = absl::StrCat(what, " ", path, ": ", strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

}  // namespace

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  std::string out;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      return ErrnoError("cannot read", path, err);
    }
    if (n == 0) break;
    out.append(buf, n);
  }
  close(fd);
  return out;
}

absl::Status CopyFile(const std::string& from, const std::string& to,
                      mode_t mode) {
  const int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", from, ": ",
                                            strerror(errno)));
  }
  const int out =
      open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (out < 0) {
    const int err = errno;
    close(in);
    return absl::InternalError(absl::StrCat("cannot create ", to, ": ",
                                            strerror(err)));
  }
  absl::Status status;
  while (true) {
    const ssize_t n = copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = absl::InternalError(absl::StrCat("cannot copy ", from, " to ",
                                                to, ": ", strerror(errno)));
      break;
    }
  }
  if (fchmod(out, mode) != 0 && status.ok()) {
    status = absl::InternalError(
        absl::StrCat("cannot chmod ", to, ": ", strerror(errno)));
  }
  close(in);
  if (close(out) != 0 && status.ok()) {
    status = absl::InternalError(
        absl::StrCat("cannot close ", to, ": ", strerror(errno)));
  }
  return status;
}

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& data) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", tmp, errno);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return ErrnoError("cannot write", tmp, err);
    }
    done += n;
  }
  const int synced = fsync(fd) == 0 ? 0 : errno;
  const int closed = close(fd) == 0 ? 0 : errno;  // closed either way
  if (synced != 0 || closed != 0) {
    unlink(tmp.c_str());
    return ErrnoError("cannot sync", tmp, synced != 0 ? synced : closed);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return ErrnoError("cannot rename onto", path, err);
  }
  return absl::OkStatus();
}

absl::Status WriteProtoFile(const std::string& path,
                            const google::protobuf::MessageLite& msg) {
  std::string data;
  if (!msg.SerializeToString(&data)) {
    return absl::InternalError(absl::StrCat("cannot serialize ", path));
  }
  return WriteFileAtomically(path, data);
}

absl::Status ReadProtoFile(const std::string& path,
                           google::protobuf::MessageLite* msg) {
  ASSIGN_OR_RETURN(std::string data, ReadFileToString(path));
  if (!msg->ParseFromString(data)) {
    return absl::DataLossError(absl::StrCat("cannot parse ", path));
  }
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return ErrnoError("cannot create directory", path, ec.value());
  return absl::OkStatus();
}

absl::Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return ErrnoError("cannot remove", path, ec.value());
  return absl::OkStatus();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

absl::StatusOr<uint64_t> FileSize(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ErrnoError("cannot stat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (ec) return path;
  return p.lexically_normal().string();
}

namespace {

bool HasGlobMagic(const std::string& pattern) {
  return pattern.find_first_of("*?[{\\") != std::string::npos;
}

const char* FileTypeName(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

// Adds what `path` names to `files`: itself when a regular file, the regular
// files directly in it when a directory (and then the directory itself to
// `dirs`). `listed`: `path` is an entry of a directory being expanded, and is
// skipped when a directory.
absl::Status AddInput(const std::string& path, bool listed,
                      std::vector<std::string>* files,
                      std::vector<std::string>* dirs) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    const int err = errno;
    struct stat link;
    if (err == ENOENT && lstat(path.c_str(), &link) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("input ", path, " is a dangling symbolic link"));
    }
    return ErrnoError("input", path, err);
  }
  if (S_ISREG(st.st_mode)) {
    files->push_back(AbsolutePath(path));
    return absl::OkStatus();
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "input ", path, " is not a regular file (", FileTypeName(st.st_mode),
        ")"));
  }
  if (listed) return absl::OkStatus();  // a subdirectory: not expanded
  if (dirs != nullptr) dirs->push_back(AbsolutePath(path));
  const size_t before = files->size();
  std::error_code ec;
  fs::directory_iterator it(path, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    // Hidden files, and a job output's _SUCCESS marker, are no input (as
    // Hadoop's FileInputFormat has it).
    const std::string name = it->path().filename().string();
    if (!name.empty() && (name[0] == '_' || name[0] == '.')) continue;
    RETURN_IF_ERROR(AddInput(it->path().string(), true, files, dirs));
  }
  if (ec) return ErrnoError("cannot list input directory", path, ec.value());
  if (files->size() == before) {
    return absl::NotFoundError(
        absl::StrCat("input ", path, " holds no regular file"));
  }
  return absl::OkStatus();
}

// The real path of an absolute `path`; `depth` counts the symbolic links
// followed by hand, as the kernel does, against loops.
absl::StatusOr<std::string> ResolveAbsolute(const std::string& path,
                                            int depth) {
  if (depth > 40) return ErrnoError("cannot resolve", path, ELOOP);
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) != nullptr) return std::string(buf);
  if (errno != ENOENT) return ErrnoError("cannot resolve", path, errno);
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  struct stat st;
  if (lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // A dangling symbolic link: where it points is what will be created.
    const ssize_t n = readlink(p.c_str(), buf, sizeof(buf) - 1);
    if (n < 0) return ErrnoError("cannot read link", p, errno);
    const std::string target(buf, n);
    const std::string dir = p.substr(0, p.rfind('/'));
    return ResolveAbsolute(
        target[0] == '/' ? target : absl::StrCat(dir, "/", target), depth + 1);
  }
  const size_t slash = p.rfind('/');
  const std::string last = p.substr(slash + 1);
  ASSIGN_OR_RETURN(std::string base,
                   ResolveAbsolute(slash == 0 ? "/" : p.substr(0, slash), depth));
  if (last.empty() || last == ".") return base;
  if (last == "..") {
    const size_t up = base.rfind('/');
    return up == 0 ? std::string("/") : base.substr(0, up);
  }
  return base == "/" ? "/" + last : absl::StrCat(base, "/", last);
}

// Adds the files `pattern` names (a path, or a glob) to *files.
absl::Status AddPattern(const std::string& pattern,
                        std::vector<std::string>* files,
                        std::vector<std::string>* directories) {
  if (!HasGlobMagic(pattern)) {
    // A plain path: stat(2) tells exactly what is wrong with it.
    return AddInput(pattern, false, files, directories);
  }
  glob_t g;
  const int rc = glob(pattern.c_str(), GLOB_NOSORT | GLOB_BRACE, nullptr, &g);
  if (rc == GLOB_NOMATCH) {
    globfree(&g);
    return absl::NotFoundError(
        absl::StrCat("input ", pattern, " matches no file"));
  }
  if (rc != 0) {
    globfree(&g);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot expand input ", pattern));
  }
  absl::Status s;
  for (size_t i = 0; i < g.gl_pathc && s.ok(); ++i) {
    s = AddInput(g.gl_pathv[i], false, files, directories);
  }
  globfree(&g);
  return s;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ExpandInputs(
    const std::vector<std::string>& patterns,
    std::vector<std::string>* directories,
    std::vector<std::vector<uint32_t>>* named_by) {
  if (patterns.empty()) return absl::InvalidArgumentError("no input given");
  std::vector<std::string> files;
  // (file, the pattern that named it), each time a pattern names a file.
  std::vector<std::pair<std::string, uint32_t>> named;
  for (uint32_t p = 0; p < patterns.size(); ++p) {
    const size_t before = files.size();
    RETURN_IF_ERROR(AddPattern(patterns[p], &files, directories));
    for (size_t i = before; i < files.size(); ++i) named.emplace_back(files[i], p);
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  for (const std::string& f : files) {
    if (access(f.c_str(), R_OK) != 0) return ErrnoError("input", f, errno);
  }
  if (named_by != nullptr) {
    std::sort(named.begin(), named.end());
    named.erase(std::unique(named.begin(), named.end()), named.end());
    named_by->assign(files.size(), {});
    size_t f = 0;
    for (const auto& [path, p] : named) {
      while (files[f] != path) ++f;  // both sorted by path
      (*named_by)[f].push_back(p);
    }
  }
  return files;
}

absl::StatusOr<std::string> ResolvePath(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("empty path");
  if (path[0] == '/') return ResolveAbsolute(path, 0);
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) {
    return ErrnoError("cannot resolve", path, errno);
  }
  return ResolveAbsolute(absl::StrCat(cwd, "/", path), 0);
}

bool PathIsWithin(const std::string& path, const std::string& dir) {
  if (dir.empty() || !absl::StartsWith(path, dir)) return false;
  return path.size() == dir.size() || dir == "/" || path[dir.size()] == '/';
}

}  // namespace mr
