// Keeps shipped plugins by content hash under STATE_DIR/plugins/.
//
// Thread-safety: thread-safe (files are written atomically; a plugin's
// content never changes under its hash).
#ifndef MR_MASTER_PLUGIN_STORE_H_
#define MR_MASTER_PLUGIN_STORE_H_

#include <string>

#include "absl/status/statusor.h"

namespace mr {

class PluginStore {
 public:
  explicit PluginStore(std::string dir) : dir_(std::move(dir)) {}

  absl::Status Init();

  // Stores `bytes`; returns its content hash (SHA-256, hex).
  absl::StatusOr<std::string> Put(const std::string& bytes);

  // The stored plugin's bytes; NotFound for an unknown hash.
  absl::StatusOr<std::string> Get(const std::string& hash) const;

  std::string PathOf(const std::string& hash) const;

 private:
  const std::string dir_;
};

// SHA-256 of `data`, lowercase hex.
std::string Sha256Hex(const std::string& data);

}  // namespace mr

#endif  // MR_MASTER_PLUGIN_STORE_H_
