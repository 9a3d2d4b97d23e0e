// A job's shuffle secret: 32 random bytes the master makes when it accepts
// the job, keeps in the job's record, and hands to every attempt of the job
// (TaskAssignment.shuffle_secret). A worker holding a job's map output
// serves it only to a fetch that carries the job's secret (FetchRequest.
// secret), so a reducer of another job, or anyone else who can reach the
// shuffle port, cannot read it.
//
// A secret is never logged, and never part of what clients see (JobStatus,
// `mrctl status --json`): it lives beside the job's spec, not in it.
//
// Thread-safety: the functions are thread-safe.
#ifndef MR_COMMON_SHUFFLE_SECRET_H_
#define MR_COMMON_SHUFFLE_SECRET_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace mr {

constexpr size_t kShuffleSecretBytes = 32;

// kShuffleSecretBytes from the kernel's CSPRNG (getrandom(2), or
// /dev/urandom where that is missing). Aborts the process when neither
// gives randomness: a secret that is not random protects nothing.
std::string NewShuffleSecret();

// Whether `given` is `expected`, in time that depends only on their sizes
// (not on where they first differ). An empty `expected` matches nothing.
bool ShuffleSecretMatches(absl::string_view expected, absl::string_view given);

}  // namespace mr

#endif  // MR_COMMON_SHUFFLE_SECRET_H_
