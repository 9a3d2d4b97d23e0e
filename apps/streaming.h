// streaming: any executable as mapper, combiner or reducer, with Hadoop
// Streaming's contract.
//
//   mrctl submit --mapper 'python3 mapper.py' --reducer 'python3 reducer.py'
//       --file mapper.py --file reducer.py --input books/ --output out
//
// (--mapper/--reducer/--combiner are sugar for `--app streaming --param
// mapper=CMD ...`.)
//
// Parameters:
//   mapper=CMD    required.
//   reducer=CMD   optional; without it the reduce is the identity: it emits
//                 every (key, value) as it comes.
//   combiner=CMD  optional; see "Combiner" below.
// Every other parameter NAME=VALUE reaches the commands as the environment
// variable MR_PARAM_NAME (bytes of NAME other than [A-Za-z0-9_] as '_').
//
// Each CMD runs as `/bin/sh -c CMD` in the directory that holds the job's
// side files (`mrctl submit --file PATH`, Context::FilesDir()), with that
// directory first in PATH; in the task's own directory when the job ships
// none. Its environment adds:
//   MR_STREAMING_ROLE          mapper, combiner or reducer
//   MR_TASK_INDEX              the map index or reduce partition
//   MR_FILES_DIR               the side files' directory (when there are any)
//   mapreduce_task_partition   as MR_TASK_INDEX (Hadoop's name)
//   mapreduce_task_ismap       true (mapper, combiner) or false (reducer)
//   mapreduce_map_input_file   mapper: the file of the task's first record
//   MR_PARAM_<name>            the job's other parameters
//
// Contract (Hadoop Streaming's):
//   mapper   stdin: each input record's bytes and "\n" (a text line; a CSV
//            or JSON Lines record as in the file; a fixed-length record as
//            is, which is only useful when it holds no '\n').
//   reducer  stdin: "key\tvalue\n" for each value of each key group, the
//            groups sorted by key, the values of a group together (in the
//            order the shuffle delivers them).
//   combiner stdin: like the reducer's, over a batch of the mapper's output.
//   stdout of each: lines "key\tvalue", split at the first TAB (a line
//            without TAB is a key with an empty value); a last line without
//            '\n' counts too. The mapper's go to the shuffle (or, for a
//            map-only job, the output), the reducer's to the job's output,
//            written by the output format (text: "key value").
//   stderr   is copied to the task's log.
//
// Processes: one mapper (or reducer) process per task, started at the
// task's first record or key group and fed in 64 KiB batches; at Finish()
// its stdin is closed, its stdout read to EOF, and its exit awaited. A map,
// or a reduce with a reducer command, that gets no input runs its command
// on empty input at Finish(), as Hadoop does. The task fails (Context::Fail(), so it
// is retried, then the job fails with the message in `mrctl status`) when a
// process exits non-zero, dies on a signal, cannot be started (the shell's
// 127, "command not found"), or exits before reading all its input; the
// message names the role, the command, how it ended and the last 2 KiB of
// its stderr:
//   streaming mapper `python3 m.py` exited with status 3; its stderr ends:
//   Traceback ...
//
// Combiner. The engine's combine hook (Job::Combine(), called per key group
// while a sorted run spills) cannot drive a streaming combiner: the hook
// must emit a group's output before it returns, but a streaming combiner,
// like a reducer, prints a key's result only once it sees the next key or
// EOF, and the engine gives no "run finished" call. A process per group is
// correct but costs a fork and exec per distinct key (for word count, per
// word). So this job combines in the map task itself, the way an in-mapper
// combiner does: the mapper's output lines are buffered (up to
// kCombineBufferBytes, index included), sorted by key (stably), and piped
// through one combiner process per full buffer and one at Finish(); what
// the combiner prints is the map's output. HasCombiner() is therefore
// false, and the job counts "combine input records" and "combine output
// records" itself. As with Hadoop, the combiner may run zero, one or more
// times per key, so it must read what it prints. (For a map-only job the
// combiner runs too: its output is then the job's output.)
//
// Thread-safety: like every Job, used from one thread.
#ifndef MR_APPS_STREAMING_H_
#define MR_APPS_STREAMING_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apps/internal/streaming_process.h"
#include "mr/mapreduce.h"

namespace mr {
namespace apps {

class Streaming : public Job {
 public:
  // Map output buffered for the combiner before it runs (bytes of lines
  // plus their index).
  static constexpr size_t kCombineBufferBytes = 16 << 20;
  // How much of a failed command's stderr its failure message quotes.
  static constexpr size_t kStderrTailBytes = 2048;

  Streaming() = default;
  ~Streaming() override;

  // Refuses with "streaming needs --param mapper=CMD (or mrctl submit
  // --mapper CMD)" or "streaming: --param NAME=CMD is empty".
  std::string Setup(const std::map<std::string, std::string>& params) override;
  // REQUIRES (all below): Setup() succeeded.
  void Map(const InputRecord& record, Context& ctx) override;
  // Writes the block's lines to the mapper at once.
  void MapBlock(const InputBlock& block, Context& ctx) override;
  void Reduce(std::string_view key, ValueIterator& values,
              Context& ctx) override;
  // Ends the task's process (and, in a map task, runs the combiner over
  // what is buffered).
  void Finish(Context& ctx) override;

 private:
  enum class Role { kMapper, kCombiner, kReducer };

  // A mapper line buffered for the combiner: pending_[offset, offset +
  // size), its key the first key_size bytes.
  struct PendingLine {
    uint64_t offset;
    uint32_t key_size;
    uint32_t size;
  };

  // A started process for `role`; null after ctx.Fail() when it cannot be
  // started.
  std::unique_ptr<internal::StreamingProcess> StartProcess(
      Role role, std::string_view input_file, Context& ctx);
  // Starts process_ for `role` at the task's first record; false once the
  // task has failed.
  bool EnsureStarted(Role role, std::string_view input_file, Context& ctx);
  // Writes `data` to process_ (stdout lines to OnLine()).
  void Feed(std::string_view data, Context& ctx);
  // One stdout line of a `role` process.
  void OnLine(Role role, std::string_view line, Context& ctx);
  // Finishes `process` and fails the task if it did not end well; false
  // when it failed.
  bool EndProcess(Role role, internal::StreamingProcess& process,
                  Context& ctx);
  // Pipes the buffered mapper output through a combiner process.
  void RunCombiner(Context& ctx);
  void Fail(std::string_view message, Context& ctx);
  const std::string& CommandOf(Role role) const;

  std::map<std::string, std::string> params_;
  std::string mapper_, reducer_, combiner_;

  // The task's mapper or reducer process, from its first record on.
  std::unique_ptr<internal::StreamingProcess> process_;
  Role role_ = Role::kMapper;  // process_'s
  bool failed_ = false;        // ctx.Fail() was called: do nothing more

  // Mapper output waiting for the combiner: "key\tvalue\n" lines.
  std::string pending_;
  std::vector<PendingLine> pending_index_;
  int64_t combine_output_records_ = 0;  // of the current combiner run
};

}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_STREAMING_H_
