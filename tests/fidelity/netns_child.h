// Runs a function in a forked child inside a fresh network namespace built to
// order (loopback up, an ephemeral port range, optionally no ::1, no AF_INET6
// sockets at all, a private /etc/hosts), and brings back the string it
// returns. The fidelity table runs each scenario's real-kernel half this way,
// so every run starts from an empty, identical network.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace netutil::fidelity {

// The network a scenario needs; the fake kernel is configured from the same value.
struct EnvSpec {
  uint16_t port_low = 40000;  // net.ipv4.ip_local_port_range
  uint16_t port_high = 40099;
  bool no_loopback_v6 = false;   // net.ipv6.conf.lo.disable_ipv6 = 1: lo has no ::1
  bool no_ipv6_sockets = false;  // seccomp: socket(AF_INET6, ...) fails with EAFNOSUPPORT
  std::optional<std::string> hosts;  // bind-mounted over /etc/hosts
};

struct ChildResult {
  bool ran = false;      // false: the namespace could not be built (see why)
  std::string output;    // what the function returned
  std::string why;       // why it did not run, or how the child died
};

// Never throws; a child that crashes, hangs (10 s) or cannot build the
// environment comes back with ran == false.
ChildResult RunInFreshNetns(const EnvSpec& spec, const std::function<std::string()>& body);

}  // namespace netutil::fidelity
