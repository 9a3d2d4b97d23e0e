#include "worker/internal/reduce_task.h"


#include <cstring>
#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/proto_maps.h"
#include "common/output_layout.h"
#include "worker/internal/map_output_fetcher.h"
#include "worker/internal/master_locator.h"
#include "worker/internal/multi_pass_merge.h"
#include "worker/internal/output_writer.h"
#include "worker/internal/run_merger.h"
#include "worker/internal/side_outputs.h"
#include "worker/internal/task_context.h"
#include "worker/internal/task_progress.h"

namespace mr {
namespace {

class ReduceContext : public TaskContext {
 public:
  ReduceContext(OutputWriter* out, SideOutputs* side,
                const std::map<std::string, std::string>* params,
                std::map<std::string, int64_t>* counters, uint32_t task_index)
      : TaskContext(params, counters, task_index), out_(out), side_(side) {}

  void Emit(std::string_view key, std::string_view value) override {
    if (!status_.ok()) return;
    ++output_records_;
    status_ = out_->Write(key, value);
  }

  void EmitTo(std::string_view output, std::string_view key,
              std::string_view value) override {
    if (!status_.ok()) return;
    status_ = side_->Write(output, key, value);
  }

  int64_t output_records_ = 0;

 private:
  OutputWriter* const out_;
  SideOutputs* const side_;
};

// The values of the merger's current key group: the keys whose
// job->GroupKey() is the group's (equal keys, unless the job groups keys).
// Advancing is lazy, so the value handed out stays valid until the next
// call.
class GroupIterator : public ValueIterator {
 public:
  GroupIterator(RunMerger* merger, const Job* job, std::string_view key)
      : merger_(merger), job_(job), group_(job->GroupKey(key)) {}

  bool Next(std::string_view* value) override {
    if (done_) return false;
    if (started_ && !Advance()) return false;
    started_ = true;
    *value = merger_->value();
    ++records_;
    return true;
  }

  std::string_view key() const override {
    return done_ || !started_ ? std::string_view() : merger_->key();
  }

  // Skips what the reducer left of the group.
  absl::Status Drain() {
    if (!started_) {
      started_ = true;
      ++records_;
    }
    while (!done_ && Advance()) ++records_;
    return status_;
  }

  int64_t records() const { return records_; }

 private:
  bool Advance() {
    status_ = merger_->Next();
    if (!status_.ok() || !merger_->Valid() ||
        job_->GroupKey(merger_->key()) != group_) {
      done_ = true;
      return false;
    }
    return true;
  }

  RunMerger* const merger_;
  const Job* const job_;
  const std::string_view group_;  // a prefix of the group's first key,
                                  // owned by the caller
  bool started_ = false;
  bool done_ = false;
  int64_t records_ = 0;
  absl::Status status_;
};

}  // namespace

std::string ReducePartitionName(uint32_t partition) {
  return absl::StrFormat("partition %d", partition);
}

absl::Status RunReduceTask(const mrpb::TaskSpec& spec, Job* job,
                           mrpb::TaskResult* result) {
  const mrpb::TaskAssignment& a = spec.assignment();
  const ParamMap params = ParamsFromProto(a.spec().params());
  std::map<std::string, int64_t> counters;

  const std::string fetch_dir = spec.scratch_dir() + "/fetched";
  if (absl::Status s = MakeDirs(fetch_dir); !s.ok()) return s;
  std::vector<mrpb::MapOutputLocation> outputs(a.map_outputs().begin(),
                                               a.map_outputs().end());
  std::unique_ptr<MasterLocator> locator;
  if (!spec.master_address().empty()) {
    locator = std::make_unique<MasterLocator>(spec.master_address(), a.job_id(),
                                              a.task_index(), a.attempt_id());
  }
  auto fetched =
      FetchPartition(a.job_id(), a.shuffle_secret(), a.task_index(), outputs,
                     fetch_dir, spec.fetch_parallelism(), locator.get());
  if (!fetched.ok()) return fetched.status();

  const OutputLayout layout(a.spec().output_dir(), a.job_id());
  const std::string out_path = layout.AttemptFile(a.attempt_id(), a.task_index());
  if (absl::Status s = layout.CreateAttemptDir(a.attempt_id()); !s.ok()) {
    return s;
  }
  OutputWriter out(a.spec().output_format());
  if (absl::Status s = out.Open(out_path); !s.ok()) return s;
  SideOutputs side(&layout, a.attempt_id(), a.task_index(),
                   a.spec().output_format());
  ReduceContext ctx(&out, &side, &params, &counters, a.task_index());

  auto mapped = TaskProgressFile(spec.progress_path());
  if (!mapped.ok()) return mapped.status();
  TaskProgress* const progress = *mapped;
  progress->precise = 1;
  // Key groups not to reduce: their ordinals.
  const std::vector<uint64_t> skip =
      SkippedOffsets(a, ReducePartitionName(a.task_index()));

  // At most merge_factor runs open at once: more are merged in passes first.
  MultiPassMergeOptions merge_options;
  if (a.spec().merge_factor() > 0) {
    merge_options.merge_factor = a.spec().merge_factor();
  }
  merge_options.dir = spec.scratch_dir() + "/merged";
  MultiPassMergeStats merge_stats;
  auto runs = MergeDownToFactor(std::move(fetched->run_files), merge_options,
                                &merge_stats);
  if (!runs.ok()) return runs.status();
  RunMerger merger;
  if (absl::Status s = merger.Open(*runs); !s.ok()) return s;
  int64_t groups = 0, input_records = 0, skipped = 0;
  std::string key;
  while (merger.Valid()) {
    key.assign(merger.key());
    GroupIterator values(&merger, job, key);
    if (std::binary_search(skip.begin(), skip.end(), groups)) {
      ++skipped;
    } else {
      const size_t n = std::min(key.size(), TaskProgress::kMaxKey);
      memcpy(progress->key, key.data(), n);
      progress->key_size = n;
      progress->offset = groups;
      progress->in_user_code = 1;
      job->Reduce(key, values, ctx);
      progress->in_user_code = 0;
    }
    if (absl::Status s = values.Drain(); !s.ok()) return s;
    if (!ctx.status().ok()) return ctx.status();
    ++groups;
    input_records += values.records();
  }
  if (skipped > 0) counters["skipped records"] += skipped;
  job->Finish(ctx);
  if (!ctx.status().ok()) return ctx.status();
  if (absl::Status s = out.Close(); !s.ok()) return s;
  if (absl::Status s = side.Close(); !s.ok()) return s;
  if (side.records() > 0) counters["side output records"] += side.records();

  counters["shuffle bytes"] += fetched->shuffle_bytes;
  // Intermediate passes, plus the final merge into Reduce().
  counters["merge passes"] += merge_stats.passes + 1;
  if (merge_stats.passes > 0) {
    counters["merged bytes written"] += merge_stats.bytes_written;
  }
  counters["reduce input groups"] += groups;
  counters["reduce input records"] += input_records;
  counters["reduce output records"] += ctx.output_records_;
  CountersToProto(counters, result->mutable_counters());
  return absl::OkStatus();
}

}  // namespace mr
