// How mrctl proves who it is to the master and secures the connection:
// the bearer token and the CA, from its flags or, failing those, from the
// environment.
//
//   token:  --token_file FILE, else $MR_TOKEN_FILE (a file), else $MR_TOKEN
//           (the token itself). A file holds just the token; whitespace
//           around it (a trailing newline) is ignored.
//   CA:     --tls_ca FILE, else $MR_TLS_CA. With one, the channel uses TLS.
//
// A file is preferred over $MR_TOKEN: a process's environment is easier to
// leak (crash reports, /proc/PID/environ) than a file only its user reads.
#ifndef MR_CLIENT_INTERNAL_CREDENTIALS_H_
#define MR_CLIENT_INTERNAL_CREDENTIALS_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/internal/command_line.h"

namespace mr {
namespace client_internal {

struct Credentials {
  std::string token;   // "" : none
  std::string tls_ca;  // a path; "" : plaintext
};

// Looks up an environment variable: null when unset (std::getenv).
using GetEnv = std::function<const char*(const char*)>;

// The credentials of `cl`, completed from the environment. Errors are
// InvalidArgument, one line naming the flag or variable and the file, and
// never quote a token: an unreadable or empty token file, a token holding
// whitespace or a byte other than printable ASCII (gRPC metadata cannot
// carry it).
absl::StatusOr<Credentials> ResolveCredentials(const CommandLine& cl,
                                               const GetEnv& getenv);

// The token in `text` (a token file's contents, or $MR_TOKEN), whitespace
// around it trimmed; `source` names it in errors ("--token_file /t").
absl::StatusOr<std::string> ParseToken(absl::string_view text,
                                       const std::string& source);

}  // namespace client_internal
}  // namespace mr

#endif  // MR_CLIENT_INTERNAL_CREDENTIALS_H_
