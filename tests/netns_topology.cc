#include "tests/netns_topology.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "tests/external_mini_cluster.h"

namespace mr {
namespace test {
namespace {

constexpr absl::Duration kIpTimeout = absl::Seconds(10);

absl::StatusOr<std::string> IpBinary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (access(p, X_OK) == 0) return std::string(p);
  }
  return absl::FailedPreconditionError(
      "no `ip` (iproute2) in /usr/sbin, /sbin, /usr/bin or /bin");
}

// Runs `ip args...`; its stdout. Internal, quoting its stderr, unless it
// exits 0.
absl::StatusOr<std::string> Ip(const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(std::string ip, IpBinary());
  std::vector<std::string> argv = {ip};
  argv.insert(argv.end(), args.begin(), args.end());
  ASSIGN_OR_RETURN(CommandResult r, RunCommand(argv, kIpTimeout));
  if (r.exit_code != 0) {
    return absl::InternalError(absl::StrCat("`", absl::StrJoin(argv, " "),
                                            "` exited with ", r.exit_code,
                                            ": ", r.err));
  }
  return r.out;
}

// Whether `pid` is a live process. A zombie is not: a killed test binary
// stays one until its parent reaps it.
bool IsAlive(pid_t pid) {
  absl::StatusOr<std::string> stat =
      ReadFileToString(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return kill(pid, 0) == 0 || errno != ESRCH;
  // "pid (comm) S ...": comm may hold spaces and parentheses.
  const size_t close_paren = stat->rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= stat->size() ||
         (*stat)[close_paren + 2] != 'Z';
}

// Whether `name` is `prefix`<pid>-... with a pid that is no longer alive.
bool IsStale(const std::string& name, const std::string& prefix) {
  if (!absl::StartsWith(name, prefix)) return false;
  const std::string rest = name.substr(prefix.size());
  pid_t pid = 0;
  if (!absl::SimpleAtoi(rest.substr(0, rest.find('-')), &pid)) return false;
  return pid != getpid() && !IsAlive(pid);
}

}  // namespace

NetnsTopology::NetnsTopology(std::string prefix)
    : name_prefix_(absl::StrCat(prefix, getpid())) {}

NetnsTopology::~NetnsTopology() {
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
    absl::StatusOr<std::string> r = Ip({"netns", "delete", *it});
    if (!r.ok()) fprintf(stderr, "NetnsTopology: %s\n", r.status().ToString().c_str());
  }
}

absl::Status NetnsTopology::SweepStale(const std::string& prefix) {
  ASSIGN_OR_RETURN(std::string list, Ip({"netns", "list"}));
  // One namespace a line: "NAME" or "NAME (id: N)".
  for (absl::string_view line : absl::StrSplit(list, '\n', absl::SkipEmpty())) {
    const std::string ns(line.substr(0, line.find(' ')));
    if (!IsStale(ns, prefix)) continue;
    fprintf(stderr, "NetnsTopology: deleting stale namespace %s\n", ns.c_str());
    RETURN_IF_ERROR(Ip({"netns", "delete", ns}).status());
  }
  return absl::OkStatus();
}

absl::Status NetnsTopology::Create(const std::vector<NetnsHost>& hosts) {
  const std::string br = Ns("br");
  for (const std::vector<std::string>& step :
       std::vector<std::vector<std::string>>{
           {"netns", "add", br},
           {"-n", br, "link", "set", "lo", "up"},
           {"-n", br, "link", "add", "br0", "type", "bridge"},
           {"-n", br, "link", "set", "br0", "up"}}) {
    RETURN_IF_ERROR(Step(step));
  }
  for (const NetnsHost& h : hosts) {
    const std::string ns = Ns(h.name);
    const std::string veth = "v" + h.name;
    for (const std::vector<std::string>& step :
         std::vector<std::vector<std::string>>{
             {"netns", "add", ns},
             {"-n", ns, "link", "set", "lo", "up"},
             {"-n", br, "link", "add", veth, "type", "veth", "peer", "name",
              "eth0", "netns", ns},
             {"-n", br, "link", "set", veth, "master", "br0"},
             {"-n", br, "link", "set", veth, "up"},
             {"-n", ns, "addr", "add", h.address + "/24", "dev", "eth0"},
             {"-n", ns, "link", "set", "eth0", "up"}}) {
      RETURN_IF_ERROR(Step(step));
    }
  }
  return absl::OkStatus();
}

std::string NetnsTopology::Ns(const std::string& name) const {
  return absl::StrCat(name_prefix_, "-", name);
}

std::vector<std::string> NetnsTopology::Exec(const NetnsHost& host) const {
  return {IpBinary().value_or("ip"), "netns", "exec", Ns(host.name)};
}

bool NetnsTopology::Holds(const NetnsHost& host, pid_t pid) const {
  // The same nsfs inode as the name `ip netns add` mounted.
  struct stat of_pid, named;
  return stat(absl::StrCat("/proc/", pid, "/ns/net").c_str(), &of_pid) == 0 &&
         stat(absl::StrCat("/run/netns/", Ns(host.name)).c_str(), &named) == 0 &&
         of_pid.st_dev == named.st_dev && of_pid.st_ino == named.st_ino;
}

absl::Status NetnsTopology::SetLink(const NetnsHost& host, bool up) {
  return Ip({"-n", Ns("br"), "link", "set", "v" + host.name, up ? "up" : "down"})
      .status();
}

absl::Status NetnsTopology::Iptables(const NetnsHost& host,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"netns", "exec", Ns(host.name), "iptables"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Ip(argv).status();
}

absl::Status NetnsTopology::Step(const std::vector<std::string>& args) {
  RETURN_IF_ERROR(Ip(args).status());
  if (args.size() == 3 && args[0] == "netns" && args[1] == "add") {
    made_.push_back(args[2]);
  }
  return absl::OkStatus();
}

}  // namespace test
}  // namespace mr
