// The platform differences bind_sockets cares about, as a value, so darwin's and
// Windows' rules can be tested on Linux with a MockSys or the fake kernel.
#pragma once

namespace netutil {

struct Platform {
  enum class Os { kLinux, kDarwin, kWindows };

  Os os = Os::kLinux;
  // Python's socket.has_ipv6: whether the runtime was built with IPv6 at all.
  // False turns AF_UNSPEC into AF_INET before resolving (BIND-003).
  bool has_ipv6 = true;
  // Whether SO_REUSEPORT exists on this platform (BIND-001).
  bool has_reuseport = true;

  static Platform Linux() { return {}; }
  static Platform Darwin() { return {Os::kDarwin, true, true}; }
  static Platform Windows() { return {Os::kWindows, true, false}; }
  // The platform this binary runs on.
  static Platform Host();

  const char* name() const;
};

}  // namespace netutil
