#include "worker/shuffle_store.h"

#include <rocksdb/options.h>
#include <rocksdb/convenience.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/record_block.h"
#include "common/shuffle_keys.h"
#include "common/shuffle_secret.h"
#include "common/status_macros.h"
#include "common/table_cache_shards.h"

namespace mr {
namespace {

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

// absl::StartsWith takes absl::string_view, which Debian's Abseil keeps
// apart from std::string_view (what RocksDB's Slice gives).
bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

rocksdb::WriteOptions NoWal() {
  rocksdb::WriteOptions w;
  w.disableWAL = true;
  return w;
}

}  // namespace

std::string MapOutputDoneKey(const std::string& job_id, uint32_t map,
                             uint64_t attempt) {
  return MapOutputKeyPrefix(job_id, map, attempt) + "~";
}

absl::StatusOr<std::unique_ptr<ShuffleStore>> ShuffleStore::Open(
    const std::string& dir, const ShuffleStoreOptions& store_options) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.max_open_files = store_options.max_open_files;
  options.table_cache_numshardbits =
      TableCacheShardBits(store_options.max_open_files);
  // Blocks are LZ4-compressed by the map task before they reach the store;
  // this setting covers what RocksDB writes itself (markers, compactions).
  options.compression = rocksdb::kLZ4Compression;
  options.max_background_jobs = 1;
  options.keep_log_file_num = 2;
  rocksdb::Status destroyed = rocksdb::DestroyDB(dir, options);
  if (!destroyed.ok() && !destroyed.IsNotFound()) {
    if (absl::Status s = RemoveAll(dir); !s.ok()) return s;
  }
  if (absl::Status s = MakeDirs(dir); !s.ok()) return s;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening shuffle store ", dir));
  return std::unique_ptr<ShuffleStore>(
      new ShuffleStore(std::unique_ptr<rocksdb::DB>(db)));
}

absl::Status ShuffleStore::IngestMapOutput(
    const std::string& job_id, uint32_t map, uint64_t attempt,
    const std::string& secret, const std::vector<std::string>& sst_files) {
  {
    // Before the output is marked complete: a fetch that finds the output
    // finds the secret too.
    absl::MutexLock lock(&mu_);
    secrets_[job_id] = secret;
  }
  if (!sst_files.empty()) {
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;
    rocksdb::Status s = db_->IngestExternalFile(sst_files, ingest);
    if (!s.ok()) return FromRocks(s, "ingesting map output");
  }
  RETURN_IF_ERROR(
      FromRocks(db_->Put(NoWal(), MapOutputDoneKey(job_id, map, attempt), ""),
                "marking map output complete"));
  absl::MutexLock lock(&mu_);
  held_[job_id].insert({map, attempt});
  return absl::OkStatus();
}

absl::Status ShuffleStore::CheckSecret(const std::string& job_id,
                                       uint32_t map, uint64_t attempt,
                                       const std::string& secret) {
  absl::MutexLock lock(&mu_);
  auto it = secrets_.find(job_id);
  if (it == secrets_.end()) {
    return absl::NotFoundError(absl::StrFormat(
        "no output of %s map %d attempt %d here", job_id, map, attempt));
  }
  if (!ShuffleSecretMatches(it->second, secret)) {
    return absl::PermissionDeniedError(
        absl::StrCat("wrong shuffle secret for job ", job_id));
  }
  return absl::OkStatus();
}

std::vector<mrpb::HeldMapOutput> ShuffleStore::HeldOutputs() {
  absl::MutexLock lock(&mu_);
  std::vector<mrpb::HeldMapOutput> out;
  for (const auto& [job, outputs] : held_) {
    for (const auto& [map, attempt] : outputs) {
      mrpb::HeldMapOutput h;
      h.set_job_id(job);
      h.set_map_index(map);
      h.set_attempt_id(attempt);
      out.push_back(std::move(h));
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<PartitionReader>> ShuffleStore::ReadPartition(
    const std::string& job_id, uint32_t map, uint64_t attempt,
    uint32_t partition) {
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  read.fill_cache = false;
  // The completion marker is looked up through the iterator that then reads
  // the blocks: one view of the store, so a DropJob() running meanwhile
  // leaves the output either whole or missing, never marked but empty.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));
  const std::string done = MapOutputDoneKey(job_id, map, attempt);
  it->Seek(done);
  if (!it->status().ok()) return FromRocks(it->status(), "reading map output");
  if (!it->Valid() || it->key().ToStringView() != done) {
    return absl::NotFoundError(absl::StrFormat(
        "no output of %s map %d attempt %d here", job_id, map, attempt));
  }
  return std::make_unique<PartitionReader>(
      std::move(it), MapOutputKeyPrefix(job_id, map, attempt), partition);
}

absl::Status ShuffleStore::DropJob(const std::string& job_id) {
  {
    absl::MutexLock lock(&mu_);
    held_.erase(job_id);
    secrets_.erase(job_id);
  }
  const std::string begin = JobKeyPrefix(job_id);
  // '/' + 1 == '0': [job/, job0) spans every key of the job and no other.
  const std::string end = job_id + "0";
  const rocksdb::Slice b(begin), e(end);
  // The keys go first, in one step: a reader starting afterwards finds none
  // of the job's outputs. Then whole files are reclaimed; readers that
  // started before keep the files they read until they are done. (The other
  // order lets a reader see an output's completion marker, still in the
  // memtable, without the blocks its files held.)
  RETURN_IF_ERROR(
      FromRocks(db_->DeleteRange(NoWal(), db_->DefaultColumnFamily(), b, e),
                "dropping job keys"));
  return FromRocks(rocksdb::DeleteFilesInRange(
                       db_.get(), db_->DefaultColumnFamily(), &b, &e),
                   "dropping job files");
}

absl::StatusOr<bool> ShuffleStore::CorruptForTest(const std::string& job_id,
                                                  uint32_t map,
                                                  uint64_t attempt) {
  const std::string prefix = MapOutputKeyPrefix(job_id, map, attempt);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(prefix);
  if (!it->Valid() || !HasPrefix(it->key().ToStringView(), prefix) ||
      it->key().ToStringView() == MapOutputDoneKey(job_id, map, attempt)) {
    return false;
  }
  std::string value = it->value().ToString();
  if (value.size() <= 8) return false;
  value[8] ^= 0x5a;  // the first byte of the LZ4 data, after the header
  RETURN_IF_ERROR(FromRocks(db_->Put(NoWal(), it->key(), value), "corrupting"));
  return true;
}

uint64_t ShuffleStore::LiveBytes() {
  uint64_t bytes = 0;
  db_->GetIntProperty(rocksdb::DB::Properties::kLiveSstFilesSize, &bytes);
  return bytes;
}

PartitionReader::PartitionReader(std::unique_ptr<rocksdb::Iterator> it,
                                 std::string map_prefix, uint32_t partition)
    : it_(std::move(it)), map_prefix_(std::move(map_prefix)),
      partition_(partition) {}

absl::StatusOr<bool> PartitionReader::Valid() const {
  if (it_->Valid()) return true;
  if (!it_->status().ok()) return FromRocks(it_->status(), "reading map output");
  return false;
}

absl::StatusOr<bool> PartitionReader::SeekRun() {
  while (true) {
    it_->Seek(absl::StrFormat("%s%08x/", map_prefix_, run_));
    ASSIGN_OR_RETURN(bool valid, Valid());
    if (!valid || !HasPrefix(it_->key().ToStringView(), map_prefix_)) {
      return false;
    }
    const std::string_view key = it_->key().ToStringView();
    if (key.size() <= map_prefix_.size() || key[map_prefix_.size()] == '~') {
      return false;  // the completion marker: no more runs
    }
    run_ = RunOfKey(key, map_prefix_.size());
    run_prefix_ = absl::StrFormat("%s%08x/%08x/", map_prefix_, run_, partition_);
    it_->Seek(run_prefix_);
    ASSIGN_OR_RETURN(valid, Valid());
    if (valid && HasPrefix(it_->key().ToStringView(), run_prefix_)) return true;
    ++run_;  // this run has nothing for the partition
  }
}

absl::StatusOr<bool> PartitionReader::Next(StoredBlock* block) {
  if (!started_) {
    started_ = true;
    ASSIGN_OR_RETURN(bool found, SeekRun());
    if (!found) return false;
  } else {
    it_->Next();
    ASSIGN_OR_RETURN(bool valid, Valid());
    if (!valid || !HasPrefix(it_->key().ToStringView(), run_prefix_)) {
      ++run_;
      ASSIGN_OR_RETURN(bool found, SeekRun());
      if (!found) return false;
    }
  }
  if (!it_->status().ok()) return FromRocks(it_->status(), "reading map output");
  std::string_view data;
  if (absl::Status s = DecodeStoredBlock(it_->value().ToStringView(),
                                         &block->raw_size, &block->crc32c, &data);
      !s.ok()) {
    return s;
  }
  block->run = run_;
  block->data.assign(data.data(), data.size());
  return true;
}

}  // namespace mr
