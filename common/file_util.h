// Small filesystem helpers with absl::Status errors that name the path.
#ifndef MR_COMMON_FILE_UTIL_H_
#define MR_COMMON_FILE_UTIL_H_

#include <sys/types.h>

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

// Copies the file `from` to a new file `to` (replacing any) with `mode`,
// in the kernel (copy_file_range). Errors name the path that failed.
absl::Status CopyFile(const std::string& from, const std::string& to,
                      mode_t mode);

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
// without duplicates, made absolute. A directory (named or matched by a glob)
// is expanded to the files directly in it; its subdirectories are skipped.
// When `directories` is not null, the directories so expanded are appended
// to it (absolute).
// A directory's files whose names start with '_' or '.' (a job output's
// _SUCCESS, hidden files) are left out, as Hadoop's FileInputFormat does.
// Errors, each naming the path or glob:
//   InvalidArgument    no pattern, or a glob that cannot be expanded;
//   NotFound           a path or glob that matches nothing, or a directory
//                      that holds no regular file;
//   PermissionDenied   a file or directory that cannot be read;
//   FailedPrecondition a match that is neither a regular file nor a
//                      directory (a FIFO, a device, a socket), or a dangling
//                      symbolic link;
//   Internal           another error of the filesystem.
// When `named_by` is not null, it is set parallel to the result: for each
// file, the indices in `patterns` that name it, ascending.
absl::StatusOr<std::vector<std::string>> ExpandInputs(
    const std::vector<std::string>& patterns,
    std::vector<std::string>* directories = nullptr,
    std::vector<std::vector<uint32_t>>* named_by = nullptr);

// The absolute, normalized form of `path` (relative to the cwd), purely
// lexical: symbolic links are not followed, and "a/link/.." becomes "a".
std::string AbsolutePath(const std::string& path);

// The real path of `path` (relative to the cwd): absolute, without ".",
// ".." or repeated and trailing slashes, every symbolic link resolved. A path
// that does not exist (yet) is resolved up to its deepest existing ancestor,
// and the rest is appended lexically. Two spellings of one directory resolve
// to the same string. Errors (naming the path) other than a missing
// component: a component that is not a directory (Internal), one that cannot
// be searched (PermissionDenied), a symbolic link loop (Internal).
absl::StatusOr<std::string> ResolvePath(const std::string& path);

// Whether `path` is `dir` or lies below it, comparing whole components
// ("/a/bc" is not within "/a/b"). Both must be in ResolvePath()'s form;
// nothing is within an empty `dir`.
bool PathIsWithin(const std::string& path, const std::string& dir);

}  // namespace mr

#endif  // MR_COMMON_FILE_UTIL_H_
