// indexer: an inverted index. For every word (as wordcount defines it) the
// documents it occurs in, a document being an input file's base name.
//
// Output lines: "word N doc1,doc2,..." with the N distinct documents sorted
// in byte order.
//
// Map() dedupes in memory: the words seen in the current file are kept in a
// set and emitted as (word, docname) when the file changes, when the set
// grows past kMaxBufferedWords entries, and in Finish(). The combiner drops
// duplicate documents; Reduce() collects, sorts and counts them.
//
// Thread-safety: like every Job, used from one thread.
#ifndef MR_APPS_INDEXER_H_
#define MR_APPS_INDEXER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "mr/mapreduce.h"

namespace mr {
namespace apps {

class Indexer : public Job {
 public:
  // The per-file word set is flushed once it holds more entries than this.
  static constexpr size_t kMaxBufferedWords = 1000000;

  void Map(const InputRecord& record, Context& ctx) override;
  void Reduce(std::string_view key, ValueIterator& values,
              Context& ctx) override;
  void Finish(Context& ctx) override;
  bool HasCombiner() const override { return true; }
  void Combine(std::string_view key, ValueIterator& values,
               Context& ctx) override;

 private:
  void Flush(Context& ctx);

  std::string file_;                     // path of the current file
  std::string doc_;                      // its base name
  absl::flat_hash_set<std::string> words_;  // seen in file_ since last flush
};

}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_INDEXER_H_
