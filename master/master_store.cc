#include "master/master_store.h"

#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/job_limits.h"
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
constexpr char kPipelinePrefix[] = "pipeline/";

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

absl::Status MasterStore::PutPipelineRun(const mrpb::PipelineRun& run) {
  Batch batch;
  batch.Put(absl::StrCat(kPipelinePrefix, run.run_id()), run);
  return Write(&batch);
}

absl::StatusOr<std::vector<mrpb::PipelineRun>> MasterStore::LoadPipelineRuns() {
  std::vector<mrpb::PipelineRun> runs;
  std::vector<std::pair<std::string, std::string>> bad;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(kPipelinePrefix);
       it->Valid() && it->key().starts_with(kPipelinePrefix); it->Next()) {
    mrpb::PipelineRun run;
    const std::string key = it->key().ToString();
    if (!run.ParseFromString(it->value().ToString()) ||
        key != absl::StrCat(kPipelinePrefix, run.run_id()) || run.run_id().empty()) {
      bad.emplace_back(key, it->value().ToString());
      continue;
    }
    runs.push_back(std::move(run));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading pipeline runs");
  it.reset();
  for (const auto& [key, value] : bad) {
    MR_LOG(ERROR) << "pipeline run record " << EscapeName(key)
                  << " does not parse or names another run; moved to "
                  << kQuarantinePrefix << EscapeName(key) << " and left out";
    if (absl::Status s = Quarantine(key, value); !s.ok()) return s;
  }
  return runs;
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

absl::Status MasterStore::ClearForTest() {
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) batch.Delete(it->key());
  if (!it->status().ok()) return FromRocks(it->status(), "reading master state");
  it.reset();
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                   "clearing master state");
}

absl::Status MasterStore::Quarantine(const std::string& key,
                                     const std::string& value) {
  rocksdb::WriteBatch batch;
  batch.Put(absl::StrCat(kQuarantinePrefix, key), value);
  batch.Delete(key);
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                   absl::StrCat("quarantining master state ", key));
}

namespace {

// ResolvePath()'s form: absolute, no empty, "." or ".." component (so no
// repeated or trailing slash), no NUL, and not "/".
bool IsResolvedPath(const std::string& path) {
  if (path.size() < 2 || path[0] != '/' ||
      path.find('\0') != std::string::npos) {
    return false;
  }
  for (absl::string_view part : absl::StrSplit(path.substr(1), '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

absl::Status Unusable(const std::string& key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(EscapeName(key), ": ", why));
}

}  // namespace

absl::Status MasterStore::CheckJob(const std::string& key,
                                   const mrstate::JobRecord& job) {
  const std::string& id = job.job_id();
  if (key != JobKey(id)) {
    return Unusable(key, absl::StrCat("holds job ", EscapeName(id)));
  }
  if (id.empty() || id.find('/') != std::string::npos ||
      id.find('\0') != std::string::npos) {
    return Unusable(key, "the job id is not a file name");
  }
  if (!IsResolvedPath(job.spec().output_dir())) {
    return Unusable(key, absl::StrCat("the output ",
                                      EscapeName(job.spec().output_dir()),
                                      " is not an absolute real path"));
  }
  if (job.state() < mrstate::RUNNING || job.state() > mrstate::KILLED) {
    return Unusable(key, absl::StrCat("unknown job state ", job.state()));
  }
  if (job.splits_size() == 0) return Unusable(key, "no input split");
  const uint32_t reduces = job.spec().num_reduces();
  if (job.spec().map_only() && reduces != 0) {
    return Unusable(key, absl::StrCat("a map-only job with ", reduces,
                                      " reduces"));
  }
  if (!job.spec().map_only() && (reduces == 0 || reduces > kMaxReduces)) {
    return Unusable(key, absl::StrCat(reduces, " reduces (1 to ", kMaxReduces,
                                      " unless map-only)"));
  }
  const int bounds =
      job.spec().total_order() ? static_cast<int>(reduces) - 1 : 0;
  if (job.sampled() && job.partition_bounds_size() != bounds) {
    return Unusable(key, absl::StrCat(job.partition_bounds_size(),
                                      " partition bounds for ", reduces,
                                      " reduces"));
  }
  return absl::OkStatus();
}

absl::Status MasterStore::CheckTask(const std::string& key,
                                    const mrstate::TaskRecord& task,
                                    const mrstate::JobRecord* job) {
  if (task.kind() != mrstate::MAP && task.kind() != mrstate::REDUCE) {
    return Unusable(key, absl::StrCat("unknown task kind ", task.kind()));
  }
  if (job == nullptr) return Unusable(key, "no job record has its job id");
  const bool map = task.kind() == mrstate::MAP;
  if (key != TaskKey(job->job_id(), task)) {
    return Unusable(key, absl::StrCat("holds ", map ? "map " : "reduce ",
                                      task.index()));
  }
  const uint64_t tasks =
      map ? job->splits_size() : job->spec().num_reduces();
  if (task.index() >= tasks) {
    return Unusable(key, absl::StrCat(map ? "map " : "reduce ", task.index(),
                                      " of a job with ", tasks,
                                      map ? " maps" : " reduces"));
  }
  return absl::OkStatus();
}

absl::StatusOr<MasterStore::State> MasterStore::Load() {
  State state;
  // (key, value, why it cannot be used: "" when it does not parse).
  struct Bad {
    std::string key, value, why;
  };
  std::vector<Bad> bad;
  std::vector<std::pair<std::string, std::string>> task_records;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string key = it->key().ToString();
    std::string value = it->value().ToString();
    bool parsed = true;
    if (key == "ids") {
      parsed = state.ids.ParseFromString(value);
      state.has_ids = parsed;
    } else if (absl::StartsWith(key, "job/")) {
      mrstate::JobRecord job;
      parsed = job.ParseFromString(value);
      const absl::Status usable = parsed ? CheckJob(key, job) : absl::OkStatus();
      if (!usable.ok()) {
        bad.push_back({std::move(key), std::move(value),
                       std::string(usable.message())});
        continue;
      }
      if (parsed) state.jobs.push_back(std::move(job));
    } else if (absl::StartsWith(key, "task/")) {
      // Checked once every job is known.
      task_records.emplace_back(std::move(key), std::move(value));
      continue;
    }
    if (!parsed) bad.push_back({std::move(key), std::move(value), ""});
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading master state");
  it.reset();
  std::map<std::string, const mrstate::JobRecord*> jobs;
  for (const mrstate::JobRecord& job : state.jobs) jobs[job.job_id()] = &job;
  for (auto& [key, value] : task_records) {
    mrstate::TaskRecord task;
    const size_t slash = key.rfind('/');
    if (!task.ParseFromString(value) || slash <= 5) {
      bad.push_back({std::move(key), std::move(value), ""});
      continue;
    }
    std::string job_id = key.substr(5, slash - 5);
    auto job = jobs.find(job_id);
    if (absl::Status s = CheckTask(
            key, task, job == jobs.end() ? nullptr : job->second);
        !s.ok()) {
      bad.push_back({std::move(key), std::move(value),
                     std::string(s.message())});
      continue;
    }
    state.tasks[job_id].push_back(std::move(task));
  }
  for (const Bad& b : bad) {
    if (b.why.empty()) {
      MR_LOG(ERROR) << "master state record " << EscapeName(b.key)
                    << " does not parse (" << b.value.size()
                    << " bytes); moved to " << kQuarantinePrefix
                    << EscapeName(b.key) << " and left out";
    } else {
      MR_LOG(ERROR) << "master state record " << b.why
                    << "; moved to " << kQuarantinePrefix << EscapeName(b.key)
                    << " and left out";
    }
    RETURN_IF_ERROR(Quarantine(b.key, b.value));
    state.quarantined.push_back(b.key);
  }
  return state;
}

}  // namespace mr
