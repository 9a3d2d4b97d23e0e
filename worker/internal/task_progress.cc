#include "worker/internal/task_progress.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace mr {

absl::Status CreateTaskProgressFile(const std::string& path) {
  return WriteFileAtomically(path, std::string(sizeof(TaskProgress), '\0'));
}

absl::StatusOr<TaskProgress*> TaskProgressFile(const std::string& path) {
  if (path.empty()) return new TaskProgress{};  // lives as long as a mapping
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", path, ": ", strerror(errno)));
  }
  void* p = mmap(nullptr, sizeof(TaskProgress), PROT_READ | PROT_WRITE,
                 MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    return absl::InternalError(
        absl::StrCat("cannot map ", path, ": ", strerror(errno)));
  }
  return static_cast<TaskProgress*>(p);
}

std::vector<uint64_t> SkippedOffsets(const mrpb::TaskAssignment& assignment,
                                     const std::string& path) {
  std::vector<uint64_t> skip;
  for (const auto& r : assignment.skip_records()) {
    if (r.path() == path) skip.push_back(r.offset());
  }
  std::sort(skip.begin(), skip.end());
  return skip;
}

absl::StatusOr<TaskProgress> ReadTaskProgress(const std::string& path) {
  auto data = ReadFileToString(path);
  if (!data.ok()) return data.status();
  if (data->size() < sizeof(TaskProgress)) {
    return absl::DataLossError(absl::StrCat(path, " is too short"));
  }
  TaskProgress p;
  memcpy(&p, data->data(), sizeof(p));
  return p;
}

}  // namespace mr
