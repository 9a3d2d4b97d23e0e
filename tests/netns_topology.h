// Network namespaces for multi-host tests: one per host, each with `lo` up
// and an eth0 whose other end is a port of a bridge in a namespace of its
// own, so that the hosts share one Ethernet segment:
//
//   NetnsTopology net("mrnetns-");               // names mrnetns-<pid>-*
//   ASSERT_OK(NetnsTopology::SweepStale("mrnetns-"));
//   ASSERT_OK(net.Create({{"m", "198.18.0.10"}, {"w0", "198.18.0.11"}}));
//   options.master_command_prefix = net.Exec({"m", ...});  // ip netns exec
//   net.SetLink(w0, false);                      // pull w0's cable
//
// Namespaces are named PREFIX<pid of the test>-<host> (and the bridge's
// PREFIX<pid>-br, with one veth v<host> per host). Use only addresses of
// 198.18.0.0/24 (RFC 2544's benchmarking block): nothing here routes off
// the machine, but a test must not shadow real networks.
//
// Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2's `ip`; errors
// say so. Every namespace Create() made is deleted by the destructor; those
// of a test that crashed before its destructor ran are deleted by the next
// SweepStale().
//
// Thread-safety: not thread-safe; use from the test's thread.
#ifndef MR_TESTS_NETNS_TOPOLOGY_H_
#define MR_TESTS_NETNS_TOPOLOGY_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mr {
namespace test {

struct NetnsHost {
  std::string name;     // short: names the namespace and the veth v<name>
  std::string address;  // IPv4, given to eth0 as a /24
};

class NetnsTopology {
 public:
  // `prefix`: what every name of this test starts with, e.g. "mrnetns-".
  explicit NetnsTopology(std::string prefix);
  ~NetnsTopology();  // deletes the namespaces Create() made
  NetnsTopology(const NetnsTopology&) = delete;
  NetnsTopology& operator=(const NetnsTopology&) = delete;

  // Deletes the namespaces named `prefix`<pid>-* whose pid is no longer a
  // live process. Internal when `ip` fails (no iproute2, not root).
  static absl::Status SweepStale(const std::string& prefix);

  // The bridge namespace, then one namespace per host (see the file
  // comment). Internal naming the failed `ip` command and its stderr.
  // REQUIRES: called once.
  absl::Status Create(const std::vector<NetnsHost>& hosts);

  // `prefix`<pid>: the start of every name of this topology.
  const std::string& name_prefix() const { return name_prefix_; }
  // The namespace of host `name` ("br": the bridge's).
  std::string Ns(const std::string& name) const;

  // The command prefix that runs a program in `host`'s namespace
  // (`ip netns exec NS`, which execs the program: same pid).
  std::vector<std::string> Exec(const NetnsHost& host) const;

  // Whether process `pid` runs in `host`'s namespace.
  bool Holds(const NetnsHost& host, pid_t pid) const;

  // Takes the bridge's end of `host`'s link down or up. Down, the host's
  // eth0 loses its carrier but keeps its address and routes: its packets,
  // and those sent to it, vanish without an error, as with a pulled cable.
  absl::Status SetLink(const NetnsHost& host, bool up);

  // Runs `iptables args...` in `host`'s namespace (the rules live and die
  // with it). Internal, with iptables' stderr, when it fails.
  absl::Status Iptables(const NetnsHost& host,
                        const std::vector<std::string>& args);

 private:
  // Runs `ip args`, remembering the namespace an `ip netns add` made.
  absl::Status Step(const std::vector<std::string>& args);

  const std::string name_prefix_;
  std::vector<std::string> made_;  // in creation order
};

}  // namespace test
}  // namespace mr

#endif  // MR_TESTS_NETNS_TOPOLOGY_H_
