// How finely RocksDB's table cache (its open SST files) should be sharded,
// for the stores of the master and the workers.
#ifndef MR_COMMON_TABLE_CACHE_SHARDS_H_
#define MR_COMMON_TABLE_CACHE_SHARDS_H_

namespace mr {

// RocksDB keeps max_open_files - 10 table files open, in 2^bits LRU shards
// of ceil(capacity / 2^bits) files each: with the default 64 shards, a
// bound of 20 lets 64 files stay open. This returns bits for at most
// capacity / 16 shards (and at most 64), so the bound is kept to within
// 1/16. -1 (no bound) keeps RocksDB's default.
inline int TableCacheShardBits(int max_open_files) {
  if (max_open_files < 0) return 6;
  const int capacity = max_open_files > 10 ? max_open_files - 10 : 1;
  int bits = 0;
  while (bits < 6 && (2 << bits) <= capacity / 16) ++bits;
  return bits;
}

}  // namespace mr

#endif  // MR_COMMON_TABLE_CACHE_SHARDS_H_
