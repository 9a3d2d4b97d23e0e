#include "master/client_auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/names.h"

namespace mr {
namespace {

constexpr char kMissing[] = "missing bearer token";
constexpr char kUnknown[] = "unknown bearer token";

// What gRPC lets a metadata value hold, minus the space that separates the
// scheme from the token.
bool IsTokenChar(char c) { return c > ' ' && c <= '~'; }

}  // namespace

const char* ClientRoleName(ClientRole role) {
  switch (role) {
    case ClientRole::kSubmit: return "submit";
    case ClientRole::kAdmin: return "admin";
  }
  return "?";
}

absl::StatusOr<ClientRole> ParseClientRole(absl::string_view text) {
  if (text == "submit") return ClientRole::kSubmit;
  if (text == "admin") return ClientRole::kAdmin;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role '", EscapeName(std::string(text)),
                   "' (submit or admin)"));
}

absl::StatusOr<std::vector<ClientRole>> ParseClientRoles(
    absl::string_view text) {
  std::vector<ClientRole> roles;
  if (text.empty()) return roles;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    absl::StatusOr<ClientRole> role = ParseClientRole(part);
    if (!role.ok()) return role.status();
    roles.push_back(*role);
  }
  return roles;
}

ClientAuthenticator::Digest ClientAuthenticator::Hash(absl::string_view token) {
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         d.data());
  return d;
}

absl::StatusOr<ClientAuthenticator> ClientAuthenticator::Parse(
    absl::string_view text, const std::string& file) {
  ClientAuthenticator auth;
  auth.enabled_ = true;
  std::map<Digest, int> first_line;  // of each token, for duplicates
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    auto fail = [&](const std::string& reason) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", line_no, ": ", reason));
    };
    absl::string_view stripped = absl::StripAsciiWhitespace(line);
    if (stripped.empty() || stripped[0] == '#') continue;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(stripped, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.size() != 3) {
      return fail(absl::StrCat("expected TOKEN ROLE NAME, found ",
                               fields.size(), " fields"));
    }
    const absl::string_view token = fields[0];
    // The messages describe the token, never quote it: a mistyped line may
    // still hold a real token, and this error goes to the logs.
    for (char c : token) {
      if (!IsTokenChar(c)) {
        return fail("the token holds a character other than printable ASCII");
      }
    }
    if (token.size() < kMinTokenLength) {
      return fail(absl::StrCat("the token is ", token.size(),
                               " characters long; tokens need at least ",
                               kMinTokenLength));
    }
    absl::StatusOr<ClientRole> role = ParseClientRole(fields[1]);
    if (!role.ok()) return fail(std::string(role.status().message()));
    for (char c : fields[2]) {
      if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) {
        return fail("the name holds a control character");
      }
    }
    const Digest digest = Hash(token);
    auto [it, inserted] = first_line.emplace(digest, line_no);
    if (!inserted) {
      return fail(absl::StrCat("the same token as line ", it->second,
                               " (each token may appear once)"));
    }
    auth.tokens_.push_back(
        Entry{digest, ClientCaller{std::string(fields[2]), *role}});
  }
  if (auth.tokens_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, " holds no tokens: nobody could use the master (leave out "
              "--tokens_file for a master without authentication)"));
  }
  return auth;
}

absl::StatusOr<ClientAuthenticator> ClientAuthenticator::LoadFile(
    const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokens file ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokens file ", path, " is not a regular file"));
  }
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokens file: ", text.status().message()));
  }
  absl::StatusOr<ClientAuthenticator> auth = Parse(*text, path);
  if (!auth.ok()) return auth;
  if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    MR_LOG(WARNING) << "tokens file " << path << " is readable by "
                    << ((st.st_mode & S_IROTH) != 0 ? "every user"
                                                    : "its group")
                    << " (mode " << std::oct << (st.st_mode & 07777)
                    << std::dec << "): anyone who reads it can act as any "
                    << "of its holders; chmod 600 it";
  }
  return auth;
}

absl::StatusOr<ClientCaller> ClientAuthenticator::Authenticate(
    const grpc::ServerContext& context) const {
  return Authenticate(context.client_metadata());
}

absl::StatusOr<ClientCaller> ClientAuthenticator::Authenticate(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const {
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return AuthenticateHeader(std::nullopt);
  return AuthenticateHeader(
      absl::string_view(it->second.data(), it->second.size()));
}

absl::StatusOr<ClientCaller> ClientAuthenticator::AuthenticateHeader(
    std::optional<absl::string_view> authorization) const {
  if (!enabled_) return ClientCaller{kAnonymousCaller, ClientRole::kAdmin};
  // RFC 6750: "Bearer" SP token; the scheme is case-insensitive (RFC 7235).
  constexpr absl::string_view kScheme = "bearer ";
  if (!authorization.has_value() || authorization->size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization->substr(0, kScheme.size()),
                              kScheme)) {
    return absl::UnauthenticatedError(kMissing);
  }
  const absl::string_view token =
      absl::StripAsciiWhitespace(authorization->substr(kScheme.size()));
  if (token.empty()) return absl::UnauthenticatedError(kMissing);
  // Every entry is compared, whatever matches, each in constant time: how
  // long this takes says nothing about which bytes of a guess were right.
  const Digest digest = Hash(token);
  const Entry* found = nullptr;
  for (const Entry& e : tokens_) {
    if (CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0) {
      found = &e;
    }
  }
  if (found == nullptr) return absl::UnauthenticatedError(kUnknown);
  return found->caller;
}

}  // namespace mr
