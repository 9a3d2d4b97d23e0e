#include "master/path_claims.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace mr {
namespace {

using Conflict = PathClaims::Conflict;

Conflict Make(Conflict::Kind kind, std::string message) {
  Conflict c;
  c.kind = kind;
  c.message = std::move(message);
  return c;
}

// A path in `sorted` that is `dir` or lies below it, or null.
const std::string* FindWithin(const std::vector<std::string>& sorted,
                              const std::string& dir) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), dir);
  if (it != sorted.end() && *it == dir) return &*it;
  // Everything below `dir` sorts together, after dir + "/".
  const std::string prefix = dir == "/" ? dir : dir + "/";
  it = std::lower_bound(it, sorted.end(), prefix);
  if (it != sorted.end() && absl::StartsWith(*it, prefix)) return &*it;
  return nullptr;
}

bool Nested(const std::string& a, const std::string& b) {
  return PathIsWithin(a, b) || PathIsWithin(b, a);
}

}  // namespace

Conflict PathClaims::CheckOwn(const Paths& job) {
  for (const std::string& in : job.inputs) {
    for (const std::string* out : {&job.output, &job.staging}) {
      if (!PathIsWithin(in, *out)) continue;
      return Make(Conflict::Kind::kPathsOverlap,
                  in == job.output
                      ? absl::StrCat("the output ", job.output,
                                     " is one of the inputs")
                      : absl::StrCat("the output ", job.output,
                                     " holds the input ", in));
    }
  }
  for (const std::string& dir : job.input_dirs) {
    if (PathIsWithin(job.output, dir)) {
      return Make(Conflict::Kind::kPathsOverlap,
                  absl::StrCat("the output ", job.output,
                               " lies inside the input directory ", dir));
    }
  }
  return Conflict();
}

Conflict PathClaims::Check(const Paths& c) const {
  std::vector<std::string> inputs = c.inputs;
  std::sort(inputs.begin(), inputs.end());
  for (const auto& [id, j] : jobs_) {
    const std::string of = absl::StrCat(", the output of running job ", id);
    if (c.output == j.output) {
      return Make(Conflict::Kind::kOutputInUse,
                  absl::StrCat("the output ", c.output,
                               " is also the output of running job ", id));
    }
    if (PathIsWithin(c.output, j.output)) {
      return Make(Conflict::Kind::kOutputInUse,
                  absl::StrCat("the output ", c.output, " lies inside ",
                               j.output, of));
    }
    if (PathIsWithin(j.output, c.output)) {
      return Make(Conflict::Kind::kOutputInUse,
                  absl::StrCat("the output ", c.output, " holds ", j.output,
                               of));
    }
    if (Nested(c.output, j.staging) || Nested(c.staging, j.output) ||
        Nested(c.staging, j.staging)) {
      return Make(Conflict::Kind::kOutputInUse,
                  absl::StrCat("the output ", c.output, " overlaps ",
                               j.staging,
                               ", the staging directory of running job ", id));
    }
    for (const std::string* dir : {&j.output, &j.staging}) {
      if (const std::string* in = FindWithin(inputs, *dir)) {
        return Make(Conflict::Kind::kPathsOverlap,
                    absl::StrCat("the input ", *in, " lies inside ", *dir,
                                 dir == &j.output
                                     ? of
                                     : absl::StrCat(", the staging directory "
                                                    "of running job ", id)));
      }
    }
    for (const std::string* dir : {&c.output, &c.staging}) {
      if (const std::string* in = FindWithin(j.inputs, *dir)) {
        return Make(Conflict::Kind::kPathsOverlap,
                    absl::StrCat("the output ", c.output, " holds ", *in,
                                 ", an input of running job ", id));
      }
    }
  }
  return Conflict();
}

void PathClaims::Add(const std::string& job_id, Paths paths) {
  std::sort(paths.inputs.begin(), paths.inputs.end());
  paths.input_dirs.clear();
  jobs_[job_id] = std::move(paths);
}

void PathClaims::Remove(const std::string& job_id) { jobs_.erase(job_id); }

}  // namespace mr
