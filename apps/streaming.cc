#include "apps/streaming.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mr {
namespace apps {
namespace {

using internal::StreamingProcess;

const char* RoleName(int role) {
  static const char* const kNames[] = {"mapper", "combiner", "reducer"};
  return kNames[role];
}

// "MR_PARAM_" + name with every byte outside [A-Za-z0-9_] as '_'.
std::string ParamVariable(const std::string& name) {
  std::string v = "MR_PARAM_";
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_';
    v.push_back(ok ? c : '_');
  }
  return v;
}

// Splits a "key\tvalue" line at its first TAB.
void SplitLine(std::string_view line, std::string_view* key,
               std::string_view* value) {
  const size_t tab = line.find('\t');
  if (tab == std::string_view::npos) {
    *key = line;
    *value = {};
  } else {
    *key = line.substr(0, tab);
    *value = line.substr(tab + 1);
  }
}

}  // namespace

Streaming::~Streaming() = default;

std::string Streaming::Setup(const std::map<std::string, std::string>& params) {
  params_ = params;
  auto get = [&](const char* name, std::string* out) -> std::string {
    auto it = params.find(name);
    if (it == params.end()) return {};
    if (it->second.empty()) {
      return absl::StrCat("streaming: --param ", name, "=CMD is empty");
    }
    *out = it->second;
    return {};
  };
  for (auto [name, out] : {std::pair{"mapper", &mapper_},
                           std::pair{"reducer", &reducer_},
                           std::pair{"combiner", &combiner_}}) {
    if (std::string refusal = get(name, out); !refusal.empty()) return refusal;
  }
  if (mapper_.empty()) {
    return "streaming needs --param mapper=CMD (or mrctl submit --mapper CMD)";
  }
  return {};
}

const std::string& Streaming::CommandOf(Role role) const {
  switch (role) {
    case Role::kMapper: return mapper_;
    case Role::kCombiner: return combiner_;
    case Role::kReducer: return reducer_;
  }
  return mapper_;
}

void Streaming::Fail(std::string_view message, Context& ctx) {
  failed_ = true;
  ctx.Fail(message);
}

std::unique_ptr<StreamingProcess> Streaming::StartProcess(
    Role role, std::string_view input_file, Context& ctx) {
  StreamingProcess::Options options;
  options.command = CommandOf(role);
  options.dir = ctx.FilesDir();
  options.stderr_tail_bytes = kStderrTailBytes;
  const char* path = std::getenv("PATH");
  std::string search = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  if (!options.dir.empty()) search = absl::StrCat(options.dir, ":", search);
  const std::string index = absl::StrCat(ctx.TaskIndex());
  auto& env = options.env;
  env.emplace_back("PATH", search);
  env.emplace_back("MR_STREAMING_ROLE", RoleName(static_cast<int>(role)));
  env.emplace_back("MR_TASK_INDEX", index);
  env.emplace_back("mapreduce_task_partition", index);
  env.emplace_back("mapreduce_task_ismap",
                   role == Role::kReducer ? "false" : "true");
  if (!options.dir.empty()) env.emplace_back("MR_FILES_DIR", options.dir);
  if (role == Role::kMapper) {
    env.emplace_back("mapreduce_map_input_file", std::string(input_file));
  }
  for (const auto& [name, value] : params_) {
    if (name == "mapper" || name == "reducer" || name == "combiner") continue;
    env.emplace_back(ParamVariable(name), value);
  }
  auto process = std::make_unique<StreamingProcess>(std::move(options));
  if (absl::Status s = process->Start(); !s.ok()) {
    Fail(absl::StrCat("streaming ", RoleName(static_cast<int>(role)), " `",
                      CommandOf(role), "` cannot start: ", s.message()),
         ctx);
    return nullptr;
  }
  return process;
}

bool Streaming::EnsureStarted(Role role, std::string_view input_file,
                              Context& ctx) {
  if (failed_) return false;
  if (process_ != nullptr) return true;
  role_ = role;
  process_ = StartProcess(role, input_file, ctx);
  return process_ != nullptr;
}

void Streaming::OnLine(Role role, std::string_view line, Context& ctx) {
  if (failed_) return;
  std::string_view key, value;
  SplitLine(line, &key, &value);
  if (role == Role::kCombiner) ++combine_output_records_;
  if (role != Role::kMapper || combiner_.empty()) {
    ctx.Emit(key, value);
    return;
  }
  // Buffered for the combiner, normalized to "key\tvalue\n".
  PendingLine p;
  p.offset = pending_.size();
  p.key_size = static_cast<uint32_t>(key.size());
  pending_.append(key.data(), key.size());
  pending_.push_back('\t');
  pending_.append(value.data(), value.size());
  pending_.push_back('\n');
  p.size = static_cast<uint32_t>(pending_.size() - p.offset);
  pending_index_.push_back(p);
  if (pending_.size() + pending_index_.size() * sizeof(PendingLine) >=
      kCombineBufferBytes) {
    RunCombiner(ctx);
  }
}

bool Streaming::EndProcess(Role role, StreamingProcess& process,
                           Context& ctx) {
  absl::StatusOr<StreamingProcess::Exit> exit = process.Finish(
      [&](std::string_view line) { OnLine(role, line, ctx); });
  if (failed_) return false;  // a combiner run from OnLine() failed
  std::string how;
  if (!exit.ok()) {
    how = std::string(exit.status().message());
  } else if (!exit->ok()) {
    how = exit->Describe();
  } else if (process.stdin_closed_early()) {
    how = "exited with status 0 before reading all its input";
  } else {
    return true;
  }
  std::string tail = process.stderr_tail();
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) {
    tail.pop_back();
  }
  Fail(absl::StrCat("streaming ", RoleName(static_cast<int>(role)), " `",
                    CommandOf(role), "` ", how,
                    tail.empty() ? "" : "; its stderr ends:\n", tail),
       ctx);
  return false;
}

void Streaming::Feed(std::string_view data, Context& ctx) {
  if (failed_ || process_ == nullptr) return;
  const Role role = role_;
  absl::Status s = process_->Write(
      data, [&](std::string_view line) { OnLine(role, line, ctx); });
  if (s.ok() || failed_) return;
  if (process_->stdin_closed_early()) {
    EndProcess(role, *process_, ctx);  // fails the task, whatever the exit
  } else {
    Fail(absl::StrCat("streaming ", RoleName(static_cast<int>(role)), " `",
                      CommandOf(role), "`: ", s.message()),
         ctx);
  }
  process_.reset();
}

void Streaming::Map(const InputRecord& record, Context& ctx) {
  if (!EnsureStarted(Role::kMapper, record.file, ctx)) return;
  Feed(record.line, ctx);
  Feed("\n", ctx);
}

void Streaming::MapBlock(const InputBlock& block, Context& ctx) {
  if (block.data.empty()) return;
  if (!EnsureStarted(Role::kMapper, block.file, ctx)) return;
  Feed(block.data, ctx);
  if (block.data.back() != '\n') Feed("\n", ctx);  // a file's last line
}

void Streaming::Reduce(std::string_view key, ValueIterator& values,
                       Context& ctx) {
  std::string_view value;
  if (reducer_.empty()) {
    while (values.Next(&value)) ctx.Emit(key, value);
    return;
  }
  if (!EnsureStarted(Role::kReducer, {}, ctx)) return;
  while (!failed_ && values.Next(&value)) {
    Feed(key, ctx);
    Feed("\t", ctx);
    Feed(value, ctx);
    Feed("\n", ctx);
  }
}

void Streaming::Finish(Context& ctx) {
  // A task that got no input still runs its command on empty input, as
  // Hadoop does (a mapper may print a header, a reducer a total of 0).
  if (!failed_ && process_ == nullptr) {
    if (ctx.Kind() == TaskKind::kMap) {
      EnsureStarted(Role::kMapper, {}, ctx);
    } else if (ctx.Kind() == TaskKind::kReduce && !reducer_.empty()) {
      EnsureStarted(Role::kReducer, {}, ctx);
    }
  }
  if (failed_ || process_ == nullptr) return;
  const Role role = role_;
  const bool ok = EndProcess(role, *process_, ctx);
  process_.reset();
  if (ok && role == Role::kMapper) RunCombiner(ctx);
}

void Streaming::RunCombiner(Context& ctx) {
  if (failed_ || pending_index_.empty()) return;
  const char* const base = pending_.data();
  std::sort(pending_index_.begin(), pending_index_.end(),
            [base](const PendingLine& a, const PendingLine& b) {
              const std::string_view ka(base + a.offset, a.key_size);
              const std::string_view kb(base + b.offset, b.key_size);
              const int c = ka.compare(kb);
              return c != 0 ? c < 0 : a.offset < b.offset;  // stable
            });
  std::unique_ptr<StreamingProcess> combiner =
      StartProcess(Role::kCombiner, {}, ctx);
  if (combiner == nullptr) return;
  ctx.IncrementCounter("combine input records",
                       static_cast<int64_t>(pending_index_.size()));
  combine_output_records_ = 0;
  auto sink = [&](std::string_view line) {
    OnLine(Role::kCombiner, line, ctx);
  };
  for (const PendingLine& p : pending_index_) {
    absl::Status s =
        combiner->Write(std::string_view(base + p.offset, p.size), sink);
    if (failed_) return;
    if (s.ok()) continue;
    if (combiner->stdin_closed_early()) break;  // EndProcess() says how
    Fail(absl::StrCat("streaming combiner `", combiner_, "`: ", s.message()),
         ctx);
    return;
  }
  pending_.clear();
  pending_index_.clear();
  if (EndProcess(Role::kCombiner, *combiner, ctx)) {
    ctx.IncrementCounter("combine output records", combine_output_records_);
  }
}

}  // namespace apps
}  // namespace mr
