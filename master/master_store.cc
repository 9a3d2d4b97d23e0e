#include "master/master_store.h"

#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/names.h"
#include "common/status_macros.h"
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

constexpr char kQuarantinePrefix[] = "quarantine/";

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

namespace {

std::string JobKey(const std::string& job_id) {
  return absl::StrCat("job/", job_id);
}

std::string TaskKey(const std::string& job_id, const mrstate::TaskRecord& task) {
  return absl::StrFormat("task/%s/%c%08d", job_id,
                         task.kind() == mrstate::MAP ? 'M' : 'R', task.index());
}

}  // namespace

void MasterStore::Batch::Put(const std::string& key,
                             const google::protobuf::MessageLite& value) {
  puts_.emplace_back(key, value.SerializeAsString());
}

void MasterStore::Batch::Append(Batch later) {
  for (auto& put : later.puts_) puts_.push_back(std::move(put));
}

void MasterStore::Batch::PutIds(const mrstate::MasterIds& ids) {
  Put("ids", ids);
}

void MasterStore::Batch::PutJob(const mrstate::JobRecord& job) {
  Put(JobKey(job.job_id()), job);
}

void MasterStore::Batch::PutTask(const std::string& job_id,
                                 const mrstate::TaskRecord& task) {
  Put(TaskKey(job_id, task), task);
}

absl::Status MasterStore::Write(Batch* batch) {
  if (batch->empty()) return absl::OkStatus();
  rocksdb::WriteBatch write;
  for (const auto& [key, value] : batch->puts_) write.Put(key, value);
  absl::Status s = FromRocks(db_->Write(rocksdb::WriteOptions(), &write),
                             "writing master state");
  if (s.ok()) batch->puts_.clear();
  return s;
}

absl::Status MasterStore::PutIds(const mrstate::MasterIds& ids) {
  Batch batch;
  batch.PutIds(ids);
  return Write(&batch);
}

absl::Status MasterStore::PutJob(const mrstate::JobRecord& job) {
  Batch batch;
  batch.PutJob(job);
  return Write(&batch);
}

absl::Status MasterStore::PutTask(const std::string& job_id,
                                  const mrstate::TaskRecord& task) {
  Batch batch;
  batch.PutTask(job_id, task);
  return Write(&batch);
}

absl::Status MasterStore::PutRawForTest(const std::string& key,
                                       const std::string& bytes) {
  return FromRocks(db_->Put(rocksdb::WriteOptions(), key, bytes),
                   absl::StrCat("writing master state ", key));
}

absl::Status MasterStore::Quarantine(const std::string& key,
                                     const std::string& value) {
  rocksdb::WriteBatch batch;
  batch.Put(absl::StrCat(kQuarantinePrefix, key), value);
  batch.Delete(key);
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                   absl::StrCat("quarantining master state ", key));
}

absl::StatusOr<MasterStore::State> MasterStore::Load() {
  State state;
  std::vector<std::pair<std::string, std::string>> bad;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    const std::string value = it->value().ToString();
    bool parsed = true;
    if (key == "ids") {
      parsed = state.ids.ParseFromString(value);
      state.has_ids = parsed;
    } else if (absl::StartsWith(key, "job/")) {
      mrstate::JobRecord job;
      parsed = job.ParseFromString(value) &&
               key == absl::StrCat("job/", job.job_id());
      if (parsed) state.jobs.push_back(std::move(job));
    } else if (absl::StartsWith(key, "task/")) {
      mrstate::TaskRecord task;
      parsed = task.ParseFromString(value) && key.rfind('/') > 5;
      if (parsed) {
        const std::string job_id = key.substr(5, key.rfind('/') - 5);
        state.tasks[job_id].push_back(std::move(task));
      }
    }
    if (!parsed) bad.emplace_back(key, value);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading master state");
  it.reset();
  for (const auto& [key, value] : bad) {
    MR_LOG(ERROR) << "master state record " << EscapeName(key)
                  << " does not parse (" << value.size()
                  << " bytes); moved to " << kQuarantinePrefix
                  << EscapeName(key) << " and left out";
    RETURN_IF_ERROR(Quarantine(key, value));
    state.quarantined.push_back(key);
  }
  return state;
}

}  // namespace mr
