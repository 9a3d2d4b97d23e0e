#include "apps/job_registry.h"

#include <dlfcn.h>

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mr {
namespace apps {
// Defined in builtin_apps.cc, the table of built-in apps.
std::vector<std::string> BuiltinAppTableNames();
std::unique_ptr<Job> NewBuiltinApp(std::string_view name);
}  // namespace apps

LoadedJob::~LoadedJob() {
  // The job's code (vtable, destructor) lives in the library: destroy first.
  job_.reset();
  if (dl_handle_ != nullptr) dlclose(dl_handle_);
}

std::vector<std::string> BuiltinAppNames() {
  return apps::BuiltinAppTableNames();
}

absl::StatusOr<std::unique_ptr<LoadedJob>> LoadBuiltinJob(
    const std::string& name) {
  std::unique_ptr<Job> job = apps::NewBuiltinApp(name);
  if (job == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("unknown app '", name, "'; built-in apps: ",
                     absl::StrJoin(BuiltinAppNames(), ", ")));
  }
  return std::make_unique<LoadedJob>(std::move(job), nullptr);
}

absl::StatusOr<std::unique_ptr<LoadedJob>> LoadPluginJob(
    const std::string& plugin_path) {
  dlerror();  // clear any stale error
  void* handle = dlopen(plugin_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return absl::FailedPreconditionError(
        err != nullptr ? err : absl::StrCat("cannot load plugin ", plugin_path));
  }
  using Factory = Job* (*)();
  auto factory = reinterpret_cast<Factory>(dlsym(handle, "mr_create_job"));
  if (factory == nullptr) {
    dlclose(handle);
    return absl::FailedPreconditionError(
        absl::StrCat("plugin ", plugin_path,
                     " exports no mr_create_job (use MR_EXPORT_JOB)"));
  }
  std::unique_ptr<Job> job(factory());
  if (job == nullptr) {
    dlclose(handle);
    return absl::FailedPreconditionError(
        absl::StrCat("plugin ", plugin_path, ": mr_create_job returned null"));
  }
  return std::make_unique<LoadedJob>(std::move(job), handle);
}

}  // namespace mr
