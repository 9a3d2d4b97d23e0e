// Replaces a directory by a complete new version, built beside it, in one
// atomic step: readers, and a process killed at any point, find either the
// old version or the new one at the target, never a mix and never none.
//
//   StagedDirectory out("/data/out", "job-000042");
//   RETURN_IF_ERROR(out.Create());    // an empty /data/.out.job-000042.staging
//   ... write the new version into out.staging_path() ...
//   RETURN_IF_ERROR(out.Publish("_VERSION", "job-000042 ...\n", {}));
//
// The staging directory is a sibling of the target (so both lie on one
// filesystem and a rename moves it), named after the target and a tag unique
// to the writer, such as a job id: PARENT/.NAME.TAG.staging.
//
// Publish() writes a marker file into the staging directory, holding a token
// that names this version, and then makes the staging directory the target:
//   - when a target exists and may be replaced, renameat2(RENAME_EXCHANGE)
//     swaps the two directories in one step, and the old version, now at the
//     staging path, is removed afterwards;
//   - when there is no target (or, with Replace::kNever, an empty
//     directory), rename(2) moves the staging directory there.
//
// Crash safety. A process killed at any point of Publish() leaves one of:
//   (a) target: the old version (or nothing); staging: the new version, with
//       or without its marker;
//   (b) target: the new version; staging: the old version (after the swap);
//   (c) target: the new version; no staging directory.
// Calling Publish() again with the same token finishes the job from each: it
// tells (b) and (c) from (a) by the token in the target's marker. Discard()
// removes the staging directory: in (a) that drops the new version, in (b)
// the old one; either way the target keeps a complete version. So a
// recovering caller either publishes again or discards, and never needs to
// know which state it is in.
//
// The token must differ from that of every version the target may hold
// (include a job id and a time in it).
//
// Thread-safety: the object is immutable and its methods may be called from
// any thread; operations on one target from several processes or threads at
// once are the caller's to prevent.
#ifndef MR_COMMON_STAGED_DIRECTORY_H_
#define MR_COMMON_STAGED_DIRECTORY_H_

#include <functional>
#include <string>

#include "absl/status/status.h"

namespace mr {

class StagedDirectory {
 public:
  // What Publish() may do to an existing target.
  enum class Replace {
    // Only an empty directory may be replaced; anything else makes
    // Publish() fail (FailedPrecondition) and stay as it was.
    kNever,
    // Whatever is at the target is replaced, and removed after the swap.
    kAlways,
  };

  // The points of Publish() where a test may inject a failure.
  enum class Point {
    kBeforeSwap,  // the marker is written, nothing else changed
    kAfterSwap,   // the new version is the target; the old one not removed
  };

  struct PublishOptions {
    // Default: kAlways.
    Replace replace = Replace::kAlways;
    // Test-only fault injection: called at each Point; a non-OK status ends
    // Publish() right there with that status, as if the process had died
    // (a hook may also kill the process). Default: none.
    std::function<absl::Status(Point)> inject;
  };

  // `target`: an absolute path in ResolvePath() form (common/file_util.h),
  // not "/". `tag`: non-empty, without '/'.
  StagedDirectory(std::string target, const std::string& tag);

  const std::string& target() const { return target_; }
  const std::string& staging_path() const { return staging_; }

  // Creates the parent directories as needed and an empty staging
  // directory, removing a leftover one with the same tag first.
  absl::Status Create() const;

  // Makes the staging directory, with `marker` (a file name) holding
  // `token`, the target; see the class comment. Idempotent, and the way to
  // finish after a crash. FailedPrecondition (nothing changed) when the
  // staging directory is missing and the target does not hold the token,
  // when Replace::kNever finds a target that is not an empty directory, or
  // when the filesystem cannot exchange two directories atomically.
  // Once the swap is done Publish() succeeds: failing to remove the old
  // version is only logged (it is left at staging_path()).
  absl::Status Publish(const std::string& marker, const std::string& token,
                       const PublishOptions& options) const;

  // Whether the target holds the version whose marker holds `token`.
  bool IsPublished(const std::string& marker, const std::string& token) const;

  // Removes the staging directory (OK when there is none). See the class
  // comment for what it holds after a crash.
  absl::Status Discard() const;

 private:
  // Swaps (or moves) the staging directory into place.
  absl::Status Swap(Replace replace) const;

  const std::string target_;
  const std::string staging_;
};

}  // namespace mr

#endif  // MR_COMMON_STAGED_DIRECTORY_H_
