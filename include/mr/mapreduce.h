// The MapReduce job API: everything user code sees.
//
// A job is a class derived from mr::Job. The engine creates one instance per
// task, in a child process of the worker (user code never runs inside the
// worker daemon), calls Setup() once with the job's parameters, then Map() for
// every input record of the split, or Reduce() for every key group of the
// partition, then Finish().
//
// A job ships either built in (apps/, listed in apps/builtin_apps.cc) or as a
// shared library that exports its factory with MR_EXPORT_JOB:
//
//   class MyJob : public mr::Job { ... };
//   MR_EXPORT_JOB(MyJob)
//
// and is submitted with `mrctl submit --plugin libmyjob.so ...`.
//
// Thread-safety: the engine calls a Job instance from one thread only.
#ifndef MR_MAPREDUCE_H_
#define MR_MAPREDUCE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mr {

// The columns of one CSV or JSON Lines record, by position and by name.
class RecordFields {
 public:
  virtual ~RecordFields() = default;
  virtual size_t size() const = 0;
  // Column i's name: a CSV header's, a JSON object's member name; "" when
  // the input has none (CSV without a header).
  virtual std::string_view name(size_t i) const = 0;
  // Column i's value: a CSV field unquoted; a JSON string unescaped, any
  // other JSON value as its JSON text (null as "").
  virtual std::string_view value(size_t i) const = 0;
  // Sets *value to the value of the first column named `name`; false when
  // there is none.
  virtual bool Find(std::string_view name, std::string_view* value) const = 0;
};

// One input record. For text input a line, without its trailing newline;
// for CSV a record; for JSON Lines a line; for fixed-length input a record.
struct InputRecord {
  std::string_view file;    // the input file's path, as the master resolved it
  uint64_t offset = 0;      // byte offset of the record's first byte in `file`
                            // (in the decompressed stream of a compressed one)
  uint64_t line_number = 0; // 1-based; only when Job::WantsLineNumbers(),
                            // and for text input only (0 for the others)
  std::string_view line;    // the record's bytes, as in the file
  uint32_t input_index = 0; // which of the job's inputs (--input) it is from
  // CSV and JSON Lines: the record's columns (valid during the call); null
  // for other formats.
  const RecordFields* fields = nullptr;
};

// Readable bytes that follow InputBlock::data in memory (their contents are
// unspecified): lets a vectorized scanner load whole words past the end.
inline constexpr size_t kInputBlockPadding = 64;

// A run of whole input lines, as the engine read them: every line ends with
// '\n', except possibly the last line of a file. `data` is followed by
// kInputBlockPadding readable bytes.
struct InputBlock {
  std::string_view file;
  uint64_t offset = 0;             // byte offset of the first line in `file`
  uint64_t first_line_number = 0;  // 1-based; only when WantsLineNumbers()
  uint64_t line_count = 0;
  std::string_view data;
};

// Whether the job combines counter `name` across tasks by maximum rather
// than by sum: its name starts with "max ".
inline bool IsMaxCounter(std::string_view name) {
  constexpr std::string_view kPrefix = "max ";
  return name.substr(0, kPrefix.size()) == kPrefix;
}

// The kind of task that calls the job's code: a map (its combiner runs in
// it too), a reduce, or the sample task that runs before the maps of a job
// that sorts totally or plans (see Job::Plan()).
enum class TaskKind { kMap, kReduce, kSample };

// What user code may call while mapping, combining or reducing.
class Context {
 public:
  virtual ~Context() = default;

  // Emits one key/value pair. In Map() it goes to the shuffle; in Combine()
  // back into the sorted run; in Reduce() to the output file, written as
  // "key value\n" (or "key\n" when value is empty).
  // The engine copies both views before returning.
  virtual void Emit(std::string_view key, std::string_view value) = 0;

  // Adds `delta` to the user counter `name` (within this attempt). The
  // counters of each task's committed attempt are summed into the job's
  // counters, except those whose name starts with "max " (IsMaxCounter()),
  // for which the job keeps the largest task's value: a peak, such as the
  // engine's "max task memory bytes".
  virtual void IncrementCounter(std::string_view name, int64_t delta) = 0;

  // The job parameter `name` (from `mrctl submit --param name=value`), or
  // `fallback` when the job has none.
  virtual std::string Param(std::string_view name,
                            std::string_view fallback = {}) const = 0;

  // The task's index (map index or reduce partition).
  virtual uint32_t TaskIndex() const = 0;

  // Which kind of task this is: lets Finish() tell a map that saw no input
  // from a reduce that got none.
  virtual TaskKind Kind() const { return TaskKind::kMap; }

  // The local path of the side file `name` shipped with the job
  // (`mrctl submit --file PATH`, by its base name); "" when the job has none
  // by that name.
  virtual std::string FilePath(std::string_view name) const { return {}; }

  // The directory that holds the job's side files ("" when it has none):
  // a streaming job runs its commands there.
  virtual std::string FilesDir() const { return {}; }

  // Fails the task attempt with `message` (it shows in `mrctl status`); the
  // engine stops calling the job's code at its next return and retries the
  // task like any other failure. Emits after it are dropped.
  virtual void Fail(std::string_view message) {}

  // Writes one record to the side output `output` (Hadoop's
  // MultipleOutputs): a second file beside the task's part file, named
  // "OUTPUT-r-00007" ("OUTPUT-m-00007" for a map-only job's map), in the
  // job's output format, committed with the attempt (only the committing
  // attempt's side files reach the output; a task's side files are
  // replaced as a whole by a later committing attempt). `output` is 1 to 32
  // characters of [a-z0-9_] and not "part"; a task writes at most 64 of
  // them. Only where Emit() writes the
  // output (Reduce(), Finish() of a reduce, and a map-only job's Map() and
  // Finish()); elsewhere, or with a bad name, the attempt fails.
  virtual void EmitTo(std::string_view output, std::string_view key,
                      std::string_view value) {
    Fail("EmitTo: side outputs are written only where the output is (reduces "
         "and a map-only job's maps)");
  }
};

// What a job declares about itself, asked once at submission (after
// Setup()), in the master for a built-in app and in a child process for a
// plugin.
struct JobTraits {
  // Reads no input: the job is submitted without --input, with --maps M,
  // and each map calls Generate() instead of Map().
  bool generates_input = false;
  // Has no reduce phase: each map's output is a part file of the job's
  // output (as with `--reduces 0`).
  bool map_only = false;
  // Partitions by key ranges sampled from the input, so that the part files
  // concatenated are sorted by key (as with `--total-order`); Partition() is
  // then not called.
  bool total_order = false;
  // Samples its input and plans the job before the maps: see Plan().
  bool plans = false;
  // Reads its input as fixed-length binary records of this many bytes
  // (InputRecord::line is one record) unless the submission names an
  // input format (--input-format). 0: text lines.
  uint32_t record_bytes = 0;
  // Writes its output raw, the key's bytes then the value's with nothing
  // added, unless the submission names an output format (--output-format).
  bool raw_output = false;
  // Runs exactly this many reduces, whatever the submission says (1 for a
  // job whose reduce sees everything, such as a global check). 0: the
  // submission's --reduces.
  uint32_t num_reduces = 0;
};

// The counter of a job's failed checks (a validation job's verdict): a job
// that ends with it above zero still commits its output, but `mrctl status`
// flags it and `mrctl submit --wait` exits 1.
inline constexpr char kCheckFailuresCounter[] = "check failures";

// Map output collected from a sample of the input, sorted by key.
using Sample = std::vector<std::pair<std::string, std::string>>;

// The values of one key group, in the order the shuffle delivered them.
class ValueIterator {
 public:
  virtual ~ValueIterator() = default;
  // Sets *value to the next value and returns true, or returns false at the
  // end of the group. *value stays valid until the next call.
  virtual bool Next(std::string_view* value) = 0;

  // The key of the value Next() last returned (valid until the next call).
  // It differs from the group's key only in a job that groups keys
  // (Job::GroupKey()): then it is that value's own full key.
  virtual std::string_view key() const { return {}; }
};

class Job {
 public:
  virtual ~Job() = default;

  // Checks the job's parameters and prepares the instance. Return a non-empty
  // message to refuse: at submission the client sees it, in a task the task
  // fails with it. Called once per task, before anything else.
  virtual std::string Setup(const std::map<std::string, std::string>& params) {
    return {};
  }

  virtual void Map(const InputRecord& record, Context& ctx) = 0;

  // Called with the split's input in runs of whole lines. The default calls
  // Map() once per line; a job that can process many lines at once (a
  // vectorized tokenizer, say) overrides this instead.
  virtual void MapBlock(const InputBlock& block, Context& ctx);

  virtual void Reduce(std::string_view key, ValueIterator& values,
                      Context& ctx) = 0;

  // Called once at the end of a map task and of a reduce task; may Emit()
  // (a mapper that aggregates in memory flushes here).
  virtual void Finish(Context& ctx) {}

  // A combiner runs on sorted map output before it is spilled, zero or more
  // times per key: it must emit values Reduce() accepts as input, under the
  // same key. Only called when HasCombiner() is true.
  virtual bool HasCombiner() const { return false; }
  virtual void Combine(std::string_view key, ValueIterator& values,
                       Context& ctx) {}

  // Which of `num_partitions` reduce tasks gets `key` (a custom
  // partitioner overrides it). The default hashes GroupKey(key) with a hash
  // that is stable across processes and machines.
  virtual uint32_t Partition(std::string_view key, uint32_t num_partitions);

  // Secondary sort. Map output is sorted by the bytes of its keys (encode
  // the sort order you need into the key: see AppendOrdered*() below);
  // Reduce() is called once per run of consecutive keys whose GroupKey() is
  // the same (Hadoop's grouping comparator), with the run's first key, and
  // ValueIterator::key() gives each value's own key. The default groups
  // equal keys. GroupKey() must return a prefix of `key` (a view into it),
  // so that keys with one group key are consecutive in the sort order. A
  // total order (--total-order) cuts its ranges between key groups.
  virtual std::string_view GroupKey(std::string_view key) const { return key; }

  // When true, InputRecord::line_number is filled in (costs a scan of each
  // file from its start to the split's start).
  virtual bool WantsLineNumbers() const { return false; }

  virtual JobTraits Traits() const { return {}; }

  // Traits().generates_input: map `map_index` of `num_maps` emits its share
  // of the job's records.
  virtual void Generate(uint32_t map_index, uint32_t num_maps, Context& ctx) {}

  // Traits().plans or total_order: before the maps, a sample task maps a
  // sample of the input (records from windows spread over every split)
  // with Map(), then Finish(), collecting what they emit (before
  // LoadPlan(): an unplanned map). Then, for Traits().plans, it calls Plan() with that sample; the
  // bytes returned reach every later task's LoadPlan(), right after
  // Setup(). A plan that the job cannot use fails the task: return a
  // non-empty message from LoadPlan() to refuse it.
  virtual std::string Plan(const Sample& sample, uint32_t num_partitions) {
    return {};
  }
  virtual std::string LoadPlan(std::string_view plan) { return {}; }
};

// The default partitioner's hash (64-bit FNV-1a), for user code that wants to
// partition on part of a key. Inline, so a plugin needs no engine symbol.
inline uint64_t StableHash(std::string_view data) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

inline uint32_t Job::Partition(std::string_view key, uint32_t num_partitions) {
  return static_cast<uint32_t>(StableHash(GroupKey(key)) % num_partitions);
}

// Order-preserving key encodings: appended one after another they make a
// composite key whose bytes sort as its fields do, field by field (the
// engine compares keys as unsigned bytes). Descending variants invert the
// order of one field.
inline void AppendOrderedUint64(std::string* key, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    key->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}
inline void AppendOrderedInt64(std::string* key, int64_t v) {
  AppendOrderedUint64(key, static_cast<uint64_t>(v) ^ (1ull << 63));
}
inline void AppendOrderedUint64Descending(std::string* key, uint64_t v) {
  AppendOrderedUint64(key, ~v);
}
inline void AppendOrderedInt64Descending(std::string* key, int64_t v) {
  AppendOrderedUint64(key, ~(static_cast<uint64_t>(v) ^ (1ull << 63)));
}
// A string field that may be followed by others: each 0x00 byte becomes
// 0x00 0xff, and the field ends with 0x00 0x01, so that "a" < "a\0" < "ab"
// holds and no field's end is mistaken for its neighbour's bytes.
inline void AppendOrderedString(std::string* key, std::string_view s) {
  for (char c : s) {
    key->push_back(c);
    if (c == '\0') key->push_back(static_cast<char>(0xff));
  }
  key->push_back('\0');
  key->push_back('\1');
}
// The length of the AppendOrderedString() field at the start of `key`
// (its terminator included); key.size() when it has none.
inline size_t OrderedStringFieldSize(std::string_view key) {
  for (size_t i = 0; i + 1 < key.size(); ++i) {
    if (key[i] != '\0') continue;
    if (key[i + 1] == '\1') return i + 2;
    ++i;  // an escaped 0x00
  }
  return key.size();
}
// Decodes an AppendOrderedString() field written at the start of `key`.
inline std::string DecodeOrderedString(std::string_view key) {
  std::string out;
  const size_t n = OrderedStringFieldSize(key);
  for (size_t i = 0; i < n; ++i) {
    if (key[i] == '\0') {
      if (i + 1 < n && key[i + 1] == '\1') break;
      ++i;  // 0x00 0xff stands for 0x00
      out.push_back('\0');
      continue;
    }
    out.push_back(key[i]);
  }
  return out;
}

// Calls fn(const InputRecord&) for each line of `block`, in order.
template <typename Fn>
void ForEachLine(const InputBlock& block, Fn&& fn) {
  InputRecord record;
  record.file = block.file;
  record.offset = block.offset;
  record.line_number = block.first_line_number;
  std::string_view rest = block.data;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const size_t len = nl == std::string_view::npos ? rest.size() : nl;
    record.line = rest.substr(0, len);
    fn(record);
    const size_t consumed = nl == std::string_view::npos ? len : len + 1;
    rest.remove_prefix(consumed);
    record.offset += consumed;
    if (record.line_number > 0) ++record.line_number;
  }
}

inline void Job::MapBlock(const InputBlock& block, Context& ctx) {
  ForEachLine(block, [&](const InputRecord& record) { Map(record, ctx); });
}

}  // namespace mr

// Exports the factory the engine looks up in a plugin (`mr_create_job`).
#define MR_EXPORT_JOB(JobClass)                  \
  extern "C" __attribute__((visibility("default"))) \
  ::mr::Job* mr_create_job() {                   \
    return new JobClass();                       \
  }

#endif  // MR_MAPREDUCE_H_
