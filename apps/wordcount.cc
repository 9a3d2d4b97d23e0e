#include "apps/wordcount.h"

#include <charconv>

#include "absl/strings/string_view.h"

namespace mr {
namespace apps {

int64_t SumDecimalValues(ValueIterator& values) {
  int64_t sum = 0;
  std::string_view v;
  while (values.Next(&v)) {
    int64_t n = 0;
    std::from_chars(v.data(), v.data() + v.size(), n);  // n stays 0 on error
    sum += n;
  }
  return sum;
}

void EmitDecimal(std::string_view key, int64_t n, Context& ctx) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), n);
  ctx.Emit(key, std::string_view(buf, static_cast<size_t>(res.ptr - buf)));
}

void WordCount::Map(const InputRecord& record, Context& ctx) {
  counts_.AddText(record.line);
  if (counts_.distinct() > kMaxBufferedWords) Flush(ctx);
}

void WordCount::MapBlock(const InputBlock& block, Context& ctx) {
  // The block ends at a line end (or the file's), so no word is cut, and the
  // engine guarantees the padding CountWords reads past its end.
  static_assert(kInputBlockPadding >= kPad);
  const auto* p = reinterpret_cast<const unsigned char*>(block.data.data());
  CountWords(p, p + block.data.size(), &counts_);
  if (counts_.distinct() > kMaxBufferedWords) Flush(ctx);
}

void WordCount::Flush(Context& ctx) {
  counts_.ForEach([&ctx](std::string_view word, int64_t count) {
    EmitDecimal(word, count, ctx);
  });
  counts_.Clear();
}

void WordCount::Finish(Context& ctx) { Flush(ctx); }

void WordCount::Combine(std::string_view key, ValueIterator& values,
                        Context& ctx) {
  EmitDecimal(key, SumDecimalValues(values), ctx);
}

void WordCount::Reduce(std::string_view key, ValueIterator& values,
                       Context& ctx) {
  EmitDecimal(key, SumDecimalValues(values), ctx);
}

}  // namespace apps
}  // namespace mr
