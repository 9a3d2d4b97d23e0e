#include "master/master_store.h"

#include <rocksdb/options.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/table_cache_shards.h"

namespace mr {
namespace {

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MasterStore>> MasterStore::Open(
    const std::string& dir) {
  if (absl::Status s = MakeDirs(dir); !s.ok()) return s;
  rocksdb::Options options;
  options.create_if_missing = true;
  options.compression = rocksdb::kLZ4Compression;
  options.max_background_jobs = 1;
  options.keep_log_file_num = 2;
  // A small store (jobs, finished tasks) that compaction keeps to a few
  // files; the bound only guards the master's descriptors, which its gRPC
  // connections to every worker and client also need.
  options.max_open_files = 64;
  options.table_cache_numshardbits = TableCacheShardBits(options.max_open_files);
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening master state ", dir));
  return std::unique_ptr<MasterStore>(
      new MasterStore(std::unique_ptr<rocksdb::DB>(db)));
}

absl::Status MasterStore::Put(const std::string& key,
                              const google::protobuf::MessageLite& value) {
  std::string bytes;
  value.SerializeToString(&bytes);
  return FromRocks(db_->Put(rocksdb::WriteOptions(), key, bytes),
                   absl::StrCat("writing master state ", key));
}

absl::Status MasterStore::PutIds(const mrpb::MasterIds& ids) {
  return Put("ids", ids);
}

absl::Status MasterStore::PutJob(const mrpb::JobRecord& job) {
  return Put(absl::StrCat("job/", job.job_id()), job);
}

absl::Status MasterStore::PutTask(const std::string& job_id,
                                  const mrpb::TaskRecord& task) {
  return Put(absl::StrFormat("task/%s/%c%08d", job_id,
                             task.kind() == mrpb::MAP ? 'M' : 'R', task.index()),
             task);
}

absl::StatusOr<MasterStore::State> MasterStore::Load() {
  State state;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    const std::string value = it->value().ToString();
    bool parsed = true;
    if (key == "ids") {
      parsed = state.ids.ParseFromString(value);
    } else if (HasPrefix(key, "job/")) {
      mrpb::JobRecord job;
      parsed = job.ParseFromString(value);
      state.jobs.push_back(std::move(job));
    } else if (HasPrefix(key, "task/")) {
      mrpb::TaskRecord task;
      parsed = task.ParseFromString(value);
      const std::string job_id = key.substr(5, key.rfind('/') - 5);
      state.tasks[job_id].push_back(std::move(task));
    }
    if (!parsed) {
      return absl::DataLossError(absl::StrCat("master state ", key,
                                              " does not parse"));
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading master state");
  return state;
}

}  // namespace mr
