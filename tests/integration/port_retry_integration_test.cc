// BIND-023, Tornado issue #1860, reproduced deterministically.
//
// In a fresh network namespace the ephemeral range is narrowed to 40000-40009
// and IPv6 listeners hold [::]:40000..40008, so 40009 is the only port free on
// both families. bind_sockets(0) binds 0.0.0.0 first on a kernel-chosen port,
// then [::] on that same port. Linux picks bind(0) ports of odd parity and,
// for an SO_REUSEADDR socket, from the lower half of the range first: the IPv4
// socket gets 40001 or 40003, both taken on IPv6. Tornado's algorithm (no
// retry) then fails with EADDRINUSE; the reference starts over on a new port,
// holding the failed ones, until it reaches 40009.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "integration_util.h"
#include "netns_sandbox.h"
#include "netutil/bind_sockets.h"
#include "netutil/posix_sys.h"

namespace netutil::integration {
namespace {

constexpr uint16_t kLow = 40000;
constexpr uint16_t kHigh = 40009;
constexpr int kTries = 20;

SandboxOptions NarrowRange() {
  SandboxOptions o;
  o.ip_local_port_range = std::to_string(kLow) + " " + std::to_string(kHigh);
  return o;
}

// Listening [::]:port sockets, V6ONLY, without SO_REUSEADDR: nothing else can
// bind these ports on IPv6, and IPv4 is untouched.
std::vector<ScopedFd> HoldIpv6Ports(uint16_t from, uint16_t to) {
  std::vector<ScopedFd> held;
  for (unsigned p = from; p <= to; ++p) {
    ScopedFd s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(s.valid()) << Errno(errno);
    int one = 1;
    EXPECT_EQ(::setsockopt(s.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
    SockAddr a = *SockAddr::FromIp("::", static_cast<uint16_t>(p));
    EXPECT_EQ(::bind(s.get(), a.data(), a.len()), 0) << "hold " << a << ": " << Errno(errno);
    EXPECT_EQ(::listen(s.get(), 1), 0) << Errno(errno);
    held.push_back(std::move(s));
  }
  return held;
}

// (a) Tornado's algorithm (port_retries = 0) fails on the held port.
TEST(PortRetryIntegration, BIND_023_WithoutRetriesASharedPortTakenOnIpv6FailsEaddrinuse) {
  RUN_IN_SANDBOX(NarrowRange(), [] {
    std::vector<ScopedFd> held = HoldIpv6Ports(kLow, kHigh - 1);
    ASSERT_FALSE(::testing::Test::HasFailure());
    PosixSys sys;
    BindOptions o;
    o.port_retries = 0;
    const int fds_before = CountOpenFds();
    int failures = 0;
    for (int i = 0; i < kTries; ++i) {
      auto r = bind_sockets(sys, o);
      if (r.ok()) {
        ASSERT_EQ(r.value().size(), 2u);
        EXPECT_EQ(r.value()[0].addr.port(), kHigh) << "only 40009 is free on both families";
        EXPECT_EQ(r.value()[1].addr.port(), kHigh);
      } else {
        ++failures;
        EXPECT_EQ(r.error().code, EADDRINUSE) << r.error();
        EXPECT_EQ(r.error().step, "bind") << r.error();
        EXPECT_NE(r.error().address.find("[::]:"), std::string::npos)
            << "the IPv6 address fails: " << r.error();
      }
      EXPECT_EQ(CountOpenFds(), fds_before) << "BIND-018 after try " << i;
    }
    std::cout << "port_retries=0 (Tornado's algorithm): " << failures << " of " << kTries
              << " tries failed with EADDRINUSE" << std::endl;
    EXPECT_GE(failures, 1);
  });
}

// (b) The reference's default retries always land on the one shared free port.
TEST(PortRetryIntegration, BIND_023_DefaultRetriesFindThePortFreeOnBothFamilies) {
  RUN_IN_SANDBOX(NarrowRange(), [] {
    std::vector<ScopedFd> held = HoldIpv6Ports(kLow, kHigh - 1);
    ASSERT_FALSE(::testing::Test::HasFailure());
    PosixSys sys;
    BindOptions o;  // port 0, all interfaces, port_retries 10
    ASSERT_EQ(o.port_retries, 10);
    const int fds_before = CountOpenFds();
    int successes = 0;
    for (int i = 0; i < kTries; ++i) {
      auto r = bind_sockets(sys, o);
      IT_EXPECT_OK(r);
      if (!r.ok()) continue;
      ++successes;
      ASSERT_EQ(r.value().size(), 2u);
      EXPECT_EQ(r.value()[0].family(), AF_INET);
      EXPECT_EQ(r.value()[1].family(), AF_INET6);
      EXPECT_EQ(r.value()[0].addr.port(), kHigh);
      EXPECT_EQ(r.value()[1].addr.port(), kHigh);
      EXPECT_EQ(CountOpenFds(), fds_before + 2) << "the held ports are released on return";
    }
    EXPECT_EQ(CountOpenFds(), fds_before);
    std::cout << "port_retries=10: " << successes << " of " << kTries << " tries succeeded"
              << std::endl;
    EXPECT_EQ(successes, kTries);
  });
}

// (c) No port of the range free on IPv6: EADDRINUSE after the retries, and
// every socket opened on the way (including the held failed ports) is closed.
TEST(PortRetryIntegration, BIND_023_BIND_018_NoSharedPortLeftIsEaddrinuseAndLeaksNothing) {
  RUN_IN_SANDBOX(NarrowRange(), [] {
    std::vector<ScopedFd> held = HoldIpv6Ports(kLow, kHigh);
    ASSERT_FALSE(::testing::Test::HasFailure());
    PosixSys sys;
    const int fds_before = CountOpenFds();
    auto r = bind_sockets(sys, BindOptions{});
    ASSERT_FALSE(r.ok()) << r.value().size() << " listeners";
    EXPECT_EQ(r.error().kind, Error::Kind::kOs);
    EXPECT_EQ(r.error().code, EADDRINUSE) << r.error();
    std::cout << "every port taken on IPv6: " << r.error() << std::endl;
    EXPECT_EQ(CountOpenFds(), fds_before);
    // Nothing still holds an IPv4 port of the range either.
    for (unsigned p = kLow; p <= kHigh; ++p) {
      ScopedFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      SockAddr a = *SockAddr::FromIp("0.0.0.0", static_cast<uint16_t>(p));
      EXPECT_EQ(::bind(s.get(), a.data(), a.len()), 0) << a << " still taken: " << Errno(errno);
    }
  });
}

// The interpreter that has Debian's python3-tornado; NETUTIL_TORNADO_PYTHON overrides.
std::string TornadoPython() {
  const char* env = std::getenv("NETUTIL_TORNADO_PYTHON");
  return env && *env ? env : "/usr/bin/python3";
}

constexpr char kTornadoScript[] = R"PY(
import errno, gc, sys
try:
    import tornado
    from tornado.netutil import bind_sockets
except Exception as e:
    print("NO_TORNADO", type(e).__name__, e)
    sys.exit(0)
tries = int(sys.argv[1])
fail = other = 0
for _ in range(tries):
    try:
        for s in bind_sockets(0):
            s.close()
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            fail += 1
        else:
            other += 1
    gc.collect()  # Tornado leaks the IPv4 socket until collected
print("RESULT", tornado.version, fail, other)
)PY";

// The same namespace with Tornado itself: issue #1860 as Tornado users see it.
TEST(PortRetryIntegration, BIND_023_TornadoBindSocketsFailsInTheSameNamespace) {
  const std::string python = TornadoPython();
  if (::access(python.c_str(), X_OK) != 0) {
    GTEST_SKIP() << python << " not found; set NETUTIL_TORNADO_PYTHON or install python3-tornado";
  }
  TempDir dir;
  const std::string script = dir.Join("tornado_1860.py");
  std::ofstream(script) << kTornadoScript;

  RUN_IN_SANDBOX(NarrowRange(), [&] {
    std::vector<ScopedFd> held = HoldIpv6Ports(kLow, kHigh - 1);
    ASSERT_FALSE(::testing::Test::HasFailure());
    const std::string cmd = "'" + python + "' '" + script + "' " + std::to_string(kTries) + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr) << Errno(errno);
    std::string out;
    char buf[512];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int status = ::pclose(p);
    ASSERT_EQ(status, 0) << cmd << " -> " << out;
    if (out.rfind("NO_TORNADO", 0) == 0) GTEST_SKIP() << python << ": " << out;
    const size_t at = out.find("RESULT");
    ASSERT_NE(at, std::string::npos) << out;
    std::istringstream in(out.substr(at));
    std::string tag, version;
    int fail = -1, other = -1;
    in >> tag >> version >> fail >> other;
    ASSERT_EQ(tag, "RESULT") << out;
    std::cout << "Tornado " << version << " bind_sockets(0): " << fail << " of " << kTries
              << " tries failed with EADDRINUSE (" << other << " other errors)" << std::endl;
    EXPECT_EQ(other, 0) << out;
    EXPECT_GE(fail, 1) << "issue #1860 did not reproduce: " << out;
  });
}

}  // namespace
}  // namespace netutil::integration
