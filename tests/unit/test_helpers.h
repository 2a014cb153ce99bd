// Small helpers shared by the unit tests: constants, matchers and actions for
// scripting a MockSys.
#pragma once

#include <gmock/gmock.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "netutil/bind_sockets.h"
#include "netutil/listener.h"
#include "netutil/platform.h"
#include "netutil/sock_addr.h"
#include "netutil/sys.h"

namespace netutil::unit {

// What the reference passes to socket() and accept4(): non-blocking and
// close-on-exec atomically (BIND-009, BIND-014, UNIX-001, ACCEPT-008).
inline constexpr int kStreamFlags = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
inline constexpr int kAcceptFlags = SOCK_NONBLOCK | SOCK_CLOEXEC;

// getaddrinfo's NULL node (all interfaces).
inline const std::optional<std::string> kNullNode = std::nullopt;

// An int with every bit of `bits` set: socket(_, HasBits(SOCK_CLOEXEC), _).
MATCHER_P(HasBits, bits,
          std::string(negation ? "lacks" : "has") + " all the bits of " +
              ::testing::PrintToString(bits)) {
  return (arg & bits) == bits;
}

// getaddrinfo hints, field by field (AddrInfoHints has no operator==).
inline ::testing::Matcher<const AddrInfoHints&> HintsAre(int family, int socktype, int protocol,
                                                         int flags) {
  using ::testing::AllOf;
  using ::testing::Field;
  return AllOf(Field("family", &AddrInfoHints::family, family),
               Field("socktype", &AddrInfoHints::socktype, socktype),
               Field("protocol", &AddrInfoHints::protocol, protocol),
               Field("flags", &AddrInfoHints::flags, flags));
}

inline ::testing::Matcher<const AddrInfoHints&> HintsFamily(int family) {
  return ::testing::Field("family", &AddrInfoHints::family, family);
}

inline ::testing::Matcher<const AddrInfoHints&> HintsFlags(int flags) {
  return ::testing::Field("flags", &AddrInfoHints::flags, flags);
}

// A listener bound to exactly `addr`.
inline ::testing::Matcher<const Listener&> ListenerAt(const SockAddr& addr) {
  return ::testing::Field("addr", &Listener::addr, addr);
}

// An IPv6 address with a non-zero port: a bind to an inherited port (BIND-023).
MATCHER(V6WithPort, "is an IPv6 address with a non-zero port") {
  return arg.family() == AF_INET6 && arg.port() != 0;
}

// A getaddrinfo answer built from a vector (fakes::Resolved takes a braced list).
GaiResult ResolvedFrom(const std::vector<SockAddr>& addrs);

// The addresses of `listeners`, in order.
std::vector<SockAddr> AddressesOf(const std::vector<Listener>& listeners);

// An AF_UNIX address for `path`; aborts on a path that does not fit.
SockAddr UnixAt(const std::string& path);

// Linux, but Python's socket.has_ipv6 is false (BIND-003).
inline Platform NoIpv6Linux() {
  Platform p = Platform::Linux();
  p.has_ipv6 = false;
  return p;
}

// getsockname's answer.
inline SysResult<SockAddr> Named(const SockAddr& addr) { return {addr, 0}; }

// An epoll_wait action reporting `ready` (at most max_events of them).
inline auto EpollReady(std::vector<EpollEvent> ready) {
  return [ready](int /*epfd*/, EpollEvent* out, int max_events, int /*timeout_ms*/) {
    const int n = std::min(static_cast<int>(ready.size()), max_events);
    std::copy_n(ready.begin(), n, out);
    return SysOk(n);
  };
}

}  // namespace netutil::unit
