#include "worker/internal/task_child.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include "apps/job_registry.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/proto_maps.h"
#include "proto/worker.pb.h"
#include "worker/internal/map_task.h"
#include "worker/internal/reduce_task.h"

namespace mr {
namespace {

absl::Status RunAttempt(const mrpb::TaskSpec& spec, mrpb::TaskResult* result) {
  const mrpb::JobSpec& job_spec = spec.assignment().spec();
  absl::StatusOr<std::unique_ptr<LoadedJob>> loaded =
      job_spec.app().empty() ? LoadPluginJob(spec.plugin_path())
                             : LoadBuiltinJob(job_spec.app());
  if (!loaded.ok()) return loaded.status();
  Job* job = (*loaded)->job();
  const ParamMap params = ParamsFromProto(job_spec.params());
  if (std::string refusal = job->Setup(params); !refusal.empty()) {
    return absl::InvalidArgumentError(refusal);
  }
  if (spec.assignment().kind() == mrpb::MAP) {
    return RunMapTask(spec, job, result);
  }
  return RunReduceTask(spec, job, result);
}

}  // namespace

int RunTaskChild(const std::string& spec_path) {
  // Die with the worker: an attempt whose worker is gone can never commit,
  // and must not linger (a reducer would wait on fetches forever).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 2;  // the worker died before prctl
  mrpb::TaskSpec spec;
  if (absl::Status s = ReadProtoFile(spec_path, &spec); !s.ok()) {
    MR_LOG(ERROR) << "cannot read task spec: " << s;
    return 2;
  }
  mrpb::TaskResult result;
  absl::Status s = RunAttempt(spec, &result);
  result.set_ok(s.ok());
  if (!s.ok()) {
    result.clear_counters();
    result.set_error(std::string(s.message()));
  }
  if (absl::Status w = WriteProtoFile(spec.result_path(), result); !w.ok()) {
    MR_LOG(ERROR) << "cannot write task result: " << w;
    return 2;
  }
  return s.ok() ? 0 : 1;
}

}  // namespace mr
