// Fuzzes a master restart on a damaged or hostile state store: records
// written raw into a real MasterStore (master/master_store.h), read back by
// Load() and restored by JobTracker::Restore(), then served to a worker.
//
// Input: one to eight (key, value) records. Each is raw bytes under a
// chosen key, or a record built field by field from the input, so that the
// fuzzer soon reaches records that parse and still lie: 0 or 2^32-1
// reduces, a task of no job or past its job's splits, an unknown state or
// kind, a task under another task's key, a job id or an output that names
// another directory, counters that overflow, bounds that do not fit.
//
// Properties, for every input:
//  - nothing crashes, aborts, leaks or trips ASan/UBSan;
//  - Load() accounts for every record: it loads it, or quarantines it
//    exactly when it does not parse or MasterStore::CheckJob()/CheckTask()
//    refuse it, with a reason that names its key;
//  - what Load() passes is usable, checked here independently of those
//    checks: a job id that is a file name, an output that is a real
//    absolute path (before Restore() runs: it removes staging directories
//    named after both), a state, a split, a reduce count a master accepts,
//    bounds that fit the reduces; tasks under their own key, within their
//    job;
//  - the codec round-trips: ToStored(FromStored(x)) is x (unknown fields
//    aside) for every stored spec and split, FromStored(ToStored(y)) is y;
//  - the tracker reports exactly the loaded jobs, each with its stored
//    spec, inputs, times, state, error, finished tasks, counters and
//    partition sizes; what it hands a worker (splits, bounds, map outputs)
//    is the stored job's;
//  - restore is stable: the records the tracker writes back (it kills the
//    running jobs) decode to what it restored, a second Load() quarantines
//    nothing, and a second tracker restores the same jobs.
//
// Filesystem: job outputs that are real absolute paths are moved under this
// process's scratch directory ($TMPDIR or /tmp) before the records are
// stored, so restore only ever touches paths there; any other output must
// be quarantined, which is checked before Restore() runs. One store serves
// many inputs (MasterStore::ClearForTest() between them): opening a RocksDB
// costs ~50 ms, the rest of an input ~3 ms.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/job_limits.h"
#include "common/names.h"
#include "common/proto_maps.h"
#include "common/shuffle_secret.h"
#include "master/job_tracker.h"
#include "master/master_options.h"
#include "master/master_store.h"
#include "master/plugin_store.h"
#include "master/state_codec.h"
#include "mr/mapreduce.h"
#include "tests/fuzz/fuzz_util.h"

namespace mr {
namespace fuzz {
namespace {

using google::protobuf::util::MessageDifferencer;
using Records = std::map<std::string, std::string>;  // key -> value

// ------------------------------------------------------------ environment

struct Env {
  std::string dir;    // this process's scratch directory
  std::string db;     // the store's directory
  std::string root;   // job outputs are moved under it
  std::unique_ptr<PluginStore> plugins;
  // Cleared for each input, made anew every kStoreUses inputs (the
  // deletions pile up as tombstones until then).
  std::unique_ptr<MasterStore> store;
  int store_uses = 0;
};
constexpr int kStoreUses = 500;

constexpr char kScratchPrefix[] = "mr-master-state-fuzz.";

// Removes the scratch directories of earlier runs that died (abort() skips
// the atexit handler that removes them).
void RemoveStaleScratch(const std::string& base) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(base, ec)) {
    const std::string name = entry.path().filename().string();
    int pid = 0;
    if (!absl::StartsWith(name, kScratchPrefix) ||
        !absl::SimpleAtoi(absl::StripPrefix(name, kScratchPrefix), &pid) ||
        pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH) {
      continue;
    }
    std::filesystem::remove_all(entry.path(), ec);
  }
}

Env* MakeEnv() {
  const char* tmp = getenv("TMPDIR");
  const std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  RemoveStaleScratch(base);
  auto* env = new Env;
  absl::StatusOr<std::string> dir =
      ResolvePath(absl::StrCat(base, "/", kScratchPrefix, getpid()));
  if (!dir.ok() || !MakeDirs(*dir + "/fs").ok()) {
    fprintf(stderr, "master_state_fuzzer: no scratch directory under %s\n",
            base.c_str());
    abort();
  }
  env->dir = *dir;
  env->db = *dir + "/db";
  env->root = *dir + "/fs";
  env->plugins = std::make_unique<PluginStore>(*dir + "/plugins");
  if (!env->plugins->Init().ok()) abort();
  return env;
}

Env& GetEnv() {
  static Env* env = [] {
    Env* made = MakeEnv();
    // The store stays open: RocksDB cannot close once exit() has begun.
    atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(GetEnv().dir, ignored);
    });
    return made;
  }();
  return *env;
}

// ------------------------------------------------------------ the records

int64_t Int64(FuzzInput& in) {
  switch (in.Byte() % 8) {
    case 0: return 0;
    case 1: return 1;
    case 2: return -1;
    case 3: return std::numeric_limits<int64_t>::max();
    case 4: return std::numeric_limits<int64_t>::min();
    case 5: return 1000000;  // the tracker's clock
    case 6: return in.Uint32();
    default: return -static_cast<int64_t>(in.Uint32());
  }
}

uint64_t Uint64(FuzzInput& in) {
  switch (in.Byte() % 5) {
    case 0: return 0;
    case 1: return 1;
    case 2: return std::numeric_limits<uint64_t>::max();
    case 3: return in.Uint32();
    default: return static_cast<uint64_t>(in.Uint32()) << 32 | in.Uint32();
  }
}

// A count: small, at a limit, or anything.
uint32_t Count(FuzzInput& in) {
  const uint8_t b = in.Byte() % 10;
  switch (b) {
    case 5: return kMaxReduces;
    case 6: return kMaxReduces + 1;
    case 7: return 1u << 31;
    case 8: return std::numeric_limits<uint32_t>::max();
    case 9: return in.Uint32();
    default: return b;
  }
}

std::string JobId(FuzzInput& in) {
  switch (in.Byte() % 9) {
    case 0:
    case 1: return "job-000001";
    case 2: return "job-000002";
    case 3: return "job-000003";
    case 4: return "";
    case 5: return "a/b";
    case 6: return std::string("job-000004\0x", 12);
    case 7: return "..";
    default: return in.String(12);
  }
}

std::string OutputDir(FuzzInput& in) {
  switch (in.Byte() % 9) {
    case 0:
    case 1: return "/out";
    case 2: return "/o/p/q";
    case 3: return "rel/out";
    case 4: return "";
    case 5: return "/";
    case 6: return "/a/../b";
    case 7: return std::string("/x\0/..", 6);
    default: return absl::StrCat("/", in.String(12));
  }
}

std::string Path(FuzzInput& in) {
  switch (in.Byte() % 4) {
    case 0: return "/in/a.txt";
    case 1: return "/in/b.txt";
    case 2: return "in/rel.txt";
    default: return in.String(12);
  }
}

// A proto3 `string` field: only valid UTF-8 serializes as itself.
std::string Utf8(FuzzInput& in, size_t max_len) {
  std::string s = in.String(max_len);
  return IsValidUtf8(s) ? s : "";
}

void FillSpec(FuzzInput& in, mrstate::JobSpec* spec) {
  const uint8_t flags = in.Byte();
  spec->set_name(in.String(8));
  spec->set_app(in.Byte() % 2 == 0 ? "wordcount" : Utf8(in, 8));
  if (flags & 1) spec->set_plugin_hash(Utf8(in, 8));
  for (uint64_t i = in.Below(3); i > 0; --i) spec->add_inputs(Path(in));
  spec->set_output_dir(OutputDir(in));
  spec->set_num_reduces(Count(in));
  spec->set_split_size(Uint64(in));
  for (uint64_t i = in.Below(3); i > 0; --i) {
    mrstate::KeyValue* kv = spec->add_params();
    kv->set_key(in.String(6));
    kv->set_value(in.String(6));
  }
  spec->set_overwrite(flags & 2);
  spec->set_max_task_attempts(Count(in));
  spec->set_disable_speculation(flags & 4);
  spec->set_max_skipped_records(Uint64(in));
  spec->set_merge_factor(Count(in));
  for (uint64_t i = in.Below(3); i > 0; --i) {
    mrstate::InputFormat* f = spec->add_input_formats();
    f->set_kind(static_cast<mrstate::InputFormat::Kind>(in.Byte() % 6));
    f->set_record_bytes(Count(in));
    f->set_header(in.Byte() & 1);
    f->set_delimiter(in.String(2));
  }
  spec->set_output_format(static_cast<mrstate::OutputFormat>(in.Byte() % 7));
  spec->set_num_maps(Count(in));
  spec->set_map_only(flags & 8);
  spec->set_total_order(flags & 16);
  if (flags & 32) {
    mrstate::JobTraits* t = spec->mutable_traits();
    const uint8_t traits = in.Byte();
    t->set_generates_input(traits & 1);
    t->set_map_only(traits & 2);
    t->set_total_order(traits & 4);
    t->set_plans(traits & 8);
    t->set_raw_output(traits & 16);
    t->set_num_reduces(Count(in));
  }
  if (flags & 64) {
    mrstate::SideFile* f = spec->add_side_files();
    f->set_name(in.String(6));
    f->set_hash(Utf8(in, 8));
    f->set_size(Uint64(in));
  }
}

std::string MakeJob(FuzzInput& in, std::string* key) {
  mrstate::JobRecord r;
  r.set_job_id(JobId(in));
  *key = in.Byte() % 8 == 0 ? absl::StrCat("job/", JobId(in))
                            : absl::StrCat("job/", r.job_id());
  const uint8_t state = in.Byte() % 7;
  r.set_state(static_cast<mrstate::JobState>(state < 5 ? state : 40 + state));
  FillSpec(in, r.mutable_spec());
  for (uint64_t i = in.Below(3); i > 0; --i) r.add_input_files(Path(in));
  for (uint64_t i = in.Below(4); i > 0; --i) {
    mrstate::InputSplit* split = r.add_splits();
    for (uint64_t c = in.Below(3); c > 0; --c) {
      mrstate::FileChunk* chunk = split->add_chunks();
      chunk->set_path(Path(in));
      chunk->set_offset(Uint64(in));
      chunk->set_length(Uint64(in));
      chunk->set_input_index(in.Byte() % 4);
    }
  }
  r.set_submit_time_ms(Int64(in));
  r.set_finish_time_ms(Int64(in));
  r.set_error(in.String(10));
  r.set_request_id(in.Byte() % 2 == 0 ? "" : Utf8(in, 6));
  for (uint64_t i = in.Below(4); i > 0; --i) {
    mrstate::RecordLocation* m = r.add_malformed_records();
    m->set_path(Path(in));
    m->set_offset(in.Byte() % 3);
    m->set_reason(in.String(6));
  }
  const uint8_t sample = in.Byte();
  r.set_sampled(sample & 1);
  if (sample & 2) r.set_plan(in.String(8));
  for (uint64_t i = in.Below(5); i > 0; --i) r.add_partition_bounds(in.String(4));
  std::string value = r.SerializeAsString();
  // A field of a later version: kept by the parser, dropped by the codec.
  if (sample & 4) value += std::string("\xf8\x06\x01", 3);
  return value;
}

// MasterStore's key of a task record.
std::string TaskKey(const std::string& job_id, const mrstate::TaskRecord& t) {
  return absl::StrFormat("task/%s/%c%08d", job_id,
                         t.kind() == mrstate::MAP ? 'M' : 'R', t.index());
}

std::string MakeTask(FuzzInput& in, std::string* key) {
  mrstate::TaskRecord t;
  const uint8_t kind = in.Byte() % 5;
  t.set_kind(static_cast<mrstate::TaskKind>(kind < 4 ? kind : 9));
  const uint8_t index = in.Byte() % 6;
  t.set_index(index < 4 ? index : index == 4 ? Count(in) : 99999999);
  t.set_attempt_id(Uint64(in));
  for (uint64_t i = in.Below(4); i > 0; --i) {
    mrstate::Counter* c = t.add_counters();
    switch (in.Byte() % 4) {
      case 0: c->set_name("map input records"); break;
      case 1: c->set_name("max task memory bytes"); break;
      case 2: c->set_name("reduce output records"); break;
      default: c->set_name(in.String(6));
    }
    c->set_value(Int64(in));
  }
  for (uint64_t i = in.Below(4); i > 0; --i) {
    mrstate::PartitionSize* p = t.add_partition_sizes();
    p->set_records(Uint64(in));
    p->set_bytes(Uint64(in));
  }
  const std::string job_id = JobId(in);
  switch (in.Byte() % 6) {
    case 0: {  // another task's key
      mrstate::TaskRecord other = t;
      other.set_kind(t.kind() == mrstate::MAP ? mrstate::REDUCE : mrstate::MAP);
      *key = TaskKey(job_id, other);
      break;
    }
    case 1: {
      mrstate::TaskRecord other = t;
      other.set_index(t.index() + 1);
      *key = TaskKey(job_id, other);
      break;
    }
    case 2: *key = absl::StrCat("task/", in.String(16)); break;
    default: *key = TaskKey(job_id, t);
  }
  return t.SerializeAsString();
}

std::string MakeIds(FuzzInput& in) {
  mrstate::MasterIds ids;
  ids.set_next_job_seq(Uint64(in));
  ids.set_attempt_id_limit(Uint64(in));
  ids.set_next_worker_seq(Uint64(in));
  return ids.SerializeAsString();
}

Records MakeRecords(FuzzInput& in) {
  Records records;
  for (int n = 1 + in.Byte() % 8; n > 0 && !in.empty(); --n) {
    std::string key, value;
    switch (in.Byte() % 8) {
      case 0:
      case 1:
      case 2: value = MakeJob(in, &key); break;
      case 3:
      case 4: value = MakeTask(in, &key); break;
      case 5:
        key = "ids";
        value = MakeIds(in);
        break;
      default: {  // raw bytes
        switch (in.Byte() % 5) {
          case 0: key = "ids"; break;
          case 1: key = absl::StrCat("job/", JobId(in)); break;
          case 2: key = absl::StrCat("task/", JobId(in), "/M00000000"); break;
          case 3: key = absl::StrCat("task/", JobId(in), "/R00000000"); break;
          default: key = in.String(20);
        }
        value = in.String(400);
      }
    }
    records[key] = value;  // a key written twice holds the last value
  }
  return records;
}

// ResolvePath()'s form: absolute, not "/", no empty, "." or ".."
// component, no NUL. Written here, not taken from the store, so that a
// store that lets another form through is caught.
bool IsRealPath(const std::string& path) {
  if (path.size() < 2 || path[0] != '/' ||
      path.find('\0') != std::string::npos) {
    return false;
  }
  for (absl::string_view part : absl::StrSplit(path.substr(1), '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

// Moves every job output that is a real path under env.root.
void ConfineOutputs(const Env& env, Records* records) {
  for (auto& [key, value] : *records) {
    mrstate::JobRecord job;
    if (!absl::StartsWith(key, "job/") || !job.ParseFromString(value) ||
        !IsRealPath(job.spec().output_dir())) {
      continue;
    }
    job.mutable_spec()->set_output_dir(env.root + job.spec().output_dir());
    value = job.SerializeAsString();
  }
}

// ------------------------------------------------------------ properties

bool Equal(const google::protobuf::Message& a,
           const google::protobuf::Message& b) {
  return MessageDifferencer::Equals(a, b);
}

template <typename M>
M WithoutUnknownFields(M m) {
  m.DiscardUnknownFields();
  return m;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const mrstate::JobRecord* FindJob(const MasterStore::State& state,
                                  const std::string& id) {
  for (const mrstate::JobRecord& j : state.jobs) {
    if (j.job_id() == id) return &j;
  }
  return nullptr;
}

// The codec gives back what it was given.
void CheckCodec(const mrstate::JobRecord& job) {
  const mrpb::JobSpec wire = FromStored(job.spec());
  FUZZ_CHECK(Equal(ToStored(wire), WithoutUnknownFields(job.spec())))
      << "spec of " << EscapeName(job.job_id()) << " does not round-trip";
  FUZZ_CHECK(Equal(FromStored(ToStored(wire)), wire))
      << "wire spec of " << EscapeName(job.job_id()) << " does not round-trip";
  for (const mrstate::InputSplit& split : job.splits()) {
    FUZZ_CHECK(Equal(ToStored(FromStored(split)), WithoutUnknownFields(split)))
        << "a split of " << EscapeName(job.job_id()) << " does not round-trip";
  }
}

// The Load() verdict on one record, from the records alone.
void CheckVerdict(const std::string& key, const std::string& value,
                  const MasterStore::State& state) {
  const bool quarantined = Contains(state.quarantined, key);
  if (key == "ids") {
    mrstate::MasterIds ids;
    FUZZ_CHECK(state.has_ids == ids.ParseFromString(value));
    FUZZ_CHECK(quarantined == !state.has_ids) << "ids";
    return;
  }
  if (absl::StartsWith(key, "job/")) {
    mrstate::JobRecord job;
    const bool parsed = job.ParseFromString(value);
    const absl::Status usable =
        parsed ? MasterStore::CheckJob(key, job) : absl::OkStatus();
    const bool loaded =
        parsed && key == "job/" + job.job_id() &&
        FindJob(state, job.job_id()) != nullptr;
    FUZZ_CHECK(loaded != quarantined)
        << EscapeName(key) << ": loaded " << loaded << ", quarantined "
        << quarantined;
    FUZZ_CHECK(loaded == (parsed && usable.ok())) << EscapeName(key);
    if (!usable.ok()) {
      FUZZ_CHECK(absl::IsInvalidArgument(usable)) << usable;
      FUZZ_CHECK(absl::StrContains(usable.message(), EscapeName(key)))
          << "the reason does not name " << EscapeName(key) << ": " << usable;
    }
    if (parsed) CheckCodec(job);
    return;
  }
  if (absl::StartsWith(key, "task/")) {
    mrstate::TaskRecord task;
    const size_t slash = key.rfind('/');
    const bool parsed = task.ParseFromString(value) && slash > 5;
    FUZZ_CHECK(parsed || quarantined) << EscapeName(key);
    if (!parsed) return;
    const std::string job_id = key.substr(5, slash - 5);
    const absl::Status usable =
        MasterStore::CheckTask(key, task, FindJob(state, job_id));
    FUZZ_CHECK(usable.ok() != quarantined)
        << EscapeName(key) << ": " << usable << ", quarantined " << quarantined;
    if (!usable.ok()) {
      FUZZ_CHECK(absl::StrContains(usable.message(), EscapeName(key)))
          << "the reason does not name " << EscapeName(key) << ": " << usable;
    }
    return;
  }
  FUZZ_CHECK(!quarantined) << "a key Load() does not read: " << EscapeName(key);
}

// What Load() passed is usable, by rules of this file's own.
void CheckUsable(const Env& env, const MasterStore::State& state) {
  std::set<std::string> ids;
  for (const mrstate::JobRecord& j : state.jobs) {
    const std::string& id = j.job_id();
    FUZZ_CHECK(ids.insert(id).second) << "job " << EscapeName(id) << " twice";
    FUZZ_CHECK(!id.empty() && id.find('/') == std::string::npos &&
               id.find('\0') == std::string::npos)
        << "job id " << EscapeName(id) << " names a path";
    const std::string& out = j.spec().output_dir();
    FUZZ_CHECK(IsRealPath(out) && absl::StartsWith(out, env.root + "/"))
        << "job " << EscapeName(id) << " has output " << EscapeName(out);
    FUZZ_CHECK(j.state() >= mrstate::RUNNING && j.state() <= mrstate::KILLED);
    FUZZ_CHECK(j.splits_size() > 0);
    const uint32_t reduces = j.spec().num_reduces();
    if (j.spec().map_only()) {
      FUZZ_CHECK(reduces == 0) << reduces << " reduces, map-only";
    } else {
      FUZZ_CHECK(reduces >= 1 && reduces <= kMaxReduces) << reduces;
    }
    if (j.sampled()) {
      FUZZ_CHECK(static_cast<uint32_t>(j.partition_bounds_size()) ==
                 (j.spec().total_order() ? reduces - 1 : 0))
          << j.partition_bounds_size() << " bounds, " << reduces << " reduces";
    }
  }
  for (const auto& [job_id, tasks] : state.tasks) {
    const mrstate::JobRecord* job = FindJob(state, job_id);
    FUZZ_CHECK(job != nullptr) << "task of no job " << EscapeName(job_id);
    std::set<std::string> keys;
    for (const mrstate::TaskRecord& t : tasks) {
      FUZZ_CHECK(t.kind() == mrstate::MAP || t.kind() == mrstate::REDUCE);
      FUZZ_CHECK(keys.insert(TaskKey(job_id, t)).second) << "a task twice";
      FUZZ_CHECK(t.index() < (t.kind() == mrstate::MAP
                                  ? static_cast<uint32_t>(job->splits_size())
                                  : job->spec().num_reduces()))
          << "task " << t.index() << " past its job's";
    }
  }
}

// The job's counters: over its tasks, summed (modulo 2^64), or for "max "
// counters the largest.
CounterMap ExpectedCounters(const std::vector<mrstate::TaskRecord>& tasks) {
  CounterMap out;
  for (const mrstate::TaskRecord& t : tasks) {
    for (const auto& [name, value] : CountersFromProto(t.counters())) {
      auto it = out.find(name);
      if (it == out.end()) {
        out[name] = value;
      } else if (IsMaxCounter(name)) {
        it->second = std::max(it->second, value);
      } else {
        it->second = AddCounter(it->second, value);
      }
    }
  }
  return out;
}

// The first kMaxReportedMalformedRecords distinct (path, offset).
std::vector<std::pair<std::string, uint64_t>> ExpectedMalformed(
    const mrstate::JobRecord& job) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const mrstate::RecordLocation& m : job.malformed_records()) {
    std::pair<std::string, uint64_t> loc(m.path(), m.offset());
    if (out.size() < kMaxReportedMalformedRecords &&
        std::find(out.begin(), out.end(), loc) == out.end()) {
      out.push_back(loc);
    }
  }
  return out;
}

// A restored job's status against its record and its tasks.
void CheckStatus(const mrstate::JobRecord& j,
                 const std::vector<mrstate::TaskRecord>& tasks,
                 const mrpb::JobStatus& s) {
  const std::string id = EscapeName(j.job_id());
  FUZZ_CHECK(Equal(s.spec(), FromStored(j.spec()))) << id << ": spec";
  FUZZ_CHECK(s.maps_total() == static_cast<uint32_t>(j.splits_size())) << id;
  FUZZ_CHECK(s.reduces_total() == j.spec().num_reduces()) << id;
  uint32_t maps = 0, reduces = 0;
  for (const mrstate::TaskRecord& t : tasks) {
    (t.kind() == mrstate::MAP ? maps : reduces)++;
  }
  FUZZ_CHECK(s.maps_done() == maps && s.reduces_done() == reduces)
      << id << ": " << s.maps_done() << "/" << maps << " maps, "
      << s.reduces_done() << "/" << reduces << " reduces done";
  FUZZ_CHECK(s.maps_running() == 0 && s.reduces_running() == 0) << id;
  FUZZ_CHECK(s.submit_time_ms() == j.submit_time_ms()) << id;
  FUZZ_CHECK(std::vector<std::string>(s.input_files().begin(),
                                      s.input_files().end()) ==
             std::vector<std::string>(j.input_files().begin(),
                                      j.input_files().end()))
      << id << ": input files";
  FUZZ_CHECK(s.sampled() == j.sampled()) << id;
  if (j.state() != mrstate::RUNNING) {
    FUZZ_CHECK(s.state() == FromStored(j.state())) << id;
    FUZZ_CHECK(s.error() == j.error()) << id;
    FUZZ_CHECK(s.finish_time_ms() == j.finish_time_ms()) << id;
  } else if (s.state() != mrpb::JOB_RUNNING) {
    // Restore commits a job whose output tasks are all done; with no staged
    // output here, the commit fails.
    const bool ready = j.spec().map_only()
                           ? maps == static_cast<uint32_t>(j.splits_size())
                           : reduces == j.spec().num_reduces();
    FUZZ_CHECK(ready && s.state() == mrpb::JOB_FAILED &&
               absl::StartsWith(s.error(), "job commit failed"))
        << id << ": " << mrpb::JobState_Name(s.state()) << " " << s.error();
  }
  std::vector<std::pair<std::string, uint64_t>> malformed;
  for (const mrpb::RecordLocation& m : s.malformed_records()) {
    malformed.emplace_back(m.path(), m.offset());
  }
  FUZZ_CHECK(malformed == ExpectedMalformed(j)) << id << ": malformed records";
  CounterMap counters;
  for (const mrpb::Counter& c : s.counters()) counters[c.name()] = c.value();
  FUZZ_CHECK(counters == ExpectedCounters(tasks)) << id << ": counters";
  std::vector<std::pair<uint64_t, uint64_t>> parts;
  for (const mrstate::TaskRecord& t : tasks) {
    if (t.kind() != mrstate::MAP) continue;
    parts.resize(j.spec().num_reduces());
    for (int p = 0; p < t.partition_sizes_size() &&
                    p < static_cast<int>(parts.size());
         ++p) {
      parts[p].first += t.partition_sizes(p).records();
      parts[p].second += t.partition_sizes(p).bytes();
    }
  }
  FUZZ_CHECK(s.partitions_size() == static_cast<int>(parts.size())) << id;
  for (size_t p = 0; p < parts.size(); ++p) {
    FUZZ_CHECK(s.partitions(p).records() == parts[p].first &&
               s.partitions(p).bytes() == parts[p].second)
        << id << ": partition " << p;
  }
}

void CheckRestored(JobTracker& tracker, MasterStore::State& state) {
  std::set<std::string> listed;
  for (const mrpb::JobStatus& s : tracker.ListJobs(/*all=*/true)) {
    FUZZ_CHECK(listed.insert(s.job_id()).second)
        << "listed twice: " << EscapeName(s.job_id());
    FUZZ_CHECK(FindJob(state, s.job_id()) != nullptr)
        << "restored a job no record holds: " << EscapeName(s.job_id());
  }
  FUZZ_CHECK(listed.size() == state.jobs.size())
      << listed.size() << " jobs restored of " << state.jobs.size();
  for (const mrstate::JobRecord& j : state.jobs) {
    std::optional<mrpb::JobStatus> s = tracker.GetStatus(j.job_id());
    FUZZ_CHECK(s.has_value()) << "no status of " << EscapeName(j.job_id());
    CheckStatus(j, state.tasks[j.job_id()], *s);
  }
}

// A worker that held every restored map output registers and asks for
// work: what it gets is the stored jobs'.
void CheckServed(JobTracker& tracker, MasterStore::State& state) {
  mrpb::RegisterWorkerRequest reg;
  reg.set_address("127.0.0.1:1");
  reg.set_slots(4);
  for (const auto& [job_id, tasks] : state.tasks) {
    for (const mrstate::TaskRecord& t : tasks) {
      if (t.kind() != mrstate::MAP) continue;
      mrpb::HeldMapOutput* held = reg.add_held_outputs();
      held->set_job_id(job_id);
      held->set_map_index(t.index());
      held->set_attempt_id(t.attempt_id());
    }
  }
  mrpb::HeartbeatRequest beat;
  beat.set_worker_id(tracker.Register(reg).worker_id());
  beat.set_free_slots(4);
  const mrpb::HeartbeatResponse response = tracker.Heartbeat(beat);
  for (const mrpb::TaskAssignment& a : response.assignments()) {
    const mrstate::JobRecord* j = FindJob(state, a.job_id());
    FUZZ_CHECK(j != nullptr) << "work of no job " << EscapeName(a.job_id());
    const std::string id = EscapeName(j->job_id());
    FUZZ_CHECK(Equal(a.spec(), FromStored(j->spec()))) << id << ": spec";
    FUZZ_CHECK(a.num_maps() == static_cast<uint32_t>(j->splits_size())) << id;
    if (a.kind() == mrpb::SAMPLE) {
      FUZZ_CHECK(!j->sampled()) << id << ": sampled twice";
      continue;
    }
    FUZZ_CHECK(a.plan() == (j->sampled() ? j->plan() : "")) << id;
    FUZZ_CHECK(a.partition_bounds_size() ==
               (j->sampled() ? j->partition_bounds_size() : 0))
        << id;
    if (a.kind() == mrpb::MAP) {
      FUZZ_CHECK(a.task_index() < static_cast<uint32_t>(j->splits_size()));
      FUZZ_CHECK(Equal(a.split(), FromStored(j->splits(a.task_index()))))
          << id << ": split " << a.task_index();
    } else {
      FUZZ_CHECK(a.kind() == mrpb::REDUCE);
      FUZZ_CHECK(a.task_index() < j->spec().num_reduces()) << id;
      FUZZ_CHECK(a.map_outputs_size() == j->splits_size()) << id;
    }
  }
}

// What the tracker wrote back for a job it restored (killed, or failed in
// the commit) is the record it read, but for how the job ended.
void CheckRewritten(const mrstate::JobRecord& before,
                    const mrstate::JobRecord& after) {
  const std::string id = EscapeName(before.job_id());
  if (before.state() != mrstate::RUNNING) {
    FUZZ_CHECK(Equal(before, after)) << id << ": a finished job's record changed";
    return;
  }
  FUZZ_CHECK(after.state() == mrstate::KILLED || after.state() == mrstate::FAILED)
      << id << ": " << mrstate::JobState_Name(after.state());
  mrstate::JobRecord expected = WithoutUnknownFields(before);
  // A running job recorded before shuffle secrets gets one when restored;
  // a secret it had is kept.
  if (before.shuffle_secret().empty()) {
    FUZZ_CHECK(after.shuffle_secret().size() == kShuffleSecretBytes)
        << id << ": restored without a shuffle secret";
    expected.set_shuffle_secret(after.shuffle_secret());
  }
  expected.set_state(after.state());
  expected.set_error(after.error());
  expected.set_finish_time_ms(after.finish_time_ms());
  expected.clear_malformed_records();
  for (const mrstate::RecordLocation& m : before.malformed_records()) {
    const std::pair<std::string, uint64_t> loc(m.path(), m.offset());
    bool seen = expected.malformed_records_size() >= kMaxReportedMalformedRecords;
    for (const mrstate::RecordLocation& e : expected.malformed_records()) {
      seen |= e.path() == loc.first && e.offset() == loc.second;
    }
    if (!seen) *expected.add_malformed_records() = m;
  }
  if (!before.sampled()) {
    expected.clear_plan();
    expected.clear_partition_bounds();
  }
  FUZZ_CHECK(Equal(expected, after))
      << id << ": the record written back differs:\n"
      << expected.DebugString() << "---\n" << after.DebugString();
}

void CheckStable(JobTracker& tracker, const MasterStore::State& before,
                 MasterStore* store, const MasterOptions& options) {
  for (const mrstate::JobRecord& j : before.jobs) {
    if (tracker.GetStatus(j.job_id())->state() == mrpb::JOB_RUNNING) {
      FUZZ_CHECK(tracker.Kill(j.job_id()).error() == mrpb::KillJobResponse::OK)
          << EscapeName(j.job_id());
    }
  }
  tracker.RunOutputWork(absl::ZeroDuration());
  absl::StatusOr<MasterStore::State> after = store->Load();
  FUZZ_CHECK(after.ok()) << after.status();
  FUZZ_CHECK(after->quarantined.empty())
      << "a second load quarantined " << EscapeName(after->quarantined[0]);
  FUZZ_CHECK(after->jobs.size() == before.jobs.size());
  for (size_t i = 0; i < before.jobs.size(); ++i) {
    CheckRewritten(before.jobs[i], after->jobs[i]);
  }
  JobTracker again(options, GetEnv().plugins.get(), store);
  FUZZ_CHECK(again.Restore().ok());
  for (const mrstate::JobRecord& j : before.jobs) {
    std::optional<mrpb::JobStatus> s = again.GetStatus(j.job_id());
    FUZZ_CHECK(s.has_value() && s->state() != mrpb::JOB_RUNNING)
        << EscapeName(j.job_id()) << " after a second restore";
  }
}

// The store, empty.
MasterStore* OpenStore() {
  Env& env = GetEnv();
  if (env.store != nullptr && ++env.store_uses < kStoreUses) {
    FUZZ_CHECK(env.store->ClearForTest().ok());
    return env.store.get();
  }
  env.store.reset();
  env.store_uses = 0;
  FUZZ_CHECK(RemoveAll(env.db).ok());
  absl::StatusOr<std::unique_ptr<MasterStore>> store = MasterStore::Open(env.db);
  FUZZ_CHECK(store.ok()) << store.status();
  env.store = std::move(*store);
  return env.store.get();
}

void Run(const Records& records) {
  Env& env = GetEnv();
  MasterStore* store = OpenStore();
  for (const auto& [key, value] : records) {
    FUZZ_CHECK(store->PutRawForTest(key, value).ok());
  }
  absl::StatusOr<MasterStore::State> state = store->Load();
  FUZZ_CHECK(state.ok()) << state.status();
  for (const auto& [key, value] : records) {
    CheckVerdict(key, value, *state);
  }
  // Before Restore(), which removes directories named after these.
  CheckUsable(env, *state);

  ManualClock clock;
  MasterOptions options;
  options.state_dir = env.dir;
  options.clock = &clock;
  options.heartbeat_interval_ms = 0;  // no idle long-poll
  JobTracker tracker(options, env.plugins.get(), store);
  FUZZ_CHECK(tracker.Restore().ok());
  CheckRestored(tracker, *state);
  CheckServed(tracker, *state);
  CheckStable(tracker, *state, store, options);
}

}  // namespace
}  // namespace fuzz
}  // namespace mr

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mr::fuzz::FuzzInput in(data, size);
  mr::fuzz::Records records = mr::fuzz::MakeRecords(in);
  mr::fuzz::ConfineOutputs(mr::fuzz::GetEnv(), &records);
  mr::fuzz::Run(records);
  return 0;
}
