#include "worker/internal/map_task.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/proto_maps.h"
#include "common/job_limits.h"
#include "worker/internal/map_output_buffer.h"
#include "worker/internal/task_progress.h"
#include "worker/internal/split_reader.h"
#include "worker/internal/task_context.h"

namespace mr {
namespace {

class MapContext : public TaskContext {
 public:
  MapContext(Job* job, MapOutputBuffer* buffer, uint32_t num_partitions,
             const std::map<std::string, std::string>* params,
             std::map<std::string, int64_t>* counters, uint32_t task_index,
             TaskProgress* progress)
      : TaskContext(params, counters, task_index),
        job_(job), buffer_(buffer), num_partitions_(num_partitions),
        progress_(progress) {}

  void Emit(std::string_view key, std::string_view value) override {
    if (!status_.ok()) return;
    const uint32_t partition = job_->Partition(key, num_partitions_);
    if (partition >= num_partitions_) {
      status_ = absl::OutOfRangeError(
          absl::StrCat("Partition() returned ", partition, " for ",
                       num_partitions_, " reduces"));
      return;
    }
    ++output_records_;
    // A spill here runs the combiner: a crash in it is no fault of the
    // record being mapped.
    const uint32_t precise = progress_->precise;
    progress_->precise = 0;
    status_ = buffer_->Add(partition, key, value);
    progress_->precise = precise;
  }

  int64_t output_records_ = 0;

 private:
  Job* const job_;
  MapOutputBuffer* const buffer_;
  const uint32_t num_partitions_;
  TaskProgress* const progress_;
};

}  // namespace

absl::Status RunMapTask(const mrpb::TaskSpec& spec, Job* job,
                        mrpb::TaskResult* result) {
  const mrpb::TaskAssignment& a = spec.assignment();
  const ParamMap params = ParamsFromProto(a.spec().params());
  std::map<std::string, int64_t> counters;
  MapOutputOptions options;
  options.job_id = a.job_id();
  options.map_index = a.task_index();
  options.attempt_id = a.attempt_id();
  options.num_partitions = a.spec().num_reduces();
  options.budget_bytes = a.spec().sort_buffer_bytes() > 0
                             ? a.spec().sort_buffer_bytes()
                             : kDefaultSortBufferBytes;
  options.spill_dir = spec.scratch_dir();
  auto mapped = TaskProgressFile(spec.progress_path());
  if (!mapped.ok()) return mapped.status();
  TaskProgress* const progress = *mapped;
  MapOutputBuffer buffer(options, job, &counters, &params);
  MapContext ctx(job, &buffer, options.num_partitions, &params, &counters,
                 a.task_index(), progress);

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
    const std::vector<uint64_t> skip = SkippedOffsets(a, chunk.path());
    progress->chunk = c;
    auto on_malformed = [&](uint64_t offset) {
      if (malformed++ < kMaxReportedMalformedRecords) {
        mrpb::RecordLocation* at = result->add_malformed_records();
        at->set_path(chunk.path());
        at->set_offset(offset);
        at->set_reason(absl::StrCat("longer than ",
                                    read_options.max_record_bytes, " bytes"));
      }
    };
    absl::Status s = ReadChunkBlocks(
        chunk, read_options, [&](const InputBlock& block) {
          if (!ctx.status().ok()) return;
          input_records += block.line_count;
          if (!per_record) {
            progress->offset = block.offset;
            progress->in_user_code = 1;
            job->MapBlock(block, ctx);
            progress->in_user_code = 0;
            return;
          }
          ForEachLine(block, [&](const InputRecord& record) {
            if (std::binary_search(skip.begin(), skip.end(), record.offset)) {
              ++skipped;
              return;
            }
            progress->offset = record.offset;
            progress->in_user_code = 1;
            job->Map(record, ctx);
            progress->in_user_code = 0;
          });
        }, on_malformed);
    if (!s.ok()) return s;
    if (!ctx.status().ok()) return ctx.status();
  }
  if (skipped > 0) counters["skipped records"] += skipped;
  if (malformed > 0) counters["malformed records"] += malformed;
  job->Finish(ctx);
  if (!ctx.status().ok()) return ctx.status();
  if (absl::Status s = buffer.Finish(); !s.ok()) return s;

  counters["map input records"] += input_records;
  counters["map output records"] += ctx.output_records_;
  CountersToProto(counters, result->mutable_counters());
  for (const std::string& f : buffer.sst_files()) result->add_sst_files(f);
  return absl::OkStatus();
}

}  // namespace mr
