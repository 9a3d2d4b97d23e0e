#include "master/plugin_store.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace mr {

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::Status PluginStore::Init() { return MakeDirs(dir_); }

std::string PluginStore::PathOf(const std::string& hash) const {
  return absl::StrCat(dir_, "/", hash, ".so");
}

absl::StatusOr<std::string> PluginStore::Put(const std::string& bytes) {
  const std::string hash = Sha256Hex(bytes);
  const std::string path = PathOf(hash);
  if (!PathExists(path)) {
    RETURN_IF_ERROR(WriteFileAtomically(path, bytes), "storing plugin");
  }
  return hash;
}

absl::StatusOr<std::string> PluginStore::Get(const std::string& hash) const {
  for (char c : hash) {
    if (!isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("malformed plugin hash");
    }
  }
  return ReadFileToString(PathOf(hash));
}

}  // namespace mr
