// Who a client of the master is: bearer tokens, each with a role.
//
// A client (mrctl, the client library) sends on every RPC the metadata
//
//   authorization: Bearer TOKEN
//
// and the master looks TOKEN up in its tokens file (mr-master
// --tokens_file=FILE), one token a line:
//
//   # TOKEN                           ROLE    NAME
//   3b1f0c9e4a7d48c2a51e9f6d0b8c7a21  submit  etl-nightly
//   f0e1d2c3b4a5968778695a4b3c2d1e0f  admin   alice
//
// Fields are separated by spaces or tabs. A line whose first non-blank
// character is '#' is a comment; blank lines are skipped. TOKEN is at least
// kMinTokenLength printable ASCII characters (gRPC metadata carries nothing
// else); ROLE is `submit` or `admin`; NAME names the holder (a person or a
// service) in logs and as the owner of the jobs it submits, and may repeat
// (one holder, several tokens, e.g. while rotating). A token may appear
// once. Generate tokens with e.g. `openssl rand -hex 32`.
//
// Roles: `submit` submits jobs and runs pipelines, reads every job's status
// and kills its own jobs; `admin` may do everything, kill anyone's job too.
// Which roles may ship native code or executables (a plugin, a streaming
// job) is the master's --plugin_roles (MasterOptions::plugin_roles).
//
// Without a tokens file every caller is an admin named "anonymous": the
// local demo. mr-master says so loudly at start.
//
// Tokens are kept only as SHA-256 digests and compared in constant time,
// so neither the time a lookup takes nor any error or log line reveals a
// token.
//
// Thread-safety: immutable after construction; safe to share.
#ifndef MR_MASTER_CLIENT_AUTH_H_
#define MR_MASTER_CLIENT_AUTH_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mr {

enum class ClientRole { kSubmit, kAdmin };

// "submit", "admin".
const char* ClientRoleName(ClientRole role);
// The inverse; InvalidArgument naming the text otherwise.
absl::StatusOr<ClientRole> ParseClientRole(absl::string_view text);
// "admin,submit" (comma-separated, no spaces; empty: no role) -> roles.
// InvalidArgument naming an unknown role.
absl::StatusOr<std::vector<ClientRole>> ParseClientRoles(
    absl::string_view text);

// An authenticated caller.
struct ClientCaller {
  std::string name;
  ClientRole role = ClientRole::kSubmit;
};

inline constexpr size_t kMinTokenLength = 16;
// The caller of a master without a tokens file.
inline constexpr char kAnonymousCaller[] = "anonymous";

class ClientAuthenticator {
 public:
  // No tokens: every caller is an admin named kAnonymousCaller.
  ClientAuthenticator() = default;

  // Parses the text of a tokens file; `file` names it in errors, which are
  // InvalidArgument "FILE:LINE: reason" and never quote a token.
  static absl::StatusOr<ClientAuthenticator> Parse(absl::string_view text,
                                                   const std::string& file);

  // Reads and parses `path`. Logs a WARNING when group or others may read
  // the file (the tokens are the cluster's passwords).
  static absl::StatusOr<ClientAuthenticator> LoadFile(const std::string& path);

  // Whether callers must present a token (a tokens file was loaded).
  bool enabled() const { return enabled_; }
  // How many tokens were loaded.
  size_t size() const { return tokens_.size(); }

  // The caller of an RPC, from its `authorization` metadata:
  // UNAUTHENTICATED "missing bearer token" when it has no `Bearer TOKEN`
  // (the scheme's case does not matter), "unknown bearer token" when TOKEN
  // is no token of the file.
  absl::StatusOr<ClientCaller> Authenticate(
      const grpc::ServerContext& context) const;
  // The same, given the RPC's metadata (for tests).
  absl::StatusOr<ClientCaller> Authenticate(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;
  // The same, given the `authorization` value (nullopt: none sent).
  absl::StatusOr<ClientCaller> AuthenticateHeader(
      std::optional<absl::string_view> authorization) const;

 private:
  using Digest = std::array<uint8_t, 32>;  // SHA-256
  struct Entry {
    Digest digest;
    ClientCaller caller;
  };
  static Digest Hash(absl::string_view token);

  bool enabled_ = false;
  std::vector<Entry> tokens_;
};

}  // namespace mr

#endif  // MR_MASTER_CLIENT_AUTH_H_
