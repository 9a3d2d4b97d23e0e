// Which directories a cluster's jobs may read and write: the master's and
// the workers' --allowed_input_roots and --allowed_output_roots.
//
// A policy holds two lists of roots, one for inputs and one for outputs,
// each an existing directory resolved with realpath(3) when the policy is
// made (so a root given through a symbolic link, or with a trailing slash,
// is its real directory). A path is allowed when, in its canonical form, it
// is one of the roots of its kind or lies below one, comparing whole path
// components: "/data/out2" is not inside "/data/out". An empty list
// restricts nothing of its kind (and costs no I/O).
//
// The canonical form of a path (Canonicalize()): the real path of its
// longest existing ancestor (every symbolic link in it resolved, "." and
// ".." applied), then the components that do not exist yet, appended as
// they are. Those must not be "." or "..": what they would mean depends on
// directories that do not exist yet. A dangling symbolic link is followed
// to where it points (what a write through it would create). So
//   /data/out/../etc              resolves outside /data/out;
//   /data/out/link/x, link -> /etc resolves to /etc/x;
//   /data/out/new/../../etc       is refused for its "..".
// Relative paths are refused: there is no working directory they could be
// trusted to mean.
//
// Refusals are PermissionDenied, naming the path, what it resolved to when
// that differs, the allowed roots and the flag that sets them:
//   output /data/out/../etc resolves to /data/etc, outside the allowed
//   output roots /data/out (--allowed_output_roots)
//
// A check looks at the filesystem as it is at the call: a process that can
// write inside a root and swaps a directory for a symbolic link between the
// check and the write is not stopped. Callers check right before they write
// (the worker before each attempt and again before its commit renames).
//
// Thread-safety: immutable after creation; the checks may be called from
// any thread.
#ifndef MR_COMMON_PATH_POLICY_H_
#define MR_COMMON_PATH_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mr {

class PathPolicy {
 public:
  // Restricts nothing.
  PathPolicy() = default;

  // A policy of these roots (absolute directories). InvalidArgument naming
  // the flag (--allowed_input_roots or --allowed_output_roots) when a root
  // is relative, does not exist, or is not a directory.
  static absl::StatusOr<PathPolicy> Create(
      const std::vector<std::string>& input_roots,
      const std::vector<std::string>& output_roots);

  // The same from the flags' values: comma-separated roots ("" for none;
  // empty entries are ignored).
  static absl::StatusOr<PathPolicy> FromFlags(const std::string& input_roots,
                                              const std::string& output_roots);

  // OK when `path` may be read (written): no roots of its kind, or inside
  // one. PermissionDenied otherwise, or when the path cannot be resolved
  // (a component that is not a directory or cannot be searched, a loop of
  // symbolic links); the message starts with "input PATH" ("output PATH").
  absl::Status CheckInput(const std::string& path) const;
  absl::Status CheckOutput(const std::string& path) const;

  // CheckOutput() of a job's output directory, and of its parent: a job
  // stages its output beside it (common/output_layout.h), so an output
  // that is itself a root is refused with a message that says so.
  absl::Status CheckOutputDir(const std::string& path) const;

  bool restricts_inputs() const { return !input_roots_.empty(); }
  bool restricts_outputs() const { return !output_roots_.empty(); }
  // The roots, resolved.
  const std::vector<std::string>& input_roots() const { return input_roots_; }
  const std::vector<std::string>& output_roots() const { return output_roots_; }

  // "inputs under /a, /b; outputs anywhere", for a daemon's start-up log.
  std::string Describe() const;

  // The canonical form of an absolute `path` (see above). InvalidArgument
  // for a relative path or "."/".." among the components that do not exist;
  // NotFound/PermissionDenied/Internal (naming the path) when it cannot be
  // resolved.
  static absl::StatusOr<std::string> Canonicalize(const std::string& path);

 private:
  // `kind` is "input" or "output"; `flag` names the roots' flag.
  static absl::Status Check(const std::vector<std::string>& roots,
                            const char* kind, const char* flag,
                            const std::string& path);

  std::vector<std::string> input_roots_;
  std::vector<std::string> output_roots_;
};

}  // namespace mr

#endif  // MR_COMMON_PATH_POLICY_H_
