// What the mr-master and mr-worker mains share: stop signals and the
// address file a daemon writes once serving (tests and scripts wait for it).
#ifndef MR_COMMON_DAEMON_H_
#define MR_COMMON_DAEMON_H_

#include <signal.h>

#include <string>

#include "absl/status/status.h"

namespace mr {

// Blocks SIGTERM and SIGINT in this thread and every thread it starts later
// (call first thing in main), and ignores SIGPIPE. Returns the stop signals.
sigset_t BlockStopSignals();

// Waits for one of `signals`; returns it.
int WaitForStopSignal(const sigset_t& signals);

// Writes "address\n" to `path` atomically; nothing when `path` is empty.
absl::Status WriteAddressFile(const std::string& path,
                              const std::string& address);

}  // namespace mr

#endif  // MR_COMMON_DAEMON_H_
