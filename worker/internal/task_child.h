// The task child process: where user code runs, away from the worker daemon,
// so a plugin that crashes, aborts or leaks takes down only its own attempt.
// The worker starts its own binary with --run_task=SPEC; the child reads the
// TaskSpec, loads the job (built-in or plugin), runs the map or reduce, and
// writes a TaskResult to spec.result_path.
#ifndef MR_WORKER_INTERNAL_TASK_CHILD_H_
#define MR_WORKER_INTERNAL_TASK_CHILD_H_

#include <string>

namespace mr {

// Returns the process exit code: 0 when the attempt succeeded, 1 when it
// failed (the result file says why), 2 when even the result could not be
// written.
int RunTaskChild(const std::string& spec_path);

}  // namespace mr

#endif  // MR_WORKER_INTERNAL_TASK_CHILD_H_
