// Any single fault at any call of bind_sockets or bind_unix_socket: the call
// succeeds or returns an error (never crashes), and afterwards the fake holds
// no fd it did not hold before (BIND-018, UNIX-011), the umask is back
// (UNIX-015), EINTR changed nothing (BIND-024, UNIX-014) and every error names
// its step (BIND-025, BIND-026). The sweep (tools/sweep) runs every fault of a
// fixed catalogue; this property draws the scenario too, so the same oracle
// (fakes/spec_invariants.h) meets set-ups no catalogue lists.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/socket.h>

#include "generators.h"
#include "netutil/fakes/scenario.h"
#include "prop_support.h"

namespace netutil::property {
namespace {

using fakes::FaultPlan;
using fakes::FaultRule;
using fakes::KernelConfig;
using fakes::Scenario;
using fakes::ScenarioRun;

Scenario DrawBindScenario() {
  Scenario s;
  s.name = "drawn bind_sockets";
  s.op = Scenario::Op::kBindSockets;
  const Platform::Os os = DrawOs();
  s.config = KernelConfig::For(os);
  s.config.port_low = 40000;
  s.config.port_high = static_cast<uint16_t>(40000 + *rc::gen::inRange(1, 20));
  s.config.port_order = *rc::gen::element(fakes::PortOrder::kSequential, fakes::PortOrder::kSeeded);
  s.config.port_seed = *rc::gen::arbitrary<uint64_t>();
  switch (*rc::gen::inRange(0, 4)) {
    case 0:
      s.config.ipv6_supported = false;
      break;
    case 1:
      s.config.ipv6_addrs.clear();
      break;
    default:
      break;
  }
  s.config.resolver.Set("multi.test",
                        DrawAddrMix({Addr("127.0.0.1"), Addr("127.0.0.2"), Addr("::1")}, 1, 4));
  s.bind.port = *rc::gen::element(0, 0, 8080);
  s.bind.address =
      *rc::gen::element(std::optional<std::string>(), std::optional<std::string>("localhost"),
                        std::optional<std::string>("multi.test"));
  s.bind.platform = os == Platform::Os::kLinux    ? Platform::Linux()
                    : os == Platform::Os::kDarwin ? Platform::Darwin()
                                                  : Platform::Windows();
  s.bind.platform.has_ipv6 = *rc::gen::weightedElement<bool>({{4, true}, {1, false}});
  s.bind.reuse_port = s.bind.platform.has_reuseport && *rc::gen::arbitrary<bool>();
  s.bind.backlog = DrawBacklog();
  s.bind.port_retries = *rc::gen::inRange(0, 4);
  // Ports of the range taken on IPv6 by another process: issue 1860 restarts.
  const int held = *rc::gen::inRange(0, 3);
  std::vector<uint16_t> ports;
  for (int i = 0; i < held; ++i) {
    ports.push_back(
        static_cast<uint16_t>(*rc::gen::inRange<int>(s.config.port_low, s.config.port_high + 1)));
  }
  s.setup = [ports](fakes::FakeKernel& k) {
    fakes::FakeKernel::ForeignOptions o;
    o.v6only = true;
    for (uint16_t p : ports) (void)k.ForeignBind(*SockAddr::FromIp("::", p), o);
  };
  return s;
}

Scenario DrawUnixScenario() {
  Scenario s;
  s.name = "drawn bind_unix_socket";
  s.op = Scenario::Op::kBindUnixSocket;
  s.config = KernelConfig::For(Platform::Os::kLinux);
  s.config.umask = static_cast<mode_t>(*rc::gen::inRange(0, 0777 + 1));
  const bool abstract = *rc::gen::weightedElement<bool>({{5, false}, {1, true}});
  s.unix.path = abstract ? std::string("\0drawn", 6) : "/tmp/drawn.sock";
  s.unix.mode = static_cast<mode_t>(*rc::gen::inRange(0, 07777 + 1));
  s.unix.backlog = DrawBacklog();
  enum { kNothing, kStale, kLive, kFile, kSymlink, kDir, kNoParent };
  const int state = abstract ? *rc::gen::element<int>(kNothing, kLive)
                             : *rc::gen::inRange<int>(kNothing, kNoParent + 1);
  if (state == kNoParent) s.unix.path = "/missing/drawn.sock";
  const std::string path = s.unix.path;
  s.setup = [state, path](fakes::FakeKernel& k) {
    const SockAddr addr = *SockAddr::Unix(path);
    switch (state) {
      case kStale:
        k.ForeignClose(k.ForeignBind(addr).value);
        break;
      case kLive:
        (void)k.ForeignBind(addr);
        break;
      case kFile:
        k.fs().MakeFile(path, 0600);
        break;
      case kSymlink:
        k.fs().MakeSymlink(path, "/tmp/elsewhere");
        break;
      case kDir:
        k.fs().MakeDirs(path);
        break;
      default:
        break;
    }
  };
  return s;
}

// The baseline's violations, or the faulted run's, with what produced them.
void Check(const Scenario& s) {
  const ScenarioRun base = fakes::RunScenario(s, {});
  RC_LOG() << "kernel: " << s.config.Describe() << "\nwithout faults:\n" << base.trace;
  for (const auto& v : base.violations) RC_LOG() << "violation: " << v << "\n";
  RC_ASSERT(base.violations.empty());
  const std::vector<FaultRule> faults = fakes::SingleFaults(base);
  RC_PRE(!faults.empty());
  const FaultRule rule = *rc::gen::elementOf(faults);
  const ScenarioRun run = fakes::RunScenario(s, FaultPlan({rule}), &base, &rule);
  RC_LOG() << "fault: " << fakes::PrintRule(rule) << "\ntrace:\n" << run.trace;
  RC_TAG(run.outcome.ok ? "call succeeded" : "call failed");
  for (const auto& v : run.violations) RC_LOG() << "violation: " << v << "\n";
  RC_ASSERT(run.faults_fired == 1);
  RC_ASSERT(run.outcome.crash.empty());
  RC_ASSERT(run.violations.empty());
}

RC_GTEST_PROP(SingleFault,
              BIND_018_BIND_024_BIND_025_BIND_026_AnyFaultInBindSocketsLeavesNothingOpen, ()) {
  Check(DrawBindScenario());
}

RC_GTEST_PROP(SingleFault,
              UNIX_002_UNIX_011_UNIX_014_UNIX_015_AnyFaultInBindUnixSocketLeavesNothingBehind, ()) {
  Check(DrawUnixScenario());
}

}  // namespace
}  // namespace netutil::property
