// Which addresses become listeners: IPv6 missing in any of its forms falls
// back to exactly the IPv4 listeners without an error (BIND-003, BIND-008,
// BIND-015, BIND-017); IPv4 comes first and no address is bound twice
// (BIND-006); darwin's link-local localhost is skipped (BIND-007).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>

#include "generators.h"
#include "netutil/bind_sockets.h"
#include "netutil/fakes/fake_kernel.h"
#include "prop_support.h"

namespace netutil::property {
namespace {

using fakes::Call;
using fakes::FakeKernel;
using fakes::KernelConfig;

enum class NoIpv6 {
  kRuntime,   // the runtime was built without IPv6 (Python's socket.has_ipv6 false)
  kKernel,    // socket(AF_INET6) fails with EAFNOSUPPORT
  kLoopback,  // IPv6 works but ::1 is missing (a container), localhost still lists it
};

const char* Name(NoIpv6 form) {
  switch (form) {
    case NoIpv6::kRuntime:
      return "no IPv6 in the runtime";
    case NoIpv6::kKernel:
      return "no IPv6 in the kernel";
    case NoIpv6::kLoopback:
      return "no ::1";
  }
  return "?";
}

std::vector<SockAddr> OfFamily(const std::vector<SockAddr>& in, int family) {
  std::vector<SockAddr> out;
  for (const auto& a : in) {
    if (a.family() == family) out.push_back(a);
  }
  return out;
}

RC_GTEST_PROP(FamilyFallback,
              BIND_003_BIND_008_BIND_015_BIND_017_MissingIpv6GivesExactlyTheIpv4Listeners, ()) {
  const NoIpv6 form = *rc::gen::element(NoIpv6::kRuntime, NoIpv6::kKernel, NoIpv6::kLoopback);
  RC_TAG(Name(form));
  // "" is the same as no address (BIND-002); without ::1 only localhost matters.
  const std::optional<std::string> host =
      form == NoIpv6::kLoopback
          ? std::optional<std::string>("localhost")
          : *rc::gen::element(std::optional<std::string>(), std::optional<std::string>(""),
                              std::optional<std::string>("localhost"));
  // The runtime without IPv6 asks for AF_INET, which fails on a name with
  // no IPv4 address (EAI_NONAME): that case belongs to BIND-005, not here.
  const int min_v4 = form == NoIpv6::kRuntime ? 1 : 0;
  std::vector<SockAddr> localhost =
      DrawAddrMix({Addr("127.0.0.1"), Addr("127.0.0.2"), Addr("::1")}, 1, 6);
  if (static_cast<int>(OfFamily(localhost, AF_INET).size()) < min_v4) {
    localhost.push_back(Addr("127.0.0.1"));
  }
  const uint16_t port = *rc::gen::element<uint16_t>(0, 8888);

  KernelConfig config = KernelConfig::For(Platform::Os::kLinux);
  config.resolver.Set("localhost", localhost);
  Platform platform = Platform::Linux();
  if (form == NoIpv6::kRuntime) platform.has_ipv6 = false;
  if (form == NoIpv6::kKernel) config.ipv6_supported = false;
  if (form == NoIpv6::kLoopback) config.ipv6_addrs.clear();
  FakeKernel kernel(config);

  auto result =
      bind_sockets(kernel, BindOptions{.port = port, .address = host, .platform = platform});
  LogContext(kernel);
  if (!result.ok()) RC_LOG() << "error: " << result.error().ToString();
  RC_ASSERT(result.ok());
  const auto& listeners = result.value();
  RC_LOG() << "listeners: " << Describe(listeners);

  const bool is_localhost = host && *host == "localhost";
  const std::vector<SockAddr> expected =
      is_localhost ? Distinct(OfFamily(localhost, AF_INET)) : std::vector{Addr("0.0.0.0")};
  RC_ASSERT(listeners.size() == expected.size());  // an empty list too (BIND-017)
  for (size_t i = 0; i < expected.size(); ++i) {
    RC_ASSERT(listeners[i].family() == AF_INET);
    RC_ASSERT(listeners[i].addr.host() == expected[i].host());
    if (port != 0) RC_ASSERT(listeners[i].addr.port() == port);
    RC_ASSERT(listeners[i].addr.port() == listeners[0].addr.port());
  }
  // Every IPv6 socket tried was closed again: only the listeners are open.
  RC_ASSERT(kernel.fd_count() == listeners.size());
  if (form == NoIpv6::kRuntime) {
    // BIND-003: the resolver was asked for AF_INET only, so IPv6 was never tried.
    const auto* resolve = kernel.trace().entries().front().As<Call::kGetaddrinfo>();
    RC_ASSERT(resolve != nullptr && std::get<2>(resolve->args).family == AF_INET);
    for (const auto& e : kernel.trace().entries()) {
      const auto* socket = e.As<Call::kSocket>();
      RC_ASSERT(!(socket != nullptr && std::get<0>(socket->args) == AF_INET6));
    }
  }
}

RC_GTEST_PROP(FamilyFallback, BIND_006_Ipv4PrecedesIpv6AndDuplicatesBindOnce, ()) {
  KernelConfig config = KernelConfig::For(Platform::Os::kLinux);
  config.ipv4_addrs = {Addr("127.0.0.1"), Addr("10.0.0.1")};
  config.ipv6_addrs = {Addr("::1"), Addr("fd00::1")};
  // Specific addresses only: a wildcard and a specific address of one family
  // cannot share a port on Linux, which is BindPortReuse's business.
  const std::vector<SockAddr> resolved = DrawAddrMix(
      {Addr("127.0.0.1"), Addr("127.0.0.2"), Addr("10.0.0.1"), Addr("::1"), Addr("fd00::1")}, 1, 8);
  config.resolver.Set("multi.test", resolved);
  FakeKernel kernel(config);
  const uint16_t port = *rc::gen::element<uint16_t>(0, 9000);

  auto result = bind_sockets(
      kernel, BindOptions{.port = port, .address = "multi.test", .platform = Platform::Linux()});
  LogContext(kernel);
  RC_ASSERT(result.ok());
  const auto& ls = result.value();
  RC_LOG() << "listeners: " << Describe(ls);

  std::vector<SockAddr> got;
  for (const auto& l : ls) got.push_back(l.addr.WithPort(0));
  // The resolver's order within each family, IPv4 first, each address once.
  std::vector<SockAddr> want = Distinct(OfFamily(resolved, AF_INET));
  const auto v6 = Distinct(OfFamily(resolved, AF_INET6));
  want.insert(want.end(), v6.begin(), v6.end());
  RC_ASSERT(got == want);
}

// macOS resolves localhost to fe80::1%lo0 as well, which cannot share the
// IPv4 port; on darwin it is skipped, elsewhere it is an address like any other.
RC_GTEST_PROP(FamilyFallback, BIND_007_DarwinSkipsScopedLocalhostAddresses, ()) {
  const Platform::Os os = *rc::gen::element(Platform::Os::kDarwin, Platform::Os::kLinux);
  KernelConfig config = KernelConfig::For(Platform::Os::kDarwin);
  config.traits = fakes::KernelTraits::For(os);
  const SockAddr link_local = *SockAddr::FromIp("fe80::1", 0, 1);
  const std::vector<SockAddr> resolved =
      DrawAddrMix({Addr("127.0.0.1"), Addr("::1"), link_local}, 1, 5);
  config.resolver.Set("localhost", resolved);
  config.resolver.Set("other.test", resolved);
  const std::string host = *rc::gen::element<std::string>("localhost", "other.test");
  FakeKernel kernel(config);
  Platform platform = os == Platform::Os::kDarwin ? Platform::Darwin() : Platform::Linux();

  auto result = bind_sockets(
      kernel,
      BindOptions{.port = *rc::gen::element(0, 7000), .address = host, .platform = platform});
  LogContext(kernel);
  RC_ASSERT(result.ok());
  const bool has_scoped = std::any_of(result.value().begin(), result.value().end(),
                                      [](const Listener& l) { return l.addr.scope_id() != 0; });
  const bool skip = os == Platform::Os::kDarwin && host == "localhost";
  const bool asked = std::find(resolved.begin(), resolved.end(), link_local) != resolved.end();
  RC_ASSERT(has_scoped == (asked && !skip));
}

}  // namespace
}  // namespace netutil::property
