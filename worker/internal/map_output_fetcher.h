// Fetches one reduce partition from every map output's worker, at most
// `parallelism` fetches at a time, into local run files (one per map run).
// Each batch's checksum is verified before it is written; a corrupt batch or
// a broken stream is fetched again (up to 3 tries per map output).
//
// Thread-safety: FetchAll() is called once, from one thread; it runs its own
// fetch threads.
#ifndef MR_WORKER_INTERNAL_MAP_OUTPUT_FETCHER_H_
#define MR_WORKER_INTERNAL_MAP_OUTPUT_FETCHER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/worker.pb.h"

namespace mr {

// Where map outputs are, when the one a reducer was given cannot be fetched.
class MapOutputLocator {
 public:
  virtual ~MapOutputLocator() = default;
  // Reports that `loc` cannot be fetched (the master then re-runs that map)
  // and waits for the map's new output. Aborted when the reduce attempt is
  // no longer wanted; DeadlineExceeded when no new output appears in time.
  virtual absl::StatusOr<mrpb::MapOutputLocation> Relocate(
      const mrpb::MapOutputLocation& loc, const absl::Status& error) = 0;
};

struct FetchResult {
  std::vector<std::string> run_files;  // in (map index, run) order
  int64_t shuffle_bytes = 0;           // compressed bytes received
};

// Fetches `partition` of every map in `outputs` into `dir`, each request
// carrying the job's `secret` (common/shuffle_secret.h). A map output
// that stays unreachable or corrupt after 3 tries is handed to `locator`
// (when not null) for a new copy. Otherwise Unavailable/NotFound/DataLoss
// name the map and the worker. A worker that refuses the secret
// (PermissionDenied) is not asked again: that copy was stored under another
// secret (a worker from before secrets, a restored job given a new one), so
// it goes to `locator` at once, and a map run again is stored under the
// job's secret.
absl::StatusOr<FetchResult> FetchPartition(
    const std::string& job_id, const std::string& secret, uint32_t partition,
    const std::vector<mrpb::MapOutputLocation>& outputs, const std::string& dir,
    uint32_t parallelism, MapOutputLocator* locator);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_MAP_OUTPUT_FETCHER_H_
