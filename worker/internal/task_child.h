// The task child process: where user code runs, away from the worker daemon,
// so a plugin that crashes, aborts or leaks takes down only its own attempt.
// The worker starts its own binary with --run_task=SPEC; the child reads the
// TaskSpec, loads the job (built-in or plugin), runs the map or reduce, and
// writes a TaskResult to spec.result_path.
//
// The child dies with the worker (PR_SET_PDEATHSIG), and exits at once when
// its parent is not spec.worker_pid (the worker died before it could ask).
// With spec.memory_limit_bytes set, its data segment (heap, thread stacks,
// every private writable mapping: RLIMIT_DATA) is limited to that; an
// allocation that fails under the limit ends the process with
// kTaskExitMemoryLimit.
#ifndef MR_WORKER_INTERNAL_TASK_CHILD_H_
#define MR_WORKER_INTERNAL_TASK_CHILD_H_

#include <string>

namespace mr {

// The child's exit codes.
constexpr int kTaskExitOk = 0;
constexpr int kTaskExitFailed = 1;       // the result file says why
constexpr int kTaskExitBroken = 2;       // no spec, no result, or no worker
constexpr int kTaskExitMemoryLimit = 3;  // an allocation failed under the limit

// Returns the process exit code (kTaskExit*, above).
int RunTaskChild(const std::string& spec_path);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_TASK_CHILD_H_
