#include "worker/internal/sample_task.h"

#include <algorithm>
#include <map>

#include "common/input_codec.h"
#include "common/proto_maps.h"
#include "worker/internal/input_reader.h"
#include "worker/internal/task_context.h"

namespace mr {
namespace {

// Collects what Map() emits.
class SampleContext : public TaskContext {
 public:
  SampleContext(Sample* sample, const std::map<std::string, std::string>* params,
                std::map<std::string, int64_t>* counters, uint32_t task_index)
      : TaskContext(params, counters, task_index), sample_(sample) {}

  void Emit(std::string_view key, std::string_view value) override {
    sample_->emplace_back(std::string(key), std::string(value));
  }

 private:
  Sample* const sample_;
};

}  // namespace

std::vector<mrpb::FileChunk> SampleWindows(const mrpb::InputSplit& split) {
  uint64_t total = 0;
  for (const mrpb::FileChunk& c : split.chunks()) total += c.length();
  std::vector<mrpb::FileChunk> windows;
  if (total <= kSampleInputBytes) {
    windows.assign(split.chunks().begin(), split.chunks().end());
    return windows;
  }
  // A compressed file can only be read from its start: it gets one window
  // there, of its share of the sample's bytes (counted decompressed, so a
  // little more than its share of the input).
  for (const mrpb::FileChunk& c : split.chunks()) {
    if (InputCodecOf(c.path()) == InputCodec::kNone || c.offset() > 0) continue;
    mrpb::FileChunk window = c;
    window.set_length(std::max(
        kSampleWindowBytes,
        static_cast<uint64_t>(static_cast<double>(kSampleInputBytes) *
                              c.length() / total)));
    window.set_sample_window(true);
    windows.push_back(std::move(window));
  }
  const uint64_t n = kSampleInputBytes / kSampleWindowBytes;
  const uint64_t spacing = total / n;  // >= kSampleWindowBytes
  int c = 0;
  uint64_t chunk_start = 0;  // the chunk's first byte, over the whole input
  for (uint64_t k = 0; k < n; ++k) {
    const uint64_t pos = k * spacing;
    while (c < split.chunks_size() &&
           pos >= chunk_start + split.chunks(c).length()) {
      chunk_start += split.chunks(c).length();
      ++c;
    }
    if (c == split.chunks_size()) break;
    const mrpb::FileChunk& chunk = split.chunks(c);
    if (InputCodecOf(chunk.path()) != InputCodec::kNone) continue;
    const uint64_t local = pos - chunk_start;
    mrpb::FileChunk window = chunk;
    window.set_offset(chunk.offset() + local);
    window.set_length(std::min(kSampleWindowBytes, chunk.length() - local));
    windows.push_back(std::move(window));
  }
  return windows;
}

std::vector<std::string> PartitionBounds(const Sample& sample,
                                         uint32_t num_partitions) {
  std::vector<std::string> bounds;
  const uint64_t n = sample.size();
  for (uint32_t i = 1; i < num_partitions; ++i) {
    bounds.push_back(n == 0 ? std::string() : sample[i * n / num_partitions].first);
  }
  return bounds;
}

absl::Status RunSampleTask(const mrpb::TaskSpec& spec, Job* job,
                           mrpb::TaskResult* result) {
  const mrpb::TaskAssignment& a = spec.assignment();
  const ParamMap params = ParamsFromProto(a.spec().params());
  std::map<std::string, int64_t> counters;
  Sample sample;
  SampleContext ctx(&sample, &params, &counters, a.task_index());
  SplitReaderOptions read_options;
  read_options.line_numbers = job->WantsLineNumbers();
  if (a.spec().max_record_bytes() > 0) {
    read_options.max_record_bytes = a.spec().max_record_bytes();
  }
  int64_t records = 0;
  for (const mrpb::FileChunk& window : SampleWindows(a.split())) {
    // Malformed records are the maps' to report.
    absl::Status s = ForEachInputRecord(
        window, InputFormatOf(a.spec(), window), read_options,
        [&](const InputRecord& record) {
          ++records;
          job->Map(record, ctx);
        },
        [](uint64_t, const std::string&) {});
    if (!s.ok()) return s;
    if (!ctx.status().ok()) return ctx.status();  // the job's Fail()
  }
  // A mapper that aggregates in memory emits in Finish().
  job->Finish(ctx);
  if (!ctx.status().ok()) return ctx.status();
  std::sort(sample.begin(), sample.end());
  const uint32_t reduces = a.spec().num_reduces();
  if (a.spec().total_order()) {
    // Bounds between key groups: a group (Job::GroupKey()) never straddles
    // two partitions. Group keys are prefixes, so they stay sorted.
    Sample groups;
    groups.reserve(sample.size());
    for (const auto& kv : sample) {
      groups.emplace_back(std::string(job->GroupKey(kv.first)), std::string());
    }
    for (std::string& b : PartitionBounds(groups, reduces)) {
      result->add_partition_bounds(std::move(b));
    }
  }
  if (a.spec().traits().plans()) result->set_plan(job->Plan(sample, reduces));
  // The job's own counters stay out: the maps count the same records again.
  std::map<std::string, int64_t> engine_counters;
  engine_counters["sample input records"] = records;
  engine_counters["sample records"] = static_cast<int64_t>(sample.size());
  CountersToProto(engine_counters, result->mutable_counters());
  return absl::OkStatus();
}

}  // namespace mr
