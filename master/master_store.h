// The master's durable state, in its own RocksDB (STATE_DIR/db): every job's
// record (spec, input, splits, state), every finished task (a map's output
// attempt, a reduce's commit, with their counters), and the id counters.
// Written with the WAL on (not synced: the state survives the master
// process being killed, which is what the master must survive; a machine
// crash may lose the last writes).
//
// Keys: "ids", "job/<job id>", "task/<job id>/<M|R><index:08d>".
//
// Thread-safety: thread-safe (RocksDB is).
#ifndef MR_MASTER_MASTER_STORE_H_
#define MR_MASTER_MASTER_STORE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "absl/status/statusor.h"
#include "proto/mr.pb.h"

namespace mr {

class MasterStore {
 public:
  struct State {
    mrpb::MasterIds ids;
    std::vector<mrpb::JobRecord> jobs;  // in job id order
    std::map<std::string, std::vector<mrpb::TaskRecord>> tasks;  // by job
  };

  static absl::StatusOr<std::unique_ptr<MasterStore>> Open(
      const std::string& dir);

  absl::StatusOr<State> Load();

  absl::Status PutIds(const mrpb::MasterIds& ids);
  absl::Status PutJob(const mrpb::JobRecord& job);
  absl::Status PutTask(const std::string& job_id, const mrpb::TaskRecord& task);

 private:
  explicit MasterStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
  absl::Status Put(const std::string& key,
                   const google::protobuf::MessageLite& value);

  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace mr

#endif  // MR_MASTER_MASTER_STORE_H_
