#include "worker/internal/map_output_buffer.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include "absl/strings/str_cat.h"
#include "common/record_block.h"
#include "common/shuffle_keys.h"

namespace mr {
namespace {

// The first index array holds this many entries (when the budget allows).
constexpr size_t kMinIndexEntries = 1024;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "KeyPrefix");

// The first 8 bytes of `key`, zero-padded, as a big-endian number: keys
// whose prefixes differ compare as their prefixes do.
uint64_t KeyPrefix(std::string_view key) {
  uint64_t v = 0;
  if (!key.empty()) memcpy(&v, key.data(), std::min<size_t>(8, key.size()));
  return __builtin_bswap64(v);
}

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
  GroupValues(const Entry* begin, const Entry* end) : cur_(begin), end_(end) {}

  bool Next(std::string_view* value) override {
    if (cur_ == end_) return false;
    *value = std::string_view(cur_->data + cur_->key_len, cur_->value_len);
    ++cur_;
    return true;
  }

 private:
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
  // Fails the map attempt (the spill that ran the combiner fails), as
  // Fail() and EmitTo() in a combiner promise.
  void Fail(std::string_view message) override {
    if (status_.ok()) {
      status_ = absl::AbortedError(absl::string_view(message.data(), message.size()));
    }
  }

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
    : options_(std::move(options)),
      arena_block_bytes_(static_cast<size_t>(std::max<uint64_t>(
          1, std::min<uint64_t>(options_.arena_block_bytes,
                                options_.budget_bytes / 16)))),
      job_(job), counters_(counters), params_(params) {}

MapOutputBuffer::~MapOutputBuffer() = default;

size_t MapOutputBuffer::ArenaNeed(size_t bytes) const {
  if (in_use_ > 0 && block_used_ + bytes <= blocks_[in_use_ - 1].size) return 0;
  if (in_use_ < blocks_.size() && blocks_[in_use_].size >= bytes) return 0;
  return std::max(arena_block_bytes_, bytes);
}

int64_t MapOutputBuffer::IndexGrowth(size_t arena_need) const {
  if (index_size_ < index_capacity_) return 0;
  const uint64_t used = allocated_bytes() + arena_need;
  if (used >= options_.budget_bytes) return -1;
  // The new array is allocated while the old one still lives.
  const uint64_t fit = (options_.budget_bytes - used) / sizeof(Entry);
  const uint64_t want =
      std::max<uint64_t>(kMinIndexEntries, 2 * uint64_t{index_capacity_});
  const uint64_t capacity = std::min(want, fit);
  // Growing by less than a quarter would copy the index for little room:
  // better to spill.
  if (capacity < index_capacity_ + std::max<size_t>(1, index_capacity_ / 4)) {
    return -1;
  }
  return static_cast<int64_t>(capacity);
}

bool MapOutputBuffer::Fits(size_t bytes, int64_t* index_growth) const {
  const size_t arena_need = ArenaNeed(bytes);
  *index_growth = IndexGrowth(arena_need);
  return *index_growth >= 0 &&
         allocated_bytes() + arena_need <= options_.budget_bytes;
}

void MapOutputBuffer::NoteAllocation(uint64_t transient_bytes) {
  peak_bytes_ = std::max(peak_bytes_, allocated_bytes() + transient_bytes);
}

char* MapOutputBuffer::ArenaAlloc(size_t bytes) {
  if (in_use_ > 0 && block_used_ + bytes <= blocks_[in_use_ - 1].size) {
    char* p = blocks_[in_use_ - 1].mem.get() + block_used_;
    block_used_ += bytes;
    return p;
  }
  if (in_use_ == blocks_.size() || blocks_[in_use_].size < bytes) {
    // A new block; the spare ones after it stay spare.
    Block block;
    block.size = std::max(arena_block_bytes_, bytes);
    block.mem.reset(new char[block.size]);
    arena_bytes_ += block.size;
    NoteAllocation(0);
    blocks_.insert(blocks_.begin() + in_use_, std::move(block));
  }
  ++in_use_;
  block_used_ = bytes;
  return blocks_[in_use_ - 1].mem.get();
}

void MapOutputBuffer::GrowIndex(size_t capacity) {
  std::unique_ptr<Entry[]> index(new Entry[capacity]);
  NoteAllocation(capacity * sizeof(Entry));  // old and new both live
  if (index_size_ > 0) {
    memcpy(index.get(), index_.get(), index_size_ * sizeof(Entry));
  }
  index_ = std::move(index);
  index_capacity_ = capacity;
  index_bytes_ = capacity * sizeof(Entry);
}

void MapOutputBuffer::ReleaseMemory() {
  blocks_.clear();
  in_use_ = 0;
  block_used_ = 0;
  arena_bytes_ = 0;
  index_.reset();
  index_capacity_ = 0;
  index_bytes_ = 0;
}

absl::Status MapOutputBuffer::Add(uint32_t partition, std::string_view key,
                                  std::string_view value) {
  constexpr size_t kMaxField = std::numeric_limits<uint32_t>::max();
  if (key.size() >= kMaxField || value.size() >= kMaxField) {
    return absl::InvalidArgumentError(absl::StrCat(
        "map output record too large: key of ", key.size(),
        " bytes, value of ", value.size()));
  }
  const size_t bytes = key.size() + value.size();
  int64_t growth = 0;
  bool alone = false;
  if (!Fits(bytes, &growth)) {
    if (index_size_ > 0) {
      if (absl::Status s = Spill(/*retune=*/true); !s.ok()) return s;
    }
    if (!Fits(bytes, &growth)) {
      // What is kept for reuse is in the way, or the record alone is larger
      // than the budget.
      ReleaseMemory();
      alone = !Fits(bytes, &growth);
      if (alone) growth = 1;
    }
  }
  if (growth > 0) GrowIndex(static_cast<size_t>(growth));
  char* dst = ArenaAlloc(bytes);
  if (!key.empty()) memcpy(dst, key.data(), key.size());
  if (!value.empty()) memcpy(dst + key.size(), value.data(), value.size());
  index_[index_size_] = {KeyPrefix(key), dst,
                         static_cast<uint32_t>(key.size()),
                         static_cast<uint32_t>(value.size()), partition,
                         static_cast<uint32_t>(index_size_)};
  ++index_size_;
  fill_bytes_ += bytes;
  return alone ? Spill(/*retune=*/false) : absl::OkStatus();
}

absl::Status MapOutputBuffer::Finish() { return Spill(/*retune=*/false); }

void MapOutputBuffer::Retune(uint64_t records, uint64_t bytes) {
  if (records == 0) return;
  // The capacity at which index and arena fill up together, keeping one
  // arena block's worth for the space records leave at block ends.
  const uint64_t room =
      options_.budget_bytes - std::min<uint64_t>(arena_block_bytes_,
                                                 options_.budget_bytes / 2);
  const double per_record =
      sizeof(Entry) + static_cast<double>(bytes) / static_cast<double>(records);
  const uint64_t target = std::max<uint64_t>(
      1, static_cast<uint64_t>(static_cast<double>(room) / per_record));
  if (target * 10 >= index_capacity_ * 9 && target * 10 <= index_capacity_ * 11) {
    return;  // close enough
  }
  // The index is empty: free the old array before allocating the new one.
  index_.reset();
  index_capacity_ = 0;
  index_bytes_ = 0;
  while (!blocks_.empty() &&
         arena_bytes_ + target * sizeof(Entry) > options_.budget_bytes) {
    arena_bytes_ -= blocks_.back().size;
    blocks_.pop_back();
  }
  GrowIndex(static_cast<size_t>(target));
}

absl::Status MapOutputBuffer::Spill(bool retune) {
  if (index_size_ == 0) return absl::OkStatus();
  Entry* const begin = index_.get();
  Entry* const end = begin + index_size_;
  std::sort(begin, end, [](const Entry& a, const Entry& b) {
    if (a.partition != b.partition) return a.partition < b.partition;
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    // Equal up to 8 bytes (a shorter key padded with zeros).
    int c;
    if (a.key_len <= 8 && b.key_len <= 8) {
      c = a.key_len == b.key_len ? 0 : (a.key_len < b.key_len ? -1 : 1);
    } else {
      c = std::string_view(a.data, a.key_len)
              .compare(std::string_view(b.data, b.key_len));
    }
    return c != 0 ? c < 0 : a.seq < b.seq;
  });
  const uint32_t run = next_run_++;
  const std::string path =
      absl::StrCat(options_.spill_dir, "/run-", run, ".sst");
  RunWriter writer(options_, run, counters_);
  if (absl::Status s = writer.Open(path); !s.ok()) return s;
  const bool combine = job_->HasCombiner();
  CombineContext ctx(&writer, counters_, params_, options_.map_index);
  const Entry* i = begin;
  while (i != end) {
    const uint32_t partition = i->partition;
    writer.StartPartition(partition);
    while (i != end && i->partition == partition) {
      if (!combine) {
        if (absl::Status s = writer.Add(KeyOf(*i), ValueOf(*i)); !s.ok()) {
          return s;
        }
        ++i;
        continue;
      }
      const Entry* j = i + 1;
      const std::string_view key = KeyOf(*i);
      while (j != end && j->partition == partition && KeyOf(*j) == key) ++j;
      GroupValues values(i, j);
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
    (*counters_)["map spills"] += 1;
  } else {
    // The combiner emitted nothing for the whole run: no file.
    unlink(path.c_str());
  }
  // Keep the arena's standard blocks and the index for the next run; free
  // the blocks of outsized records.
  const uint64_t records = index_size_;
  index_size_ = 0;
  in_use_ = 0;
  block_used_ = 0;
  for (auto it = blocks_.begin(); it != blocks_.end();) {
    if (it->size > arena_block_bytes_) {
      arena_bytes_ -= it->size;
      it = blocks_.erase(it);
    } else {
      ++it;
    }
  }
  // Size the index for the records seen so far, so that the next run uses
  // the budget rather than the index's growth steps.
  if (retune) Retune(records, fill_bytes_);
  fill_bytes_ = 0;
  return absl::OkStatus();
}

}  // namespace mr
