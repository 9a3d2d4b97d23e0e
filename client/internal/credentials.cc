#include "client/internal/credentials.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace mr {
namespace client_internal {

absl::StatusOr<std::string> ParseToken(absl::string_view text,
                                       const std::string& source) {
  const absl::string_view token = absl::StripAsciiWhitespace(text);
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " holds no token"));
  }
  for (char c : token) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": the token must be one word of printable ASCII"));
    }
  }
  return std::string(token);
}

absl::StatusOr<Credentials> ResolveCredentials(const CommandLine& cl,
                                               const GetEnv& getenv) {
  auto env = [&getenv](const char* name) -> std::string {
    const char* v = getenv(name);
    return v == nullptr ? "" : v;
  };
  Credentials out;
  out.tls_ca = cl.tls_ca.empty() ? env("MR_TLS_CA") : cl.tls_ca;

  std::string file = cl.token_file;
  std::string label = "--token_file";
  if (file.empty() && !env("MR_TOKEN_FILE").empty()) {
    file = env("MR_TOKEN_FILE");
    label = "$MR_TOKEN_FILE";
  }
  if (!file.empty()) {
    absl::StatusOr<std::string> text = ReadFileToString(file);
    if (!text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": ", text.status().message()));
    }
    absl::StatusOr<std::string> token =
        ParseToken(*text, absl::StrCat(label, " ", file));
    if (!token.ok()) return token.status();
    out.token = std::move(*token);
  } else if (getenv("MR_TOKEN") != nullptr) {
    absl::StatusOr<std::string> token = ParseToken(env("MR_TOKEN"), "$MR_TOKEN");
    if (!token.ok()) return token.status();
    out.token = std::move(*token);
  }
  return out;
}

}  // namespace client_internal
}  // namespace mr
