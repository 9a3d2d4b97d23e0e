// Finds a job's code: a built-in app by name, or a plugin shared library.
#ifndef MR_APPS_JOB_REGISTRY_H_
#define MR_APPS_JOB_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mr/mapreduce.h"

namespace mr {

// A job instance together with the library it came from; destroys the job
// before unloading the library.
class LoadedJob {
 public:
  LoadedJob(std::unique_ptr<Job> job, void* dl_handle)
      : job_(std::move(job)), dl_handle_(dl_handle) {}
  ~LoadedJob();
  LoadedJob(const LoadedJob&) = delete;
  LoadedJob& operator=(const LoadedJob&) = delete;

  Job* job() const { return job_.get(); }

 private:
  std::unique_ptr<Job> job_;
  void* const dl_handle_;  // null for a built-in app
};

// Names of the built-in apps, sorted.
std::vector<std::string> BuiltinAppNames();

// Creates an instance of the built-in app `name`; NotFound for an unknown app.
absl::StatusOr<std::unique_ptr<LoadedJob>> LoadBuiltinJob(
    const std::string& name);

// dlopen()s `plugin_path` and calls its exported `mr_create_job`.
// FailedPrecondition, with dlerror()'s text, when the library does not load
// or exports no factory.
absl::StatusOr<std::unique_ptr<LoadedJob>> LoadPluginJob(
    const std::string& plugin_path);

}  // namespace mr

#endif  // MR_APPS_JOB_REGISTRY_H_
