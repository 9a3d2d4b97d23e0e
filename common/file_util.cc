#include "common/file_util.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <google/protobuf/message_lite.h>

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
  if (fsync(fd) != 0 || close(fd) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return ErrnoError("cannot sync", tmp, err);
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

absl::StatusOr<std::vector<std::string>> ExpandInputs(
    const std::vector<std::string>& patterns) {
  if (patterns.empty()) return absl::InvalidArgumentError("no input given");
  std::vector<std::string> files;
  for (const std::string& pattern : patterns) {
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
    size_t matched = 0;
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      const std::string path = g.gl_pathv[i];
      std::error_code ec;
      if (fs::is_directory(path, ec)) {
        for (const auto& entry : fs::directory_iterator(path, ec)) {
          if (entry.is_regular_file()) {
            files.push_back(AbsolutePath(entry.path().string()));
            ++matched;
          }
        }
      } else if (fs::is_regular_file(path, ec)) {
        files.push_back(AbsolutePath(path));
        ++matched;
      }
    }
    globfree(&g);
    if (matched == 0) {
      return absl::NotFoundError(
          absl::StrCat("input ", pattern, " holds no regular file"));
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  for (const std::string& f : files) {
    if (access(f.c_str(), R_OK) != 0) {
      return ErrnoError("cannot read input", f, errno);
    }
  }
  return files;
}

}  // namespace mr
