// An example of secondary sort and a custom partitioner, as a plugin.
//
// Input lines "user,timestamp,event" (timestamp a signed integer). Output,
// one line per user: "user ts:event,ts:event,..." with the user's events
// newest first (equal timestamps in input order, as the shuffle keeps
// values of equal keys). Lines that do not parse are counted in "bad lines".
//
//   - Sort comparator: the map key is the user, then the timestamp
//     descending, encoded so that the key's bytes sort that way
//     (AppendOrderedString, AppendOrderedInt64Descending).
//   - Grouping comparator: GroupKey() is the user part, so one Reduce() call
//     sees all of a user's events, already newest first; values.key() gives
//     each event's own key, from which the timestamp is decoded.
//   - Partitioner: by the user's first byte, in ranges, so that the part
//     files concatenated are sorted by user (part i holds first bytes in
//     [256*i/R, 256*(i+1)/R)).
#include <cstdlib>
#include <map>
#include <string>

#include "mr/mapreduce.h"

namespace {

class LatestEvents : public mr::Job {
 public:
  void Map(const mr::InputRecord& record, mr::Context& ctx) override {
    const std::string_view line = record.line;
    const size_t c1 = line.find(',');
    const size_t c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string_view::npos || c1 == 0) {
      ctx.IncrementCounter("bad lines", 1);
      return;
    }
    const std::string ts_text(line.substr(c1 + 1, c2 - c1 - 1));
    char* end = nullptr;
    const long long ts = strtoll(ts_text.c_str(), &end, 10);
    if (ts_text.empty() || *end != '\0') {
      ctx.IncrementCounter("bad lines", 1);
      return;
    }
    key_.clear();
    mr::AppendOrderedString(&key_, line.substr(0, c1));
    mr::AppendOrderedInt64Descending(&key_, ts);
    ctx.Emit(key_, line.substr(c2 + 1));
  }

  std::string_view GroupKey(std::string_view key) const override {
    return key.substr(0, mr::OrderedStringFieldSize(key));
  }

  uint32_t Partition(std::string_view key, uint32_t num_partitions) override {
    const std::string user = mr::DecodeOrderedString(key);
    const unsigned first = user.empty() ? 0 : static_cast<unsigned char>(user[0]);
    return first * num_partitions / 256;
  }

  void Reduce(std::string_view key, mr::ValueIterator& values,
              mr::Context& ctx) override {
    out_.clear();
    std::string_view event;
    while (values.Next(&event)) {
      const std::string_view own = values.key();
      const std::string_view ts = own.substr(mr::OrderedStringFieldSize(own));
      uint64_t bits = 0;
      for (char c : ts) bits = (bits << 8) | static_cast<unsigned char>(c);
      const int64_t t = static_cast<int64_t>(~bits ^ (1ull << 63));
      if (!out_.empty()) out_.push_back(',');
      out_ += std::to_string(t);
      out_.push_back(':');
      out_.append(event.data(), event.size());
    }
    ctx.Emit(mr::DecodeOrderedString(key), out_);
  }

 private:
  std::string key_;
  std::string out_;
};

}  // namespace

MR_EXPORT_JOB(LatestEvents)
