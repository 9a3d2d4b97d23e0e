// The on-disk layout of a job's output, and its life from submission to
// commit. The master (which prepares and commits the output) and the workers
// (whose reduce attempts write into it) both go through this class; no other
// code spells these names.
//
//   OUTPUT/                                 the committed output
//     part-r-00000 .. part-r-<R-1>          one file per reduce (a map-only
//                                           job: part-m-NNNNN, one per map)
//     NAME-r-NNNNN                          a side output's file (see
//                                           Context::EmitTo()), when the
//                                           task wrote one
//     _SUCCESS                              names the job that committed it
//   PARENT/.NAME.<job-id>.staging/          the output being built
//     _temporary/attempt-<id>/part-r-NNNNN  a reduce attempt's file
//     part-r-NNNNN                          a committed reduce's file
//     _SUCCESS                              written by Commit() just before
//                                           the staged output replaces OUTPUT
//
// A job's output life:
//   master, at submission      CheckTarget(), then Prepare()
//   reduce attempt             CreateAttemptDir(), then writes AttemptFile()
//   worker, commit granted     CommitAttempt(): the file becomes the staged
//                              part file (only the attempt the master names)
//   worker, attempt ended      RemoveAttempt()
//   master, all reduces done   Commit(): the staged directory replaces OUTPUT
//                              in one atomic step (StagedDirectory), and the
//                              previous output is removed only after that
//   master, job failed/killed  Abort(): the staging directory goes; OUTPUT
//                              stays byte for byte as it was
//
// So a previous output stays complete and readable until the new one
// replaces it, and a job that never commits leaves nothing behind. A master
// killed during Commit() calls Commit() again when it restarts; see
// StagedDirectory for why that always ends with exactly one complete output.
//
// Thread-safety: immutable; methods may be called from any thread.
#ifndef MR_COMMON_OUTPUT_LAYOUT_H_
#define MR_COMMON_OUTPUT_LAYOUT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "common/staged_directory.h"

namespace mr {

class OutputLayout {
 public:
  // Whose files the parts are: reduces' (part-r-NNNNN), or a map-only
  // job's maps' (part-m-NNNNN).
  enum class Parts { kReduce, kMap };

  // `output_dir`: the job's output in ResolvePath() form (absolute, real),
  // not "/". `job_id` names the staging directory.
  OutputLayout(std::string output_dir, std::string job_id,
               Parts parts = Parts::kReduce);

  const std::string& output_dir() const { return staging_.target(); }
  const std::string& staging_dir() const { return staging_.staging_path(); }
  // Where reduce attempts write while they run.
  std::string temporary_dir() const;
  std::string AttemptDir(uint64_t attempt) const;
  std::string AttemptFile(uint64_t attempt, uint32_t partition) const;
  // A committed reduce's file, in the staging directory.
  std::string StagedPartFile(uint32_t partition) const;

  // "part-r-00007": the name of partition 7's file ("part-m-00007" for
  // map 7 of a map-only job).
  static std::string PartFileName(uint32_t partition,
                                  Parts parts = Parts::kReduce);

  // Side outputs (Context::EmitTo()). A name is 1 to 32 of [a-z0-9_],
  // starting with a letter, and not "part": InvalidArgument otherwise.
  static absl::Status CheckSideOutputName(const std::string& name);
  // "dead_letter-r-00007".
  std::string SideFileName(const std::string& name, uint32_t partition) const;
  std::string AttemptSideFile(uint64_t attempt, const std::string& name,
                              uint32_t partition) const;

  // Whether `output_dir` may receive a new job's output. OK when it does
  // not exist, or is an empty directory, or `overwrite` and it is a
  // directory. AlreadyExists (suggesting --overwrite) when it holds a
  // committed output (_SUCCESS) or other entries; FailedPrecondition when
  // it is not a directory.
  static absl::Status CheckTarget(const std::string& output_dir,
                                  bool overwrite);

  // ---- master

  // Creates an empty staging directory with its _temporary directory (and
  // the output's parents), replacing a leftover one of this job.
  absl::Status Prepare() const;

  // What _SUCCESS holds once this job's output is committed: the job id
  // and its submission time (so it differs from any earlier job's).
  std::string CommitToken(int64_t submit_time_ms) const;

  struct CommitOptions {
    // Replace an existing output (the job's --overwrite). Default: false:
    // the output must then be absent or an empty directory.
    bool overwrite = false;
    // Test-only fault injection, passed to StagedDirectory::Publish().
    // Default: none.
    std::function<absl::Status(StagedDirectory::Point)> inject;
  };

  // Publishes the staged output, with _SUCCESS holding `token`: removes
  // _temporary, checks that part files 0 .. num_parts-1 are staged, then
  // replaces the output with the staging directory. Idempotent: after a
  // crash at any point, calling it again finishes the commit.
  // FailedPrecondition (the output untouched) when a part file is missing,
  // the staging directory is gone, or the output may not be replaced.
  absl::Status Commit(uint32_t num_parts, const std::string& token,
                      const CommitOptions& options) const;

  // Whether the output is the one committed with `token`.
  bool IsCommitted(const std::string& token) const;

  // Removes the staging directory. The output is left as it was (or, when
  // a crashed Commit() had already swapped, as the job committed it).
  absl::Status Abort() const;

  // ---- workers

  // Creates AttemptDir(). FailedPrecondition when the job's _temporary
  // directory is gone (the job has ended): a late attempt never recreates
  // a staging directory.
  absl::Status CreateAttemptDir(uint64_t attempt) const;

  // Renames the attempt's side files (and removes the staged side files of
  // this partition that the attempt did not write: an earlier attempt's),
  // then its part file, to the staged files, then removes the attempt's
  // directory. The part file goes last, so a crash in between leaves the
  // task uncommitted and the next committing attempt replaces every file
  // of the partition. REQUIRES: the master granted this attempt the commit.
  absl::Status CommitAttempt(uint64_t attempt, uint32_t partition) const;

  // Removes the attempt's directory, whatever it holds. Never fails.
  void RemoveAttempt(uint64_t attempt) const;

 private:
  const std::string job_id_;
  const Parts parts_;
  const StagedDirectory staging_;
};

}  // namespace mr

#endif  // MR_COMMON_OUTPUT_LAYOUT_H_
