#include "fidelity_cases.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <stdexcept>

#include "netutil/bind_sockets.h"
#include "netutil/bind_unix_socket.h"
#include "netutil/errno_name.h"
#include "netutil/fakes/call_args.h"
#include "netutil/fakes/injecting_sys.h"

namespace netutil::fidelity {
namespace {

constexpr uint16_t kPort = 45000;  // a fixed port outside the ephemeral range

SockAddr Ip(const char* literal, uint16_t port) {
  auto a = SockAddr::FromIp(literal, port);
  if (!a) throw std::invalid_argument(std::string("not an IP literal: ") + literal);
  return *a;
}

SockAddr UnixAddr(const std::string& path) {
  auto a = SockAddr::Unix(path);
  if (!a) throw std::invalid_argument("unix path too long: " + path);
  return *a;
}

std::string R(const SysInt& r) { return r.ok() ? "ok" : ErrnoName(r.err); }

// Steps joined by blanks. A braced list is evaluated left to right, which
// `a + " " + b` is not: the calls must happen in the order written.
std::string Join(std::initializer_list<std::string> steps) {
  std::string out;
  for (const auto& s : steps) out += (out.empty() ? "" : " ") + s;
  return out;
}

struct SockOpts {
  bool reuseaddr = false;
  bool reuseport = false;
  int v6only = -1;  // -1: leave the default
};

// A non-blocking socket with the options set; the set-up itself must work.
int Sock(Env& e, int family, SockOpts o = {}, int type = SOCK_STREAM) {
  SysInt s = e.sys().socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (!s.ok()) throw std::runtime_error(std::string("socket: ") + ErrnoName(s.err));
  auto set = [&](int level, int name, int value) {
    SysInt r = e.sys().setsockopt(s.value, level, name, value);
    if (!r.ok()) throw std::runtime_error(std::string("setsockopt: ") + ErrnoName(r.err));
  };
  if (o.reuseaddr) set(SOL_SOCKET, SO_REUSEADDR, 1);
  if (o.reuseport) set(SOL_SOCKET, SO_REUSEPORT, 1);
  if (o.v6only >= 0) set(IPPROTO_IPV6, IPV6_V6ONLY, o.v6only);
  return s.value;
}

std::string Bind(Env& e, int fd, const char* ip, uint16_t port) {
  return R(e.sys().bind(fd, Ip(ip, port)));
}

std::string Listen(Env& e, int fd, int backlog = 16) { return R(e.sys().listen(fd, backlog)); }

std::string Name(Env& e, int fd) {
  auto n = e.sys().getsockname(fd);
  return n.ok() ? e.Addr(n.value) : ErrnoName(n.err);
}

std::string Outcome(Env& e, const Result<std::vector<Listener>>& r) {
  if (!r.ok()) {
    const Error& err = r.error();
    const std::string code =
        err.kind == Error::Kind::kResolve ? GaiErrorName(err.code) : ErrnoName(err.code);
    return std::string("error ") + err.KindName() + " " + code + " at " + err.step;
  }
  std::string s = "ok [";
  for (size_t i = 0; i < r.value().size(); ++i) {
    s += (i ? ", " : "") + e.Addr(r.value()[i].addr);
  }
  return s + "]";
}

std::string Outcome(Env& e, const Result<Listener>& r) {
  if (!r.ok()) {
    return std::string("error ") + r.error().KindName() + " " + ErrnoName(r.error().code) + " at " +
           r.error().step;
  }
  return "ok " + e.Addr(r.value().addr);
}

std::string FileAt(Env& e, const std::string& path) {
  auto st = e.sys().lstat(path);
  return st.ok() ? fakes::FileStatText(st.value) : ErrnoName(st.err);
}

using Case = FidelityCase;

std::vector<Case> Build() {
  std::vector<Case> t;
  const EnvSpec plain;
  SockOpts reuse;
  reuse.reuseaddr = true;
  SockOpts reuseport;
  reuseport.reuseport = true;
  SockOpts dual;
  dual.v6only = 0;
  SockOpts only;
  only.v6only = 1;

  // --- bind conflicts ---------------------------------------------------------
  t.push_back({"Conflict_SameAddressWithoutReuseaddr", plain, [](Env& e) {
                 const int a = Sock(e, AF_INET), b = Sock(e, AF_INET);
                 return Join({Bind(e, a, "127.0.0.1", kPort), Bind(e, b, "127.0.0.1", kPort)});
               }});
  t.push_back({"Conflict_ReuseaddrPairBindsButOnlyOneListens", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET, reuse), b = Sock(e, AF_INET, reuse);
                 return Join({Bind(e, a, "127.0.0.1", kPort), Bind(e, b, "127.0.0.1", kPort),
                              Listen(e, a), Listen(e, b)});
               }});
  t.push_back({"Conflict_ReuseaddrAgainstAListener", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET, reuse), b = Sock(e, AF_INET, reuse);
                 return Join({Bind(e, a, "127.0.0.1", kPort), Listen(e, a),
                              Bind(e, b, "127.0.0.1", kPort)});
               }});
  t.push_back(
      {"Conflict_WildcardListenerBlocksSpecific", plain, [=](Env& e) {
         const int a = Sock(e, AF_INET, reuse), b = Sock(e, AF_INET, reuse);
         return Join({Bind(e, a, "0.0.0.0", kPort), Listen(e, a), Bind(e, b, "127.0.0.1", kPort)});
       }});
  t.push_back(
      {"Conflict_SpecificListenerBlocksWildcard", plain, [=](Env& e) {
         const int a = Sock(e, AF_INET, reuse), b = Sock(e, AF_INET, reuse);
         return Join({Bind(e, a, "127.0.0.1", kPort), Listen(e, a), Bind(e, b, "0.0.0.0", kPort)});
       }});
  t.push_back({"Conflict_ReuseaddrWildcardAndSpecificBindButOneListens", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET, reuse), b = Sock(e, AF_INET, reuse);
                 return Join({Bind(e, a, "0.0.0.0", kPort), Bind(e, b, "127.0.0.1", kPort),
                              Listen(e, b), Listen(e, a)});
               }});
  t.push_back({"Conflict_DistinctSpecificAddressesShare", plain, [](Env& e) {
                 const int a = Sock(e, AF_INET), b = Sock(e, AF_INET);
                 return Join({Bind(e, a, "127.0.0.1", kPort), Listen(e, a),
                              Bind(e, b, "127.0.0.2", kPort), Listen(e, b)});
               }});

  // --- IPV6_V6ONLY ----------------------------------------------------------------
  t.push_back({"V6only_DualStackWildcardTakesTheIpv4Port", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET6, dual), b = Sock(e, AF_INET);
                 return Join({Bind(e, a, "::", kPort), Listen(e, a), Bind(e, b, "0.0.0.0", kPort)});
               }});
  t.push_back({"V6only_V6onlyWildcardLeavesTheIpv4Port", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET6, only), b = Sock(e, AF_INET);
                 return Join({Bind(e, a, "::", kPort), Listen(e, a), Bind(e, b, "0.0.0.0", kPort)});
               }});
  t.push_back({"V6only_Ipv4WildcardBlocksDualStackWildcard", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET), b = Sock(e, AF_INET6, dual);
                 return Join({Bind(e, a, "0.0.0.0", kPort), Listen(e, a), Bind(e, b, "::", kPort)});
               }});
  t.push_back({"V6only_Ipv4WildcardLeavesV6onlyWildcard", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET), b = Sock(e, AF_INET6, only);
                 return Join({Bind(e, a, "0.0.0.0", kPort), Listen(e, a), Bind(e, b, "::", kPort)});
               }});
  t.push_back(
      {"V6only_DualStackLoopbackThenIpv4Wildcard", plain, [=](Env& e) {
         const int a = Sock(e, AF_INET6, dual), b = Sock(e, AF_INET);
         return Join({Bind(e, a, "::1", kPort), Listen(e, a), Bind(e, b, "0.0.0.0", kPort)});
       }});
  t.push_back(
      {"V6only_Ipv4WildcardThenDualStackLoopback", plain, [=](Env& e) {
         const int a = Sock(e, AF_INET), b = Sock(e, AF_INET6, dual);
         return Join({Bind(e, a, "0.0.0.0", kPort), Listen(e, a), Bind(e, b, "::1", kPort)});
       }});
  t.push_back({"V6only_DualStackMappedThenIpv4", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET6, dual), b = Sock(e, AF_INET), c = Sock(e, AF_INET);
                 return Join({Bind(e, a, "::ffff:127.0.0.1", kPort), Listen(e, a),
                              Bind(e, b, "0.0.0.0", kPort), Bind(e, c, "127.0.0.2", kPort)});
               }});
  t.push_back(
      {"V6only_DualStackLoopbackThenLoopback4Ipv6", plain, [=](Env& e) {
         // 127.0.0.6 is what Linux stores as the IPv4 address of an IPv6
         // socket bound to a plain IPv6 address (LOOPBACK4_IPV6).
         const int a = Sock(e, AF_INET6, dual), b = Sock(e, AF_INET);
         return Join({Bind(e, a, "::1", kPort), Listen(e, a), Bind(e, b, "127.0.0.6", kPort)});
       }});
  t.push_back(
      {"V6only_DefaultIsZeroAndFixedAtBind", plain, [](Env& e) {
         const int a = Sock(e, AF_INET6);
         return Join(
             {"default " + std::to_string(e.sys().getsockopt(a, IPPROTO_IPV6, IPV6_V6ONLY).value),
              Bind(e, a, "::", 0), R(e.sys().setsockopt(a, IPPROTO_IPV6, IPV6_V6ONLY, 1))});
       }});
  t.push_back(
      {"V6only_MappedAddressNeedsDualStack", plain, [=](Env& e) {
         const int a = Sock(e, AF_INET6, only), b = Sock(e, AF_INET6, dual), c = Sock(e, AF_INET);
         return Join({Bind(e, a, "::ffff:127.0.0.1", kPort), Bind(e, b, "::ffff:127.0.0.1", kPort),
                      Listen(e, b), Bind(e, c, "127.0.0.1", kPort)});
       }});

  // --- SO_REUSEPORT, double bind, addresses -----------------------------------------
  t.push_back({"Reuseport_BothListenOnOnePort", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET, reuseport), b = Sock(e, AF_INET, reuseport);
                 return Join({Bind(e, a, "127.0.0.1", kPort), Listen(e, a),
                              Bind(e, b, "127.0.0.1", kPort), Listen(e, b)});
               }});
  t.push_back({"Reuseport_OnlyOnTheSecondIsRefused", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET), b = Sock(e, AF_INET, reuseport);
                 return Join({Bind(e, a, "127.0.0.1", kPort), Listen(e, a),
                              Bind(e, b, "127.0.0.1", kPort)});
               }});
  t.push_back({"Bind_TwiceIsEinval", plain, [](Env& e) {
                 const int a = Sock(e, AF_INET);
                 return Join({Bind(e, a, "127.0.0.1", kPort), Bind(e, a, "127.0.0.1", kPort + 1)});
               }});
  t.push_back({"Bind_AddressNotOnTheHost", plain, [](Env& e) {
                 const int a = Sock(e, AF_INET), b = Sock(e, AF_INET6), c = Sock(e, AF_INET);
                 return Join({Bind(e, a, "10.9.9.9", kPort), Bind(e, b, "2001:db8::1", kPort),
                              Bind(e, c, "127.9.9.9", kPort)});
               }});
  {
    EnvSpec no_v6;
    no_v6.no_loopback_v6 = true;
    t.push_back({"Bind_NoLoopbackV6ButWildcardWorks", no_v6, [](Env& e) {
                   const int a = Sock(e, AF_INET6), b = Sock(e, AF_INET6);
                   return Join({Bind(e, a, "::1", kPort), Bind(e, b, "::", kPort)});
                 }});
  }

  // --- the kernel's port choice ----------------------------------------------------
  t.push_back({"Ports_ListenOnAnUnboundSocketPicksFromTheRange", plain, [](Env& e) {
                 const int a = Sock(e, AF_INET);
                 return Join({Name(e, a), Listen(e, a), Name(e, a)});
               }});
  {
    EnvSpec one;
    one.port_low = 40000;
    one.port_high = 40000;
    t.push_back({"Ports_ExhaustedRangeIsEaddrinuse", one, [](Env& e) {
                   const int a = Sock(e, AF_INET), b = Sock(e, AF_INET);
                   return Join({Bind(e, a, "0.0.0.0", 0), Name(e, a), Bind(e, b, "0.0.0.0", 0)});
                 }});
  }
  t.push_back({"BIND_013_BIND_027_PortZeroDualStack", plain, [](Env& e) {
                 return Outcome(
                     e,
                     bind_sockets(e.sys(), BindOptions{.port = 0, .platform = Platform::Linux()}));
               }});
  t.push_back({"BIND_023_Issue1860PortHeldOnIpv6", plain, [=](Env& e) {
                 // 20 of the 100 ports taken on IPv6 only: IPv4 may well get one
                 // of them first, and the call must move on until both agree.
                 std::vector<bool> held(65536, false);
                 for (int p = 40000; p < 40100; p += 5) {
                   const int s = Sock(e, AF_INET6, only);
                   const std::string b = Bind(e, s, "::", static_cast<uint16_t>(p));
                   if (b == "ok" && Listen(e, s) == "ok") held[static_cast<size_t>(p)] = true;
                 }
                 BindOptions o{.port = 0, .platform = Platform::Linux()};
                 o.port_retries = 30;
                 auto r = bind_sockets(e.sys(), o);
                 if (!r.ok()) return Outcome(e, r);
                 const uint16_t port = r.value().front().addr.port();
                 return Join({"ok,", std::to_string(r.value().size()), "listeners on one port:",
                              r.value().back().addr.port() == port ? "yes," : "no,",
                              "a port held on IPv6:", held[port] ? "yes" : "no"});
               }});
  {
    EnvSpec spec;
    spec.no_loopback_v6 = true;
    spec.hosts = "127.0.0.1 localhost\n::1 localhost\n";
    t.push_back({"BIND_015_LocalhostWithoutLoopbackV6", spec, [](Env& e) {
                   return Outcome(
                       e, bind_sockets(e.sys(), BindOptions{.port = 0,
                                                            .address = "localhost",
                                                            .platform = Platform::Linux()}));
                 }});
  }
  {
    EnvSpec spec;
    spec.no_ipv6_sockets = true;
    t.push_back(
        {"BIND_008_KernelWithoutIpv6Sockets", spec, [](Env& e) {
           return Outcome(
               e, bind_sockets(e.sys(), BindOptions{.port = 0, .platform = Platform::Linux()}));
         }});
  }
  {
    EnvSpec spec;
    spec.hosts = "127.0.0.1 localhost\n::1 localhost dup.test\n127.0.0.1 dup.test\n";
    t.push_back({"BIND_006_DuplicatesAndOrder", spec, [](Env& e) {
                   return Outcome(
                       e, bind_sockets(e.sys(), BindOptions{.port = kPort,
                                                            .address = "dup.test",
                                                            .platform = Platform::Linux()}));
                 }});
  }
  {
    // glibc's getaddrinfo with no fd free (ResolverTable::WithoutFreeFd): a
    // name needs its name services (nsswitch.conf "hosts: files dns", as
    // Debian's: /etc/hosts opened, then a DNS socket), a literal none. The
    // first lookup sets NSS up with fds free. The same through InjectingSys,
    // whose resolver table answers as glibc would (its own fd probe).
    EnvSpec spec;
    spec.hosts = "127.0.0.1 localhost name.test\n";
    t.push_back(
        {"BIND_029_NameWithoutFreeFdIsEaiSystem", spec, [](Env& e) {
           auto* fake = dynamic_cast<FakeEnv*>(&e);
           rlimit saved{};
           ::getrlimit(RLIMIT_NOFILE, &saved);
           auto limit = [&](long long soft) {
             if (fake != nullptr) {
               fake->kernel().set_fd_limit(static_cast<int>(soft));
               return;
             }
             rlimit r = saved;
             r.rlim_cur = soft < 0 ? saved.rlim_cur : static_cast<rlim_t>(soft);
             if (::setrlimit(RLIMIT_NOFILE, &r) != 0) throw std::runtime_error("setrlimit");
           };
           fakes::ResolverTable table;
           table.Set("name.test", {Ip("127.0.0.1", 0)});
           fakes::InjectingSys injecting(e.sys());
           injecting.set_resolver(table);
           const AddrInfoHints hints{AF_UNSPEC, SOCK_STREAM, 0, AI_PASSIVE};
           auto gai = [&](Sys& sys, const char* host) {
             const GaiResult r = sys.getaddrinfo(std::string(host), "0", hints);
             if (r.ok()) return std::string("ok");
             return std::string(GaiErrorName(r.gai_err)) +
                    (r.gai_err == EAI_SYSTEM ? std::string(" ") + ErrnoName(r.sys_err)
                                             : std::string());
           };
           std::string out = Join({"warm", gai(e.sys(), "name.test"), gai(injecting, "name.test")});
           const int lowest = Sock(e, AF_INET);
           (void)e.sys().close(lowest);
           limit(lowest);  // no fd free
           out += " " + Join({"none-free", gai(e.sys(), "name.test"), gai(injecting, "name.test"),
                              "literal", gai(e.sys(), "127.0.0.1"), gai(injecting, "127.0.0.1")});
           limit(lowest + 1);  // one fd free
           out += " " + Join({"one-free", gai(e.sys(), "name.test"), gai(injecting, "name.test")});
           limit(fake != nullptr ? 1024 : -1);
           return out;
         }});
  }
  t.push_back({"BIND_018_PortInUseLeavesNothingOpen", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET6, only);
                 return Join(
                     {Bind(e, a, "::", kPort), Listen(e, a),
                      Outcome(e, bind_sockets(e.sys(), BindOptions{.port = kPort,
                                                                   .platform = Platform::Linux()})),
                      // The IPv4 listener bound first must be gone: its port binds again.
                      "then", Bind(e, Sock(e, AF_INET), "0.0.0.0", kPort)});
               }});

  // --- listen backlogs -------------------------------------------------------------
  t.push_back({"BIND_016_UnixQueueHoldsBacklogPlusOne", plain, [](Env& e) {
                 const std::string path = e.dir() + "/q.sock";
                 const int l = Sock(e, AF_UNIX);
                 std::string s = Join({R(e.sys().bind(l, UnixAddr(path))), Listen(e, l, 2)});
                 for (int i = 0; i < 5; ++i) {
                   const int c = Sock(e, AF_UNIX);
                   s += " " + R(e.sys().connect(c, UnixAddr(path)));
                 }
                 return s;
               }});
  t.push_back({"BIND_016_TcpQueueHoldsBacklogPlusOne", plain, [](Env& e) {
                 const int l = Sock(e, AF_INET);
                 std::string s = Join({Bind(e, l, "127.0.0.1", kPort), Listen(e, l, 1)});
                 for (int i = 0; i < 4; ++i) {
                   const int c = Sock(e, AF_INET);
                   s += " " + R(e.sys().connect(c, Ip("127.0.0.1", kPort)));
                 }
                 int accepted = 0;
                 while (e.sys().accept4(l, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC).ok()) ++accepted;
                 return s + " accepted " + std::to_string(accepted);
               }});
  t.push_back({"ACCEPT_008_AcceptedSocketIsNonblockingAndCloexec", plain, [](Env& e) {
                 const int l = Sock(e, AF_INET);
                 const std::string set_up = Join({Bind(e, l, "127.0.0.1", kPort), Listen(e, l)});
                 const int c = Sock(e, AF_INET);
                 const std::string connected = R(e.sys().connect(c, Ip("127.0.0.1", kPort)));
                 SockAddr peer;
                 const SysInt a = e.sys().accept4(l, &peer, SOCK_NONBLOCK | SOCK_CLOEXEC);
                 if (!a.ok()) return set_up + " " + connected + " accept4 " + ErrnoName(a.err);
                 const int fl = e.sys().fcntl(a.value, F_GETFL, 0).value;
                 const int fd = e.sys().fcntl(a.value, F_GETFD, 0).value;
                 return Join({set_up, connected, "nonblock", (fl & O_NONBLOCK) ? "yes" : "no",
                              "cloexec", (fd & FD_CLOEXEC) ? "yes" : "no", "peer",
                              FamilyName(peer.family()), "then",
                              R(e.sys().accept4(l, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC))});
               }});

  t.push_back(
      {"Ports_ReuseaddrPairOnPortZeroGetsTwoPorts", plain, [=](Env& e) {
         const int a = Sock(e, AF_INET, reuse), b = Sock(e, AF_INET, reuse);
         return Join({Bind(e, a, "0.0.0.0", 0), Bind(e, b, "0.0.0.0", 0), Name(e, a), Name(e, b)});
       }});
  t.push_back({"Listen_ErrorsOnDatagramAndUnboundUnix", plain, [](Env& e) {
                 return Join({Listen(e, Sock(e, AF_INET, {}, SOCK_DGRAM)),
                              Listen(e, Sock(e, AF_UNIX)),
                              R(e.sys().accept4(Sock(e, AF_INET), nullptr, SOCK_NONBLOCK)),
                              Name(e, Sock(e, AF_UNIX))});
               }});
  t.push_back({"Options_WrongLevelsAndReadBack", plain, [=](Env& e) {
                 const int a = Sock(e, AF_INET, reuse);
                 return Join(
                     {R(e.sys().setsockopt(a, IPPROTO_IPV6, IPV6_V6ONLY, 1)),
                      std::to_string(e.sys().getsockopt(a, SOL_SOCKET, SO_REUSEADDR).value),
                      std::to_string(e.sys().getsockopt(a, SOL_SOCKET, SO_REUSEPORT).value),
                      std::to_string(e.sys().getsockopt(a, SOL_SOCKET, SO_ACCEPTCONN).value)});
               }});
  t.push_back({"Connect_NobodyListensIsRefused", plain, [](Env& e) {
                 const int s = e.sys().socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0).value;
                 return R(e.sys().connect(s, Ip("127.0.0.1", kPort)));
               }});
  t.push_back({"Epoll_ListenerIsReadableWhileItsQueueIsNot", plain, [](Env& e) {
                 const int l = Sock(e, AF_INET);
                 const std::string set_up = Join({Bind(e, l, "127.0.0.1", kPort), Listen(e, l)});
                 const int ep = e.sys().epoll_create1(EPOLL_CLOEXEC).value;
                 const std::string added = R(e.sys().epoll_ctl(ep, EPOLL_CTL_ADD, l, EPOLLIN));
                 EpollEvent ev[4];
                 const int idle = e.sys().epoll_wait(ep, ev, 4, 0).value;
                 const int c = Sock(e, AF_INET);
                 (void)e.sys().connect(c, Ip("127.0.0.1", kPort));
                 const int ready = e.sys().epoll_wait(ep, ev, 4, 0).value;
                 const std::string which =
                     ready == 1 ? fakes::EpollEventsText(ev[0].events) : std::string("-");
                 const std::string again = R(e.sys().epoll_ctl(ep, EPOLL_CTL_ADD, l, EPOLLIN));
                 const std::string mod_other = R(e.sys().epoll_ctl(ep, EPOLL_CTL_MOD, c, EPOLLIN));
                 return Join({set_up, added, "idle", std::to_string(idle), "ready",
                              std::to_string(ready), which, again, mod_other});
               }});

  // --- unix paths ----------------------------------------------------------------
  t.push_back({"UNIX_005_FreshPathGetsTheMode", plain, [](Env& e) {
                 const std::string path = e.dir() + "/a.sock";
                 UnixOptions o;
                 o.path = path;
                 return Join({Outcome(e, bind_unix_socket(e.sys(), o)), FileAt(e, path)});
               }});
  t.push_back({"UNIX_003_StaleSocketIsReplaced", plain, [](Env& e) {
                 const std::string path = e.dir() + "/a.sock";
                 const int old = Sock(e, AF_UNIX);
                 UnixOptions o;
                 o.path = path;
                 o.mode = 0640;
                 return Join({R(e.sys().bind(old, UnixAddr(path))), R(e.sys().close(old)),
                              FileAt(e, path), Outcome(e, bind_unix_socket(e.sys(), o)),
                              FileAt(e, path)});
               }});
  t.push_back({"UNIX_008_LiveListenerIsKept", plain, [](Env& e) {
                 const std::string path = e.dir() + "/a.sock";
                 const int live = Sock(e, AF_UNIX);
                 UnixOptions o;
                 o.path = path;
                 return Join(
                     {R(e.sys().bind(live, UnixAddr(path))), Listen(e, live),
                      Outcome(e, bind_unix_socket(e.sys(), o)), FileAt(e, path),
                      "still listening:", R(e.sys().connect(Sock(e, AF_UNIX), UnixAddr(path)))});
               }});
  t.push_back({"UNIX_004_RegularFileIsKept", plain, [](Env& e) {
                 const std::string path = e.dir() + "/a.sock";
                 e.MakeFile(path, 0644);
                 UnixOptions o;
                 o.path = path;
                 return Join({Outcome(e, bind_unix_socket(e.sys(), o)), FileAt(e, path)});
               }});
  t.push_back({"UNIX_009_SymlinkIsKept", plain, [](Env& e) {
                 const std::string path = e.dir() + "/a.sock";
                 const std::string target = e.dir() + "/real.sock";
                 const int old = Sock(e, AF_UNIX);
                 const std::string made =
                     Join({R(e.sys().bind(old, UnixAddr(target))), R(e.sys().close(old))});
                 e.MakeSymlink(path, target);
                 UnixOptions o;
                 o.path = path;
                 return Join({made, Outcome(e, bind_unix_socket(e.sys(), o)), FileAt(e, path),
                              FileAt(e, target)});
               }});
  t.push_back({"UNIX_011_MissingDirectory", plain, [](Env& e) {
                 UnixOptions o;
                 o.path = e.dir() + "/no/such/dir/a.sock";
                 return Outcome(e, bind_unix_socket(e.sys(), o));
               }});
  t.push_back({"UNIX_005_UNIX_010_UNIX_015_ModeUnderAStrictUmask", plain, [](Env& e) {
                 const std::string path = e.dir() + "/a.sock";
                 const mode_t was = e.sys().umask(077);
                 UnixOptions o;
                 o.path = path;
                 o.mode = 0666;
                 const std::string r = Outcome(e, bind_unix_socket(e.sys(), o));
                 const mode_t after = e.sys().umask(was);
                 return Join({r, FileAt(e, path), "umask after", fakes::ModeText(after)});
               }});
  t.push_back({"UNIX_007_AbstractNameTwice", plain, [](Env& e) {
                 UnixOptions o;
                 o.path = std::string("\0netutil-fidelity", 17);
                 auto first = bind_unix_socket(e.sys(), o);
                 auto second = bind_unix_socket(e.sys(), o);
                 return Join({Outcome(e, first), Outcome(e, second)});
               }});
  t.push_back({"Unix_ConnectAndBindOnFiles", plain, [](Env& e) {
                 const std::string file = e.dir() + "/file";
                 e.MakeFile(file, 0666);
                 e.MakeSymlink(e.dir() + "/dangling", e.dir() + "/nowhere");
                 return Join({R(e.sys().connect(Sock(e, AF_UNIX), UnixAddr(file))),
                              R(e.sys().connect(Sock(e, AF_UNIX), UnixAddr(e.dir() + "/missing"))),
                              R(e.sys().bind(Sock(e, AF_UNIX), UnixAddr(file))),
                              R(e.sys().bind(Sock(e, AF_UNIX), UnixAddr(e.dir() + "/dangling")))});
               }});
  t.push_back({"Unix_ReuseportIsRefused", plain, [](Env& e) {
                 const int a = Sock(e, AF_UNIX);
                 return Join({R(e.sys().setsockopt(a, SOL_SOCKET, SO_REUSEPORT, 1)),
                              R(e.sys().setsockopt(a, SOL_SOCKET, SO_REUSEADDR, 1))});
               }});
  return t;
}

}  // namespace

const std::vector<FidelityCase>& FidelityTable() {
  static const std::vector<FidelityCase> table = Build();
  return table;
}

}  // namespace netutil::fidelity
