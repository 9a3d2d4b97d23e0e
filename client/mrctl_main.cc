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
#include "client/internal/mrctl.h"
#include "client/master_client.h"

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
  mr::MasterClient client(cl->master);
  options.err_is_tty = isatty(STDERR_FILENO) == 1;
  mr::client_internal::Mrctl mrctl(&client, &std::cout, &std::cerr, options);
  return mrctl.Run(*cl);
}
