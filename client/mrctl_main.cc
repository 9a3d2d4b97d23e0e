// mrctl: the command-line client of the MapReduce master. See
// client/internal/command_line.h for the command line and
// client/internal/mrctl.h for what each command prints and returns.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "client/internal/command_line.h"
#include "client/internal/credentials.h"
#include "client/internal/mrctl.h"
#include "client/master_client.h"
#include "common/tls.h"

namespace {

// Whether HOST:PORT names this machine (127.0.0.0/8, ::1, localhost).
bool IsLoopback(const std::string& target) {
  std::string host = target.substr(0, target.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  using mr::client_internal::Command;
  if (argc < 2) {
    std::cout << mr::client_internal::UsageText();
    return mr::client_internal::kExitUsage;
  }
  const std::vector<std::string> args(argv + 1, argv + argc);
  std::error_code ec;
  const std::string cwd = std::filesystem::current_path(ec).string();
  if (ec) {
    std::cerr << "mrctl: cannot read the current directory: " << ec.message()
              << "\n";
    return mr::client_internal::kExitUsage;
  }
  absl::StatusOr<mr::client_internal::CommandLine> cl =
      mr::client_internal::ParseCommandLine(args, std::getenv("MR_MASTER"),
                                            cwd);
  if (!cl.ok()) {
    std::cerr << "mrctl: " << cl.status().message() << "\n";
    return mr::client_internal::kExitUsage;
  }
  if (cl->command == Command::kHelp) {
    std::cout << mr::client_internal::UsageText();
    return mr::client_internal::kExitOk;
  }
  mr::client_internal::MrctlOptions options;
  if (cl->command == Command::kPipelineCheck) {  // needs no master
    mr::client_internal::Mrctl mrctl(nullptr, &std::cout, &std::cerr, options);
    return mrctl.Run(*cl);
  }
  absl::StatusOr<mr::client_internal::Credentials> credentials =
      mr::client_internal::ResolveCredentials(
          *cl, [](const char* name) { return std::getenv(name); });
  if (!credentials.ok()) {
    std::cerr << "mrctl: " << credentials.status().message() << "\n";
    return mr::client_internal::kExitUsage;
  }
  mr::MasterClientOptions client_options;
  client_options.token = credentials->token;
  mr::TlsFiles tls_files;
  tls_files.ca_file = credentials->tls_ca;
  absl::StatusOr<mr::TlsConfig> tls =
      mr::TlsConfig::Load(tls_files, /*need_identity=*/false);
  if (!tls.ok()) {
    std::cerr << "mrctl: " << tls.status().message()
              << (cl->tls_ca.empty() ? " (from $MR_TLS_CA)" : "") << "\n";
    return mr::client_internal::kExitUsage;
  }
  client_options.tls = *std::move(tls);
  if (!client_options.token.empty() && !client_options.tls.enabled() &&
      !IsLoopback(cl->master)) {
    std::cerr << "mrctl: warning: sending the bearer token to " << cl->master
              << " in plaintext: anyone on the path can read it (give "
                 "--tls_ca FILE)\n";
  }
  mr::MasterClient client(cl->master, client_options);
  options.err_is_tty = isatty(STDERR_FILENO) == 1;
  options.tls = client_options.tls.enabled();
  options.has_token = !client_options.token.empty();
  mr::client_internal::Mrctl mrctl(&client, &std::cout, &std::cerr, options);
  return mrctl.Run(*cl);
}
