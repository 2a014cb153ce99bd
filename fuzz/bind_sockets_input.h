// bind_sockets_fuzzer's input and body, shared with the corpus recorder.
//
// Input: the options (DecodeBindOptions), then FuzzedSys's answers. The
// encoder sits beside the decoder, and the body is the same code for the
// fuzzer and the recorder, so a seed means what it was recorded as.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <iterator>
#include <string>

#include "fdp_writer.h"
#include "fuzzed_sys.h"
#include "netutil/bind_sockets.h"

namespace netutil::fuzz {

inline constexpr int kBindFamilies[] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX, 12345};
// The addresses the input picks by number; anything else is a string.
inline constexpr const char* kBindAddresses[] = {"", "localhost", "127.0.0.1", "::"};
inline constexpr size_t kMaxBindAddress = 300;  // past the 253 bytes bind_sockets accepts

inline Platform BindPlatform(int i) {
  return i == 0 ? Platform::Linux() : i == 1 ? Platform::Darwin() : Platform::Windows();
}

inline BindOptions DecodeBindOptions(FuzzedDataProvider& in) {
  BindOptions o;
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      o.port = 0;
      break;
    case 1:
      o.port = 8888;
      break;
    case 2:
      o.port = in.ConsumeIntegralInRange<long long>(-5, 70005);
      break;
    default:
      o.port = in.ConsumeIntegral<long long>();
      break;
  }
  const int address = in.ConsumeIntegralInRange(0, 5);
  if (address >= 1 && address <= 4) {
    o.address = kBindAddresses[address - 1];
  } else if (address == 5) {
    o.address = in.ConsumeRandomLengthString(kMaxBindAddress);  // NULs, long names
  }                                                             // 0: nullopt
  o.family = kBindFamilies[in.ConsumeIntegralInRange(0, 4)];
  o.backlog = in.ConsumeBool() ? kDefaultBacklog : in.ConsumeIntegralInRange(-2, 4096);
  if (in.ConsumeBool()) o.flags = in.ConsumeIntegral<int>();
  o.reuse_port = in.ConsumeBool();
  o.platform = BindPlatform(in.ConsumeIntegralInRange(0, 2));
  o.platform.has_ipv6 = in.ConsumeBool();
  o.port_retries = in.ConsumeIntegralInRange(-1, 12);
  return o;
}

// Writes what DecodeBindOptions reads back as `o`; false (the writer then
// holds garbage) when `o` is outside what the decoder can pick.
inline bool EncodeBindOptions(const BindOptions& o, FdpWriter& out) {
  if (o.port == 0) {
    out.IntInRange(0, 0, 3);
  } else if (o.port == 8888) {
    out.IntInRange(1, 0, 3);
  } else if (o.port >= -5 && o.port <= 70005) {
    out.IntInRange(2, 0, 3);
    out.IntInRange<long long>(o.port, -5, 70005);
  } else {
    out.IntInRange(3, 0, 3);
    out.Integral<long long>(o.port);
  }
  int address = 5;
  if (!o.address) {
    address = 0;
  } else {
    for (int i = 0; i < 4; ++i) {
      if (*o.address == kBindAddresses[i]) address = i + 1;
    }
  }
  out.IntInRange(address, 0, 5);
  if (address == 5 && !out.String(*o.address, kMaxBindAddress)) return false;
  const auto family = std::find(std::begin(kBindFamilies), std::end(kBindFamilies), o.family);
  if (family == std::end(kBindFamilies)) return false;
  out.IntInRange(static_cast<int>(family - std::begin(kBindFamilies)), 0, 4);
  out.Bool(o.backlog == kDefaultBacklog);
  if (o.backlog != kDefaultBacklog) {
    if (o.backlog < -2 || o.backlog > 4096) return false;
    out.IntInRange(o.backlog, -2, 4096);
  }
  out.Bool(o.flags.has_value());
  if (o.flags) out.Integral<int>(*o.flags);
  out.Bool(o.reuse_port);
  const int os = o.platform.os == Platform::Os::kLinux    ? 0
                 : o.platform.os == Platform::Os::kDarwin ? 1
                                                          : 2;
  if (o.platform.has_reuseport != BindPlatform(os).has_reuseport) return false;
  out.IntInRange(os, 0, 2);
  out.Bool(o.platform.has_ipv6);
  if (o.port_retries < -1 || o.port_retries > 12) return false;
  out.IntInRange(o.port_retries, -1, 12);
  return true;
}

// bind_sockets on `sys`; the oracle checks the spec's invariants on whatever
// comes back. Aborts when one fails.
inline void RunBindSockets(FuzzedSys& sys, const BindOptions& o) {
  {
    auto r = bind_sockets(sys, o);
    if (!r.ok()) {
      const Error& e = r.error();
      // BIND-001, BIND-019..022: argument errors come before any syscall.
      Check(e.kind != Error::Kind::kArgument || sys.calls() == 0,
            [&] { return "argument error after " + std::to_string(sys.calls()) + " syscalls"; });
      // BIND-018: nothing opened is left open.
      Check(sys.open_fd_count() == 0, [&] {
        return "error left " + std::to_string(sys.open_fd_count()) + " fds open: " + e.message;
      });
      // BIND-025: every error names its step and says something.
      Check(!e.step.empty() && !e.message.empty(), "error without step or message");
      Check(e.kind != Error::Kind::kOs || e.code > 0, "os error without errno");
      Check(e.kind != Error::Kind::kResolve || e.step == "getaddrinfo", "resolve error step");
    } else {
      const auto& ls = r.value();
      Check(static_cast<size_t>(sys.open_fd_count()) == ls.size(),
            "open fds other than the listeners");
      bool seen_v6 = false;
      for (const auto& l : ls) {
        Check(sys.is_listening(l.fd.get()), "a returned socket does not listen");  // BIND-016
        Check(l.family() == AF_INET || l.family() == AF_INET6, "listener of another family");
        if (l.family() == AF_INET6) seen_v6 = true;
        Check(!(seen_v6 && l.family() == AF_INET), "IPv4 after IPv6");  // BIND-006
        if (o.port != 0) Check(l.addr.port() == o.port, "listener not on the asked port");
        // BIND-013: one port for all when 0 was asked.
        Check(o.port != 0 || l.addr.port() == ls.front().addr.port(), "port 0: ports differ");
      }
      if (!o.platform.has_ipv6 && o.family == AF_UNSPEC) {
        Check(!seen_v6, "IPv6 listener without IPv6 runtime support");  // BIND-003
      }
    }
  }
  Check(sys.open_fd_count() == 0, "listeners did not close when dropped");
  AbortOnViolations(sys, "bind_sockets_fuzzer");
}

}  // namespace netutil::fuzz
