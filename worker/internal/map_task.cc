#include "worker/internal/map_task.h"

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/job_limits.h"
#include "common/output_layout.h"
#include "common/proto_maps.h"
#include "worker/internal/input_reader.h"
#include "worker/internal/map_output_buffer.h"
#include "worker/internal/output_writer.h"
#include "worker/internal/side_outputs.h"
#include "worker/internal/split_reader.h"
#include "worker/internal/task_context.h"
#include "worker/internal/task_progress.h"

namespace mr {
namespace {

// Where a map's output goes: the shuffle (a MapOutputBuffer, by partition),
// or for a map-only job the map's part file (an OutputWriter).
class MapContext : public TaskContext {
 public:
  // Exactly one of `buffer` and `out` is non-null. `bounds`: the total
  // order's partition bounds, or empty to call job->Partition().
  MapContext(Job* job, MapOutputBuffer* buffer, OutputWriter* out,
             SideOutputs* side, uint32_t num_partitions,
             const std::vector<std::string>* bounds,
             const std::map<std::string, std::string>* params,
             std::map<std::string, int64_t>* counters, uint32_t task_index,
             TaskProgress* progress)
      : TaskContext(params, counters, task_index),
        job_(job), buffer_(buffer), out_(out), side_(side),
        num_partitions_(num_partitions), bounds_(bounds),
        progress_(progress), sizes_(buffer != nullptr ? num_partitions : 0) {}

  void Emit(std::string_view key, std::string_view value) override {
    if (!status_.ok()) return;
    ++output_records_;
    if (out_ != nullptr) {
      status_ = out_->Write(key, value);
      return;
    }
    const uint32_t partition = PartitionOf(key);
    if (partition >= num_partitions_) {
      status_ = absl::OutOfRangeError(
          absl::StrCat("Partition() returned ", partition, " for ",
                       num_partitions_, " reduces"));
      return;
    }
    mrpb::PartitionSize& size = sizes_[partition];
    size.set_records(size.records() + 1);
    size.set_bytes(size.bytes() + key.size() + value.size());
    // A spill here runs the combiner: a crash in it is no fault of the
    // record being mapped.
    const uint32_t precise = progress_->precise;
    progress_->precise = 0;
    status_ = buffer_->Add(partition, key, value);
    progress_->precise = precise;
  }

  // Side outputs: only a map-only job's map writes output files.
  void EmitTo(std::string_view output, std::string_view key,
              std::string_view value) override {
    if (!status_.ok()) return;
    if (side_ == nullptr) {
      Context::EmitTo(output, key, value);  // fails the attempt
      return;
    }
    status_ = side_->Write(output, key, value);
  }

  int64_t output_records_ = 0;
  const std::vector<mrpb::PartitionSize>& sizes() const { return sizes_; }

 private:
  uint32_t PartitionOf(std::string_view key) {
    if (bounds_->empty()) return job_->Partition(key, num_partitions_);
    // Partition i holds the key groups in [bounds[i-1], bounds[i]).
    const std::string_view group = job_->GroupKey(key);
    return static_cast<uint32_t>(
        std::upper_bound(bounds_->begin(), bounds_->end(), group,
                         [](std::string_view k, const std::string& b) {
                           return k < std::string_view(b);
                         }) -
        bounds_->begin());
  }

  Job* const job_;
  MapOutputBuffer* const buffer_;
  OutputWriter* const out_;
  SideOutputs* const side_;
  const uint32_t num_partitions_;
  const std::vector<std::string>* const bounds_;
  TaskProgress* const progress_;
  std::vector<mrpb::PartitionSize> sizes_;
};

// Maps every record of the assignment's split.
absl::Status MapSplit(const mrpb::TaskAssignment& a, Job* job, MapContext* ctx,
                      TaskProgress* progress, mrpb::TaskResult* result,
                      std::map<std::string, int64_t>* counters) {
  // Skipping is on: map record by record, noting each, so that a crash
  // points at its record.
  const bool per_record = a.spec().max_skipped_records() > 0;
  progress->precise = per_record ? 1 : 0;

  int64_t input_records = 0, skipped = 0, malformed = 0;
  SplitReaderOptions read_options;
  read_options.line_numbers = job->WantsLineNumbers();
  if (a.spec().max_record_bytes() > 0) {
    read_options.max_record_bytes = a.spec().max_record_bytes();
  }
  for (int c = 0; c < a.split().chunks_size(); ++c) {
    const mrpb::FileChunk& chunk = a.split().chunks(c);
    const mrpb::InputFormat format = InputFormatOf(a.spec(), chunk);
    const std::vector<uint64_t> skip = SkippedOffsets(a, chunk.path());
    progress->chunk = c;
    auto on_malformed = [&](uint64_t offset, const std::string& reason) {
      if (malformed++ < kMaxReportedMalformedRecords) {
        mrpb::RecordLocation* at = result->add_malformed_records();
        at->set_path(chunk.path());
        at->set_offset(offset);
        at->set_reason(reason);
      }
    };
    absl::Status s;
    if (!per_record && format.kind() == mrpb::InputFormat::TEXT) {
      // Text lines in blocks: a vectorized MapBlock() sees many at once.
      const std::string too_long = absl::StrCat(
          "longer than ", read_options.max_record_bytes, " bytes");
      s = ReadTextBlocks(
          chunk, read_options,
          [&](const InputBlock& block) {
            if (!ctx->status().ok()) return;
            input_records += block.line_count;
            progress->offset = block.offset;
            progress->in_user_code = 1;
            job->MapBlock(block, *ctx);
            progress->in_user_code = 0;
          },
          [&](uint64_t offset) { on_malformed(offset, too_long); });
    } else {
      s = ForEachInputRecord(
          chunk, format, read_options,
          [&](const InputRecord& record) {
            if (!ctx->status().ok()) return;
            ++input_records;
            if (per_record &&
                std::binary_search(skip.begin(), skip.end(), record.offset)) {
              ++skipped;
              return;
            }
            progress->offset = record.offset;
            progress->in_user_code = 1;
            job->Map(record, *ctx);
            progress->in_user_code = 0;
          },
          on_malformed);
    }
    if (!s.ok()) return s;
    if (!ctx->status().ok()) return ctx->status();
  }
  if (skipped > 0) (*counters)["skipped records"] += skipped;
  if (malformed > 0) (*counters)["malformed records"] += malformed;
  (*counters)["map input records"] += input_records;
  return absl::OkStatus();
}

}  // namespace

absl::Status RunMapTask(const mrpb::TaskSpec& spec, Job* job,
                        mrpb::TaskResult* result) {
  const mrpb::TaskAssignment& a = spec.assignment();
  const ParamMap params = ParamsFromProto(a.spec().params());
  std::map<std::string, int64_t> counters;
  auto mapped = TaskProgressFile(spec.progress_path());
  if (!mapped.ok()) return mapped.status();
  TaskProgress* const progress = *mapped;
  const std::vector<std::string> bounds(a.partition_bounds().begin(),
                                        a.partition_bounds().end());

  // A map-only job writes its part file; any other, the shuffle.
  const bool map_only = a.spec().map_only();
  const OutputLayout layout(a.spec().output_dir(), a.job_id(),
                            OutputLayout::Parts::kMap);
  std::unique_ptr<OutputWriter> out;
  std::unique_ptr<SideOutputs> side;
  std::unique_ptr<MapOutputBuffer> buffer;
  if (map_only) {
    if (absl::Status s = layout.CreateAttemptDir(a.attempt_id()); !s.ok()) {
      return s;
    }
    out = std::make_unique<OutputWriter>(a.spec().output_format());
    if (absl::Status s =
            out->Open(layout.AttemptFile(a.attempt_id(), a.task_index()));
        !s.ok()) {
      return s;
    }
    side = std::make_unique<SideOutputs>(&layout, a.attempt_id(), a.task_index(),
                                         a.spec().output_format());
  } else {
    MapOutputOptions options;
    options.job_id = a.job_id();
    options.map_index = a.task_index();
    options.attempt_id = a.attempt_id();
    options.num_partitions = a.spec().num_reduces();
    options.budget_bytes = a.spec().sort_buffer_bytes() > 0
                               ? a.spec().sort_buffer_bytes()
                               : kDefaultSortBufferBytes;
    options.spill_dir = spec.scratch_dir();
    buffer = std::make_unique<MapOutputBuffer>(options, job, &counters,
                                               &params);
  }
  MapContext ctx(job, buffer.get(), out.get(), side.get(), a.spec().num_reduces(),
                 &bounds,
                 &params, &counters, a.task_index(), progress);

  if (a.spec().traits().generates_input()) {
    progress->in_user_code = 1;
    job->Generate(a.task_index(), a.num_maps(), ctx);
    progress->in_user_code = 0;
    if (!ctx.status().ok()) return ctx.status();
  } else if (absl::Status s = MapSplit(a, job, &ctx, progress, result,
                                       &counters);
             !s.ok()) {
    return s;
  }
  job->Finish(ctx);
  if (!ctx.status().ok()) return ctx.status();
  if (map_only) {
    if (absl::Status s = out->Close(); !s.ok()) return s;
    if (absl::Status s = side->Close(); !s.ok()) return s;
    if (side->records() > 0) counters["side output records"] += side->records();
  } else {
    if (absl::Status s = buffer->Finish(); !s.ok()) return s;
    for (const std::string& f : buffer->sst_files()) result->add_sst_files(f);
    for (const mrpb::PartitionSize& p : ctx.sizes()) {
      *result->add_partition_sizes() = p;
    }
  }
  counters["map output records"] += ctx.output_records_;
  CountersToProto(counters, result->mutable_counters());
  return absl::OkStatus();
}

}  // namespace mr
