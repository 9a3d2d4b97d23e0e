#include "worker/internal/map_output_buffer.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include "absl/strings/str_cat.h"
#include "common/record_block.h"
#include "common/shuffle_keys.h"

namespace mr {
namespace {

// Writes the record blocks of one run, partition by partition, into an SST.
class RunWriter {
 public:
  RunWriter(const MapOutputOptions& options, uint32_t run,
            std::map<std::string, int64_t>* counters)
      : options_(options), run_(run), counters_(counters),
        writer_(rocksdb::EnvOptions(), SstOptions()) {}

  absl::Status Open(const std::string& path) {
    return Check(writer_.Open(path), "opening");
  }

  void StartPartition(uint32_t partition) {
    partition_ = partition;
    block_ = 0;
  }

  absl::Status Add(std::string_view key, std::string_view value) {
    builder_.Add(key, value);
    if (builder_.raw_size() >= options_.block_bytes) return FlushBlock();
    return absl::OkStatus();
  }

  absl::Status FlushBlock() {
    if (builder_.empty()) return absl::OkStatus();
    builder_.Finish(&block_data_);
    (*counters_)["spilled bytes raw"] += block_data_.raw_size;
    (*counters_)["spilled bytes compressed"] += block_data_.data.size();
    const std::string key = BlockKey(options_.job_id, options_.map_index,
                                     options_.attempt_id, run_, partition_,
                                     block_++);
    wrote_any_ = true;
    return Check(writer_.Put(key, EncodeStoredBlock(block_data_)), "writing");
  }

  absl::Status Finish() { return Check(writer_.Finish(), "finishing"); }

  // Whether any block was written (an SST file cannot be empty).
  bool wrote_any() const { return wrote_any_; }

 private:
  static rocksdb::Options SstOptions() {
    rocksdb::Options options;
    // Values are LZ4 blocks already: compressed once here, sent as they are,
    // decompressed once by the reducer. RocksDB compressing them again would
    // only burn CPU.
    options.compression = rocksdb::kNoCompression;
    return options;
  }

  static absl::Status Check(const rocksdb::Status& s, const char* what) {
    if (s.ok()) return absl::OkStatus();
    if (s.IsNoSpace()) {
      return absl::ResourceExhaustedError(
          absl::StrCat(what, " spill file: ", s.ToString()));
    }
    return absl::InternalError(absl::StrCat(what, " spill file: ", s.ToString()));
  }

  const MapOutputOptions& options_;
  const uint32_t run_;
  std::map<std::string, int64_t>* const counters_;
  rocksdb::SstFileWriter writer_;
  RecordBlockBuilder builder_;
  CompressedBlock block_data_;
  uint32_t partition_ = 0;
  uint32_t block_ = 0;
  bool wrote_any_ = false;
};

using Entry = MapOutputBuffer::Entry;

// The values of one key group of the sorted buffer.
class GroupValues : public ValueIterator {
 public:
  GroupValues(const std::string& arena, const Entry* begin, const Entry* end)
      : arena_(arena), cur_(begin), end_(end) {}

  bool Next(std::string_view* value) override {
    if (cur_ == end_) return false;
    *value = std::string_view(arena_.data() + cur_->offset + cur_->key_len,
                              cur_->value_len);
    ++cur_;
    return true;
  }

 private:
  const std::string& arena_;
  const Entry* cur_;
  const Entry* const end_;
};

// Combiner output goes straight into the run.
class CombineContext : public Context {
 public:
  CombineContext(RunWriter* writer, std::map<std::string, int64_t>* counters,
                 const std::map<std::string, std::string>* params,
                 uint32_t task_index)
      : writer_(writer), counters_(counters), params_(params),
        task_index_(task_index) {}

  void Emit(std::string_view key, std::string_view value) override {
    if (!status_.ok()) return;
    ++emitted_;
    status_ = writer_->Add(key, value);
  }
  void IncrementCounter(std::string_view name, int64_t delta) override {
    (*counters_)[std::string(name)] += delta;
  }
  std::string Param(std::string_view name,
                    std::string_view fallback) const override {
    auto it = params_->find(std::string(name));
    return it == params_->end() ? std::string(fallback) : it->second;
  }
  uint32_t TaskIndex() const override { return task_index_; }

  absl::Status status_;
  int64_t emitted_ = 0;

 private:
  RunWriter* const writer_;
  std::map<std::string, int64_t>* const counters_;
  const std::map<std::string, std::string>* const params_;
  const uint32_t task_index_;
};

}  // namespace

MapOutputBuffer::MapOutputBuffer(MapOutputOptions options, Job* job,
                                 std::map<std::string, int64_t>* counters,
                                 const std::map<std::string, std::string>* params)
    : options_(std::move(options)), job_(job), counters_(counters),
      params_(params) {}

absl::Status MapOutputBuffer::Add(uint32_t partition, std::string_view key,
                                  std::string_view value) {
  entries_.push_back({arena_.size(), static_cast<uint32_t>(key.size()),
                      static_cast<uint32_t>(value.size()), partition});
  arena_.append(key.data(), key.size());
  arena_.append(value.data(), value.size());
  if (arena_.size() + entries_.size() * sizeof(Entry) >= options_.budget_bytes) {
    return Spill();
  }
  return absl::OkStatus();
}

absl::Status MapOutputBuffer::Finish() { return Spill(); }

absl::Status MapOutputBuffer::Spill() {
  if (entries_.empty()) return absl::OkStatus();
  std::stable_sort(entries_.begin(), entries_.end(),
                   [this](const Entry& a, const Entry& b) {
                     if (a.partition != b.partition) {
                       return a.partition < b.partition;
                     }
                     return KeyOf(a) < KeyOf(b);
                   });
  const uint32_t run = next_run_++;
  const std::string path =
      absl::StrCat(options_.spill_dir, "/run-", run, ".sst");
  RunWriter writer(options_, run, counters_);
  if (absl::Status s = writer.Open(path); !s.ok()) return s;
  const bool combine = job_->HasCombiner();
  CombineContext ctx(&writer, counters_, params_, options_.map_index);
  size_t i = 0;
  while (i < entries_.size()) {
    const uint32_t partition = entries_[i].partition;
    writer.StartPartition(partition);
    while (i < entries_.size() && entries_[i].partition == partition) {
      if (!combine) {
        if (absl::Status s = writer.Add(KeyOf(entries_[i]), ValueOf(entries_[i]));
            !s.ok()) {
          return s;
        }
        ++i;
        continue;
      }
      size_t j = i + 1;
      const std::string_view key = KeyOf(entries_[i]);
      while (j < entries_.size() && entries_[j].partition == partition &&
             KeyOf(entries_[j]) == key) {
        ++j;
      }
      GroupValues values(arena_, entries_.data() + i, entries_.data() + j);
      (*counters_)["combine input records"] += j - i;
      job_->Combine(key, values, ctx);
      if (!ctx.status_.ok()) return ctx.status_;
      i = j;
    }
    if (absl::Status s = writer.FlushBlock(); !s.ok()) return s;
  }
  if (combine) (*counters_)["combine output records"] += ctx.emitted_;
  if (writer.wrote_any()) {
    if (absl::Status s = writer.Finish(); !s.ok()) return s;
    sst_files_.push_back(path);
  } else {
    // The combiner emitted nothing for the whole run: no file.
    unlink(path.c_str());
  }
  arena_.clear();
  entries_.clear();
  return absl::OkStatus();
}

}  // namespace mr

