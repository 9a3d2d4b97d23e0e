// Small filesystem helpers with absl::Status errors that name the path.
#ifndef MR_COMMON_FILE_UTIL_H_
#define MR_COMMON_FILE_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace google {
namespace protobuf {
class MessageLite;
}
}  // namespace google

namespace mr {

absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Writes `data` to a temporary file beside `path`, then renames it over
// `path`: readers see the old contents or the new, never a part.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& data);

absl::Status WriteProtoFile(const std::string& path,
                            const google::protobuf::MessageLite& msg);
absl::Status ReadProtoFile(const std::string& path,
                           google::protobuf::MessageLite* msg);

// mkdir -p.
absl::Status MakeDirs(const std::string& path);

// rm -rf; OK when `path` does not exist.
absl::Status RemoveAll(const std::string& path);

bool PathExists(const std::string& path);
absl::StatusOr<uint64_t> FileSize(const std::string& path);

// Resolves the user's input paths and globs into regular files: sorted,
// without duplicates, made absolute. NotFound names the first path or glob
// that matched nothing; a directory is expanded to the files directly in it.
absl::StatusOr<std::vector<std::string>> ExpandInputs(
    const std::vector<std::string>& patterns);

// The absolute, normalized form of `path` (relative to the cwd).
std::string AbsolutePath(const std::string& path);

}  // namespace mr

#endif  // MR_COMMON_FILE_UTIL_H_
