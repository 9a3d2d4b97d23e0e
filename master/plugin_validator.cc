#include "master/plugin_validator.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "apps/job_registry.h"
#include "common/file_util.h"
#include "common/proto_maps.h"
#include "common/subprocess.h"

namespace mr {

mrpb::JobTraits TraitsToProto(const JobTraits& traits) {
  mrpb::JobTraits out;
  out.set_generates_input(traits.generates_input);
  out.set_map_only(traits.map_only);
  out.set_total_order(traits.total_order);
  out.set_plans(traits.plans);
  out.set_record_bytes(traits.record_bytes);
  out.set_raw_output(traits.raw_output);
  out.set_num_reduces(traits.num_reduces);
  return out;
}

absl::StatusOr<mrpb::JobTraits> ValidatePluginInChild(
    const std::string& self_exe, const std::string& scratch_dir,
    const std::string& plugin_path, const mrpb::JobSpec& spec) {
  static std::atomic<uint64_t> seq{0};
  const std::string base =
      absl::StrCat(scratch_dir, "/validate-", getpid(), "-", seq++);
  const std::string spec_path = base + ".spec";
  const std::string out_path = base + ".out";
  if (absl::Status s = WriteProtoFile(spec_path, spec); !s.ok()) return s;
  Subprocess child;
  absl::Status s = child.Start({self_exe, "--validate_plugin=" + plugin_path,
                                "--validate_spec=" + spec_path},
                               out_path);
  if (!s.ok()) return s;
  auto exit = child.WaitFor(30000);
  if (!exit.ok()) {
    child.Kill(SIGKILL);
    (void)child.Wait();
  }
  std::string output = ReadFileToString(out_path).value_or("");
  mrpb::JobSpec checked;
  const absl::Status read_back = ReadProtoFile(spec_path, &checked);
  RemoveAll(spec_path).IgnoreError();
  RemoveAll(out_path).IgnoreError();
  // The last line the child printed is its verdict.
  std::string reason(absl::StripTrailingAsciiWhitespace(output));
  if (size_t nl = reason.rfind('\n'); nl != std::string::npos) {
    reason = reason.substr(nl + 1);
  }
  if (!exit.ok()) {
    return absl::FailedPreconditionError("loading it did not finish in 30 s");
  }
  if (!exit->signaled && exit->code == kPluginOk) {
    if (!read_back.ok()) return read_back;
    return checked.traits();
  }
  if (!exit->signaled && exit->code == kPluginRefusesParams) {
    return absl::InvalidArgumentError(reason);
  }
  if (!exit->signaled && exit->code == kPluginDoesNotLoad) {
    return absl::FailedPreconditionError(reason);
  }
  return absl::FailedPreconditionError(
      absl::StrCat("loading it crashed (", exit->Describe(), ")"));
}

int RunPluginValidation(const std::string& plugin_path,
                        const std::string& spec_path) {
  mrpb::JobSpec spec;
  if (absl::Status s = ReadProtoFile(spec_path, &spec); !s.ok()) {
    printf("%s\n", std::string(s.message()).c_str());
    return kPluginDoesNotLoad;
  }
  auto loaded = LoadPluginJob(plugin_path);
  if (!loaded.ok()) {
    printf("%s\n", std::string(loaded.status().message()).c_str());
    return kPluginDoesNotLoad;
  }
  const ParamMap params = ParamsFromProto(spec.params());
  const std::string refusal = (*loaded)->job()->Setup(params);
  if (!refusal.empty()) {
    printf("%s\n", refusal.c_str());
    return kPluginRefusesParams;
  }
  *spec.mutable_traits() = TraitsToProto((*loaded)->job()->Traits());
  if (absl::Status s = WriteProtoFile(spec_path, spec); !s.ok()) {
    printf("%s\n", std::string(s.message()).c_str());
    return kPluginDoesNotLoad;
  }
  return kPluginOk;
}

}  // namespace mr
