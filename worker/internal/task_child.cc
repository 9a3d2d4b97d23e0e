#include "worker/internal/task_child.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <map>
#include <new>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "apps/job_registry.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/proto_maps.h"
#include "common/tls.h"
#include "proto/worker.pb.h"
#include "worker/internal/map_task.h"
#include "worker/internal/reduce_task.h"
#include "worker/internal/sample_task.h"
#include "worker/internal/task_context.h"

namespace mr {
namespace {

// What the new-handler prints, prepared beforehand: it must not allocate.
char g_memory_message[96];
size_t g_memory_message_size = 0;

[[noreturn]] void OnAllocationFailure() {
  ssize_t unused = write(STDERR_FILENO, g_memory_message, g_memory_message_size);
  (void)unused;
  _exit(kTaskExitMemoryLimit);
}

std::terminate_handler g_previous_terminate = nullptr;

// An uncaught exception that says memory ran out is the limit too: above
// all a thread that cannot be created (std::thread throws EAGAIN when its
// stack, which RLIMIT_DATA counts, does not fit).
[[noreturn]] void OnTerminate() {
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::bad_alloc&) {
      OnAllocationFailure();
    } catch (const std::system_error& error) {
      if (error.code() == std::errc::resource_unavailable_try_again ||
          error.code() == std::errc::not_enough_memory) {
        OnAllocationFailure();
      }
    } catch (...) {
    }
  }
  if (g_previous_terminate != nullptr) g_previous_terminate();
  abort();
}

// RLIMIT_DATA rather than RLIMIT_AS: since Linux 4.7 it counts brk and every
// private writable mapping (heap, thread stacks), but not the address space
// that glibc's malloc arenas only reserve (64 MiB of PROT_NONE per arena),
// nor shared libraries' code. Measured on a word count reduce child with its
// 8 threads: 21 MiB resident, 69 MiB of RLIMIT_DATA, 625 MiB of RLIMIT_AS.
absl::Status LimitMemory(uint64_t bytes) {
  const struct rlimit limit = {static_cast<rlim_t>(bytes),
                               static_cast<rlim_t>(bytes)};
  if (setrlimit(RLIMIT_DATA, &limit) != 0) {
    return absl::InternalError(
        absl::StrCat("setrlimit(RLIMIT_DATA): ", strerror(errno)));
  }
  const int n = snprintf(g_memory_message, sizeof(g_memory_message),
                         "task exceeded its memory limit of %llu MiB\n",
                         static_cast<unsigned long long>(bytes >> 20));
  g_memory_message_size =
      std::min(static_cast<size_t>(std::max(n, 0)), sizeof(g_memory_message) - 1);
  std::set_new_handler(OnAllocationFailure);
  g_previous_terminate = std::set_terminate(OnTerminate);
  return absl::OkStatus();
}

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
  const mrpb::TaskAssignment& a = spec.assignment();
  std::vector<std::string> files;
  for (const mrpb::SideFile& f : job_spec.side_files()) files.push_back(f.name());
  TaskContext::SetTaskFiles(spec.files_dir(), std::move(files));
  TaskContext::SetTaskKind(a.kind() == mrpb::SAMPLE   ? TaskKind::kSample
                           : a.kind() == mrpb::REDUCE ? TaskKind::kReduce
                                                      : TaskKind::kMap);
  if (a.kind() == mrpb::SAMPLE) return RunSampleTask(spec, job, result);
  if (job_spec.traits().plans()) {
    if (std::string refusal = job->LoadPlan(a.plan()); !refusal.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the job refused its plan: ", refusal));
    }
  }
  if (a.kind() == mrpb::MAP) return RunMapTask(spec, job, result);
  return RunReduceTask(spec, job, result);
}

}  // namespace

int RunTaskChild(const std::string& spec_path) {
  // Die with the worker: an attempt whose worker is gone can never commit,
  // and must not linger (a reducer would wait on fetches forever).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  mrpb::TaskSpec spec;
  if (absl::Status s = ReadProtoFile(spec_path, &spec); !s.ok()) {
    MR_LOG(ERROR) << "cannot read task spec: " << s;
    return kTaskExitBroken;
  }
  // Compared with the worker's own pid rather than with 1: the worker may
  // itself be PID 1 (of a container), and an orphan is re-parented to the
  // nearest subreaper, which need not be PID 1.
  if (getppid() != static_cast<pid_t>(spec.worker_pid())) {
    MR_LOG(ERROR) << "the worker (pid " << spec.worker_pid()
                  << ") is gone; not running the task";
    return kTaskExitBroken;
  }
  if (spec.memory_limit_bytes() > 0) {
    if (absl::Status s = LimitMemory(spec.memory_limit_bytes()); !s.ok()) {
      MR_LOG(ERROR) << "cannot limit the task's memory: " << s;
      return kTaskExitBroken;
    }
  }
  mrpb::TaskResult result;
  // A reduce's channels (to the master, to its peers' shuffle services)
  // present the worker's certificate.
  absl::StatusOr<TlsConfig> tls =
      TlsConfig::Load({spec.tls_ca_file(), spec.tls_cert_file(),
                       spec.tls_key_file()},
                      /*need_identity=*/false);
  absl::Status s = tls.status();
  if (s.ok()) {
    SetClusterTls(*std::move(tls));
    s = RunAttempt(spec, &result);
  }
  result.set_ok(s.ok());
  if (!s.ok()) {
    result.clear_counters();
    result.set_error(std::string(s.message()));
  }
  if (absl::Status w = WriteProtoFile(spec.result_path(), result); !w.ok()) {
    MR_LOG(ERROR) << "cannot write task result: " << w;
    return kTaskExitBroken;
  }
  return s.ok() ? kTaskExitOk : kTaskExitFailed;
}

}  // namespace mr
