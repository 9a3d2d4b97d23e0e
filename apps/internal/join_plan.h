// The join app's shuffle keys and its skew plan (apps/join.h).
//
// Map output keys, by their first byte:
//   0x00 side P       (P: 4 bytes big-endian) a schema record: a map's first
//                     row of that side, for reduce partition P
//   0x01 KEY [SALT]   a row with join key KEY (AppendKeyComponent() per key
//                     column); a hot key's rows carry SALT = 0x00 0x02 and
//                     the salt index as 4 bytes big-endian
//   0x02 side ROWID   a row whose join key is null (matches nothing), kept
//                     for an outer join; ROWID = file, 0x00, 8-byte offset
//
// The plan (Job::Plan()) names the hot keys found in the sample: for each,
// the side whose rows are spread over `salts` reduce partitions (each row to
// one of them) and, implied, the other side, whose rows go to all of them.
//
// Thread-safety: JoinPlan is a value; const methods are safe to share.
#ifndef MR_APPS_INTERNAL_JOIN_PLAN_H_
#define MR_APPS_INTERNAL_JOIN_PLAN_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "mr/mapreduce.h"

namespace mr {
namespace apps {
namespace internal {

inline constexpr char kJoinSchemaKey = '\x00';
inline constexpr char kJoinRowKey = '\x01';
inline constexpr char kJoinNullKey = '\x02';

// The schema record key of `side` for reduce partition `partition`.
std::string JoinSchemaKey(uint8_t side, uint32_t partition);

// Appends the salt suffix of salt `salt` to a 0x01 key.
void AppendSalt(uint32_t salt, std::string* key);

// Whether `key` (a 0x01 key) carries a salt; if so, sets *base to the key
// without it and *salt to the salt.
bool SplitSalt(std::string_view key, std::string_view* base, uint32_t* salt);

// The reduce partition of a map output key (Job::Partition()): a schema
// record's P; salt i of a hot key K the partition after K's by i; any other
// key by StableHash() of it.
uint32_t JoinPartition(std::string_view key, uint32_t num_partitions);

class JoinPlan {
 public:
  struct HotKey {
    uint8_t salted_side = 0;  // whose rows are spread; the other's replicated
    uint32_t salts = 1;       // over how many partitions (2..R)
  };

  // A key is hot when its rows on its larger side (the side with more of
  // its rows in the sample) are more than half a reduce partition's share
  // of the sample (sampled rows / R); those rows are then spread over
  // S = ceil(rows / (share / 2)) partitions, at most R and at most the rows
  // themselves. The larger side's rows are salted, the other's replicated.
  // `sample` is map output of unplanned maps (no salts).
  static JoinPlan FromSample(const Sample& sample, uint32_t num_partitions);

  std::string Encode() const;
  // False when `data` is not an encoded plan.
  static bool Decode(std::string_view data, JoinPlan* plan);

  uint32_t num_partitions() const { return num_partitions_; }
  // The hot key `key` (a 0x01 key without salt), or null.
  const HotKey* Find(std::string_view key) const;
  const std::map<std::string, HotKey, std::less<>>& hot_keys() const {
    return hot_keys_;
  }
  void AddHotKey(std::string key, HotKey hot) {
    hot_keys_[std::move(key)] = hot;
  }
  void set_num_partitions(uint32_t n) { num_partitions_ = n; }

 private:
  uint32_t num_partitions_ = 0;
  std::map<std::string, HotKey, std::less<>> hot_keys_;
};

}  // namespace internal
}  // namespace apps
}  // namespace mr

#endif  // MR_APPS_INTERNAL_JOIN_PLAN_H_
