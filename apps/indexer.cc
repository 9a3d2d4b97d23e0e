#include "apps/indexer.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "apps/internal/word_counter.h"

namespace mr {
namespace apps {
namespace {

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The distinct values of a group (values are only valid until the next
// Next(), so they are copied), sorted.
std::vector<std::string> DistinctSorted(ValueIterator& values) {
  std::vector<std::string> docs;
  std::string_view v;
  while (values.Next(&v)) docs.emplace_back(v);
  std::sort(docs.begin(), docs.end());
  docs.erase(std::unique(docs.begin(), docs.end()), docs.end());
  return docs;
}

}  // namespace

void Indexer::Map(const InputRecord& record, Context& ctx) {
  if (record.file != file_) {
    Flush(ctx);
    file_.assign(record.file.data(), record.file.size());
    doc_ = std::string(BaseName(file_));
  }
  ForEachWord(record.line, [this](std::string_view word) {
    absl::string_view w(word.data(), word.size());
    if (!words_.contains(w)) words_.emplace(w);
  });
  if (words_.size() > kMaxBufferedWords) Flush(ctx);
}

void Indexer::Flush(Context& ctx) {
  for (const std::string& word : words_) ctx.Emit(word, doc_);
  words_.clear();
}

void Indexer::Finish(Context& ctx) { Flush(ctx); }

void Indexer::Combine(std::string_view key, ValueIterator& values,
                      Context& ctx) {
  for (const std::string& doc : DistinctSorted(values)) ctx.Emit(key, doc);
}

void Indexer::Reduce(std::string_view key, ValueIterator& values,
                     Context& ctx) {
  std::vector<std::string> docs = DistinctSorted(values);
  std::string out = absl::StrCat(docs.size(), " ", absl::StrJoin(docs, ","));
  ctx.Emit(key, out);
}

}  // namespace apps
}  // namespace mr
