// The paths running jobs hold, so that a submission that would collide with
// one is refused: each job's output directory (with its staging directory,
// see common/output_layout.h), which no other running job may write to or
// read from, and its input files. Paths are compared in ResolvePath() form
// (common/file_util.h): two spellings of one directory are the same path.
//
// A candidate job collides
//   with itself (CheckOwn()):           PATHS_OVERLAP when its output holds
//                                       one of its inputs, or lies inside a
//                                       directory given as input;
//   with a running job (Check()):       OUTPUT_IN_USE when the two outputs
//                                       are equal or one holds the other;
//                                       PATHS_OVERLAP when one of its inputs
//                                       lies in the running job's output, or
//                                       its output holds one of the running
//                                       job's inputs.
// Every message names both paths (and the running job).
//
// Thread-safety: not thread-safe; JobTracker uses it under its mutex. The
// checks do no I/O.
#ifndef MR_MASTER_PATH_CLAIMS_H_
#define MR_MASTER_PATH_CLAIMS_H_

#include <map>
#include <string>
#include <vector>

namespace mr {

class PathClaims {
 public:
  struct Paths {
    std::string output;                   // the output directory
    std::string staging;                  // its staging directory (may be
                                          // empty for CheckOwn())
    std::vector<std::string> inputs;      // input files, in any order
    std::vector<std::string> input_dirs;  // directories given as input
  };

  struct Conflict {
    enum class Kind { kNone, kOutputInUse, kPathsOverlap };
    Kind kind = Kind::kNone;
    std::string message;
    bool ok() const { return kind == Kind::kNone; }
  };

  static Conflict CheckOwn(const Paths& job);
  Conflict Check(const Paths& candidate) const;

  // Records a running job's paths (input_dirs are not kept).
  void Add(const std::string& job_id, Paths paths);
  // Forgets a job's paths; nothing when it has none.
  void Remove(const std::string& job_id);
  bool Holds(const std::string& job_id) const { return jobs_.count(job_id) > 0; }

 private:
  std::map<std::string, Paths> jobs_;  // inputs sorted
};

}  // namespace mr

#endif  // MR_MASTER_PATH_CLAIMS_H_
