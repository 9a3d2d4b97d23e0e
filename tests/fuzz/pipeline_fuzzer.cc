// Fuzzes the pipeline file parser (common/pipeline_spec.h): the input is
// the YAML text.
//
// Properties, for every input:
//  - nothing crashes or trips ASan/UBSan (yaml-cpp included: deep nesting,
//    aliases, odd scalars);
//  - an error is InvalidArgument "f.yaml:LINE:COL: reason" with LINE and
//    COL positive numbers, LINE at most the input's line count + 1, and one
//    line of text;
//  - a parsed pipeline has a name, a partition column, a timezone and at
//    least one step; step names are unique; every step's dependencies are
//    steps that come before it (the run order); the schema columns are
//    unique and every rule's columns are among them; thresholds are within
//    range (a percentage at most 100, a count whole); upsert loads have a
//    key.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/pipeline_spec.h"
#include "tests/fuzz/fuzz_util.h"

namespace mr {
namespace fuzz {
namespace {

void CheckError(const absl::Status& s, const std::string& yaml) {
  FUZZ_CHECK(absl::IsInvalidArgument(s)) << s;
  const std::vector<absl::string_view> parts =
      absl::StrSplit(s.message(), absl::MaxSplits(':', 3));
  FUZZ_CHECK(parts.size() == 4 && parts[0] == "f.yaml") << s;
  uint64_t line = 0, col = 0;
  FUZZ_CHECK(absl::SimpleAtoi(parts[1], &line) && line >= 1) << s;
  FUZZ_CHECK(absl::SimpleAtoi(parts[2], &col) && col >= 1) << s;
  const uint64_t lines =
      1 + static_cast<uint64_t>(std::count(yaml.begin(), yaml.end(), '\n')) +
      static_cast<uint64_t>(std::count(yaml.begin(), yaml.end(), '\r'));
  FUZZ_CHECK(line <= lines + 1) << s << " (the input has " << lines << " lines)";
  FUZZ_CHECK(s.message().find('\n') == absl::string_view::npos) << s;
}

void CheckSpec(const PipelineSpec& spec) {
  FUZZ_CHECK(!spec.name.empty() && !spec.partition_column.empty() &&
             !spec.timezone.empty());
  FUZZ_CHECK(!spec.steps.empty());
  std::set<std::string> before;
  for (const PipelineStep& step : spec.steps) {
    FUZZ_CHECK(!step.name.empty() && step.line >= 1) << step.name;
    for (const std::string& dep : step.depends_on) {
      FUZZ_CHECK(before.count(dep)) << step.name << " runs before " << dep;
    }
    FUZZ_CHECK(before.insert(step.name).second) << "two steps " << step.name;
    std::set<std::string> columns;
    for (const auto& [column, type] : step.schema) {
      FUZZ_CHECK(columns.insert(column).second) << step.name << ": " << column;
    }
    for (const PipelineStep::Rule& rule : step.rules) {
      for (const std::string& c : rule.columns) {
        FUZZ_CHECK(columns.count(c)) << step.name << ": " << rule.kind << " " << c;
      }
    }
    for (const auto& t : {step.error_if, step.warn_if}) {
      if (!t) continue;
      FUZZ_CHECK(t->value >= 0 && (!t->percent || t->value <= 100)) << step.name;
      FUZZ_CHECK(t->percent || t->value == static_cast<double>(
                                               static_cast<int64_t>(t->value)))
          << step.name;
    }
    FUZZ_CHECK(step.mode != "upsert" || !step.key.empty()) << step.name;
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace mr

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<mr::PipelineSpec> spec = mr::ParsePipeline(yaml, "f.yaml");
  if (spec.ok()) {
    mr::fuzz::CheckSpec(*spec);
  } else {
    mr::fuzz::CheckError(spec.status(), yaml);
  }
  return 0;
}
