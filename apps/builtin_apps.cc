// The built-in apps: the one table that maps an app name to its factory.
// To add an app, add a row here (kept sorted by name). job_registry.cc is
// the only user; it declares the two functions below itself.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apps/crash.h"
#include "apps/fields.h"
#include "apps/grep.h"
#include "apps/indexer.h"
#include "apps/join.h"
#include "apps/pipeline/transform.h"
#include "apps/pipeline/validate.h"
#include "apps/streaming.h"
#include "apps/terasort.h"
#include "apps/wordcount.h"
#include "mr/mapreduce.h"

namespace mr {
namespace apps {
namespace {

template <typename T>
std::unique_ptr<Job> Make() {
  return std::make_unique<T>();
}

struct BuiltinApp {
  const char* name;
  std::unique_ptr<Job> (*create)();
};

constexpr BuiltinApp kBuiltinApps[] = {
    {"crash", &Make<Crash>},
    {"fields", &Make<Fields>},
    {"grep", &Make<Grep>},
    {"indexer", &Make<Indexer>},
    {"join", &Make<Join>},
    {"pipeline_transform", &Make<pipeline::PipelineTransform>},
    {"pipeline_validate", &Make<pipeline::PipelineValidate>},
    {"streaming", &Make<Streaming>},
    {"teragen", &Make<TeraGen>},
    {"terasort", &Make<TeraSort>},
    {"teravalidate", &Make<TeraValidate>},
    {"wordcount", &Make<WordCount>},
};

}  // namespace

// Sorted names of the table's apps.
std::vector<std::string> BuiltinAppTableNames() {
  std::vector<std::string> names;
  for (const BuiltinApp& app : kBuiltinApps) names.emplace_back(app.name);
  return names;
}

// A new instance of the app `name`, or null when there is none.
std::unique_ptr<Job> NewBuiltinApp(std::string_view name) {
  for (const BuiltinApp& app : kBuiltinApps) {
    if (name == app.name) return app.create();
  }
  return nullptr;
}

}  // namespace apps
}  // namespace mr
