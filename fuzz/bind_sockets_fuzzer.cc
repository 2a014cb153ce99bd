// bind_sockets on a FuzzedSys: the input picks the options and every syscall's
// answer; the oracle checks the spec's invariants on whatever comes back.
#include <netdb.h>

#include <cerrno>
#include <string>

#include "fuzzed_sys.h"
#include "netutil/bind_sockets.h"

using netutil::BindOptions;
using netutil::Error;
using netutil::fuzz::Check;
using netutil::fuzz::FuzzedSys;

namespace {

BindOptions PickOptions(FuzzedDataProvider& in) {
  BindOptions o;
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: o.port = 0; break;
    case 1: o.port = 8888; break;
    case 2: o.port = in.ConsumeIntegralInRange<long long>(-5, 70005); break;
    default: o.port = in.ConsumeIntegral<long long>(); break;
  }
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0: break;  // nullopt
    case 1: o.address = ""; break;
    case 2: o.address = "localhost"; break;
    case 3: o.address = "127.0.0.1"; break;
    case 4: o.address = "::"; break;
    default: o.address = in.ConsumeRandomLengthString(300); break;  // NULs, long names
  }
  static const int kFamilies[] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX, 12345};
  o.family = kFamilies[in.ConsumeIntegralInRange(0, 4)];
  o.backlog = in.ConsumeBool() ? 128 : in.ConsumeIntegralInRange(-2, 4096);
  if (in.ConsumeBool()) o.flags = in.ConsumeIntegral<int>();
  o.reuse_port = in.ConsumeBool();
  switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0: o.platform = netutil::Platform::Linux(); break;
    case 1: o.platform = netutil::Platform::Darwin(); break;
    default: o.platform = netutil::Platform::Windows(); break;
  }
  o.platform.has_ipv6 = in.ConsumeBool();
  o.port_retries = in.ConsumeIntegralInRange(-1, 12);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  FuzzedSys sys(in);
  const BindOptions o = PickOptions(in);
  {
    auto r = netutil::bind_sockets(sys, o);
    if (!r.ok()) {
      const Error& e = r.error();
      // BIND-001, BIND-019..022: argument errors come before any syscall.
      Check(e.kind != Error::Kind::kArgument || sys.calls() == 0,
            "argument error after " + std::to_string(sys.calls()) + " syscalls");
      // BIND-018: nothing opened is left open.
      Check(sys.open_fds().empty(), "error left " + std::to_string(sys.open_fds().size()) +
                                        " fds open: " + e.message);
      // BIND-025: every error names its step and says something.
      Check(!e.step.empty() && !e.message.empty(), "error without step or message");
      Check(e.kind != Error::Kind::kOs || e.code > 0, "os error without errno");
      Check(e.kind != Error::Kind::kResolve || e.step == "getaddrinfo", "resolve error step");
    } else {
      const auto& ls = r.value();
      Check(sys.open_fds().size() == ls.size(), "open fds other than the listeners");
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
  Check(sys.open_fds().empty(), "listeners did not close when dropped");
  netutil::fuzz::AbortOnViolations(sys, "bind_sockets_fuzzer");
  return 0;
}
