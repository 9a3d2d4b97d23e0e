#include "apps/internal/join_plan.h"

#include <algorithm>

namespace mr {
namespace apps {
namespace internal {
namespace {

constexpr std::string_view kPlanMagic = "join-plan-1\n";

void AppendBigEndian32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint32_t ReadBigEndian32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

std::string JoinSchemaKey(uint8_t side, uint32_t partition) {
  std::string key;
  key.push_back(kJoinSchemaKey);
  key.push_back(static_cast<char>(side));
  AppendBigEndian32(partition, &key);
  return key;
}

void AppendSalt(uint32_t salt, std::string* key) {
  key->push_back('\0');
  key->push_back('\x02');
  AppendBigEndian32(salt, key);
}

bool SplitSalt(std::string_view key, std::string_view* base, uint32_t* salt) {
  // 0x00 0x02 never occurs in an encoded key (join_row.h), so a key that
  // has it six bytes from its end is salted.
  if (key.size() < 7 || key[0] != kJoinRowKey || key[key.size() - 6] != '\0' ||
      key[key.size() - 5] != '\x02') {
    return false;
  }
  *base = key.substr(0, key.size() - 6);
  *salt = ReadBigEndian32(key.data() + key.size() - 4);
  return true;
}

uint32_t JoinPartition(std::string_view key, uint32_t num_partitions) {
  if (num_partitions == 0) return 0;
  if (key.size() == 6 && key[0] == kJoinSchemaKey) {
    return ReadBigEndian32(key.data() + 2) % num_partitions;
  }
  std::string_view base;
  uint32_t salt;
  if (SplitSalt(key, &base, &salt)) {
    return static_cast<uint32_t>((StableHash(base) + salt) % num_partitions);
  }
  return static_cast<uint32_t>(StableHash(key) % num_partitions);
}

JoinPlan JoinPlan::FromSample(const Sample& sample, uint32_t num_partitions) {
  JoinPlan plan;
  plan.num_partitions_ = num_partitions;
  if (num_partitions < 2) return plan;
  uint64_t rows = 0;
  for (const auto& [key, value] : sample) {
    if (!key.empty() && key[0] != kJoinSchemaKey) ++rows;
  }
  size_t i = 0;
  while (i < sample.size()) {
    const std::string& key = sample[i].first;
    uint64_t count[2] = {0, 0};
    size_t j = i;
    for (; j < sample.size() && sample[j].first == key; ++j) {
      const std::string& v = sample[j].second;
      if (!v.empty() && static_cast<uint8_t>(v[0]) <= 1) ++count[v[0] == 1];
    }
    if (!key.empty() && key[0] == kJoinRowKey) {
      const uint8_t side = count[1] > count[0] ? 1 : 0;
      const uint64_t c = count[side];
      // Half a share is rows / 2R: hot when c > rows / 2R, in integers
      // c * 2R > rows; S = ceil(c / (rows / 2R)) = ceil(c * 2R / rows).
      const uint64_t c2r = c * 2 * num_partitions;
      if (c >= 2 && c2r > rows) {
        const uint64_t salts =
            std::min<uint64_t>({(c2r + rows - 1) / rows, num_partitions, c});
        if (salts >= 2) {
          plan.hot_keys_[key] = {side, static_cast<uint32_t>(salts)};
        }
      }
    }
    i = j;
  }
  return plan;
}

std::string JoinPlan::Encode() const {
  std::string out(kPlanMagic);
  AppendBigEndian32(num_partitions_, &out);
  AppendBigEndian32(static_cast<uint32_t>(hot_keys_.size()), &out);
  for (const auto& [key, hot] : hot_keys_) {
    AppendBigEndian32(static_cast<uint32_t>(key.size()), &out);
    out.append(key);
    out.push_back(static_cast<char>(hot.salted_side));
    AppendBigEndian32(hot.salts, &out);
  }
  return out;
}

bool JoinPlan::Decode(std::string_view data, JoinPlan* plan) {
  plan->hot_keys_.clear();
  if (data.substr(0, kPlanMagic.size()) != kPlanMagic) return false;
  data.remove_prefix(kPlanMagic.size());
  if (data.size() < 8) return false;
  plan->num_partitions_ = ReadBigEndian32(data.data());
  uint32_t n = ReadBigEndian32(data.data() + 4);
  data.remove_prefix(8);
  for (; n > 0; --n) {
    if (data.size() < 4) return false;
    const uint32_t len = ReadBigEndian32(data.data());
    data.remove_prefix(4);
    if (data.size() < static_cast<uint64_t>(len) + 5) return false;
    HotKey hot;
    std::string key(data.substr(0, len));
    hot.salted_side = static_cast<uint8_t>(data[len]);
    hot.salts = ReadBigEndian32(data.data() + len + 1);
    data.remove_prefix(len + 5);
    if (hot.salted_side > 1 || hot.salts == 0 || key.empty() ||
        key[0] != kJoinRowKey) {
      return false;
    }
    plan->hot_keys_[std::move(key)] = hot;
  }
  return data.empty();
}

const JoinPlan::HotKey* JoinPlan::Find(std::string_view key) const {
  auto it = hot_keys_.find(key);
  return it == hot_keys_.end() ? nullptr : &it->second;
}

}  // namespace internal
}  // namespace apps
}  // namespace mr
