#include "master/state_codec.h"

#include <google/protobuf/util/message_differencer.h>

#include "gtest/gtest.h"

namespace mr {
namespace {

// Every field of the wire JobSpec has a stored twin with the same number;
// a field added to one and not the other fails here, not on disk.
TEST(StateCodecTest, JobSpecsHaveTheSameFields) {
  const auto* wire = mrpb::JobSpec::descriptor();
  const auto* stored = mrstate::JobSpec::descriptor();
  ASSERT_EQ(wire->field_count(), stored->field_count());
  for (int i = 0; i < wire->field_count(); ++i) {
    const auto* f = wire->field(i);
    const auto* g = stored->FindFieldByNumber(f->number());
    ASSERT_NE(g, nullptr) << f->name();
    EXPECT_EQ(f->name(), g->name());
  }
}

TEST(StateCodecTest, JobSpecRoundTrips) {
  mrpb::JobSpec spec;
  spec.set_name("n\xe9");
  spec.set_app("wordcount");
  spec.set_plugin_hash("abc");
  spec.set_plugin_name("lib\xe9.so");
  spec.add_inputs("/in/\xe9*.txt");
  spec.set_output_dir("/out");
  spec.set_num_reduces(3);
  spec.set_split_size(7);
  mrpb::Param* p = spec.add_params();
  p->set_key("k\xe9");
  p->set_value("v\xe9");
  spec.set_overwrite(true);
  spec.set_sort_buffer_bytes(11);
  spec.set_max_task_attempts(12);
  spec.set_disable_speculation(true);
  spec.set_max_skipped_records(14);
  spec.set_merge_factor(15);
  spec.set_max_record_bytes(16);
  mrpb::InputFormat* format = spec.add_input_formats();
  format->set_kind(mrpb::InputFormat::CSV);
  format->set_record_bytes(17);
  format->set_header(true);
  format->set_delimiter(";");
  spec.set_output_format(mrpb::OUTPUT_JSONL);
  spec.set_num_maps(19);
  spec.set_map_only(true);
  spec.set_total_order(true);
  spec.mutable_traits()->set_generates_input(true);
  spec.mutable_traits()->set_map_only(true);
  spec.mutable_traits()->set_total_order(true);
  spec.mutable_traits()->set_plans(true);
  spec.mutable_traits()->set_record_bytes(100);
  spec.mutable_traits()->set_raw_output(true);
  spec.mutable_traits()->set_num_reduces(1);
  mrpb::SideFile* file = spec.add_side_files();
  file->set_name("lookupé.csv");
  file->set_hash("h");
  file->set_size(23);
  file->set_executable(true);
  // Every field is set: a new field forgotten by the codec shows up here.
  std::vector<const google::protobuf::FieldDescriptor*> set;
  spec.GetReflection()->ListFields(spec, &set);
  ASSERT_EQ(static_cast<int>(set.size()), mrpb::JobSpec::descriptor()->field_count());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      FromStored(ToStored(spec)), spec));
}

TEST(StateCodecTest, SplitsAndEnumsRoundTrip) {
  mrpb::InputSplit split;
  mrpb::FileChunk* c = split.add_chunks();
  c->set_path("/a\xe9");
  c->set_offset(5);
  c->set_length(6);
  c->set_input_index(7);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      FromStored(ToStored(split)), split));
  for (mrpb::JobState s : {mrpb::JOB_RUNNING, mrpb::JOB_SUCCEEDED,
                           mrpb::JOB_FAILED, mrpb::JOB_KILLED}) {
    EXPECT_EQ(FromStored(ToStored(s)), s);
  }
  EXPECT_EQ(FromStored(ToStored(mrpb::MAP)), mrpb::MAP);
  EXPECT_EQ(FromStored(ToStored(mrpb::REDUCE)), mrpb::REDUCE);
  EXPECT_EQ(FromStored(ToStored(mrpb::SAMPLE)), mrpb::SAMPLE);
}

}  // namespace
}  // namespace mr
