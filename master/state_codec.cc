#include "master/state_codec.h"

namespace mr {
namespace {

// The fields both JobSpecs have, copied one by one: a field added to one
// side and not here is not stored (and state_codec_test notices).
template <typename From, typename To>
void CopyScalars(const From& from, To* to) {
  to->set_name(from.name());
  to->set_app(from.app());
  to->set_plugin_hash(from.plugin_hash());
  to->set_plugin_name(from.plugin_name());
  *to->mutable_inputs() = from.inputs();
  to->set_output_dir(from.output_dir());
  to->set_num_reduces(from.num_reduces());
  to->set_split_size(from.split_size());
  to->set_overwrite(from.overwrite());
  to->set_sort_buffer_bytes(from.sort_buffer_bytes());
  to->set_max_task_attempts(from.max_task_attempts());
  to->set_disable_speculation(from.disable_speculation());
  to->set_max_skipped_records(from.max_skipped_records());
  to->set_merge_factor(from.merge_factor());
  to->set_max_record_bytes(from.max_record_bytes());
  for (const auto& f : from.input_formats()) {
    auto* out = to->add_input_formats();
    out->set_kind(static_cast<decltype(out->kind())>(f.kind()));
    out->set_record_bytes(f.record_bytes());
    out->set_header(f.header());
    out->set_delimiter(f.delimiter());
  }
  to->set_output_format(
      static_cast<decltype(to->output_format())>(from.output_format()));
  to->set_num_maps(from.num_maps());
  to->set_map_only(from.map_only());
  to->set_total_order(from.total_order());
  auto* traits = to->mutable_traits();
  traits->set_generates_input(from.traits().generates_input());
  traits->set_map_only(from.traits().map_only());
  traits->set_total_order(from.traits().total_order());
  traits->set_plans(from.traits().plans());
  traits->set_record_bytes(from.traits().record_bytes());
  traits->set_raw_output(from.traits().raw_output());
  traits->set_num_reduces(from.traits().num_reduces());
  if (!from.has_traits()) to->clear_traits();
  for (const auto& f : from.side_files()) {
    auto* out = to->add_side_files();
    out->set_name(f.name());
    out->set_hash(f.hash());
    out->set_size(f.size());
    out->set_executable(f.executable());
  }
}

template <typename From, typename To>
void CopySplit(const From& from, To* to) {
  for (const auto& c : from.chunks()) {
    auto* out = to->add_chunks();
    out->set_path(c.path());
    out->set_offset(c.offset());
    out->set_length(c.length());
    out->set_input_index(c.input_index());
  }
}

}  // namespace

mrstate::JobSpec ToStored(const mrpb::JobSpec& spec) {
  mrstate::JobSpec out;
  CopyScalars(spec, &out);
  for (const mrpb::Param& p : spec.params()) {
    mrstate::KeyValue* kv = out.add_params();
    kv->set_key(p.key());
    kv->set_value(p.value());
  }
  return out;
}

mrpb::JobSpec FromStored(const mrstate::JobSpec& spec) {
  mrpb::JobSpec out;
  CopyScalars(spec, &out);
  for (const mrstate::KeyValue& kv : spec.params()) {
    mrpb::Param* p = out.add_params();
    p->set_key(kv.key());
    p->set_value(kv.value());
  }
  return out;
}

mrstate::InputSplit ToStored(const mrpb::InputSplit& split) {
  mrstate::InputSplit out;
  CopySplit(split, &out);
  return out;
}

mrpb::InputSplit FromStored(const mrstate::InputSplit& split) {
  mrpb::InputSplit out;
  CopySplit(split, &out);
  return out;
}

mrstate::JobState ToStored(mrpb::JobState state) {
  switch (state) {
    case mrpb::JOB_RUNNING: return mrstate::RUNNING;
    case mrpb::JOB_SUCCEEDED: return mrstate::SUCCEEDED;
    case mrpb::JOB_FAILED: return mrstate::FAILED;
    case mrpb::JOB_KILLED: return mrstate::KILLED;
    default: return mrstate::JOB_STATE_UNSPECIFIED;
  }
}

mrpb::JobState FromStored(mrstate::JobState state) {
  switch (state) {
    case mrstate::RUNNING: return mrpb::JOB_RUNNING;
    case mrstate::SUCCEEDED: return mrpb::JOB_SUCCEEDED;
    case mrstate::FAILED: return mrpb::JOB_FAILED;
    case mrstate::KILLED: return mrpb::JOB_KILLED;
    default: return mrpb::JOB_STATE_UNSPECIFIED;
  }
}

mrstate::TaskKind ToStored(mrpb::TaskKind kind) {
  switch (kind) {
    case mrpb::MAP: return mrstate::MAP;
    case mrpb::REDUCE: return mrstate::REDUCE;
    case mrpb::SAMPLE: return mrstate::SAMPLE;
    default: return mrstate::TASK_KIND_UNSPECIFIED;
  }
}

mrpb::TaskKind FromStored(mrstate::TaskKind kind) {
  switch (kind) {
    case mrstate::MAP: return mrpb::MAP;
    case mrstate::REDUCE: return mrpb::REDUCE;
    case mrstate::SAMPLE: return mrpb::SAMPLE;
    default: return mrpb::TASK_KIND_UNSPECIFIED;
  }
}

}  // namespace mr
