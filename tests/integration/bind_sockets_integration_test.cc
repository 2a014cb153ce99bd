// bind_sockets on real sockets, each test in a network namespace built for it:
// plain loopback, dual-stack, IPv6 turned off, a loopback without ::1 and a
// resolver that still lists it, and a kernel without AF_INET6 sockets.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "integration_util.h"
#include "netns_sandbox.h"
#include "netutil/accept_handler.h"
#include "netutil/bind_sockets.h"
#include "netutil/epoll_loop.h"
#include "netutil/posix_sys.h"

namespace netutil::integration {
namespace {

using namespace std::chrono_literals;

// Raw bind of `ip`:0 on a fresh socket; 0 or the errno. For preconditions.
int TryRawBind(const char* ip) {
  auto addr = SockAddr::FromIp(ip, 0);
  ScopedFd s(::socket(addr->family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return errno;
  if (addr->family() == AF_INET6) {
    int one = 1;
    (void)::setsockopt(s.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  return ::bind(s.get(), addr->data(), addr->len()) == 0 ? 0 : errno;
}

bool ResolverListsIpv6Localhost() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo("localhost", "0", &hints, &res) != 0) return false;
  bool v6 = false;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) v6 = v6 || ai->ai_family == AF_INET6;
  ::freeaddrinfo(res);
  return v6;
}

std::string Describe(const std::vector<Listener>& ls) {
  std::string s;
  for (const Listener& l : ls) s += (s.empty() ? "" : ", ") + l.addr.ToString();
  return "[" + s + "]";
}

// Connects a client to `family`'s loopback on `port` and returns which of the
// listeners accepted it (-1 for none). All listeners are polled together.
int WhichListenerAccepts(const std::vector<Listener>& ls, int family, uint16_t port) {
  int err = 0;
  ScopedFd client = ConnectTcp(Loopback(family, port), /*nonblocking=*/false, &err);
  EXPECT_TRUE(client.valid()) << "connect " << Loopback(family, port) << ": " << Errno(err);
  if (!client.valid()) return -1;
  std::vector<pollfd> fds;
  for (const Listener& l : ls) fds.push_back({l.fd.get(), POLLIN, 0});
  if (::poll(fds.data(), fds.size(), 2000) <= 0) return -1;
  int who = -1;
  for (size_t i = 0; i < ls.size(); ++i) {
    if ((fds[i].revents & POLLIN) == 0) continue;
    SockAddr peer;
    ScopedFd conn = AcceptWithin(ls[i].fd.get(), 0ms, &peer);
    if (!conn.valid()) continue;
    EXPECT_EQ(who, -1) << "two listeners accepted a connection for one client";
    EXPECT_EQ(peer, LocalAddr(client.get()));
    who = static_cast<int>(i);
  }
  return who;
}

// BIND-009, BIND-010, BIND-011, BIND-014, BIND-016 as the kernel sees them.
void ExpectListenerFlags(const Listener& l, bool reuse_port) {
  const int fd = l.fd.get();
  EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << l.addr << " is not close-on-exec";
  EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << l.addr << " is blocking";
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_REUSEADDR), 1) << l.addr;
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_REUSEPORT), reuse_port ? 1 : 0) << l.addr;
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_ACCEPTCONN), 1) << l.addr << " is not listening";
  EXPECT_EQ(GetIntOption(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM) << l.addr;
  if (l.family() == AF_INET6) {
    EXPECT_EQ(GetIntOption(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1) << l.addr;
  }
}

// Scenario 1: "127.0.0.1" port 0, a real client accepted through EpollLoop.
TEST(BindSocketsIntegration, BIND_027_ACCEPT_006_LoopbackPortZeroAcceptsARealClient) {
  SandboxOptions options;
  options.netns_required = false;  // 127.0.0.1 only: the host's loopback will do
  RUN_IN_SANDBOX(options, [] {
    PosixSys sys;
    auto bound = bind_sockets(sys, BindOptions{.address = "127.0.0.1"});
    IT_ASSERT_OK(bound);
    std::vector<Listener>& ls = bound.value();
    ASSERT_EQ(ls.size(), 1u) << Describe(ls);
    EXPECT_EQ(ls[0].family(), AF_INET);
    EXPECT_EQ(ls[0].addr.host(), "127.0.0.1");
    ASSERT_NE(ls[0].addr.port(), 0) << "BIND-027: the listener carries the kernel's port";
    EXPECT_EQ(ls[0].addr, LocalAddr(ls[0].fd.get()));
    ExpectListenerFlags(ls[0], /*reuse_port=*/false);

    auto created = EpollLoop::Create(sys);
    IT_ASSERT_OK(created);
    EpollLoop& loop = *created.value();
    std::vector<std::pair<Fd, SockAddr>> got;
    auto handle = add_accept_handler(loop, sys, ls[0], [&](Fd conn, const SockAddr& peer) {
      got.emplace_back(std::move(conn), peer);
    });
    IT_ASSERT_OK(handle);

    int err = 0;
    ScopedFd client = ConnectTcp(ls[0].addr, /*nonblocking=*/false, &err);
    ASSERT_TRUE(client.valid()) << Errno(err);
    ASSERT_TRUE(RunLoopUntil(
        loop, [&] { return !got.empty(); }, 5s));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].second, LocalAddr(client.get())) << "ACCEPT-006: the peer's address";
    const int conn = got[0].first.get();
    EXPECT_NE(::fcntl(conn, F_GETFL) & O_NONBLOCK, 0) << "ACCEPT-008";
    EXPECT_NE(::fcntl(conn, F_GETFD) & FD_CLOEXEC, 0) << "ACCEPT-008";
    EXPECT_EQ(handle.value().stats().accepted, 1);

    // The accepted connection is the client's: bytes go through.
    ASSERT_EQ(::write(client.get(), "ping", 4), 4);
    ASSERT_TRUE(WaitReadable(conn, 2s));
    char buf[8] = {};
    EXPECT_EQ(::read(conn, buf, sizeof buf), 4);
    EXPECT_EQ(std::string(buf, 4), "ping");
  });
}

// Scenario 2: a dual-stack namespace (lo has 127.0.0.1 and ::1).
TEST(BindSocketsIntegration,
     BIND_013_BIND_006_BIND_012_DualStackPortZeroOnePortTwoSeparateListeners) {
  SandboxOptions options;
  RUN_IN_SANDBOX(options, [] {
    ASSERT_EQ(TryRawBind("::1"), 0) << "precondition: ::1 on lo";
    PosixSys sys;
    auto bound = bind_sockets(sys, BindOptions{});
    IT_ASSERT_OK(bound);
    std::vector<Listener>& ls = bound.value();
    std::cout << "dual-stack bind_sockets(0): " << Describe(ls) << std::endl;
    ASSERT_EQ(ls.size(), 2u) << Describe(ls);
    // BIND-006: IPv4 first.
    EXPECT_EQ(ls[0].addr.ToString().rfind("0.0.0.0:", 0), 0u) << ls[0].addr;
    EXPECT_EQ(ls[1].family(), AF_INET6);
    EXPECT_EQ(ls[1].addr.host(), "::");
    // BIND-013: one kernel-chosen port for both.
    const uint16_t port = ls[0].addr.port();
    ASSERT_NE(port, 0);
    EXPECT_EQ(ls[1].addr.port(), port);
    EXPECT_EQ(LocalAddr(ls[1].fd.get()).port(), port);
    // BIND-012, read back through the seam and through the raw call.
    SysInt v6only = sys.getsockopt(ls[1].fd.get(), IPPROTO_IPV6, IPV6_V6ONLY);
    ASSERT_TRUE(v6only.ok()) << v6only;
    EXPECT_EQ(v6only.value, 1);
    ExpectListenerFlags(ls[0], false);
    ExpectListenerFlags(ls[1], false);

    // V6ONLY in practice: each family reaches its own listener, and the IPv6
    // listener never sees an IPv4 (v4-mapped) client.
    EXPECT_EQ(WhichListenerAccepts(ls, AF_INET, port), 0) << "127.0.0.1 must reach 0.0.0.0";
    EXPECT_EQ(WhichListenerAccepts(ls, AF_INET6, port), 1) << "[::1] must reach [::]";
    EXPECT_EQ(WhichListenerAccepts(ls, AF_INET, port), 0);
  });
}

// Scenario 3: IPv6 turned off by sysctl. What Linux really does: socket(AF_INET6)
// still succeeds and bind("::") still succeeds (only addresses are gone), so no
// skip rule fires; bind_sockets must not fail and IPv4 must come first and work.
TEST(BindSocketsIntegration, BIND_006_BIND_013_Ipv6DisabledBySysctlStillGivesAWorkingIpv4Listener) {
  SandboxOptions options;
  options.disable_ipv6 = true;
  RUN_IN_SANDBOX(options, [] {
    ASSERT_EQ(TryRawBind("::1"), EADDRNOTAVAIL) << "precondition: no ::1";
    PosixSys sys;
    auto bound = bind_sockets(sys, BindOptions{});
    IT_ASSERT_OK(bound);
    std::vector<Listener>& ls = bound.value();
    std::cout << "disable_ipv6=1, bind_sockets(0): " << Describe(ls)
              << (TryRawBind("::") == 0 ? " (the kernel still binds \"::\")" : "") << std::endl;
    ASSERT_GE(ls.size(), 1u);
    EXPECT_EQ(ls[0].family(), AF_INET) << Describe(ls);
    for (const Listener& l : ls) {
      EXPECT_EQ(l.addr.port(), ls[0].addr.port()) << Describe(ls);
      ExpectListenerFlags(l, false);
    }
    EXPECT_EQ(WhichListenerAccepts(ls, AF_INET, ls[0].addr.port()), 0);
  });
}

// BIND-008 for real: a kernel without AF_INET6 sockets (ipv6.disable=1), made
// with a seccomp filter, since a namespace cannot unload IPv6.
TEST(BindSocketsIntegration, BIND_008_KernelWithoutIpv6SocketsGivesOnlyTheIpv4Listener) {
  SandboxOptions options;
  options.ipv6_sockets_unsupported = true;
  RUN_IN_SANDBOX(options, [] {
    ScopedFd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_FALSE(probe.valid());
    ASSERT_EQ(errno, EAFNOSUPPORT) << "precondition: socket(AF_INET6) fails EAFNOSUPPORT";
    const int fds_before = CountOpenFds();
    PosixSys sys;
    {
      auto bound = bind_sockets(sys, BindOptions{});
      IT_ASSERT_OK(bound);
      std::vector<Listener>& ls = bound.value();
      ASSERT_EQ(ls.size(), 1u) << Describe(ls);
      EXPECT_EQ(ls[0].addr.ToString().rfind("0.0.0.0:", 0), 0u) << ls[0].addr;
      EXPECT_EQ(WhichListenerAccepts(ls, AF_INET, ls[0].addr.port()), 0);
    }
    EXPECT_EQ(CountOpenFds(), fds_before);
  });
}

// Scenario 4 (Tornado issue #2274): the resolver lists ::1 for localhost but lo
// has no ::1; the IPv6 address is skipped, not an error.
void ExpectLocalhostListensOnIpv4Only() {
  ASSERT_TRUE(ResolverListsIpv6Localhost()) << "precondition: /etc/hosts lists ::1 localhost";
  ASSERT_EQ(TryRawBind("::1"), EADDRNOTAVAIL) << "precondition: lo has no ::1";
  const int fds_before = CountOpenFds();
  PosixSys sys;
  {
    auto bound = bind_sockets(sys, BindOptions{.address = "localhost"});
    IT_ASSERT_OK(bound);
    std::vector<Listener>& ls = bound.value();
    ASSERT_EQ(ls.size(), 1u) << Describe(ls);
    EXPECT_EQ(ls[0].addr.host(), "127.0.0.1");
    EXPECT_NE(ls[0].addr.port(), 0);
    EXPECT_EQ(CountOpenFds(), fds_before + 1) << "the skipped IPv6 socket must be closed";
    EXPECT_EQ(WhichListenerAccepts(ls, AF_INET, ls[0].addr.port()), 0);
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

constexpr char kDualStackHosts[] = "127.0.0.1 localhost\n::1 localhost\n";

TEST(BindSocketsIntegration, BIND_015_LocalhostWithoutLoopbackIpv6AddressListensOnIpv4Only) {
  SandboxOptions options;
  options.remove_loopback_ipv6 = true;  // IPv6 stays on; only ::1 is deleted
  options.hosts_file = kDualStackHosts;
  RUN_IN_SANDBOX(options, [] {
    ASSERT_EQ(TryRawBind("::"), 0) << "precondition: IPv6 itself still works";
    ExpectLocalhostListensOnIpv4Only();
  });
}

TEST(BindSocketsIntegration, BIND_015_LocalhostWithIpv6DisabledListensOnIpv4Only) {
  SandboxOptions options;
  options.disable_ipv6 = true;  // as Docker does
  options.hosts_file = kDualStackHosts;
  RUN_IN_SANDBOX(options, [] { ExpectLocalhostListensOnIpv4Only(); });
}

// The skip is for "localhost" only: the literal ::1 without ::1 on lo is an os error.
TEST(BindSocketsIntegration, BIND_015_BIND_018_Ipv6LiteralWithoutLoopbackIpv6IsAnOsError) {
  SandboxOptions options;
  options.remove_loopback_ipv6 = true;
  RUN_IN_SANDBOX(options, [] {
    const int fds_before = CountOpenFds();
    PosixSys sys;
    auto bound = bind_sockets(sys, BindOptions{.address = "::1"});
    ASSERT_FALSE(bound.ok()) << Describe(bound.value());
    EXPECT_EQ(bound.error().kind, Error::Kind::kOs);
    EXPECT_EQ(bound.error().code, EADDRNOTAVAIL) << bound.error();
    EXPECT_EQ(bound.error().step, "bind") << bound.error();
    EXPECT_EQ(CountOpenFds(), fds_before);
  });
}

// Scenario 6: SO_REUSEPORT lets two listeners share one port; the kernel
// spreads connections over both.
TEST(BindSocketsIntegration, BIND_011_ReusePortLetsTwoListenersShareAPort) {
  SandboxOptions options;
  options.netns_required = false;
  RUN_IN_SANDBOX(options, [] {
    PosixSys sys;
    BindOptions o{.address = "127.0.0.1"};
    o.reuse_port = true;
    auto first = bind_sockets(sys, o);
    IT_ASSERT_OK(first);
    ASSERT_EQ(first.value().size(), 1u);
    o.port = first.value()[0].addr.port();
    auto second = bind_sockets(sys, o);
    IT_ASSERT_OK(second);
    ASSERT_EQ(second.value().size(), 1u);
    EXPECT_EQ(second.value()[0].addr, first.value()[0].addr);
    ExpectListenerFlags(first.value()[0], /*reuse_port=*/true);
    ExpectListenerFlags(second.value()[0], /*reuse_port=*/true);

    std::vector<Listener> both;
    both.push_back(std::move(first.value()[0]));
    both.push_back(std::move(second.value()[0]));
    int per_listener[2] = {0, 0};
    constexpr int kClients = 24;  // P(all on one listener) = 2^-23
    for (int i = 0; i < kClients; ++i) {
      int who = WhichListenerAccepts(both, AF_INET, static_cast<uint16_t>(o.port));
      ASSERT_GE(who, 0);
      ++per_listener[who];
    }
    EXPECT_GT(per_listener[0], 0) << "the kernel balanced nothing to the first listener";
    EXPECT_GT(per_listener[1], 0) << "the kernel balanced nothing to the second listener";
  });
}

TEST(BindSocketsIntegration, BIND_011_BIND_018_WithoutReusePortASecondListenerFailsEaddrinuse) {
  SandboxOptions options;
  options.netns_required = false;
  RUN_IN_SANDBOX(options, [] {
    PosixSys sys;
    for (bool first_reuse_port : {false, true}) {
      SCOPED_TRACE(first_reuse_port ? "first listener with reuse_port" : "neither with reuse_port");
      BindOptions o{.address = "127.0.0.1"};
      o.reuse_port = first_reuse_port;
      auto first = bind_sockets(sys, o);
      IT_ASSERT_OK(first);
      ASSERT_EQ(first.value().size(), 1u);
      ExpectListenerFlags(first.value()[0], first_reuse_port);

      const int fds_before = CountOpenFds();
      BindOptions again{.address = "127.0.0.1"};
      again.port = first.value()[0].addr.port();
      auto second = bind_sockets(sys, again);
      ASSERT_FALSE(second.ok()) << Describe(second.value());
      EXPECT_EQ(second.error().kind, Error::Kind::kOs);
      EXPECT_EQ(second.error().code, EADDRINUSE) << second.error();
      EXPECT_EQ(second.error().step, "bind") << second.error();
      EXPECT_EQ(CountOpenFds(), fds_before) << "BIND-018: the failed socket is closed";
    }
  });
}

}  // namespace
}  // namespace netutil::integration
