// wordcount: counts words. A word is a maximal run of ASCII letters
// [A-Za-z]+, case kept; every other byte separates words.
//
// Output lines: "word count" (count in decimal).
//
// The mapper combines in memory: Map() counts into a hash map and emits
// (word, decimal count) when the map grows past kMaxBufferedWords entries
// and in Finish(). The combiner and the reducer sum decimal counts.
//
// Thread-safety: like every Job, used from one thread.
#ifndef MR_APPS_WORDCOUNT_H_
#define MR_APPS_WORDCOUNT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "apps/internal/word_counter.h"
#include "mr/mapreduce.h"

namespace mr {
namespace apps {

// Sums the decimal values of a group; values that do not parse count as 0.
int64_t SumDecimalValues(ValueIterator& values);

// Emits (key, decimal n).
void EmitDecimal(std::string_view key, int64_t n, Context& ctx);

class WordCount : public Job {
 public:
  // The in-mapper map is flushed once it holds more entries than this.
  static constexpr size_t kMaxBufferedWords = 1000000;

  void Map(const InputRecord& record, Context& ctx) override;
  // Counts a whole block of lines at once (lines never join words: '\n' is
  // no letter).
  void MapBlock(const InputBlock& block, Context& ctx) override;
  void Reduce(std::string_view key, ValueIterator& values,
              Context& ctx) override;
  // Flushes the in-mapper counts (empty in a reduce task).
  void Finish(Context& ctx) override;
  bool HasCombiner() const override { return true; }
  void Combine(std::string_view key, ValueIterator& values,
               Context& ctx) override;

 private:
  void Flush(Context& ctx);

  // Word -> count since the last flush (the same kernel as the benchmark's
  // single-threaded baseline).
  WordCounter counts_;
};

}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_WORDCOUNT_H_
