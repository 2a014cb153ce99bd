// Runs a function in a forked child inside a fresh network namespace built to
// order (loopback up, an ephemeral port range, optionally no ::1, no AF_INET6
// sockets at all, a private /etc/hosts), and brings back the string it
// returns. The fidelity table runs each scenario's real-kernel half this way,
// so every run starts from an empty, identical network.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace netutil::fidelity {

// The network a scenario needs; the fake kernel is configured from the same value.
struct EnvSpec {
  uint16_t port_low = 40000;  // net.ipv4.ip_local_port_range
  uint16_t port_high = 40099;
  bool no_loopback_v6 = false;       // net.ipv6.conf.lo.disable_ipv6 = 1: lo has no ::1
  bool no_ipv6_sockets = false;      // seccomp: socket(AF_INET6, ...) fails with EAFNOSUPPORT
  std::optional<std::string> hosts;  // bind-mounted over /etc/hosts
};

// How a child run ended. Only kNoEnvironment may turn into a skipped test:
// the machine cannot build the namespace (not root, no unshare, no IPv6 sysctl,
// no seccomp). A child that crashes, hangs, exits without reporting or whose
// set-up breaks for another reason is kFailed: a bug to look at, never a skip.
enum class ChildStatus { kRan, kNoEnvironment, kFailed };

struct ChildResult {
  ChildStatus status = ChildStatus::kFailed;
  std::string output;  // what the function returned (kRan)
  std::string why;     // what the environment lacks, or how the child failed
  bool ran() const { return status == ChildStatus::kRan; }
};

// How long a child may take, set-up and body together, before it is killed
// and reported as "timeout after N ms".
inline constexpr std::chrono::milliseconds kChildTimeout{10000};

// What a set-up step says when it cannot go on: `missing` when the machine
// lacks something (permission, a kernel feature), otherwise the set-up broke.
struct SetupFailure {
  bool missing = false;
  std::string why;
};
using Setup = std::function<std::optional<SetupFailure>()>;

// Forks; the child runs `setup` (nullptr: none), then `body`, and sends back
// what `body` returns. Never throws. The parent waits at most `timeout`, then
// kills the child (SIGKILL) and reports the timeout.
ChildResult RunInChild(const Setup& setup, const std::function<std::string()>& body,
                       std::chrono::milliseconds timeout = kChildTimeout);

// RunInChild with the network namespace `spec` describes as the set-up.
ChildResult RunInFreshNetns(const EnvSpec& spec, const std::function<std::string()>& body,
                            std::chrono::milliseconds timeout = kChildTimeout);

}  // namespace netutil::fidelity
