// A Sys that wraps another one, applies a FaultPlan to every call and records
// a Trace. Over the FakeKernel it is how faults reach the model; over PosixSys
// it injects faults into the real kernel in-process, the way the LD_PRELOAD
// injector does for other languages' runtimes.
//
// A call a rule fires on is not passed to the inner Sys: it answers the
// rule's errno (or value) and has no effect, as if the kernel had refused it
// up front, except where the kernel's own semantics say the effect happens
// anyway (TakesEffectDespite: close releases the fd whatever it returns). A
// chosen value leaves out-parameters (accept4's peer, epoll_wait's events)
// untouched.
//
// Two switches shape the environment beyond the plan: a ResolverTable answers
// getaddrinfo for the hosts it holds (any other host goes to the inner Sys),
// and ipv6_missing makes socket(AF_INET6) fail with EAFNOSUPPORT, as on a
// kernel built without IPv6. Both are traced as injected; neither counts
// against the plan's rules.
//
//   PosixSys real;
//   InjectingSys sys(real, FaultPlan::Parse("bind family=inet6 = EADDRINUSE").plan.value());
//   auto r = bind_sockets(sys, {.port = 0});
//   std::cout << sys.trace();
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "netutil/fakes/fault_injector.h"
#include "netutil/fakes/forwarding_sys.h"
#include "netutil/fakes/resolver_table.h"
#include "netutil/fakes/trace.h"
#include "netutil/sys.h"

namespace netutil::fakes {

class InjectingSys final : public ForwardingSys {
 public:
  explicit InjectingSys(Sys& inner, FaultPlan plan = {});

  FaultInjector& faults() { return faults_; }
  const FaultInjector& faults() const { return faults_; }
  Trace& trace() { return trace_; }
  const Trace& trace() const { return trace_; }
  // Tracing on by default; off saves the formatting in long benchmarks.
  void set_tracing(bool on) { tracing_ = on; }
  // Hosts the table holds are resolved by it, not by the inner Sys.
  void set_resolver(ResolverTable table) { resolver_ = std::move(table); }
  const ResolverTable& resolver() const { return resolver_; }
  // socket(AF_INET6) fails with EAFNOSUPPORT without reaching the inner Sys.
  void set_ipv6_missing(bool missing) { ipv6_missing_ = missing; }
  // Who does the plan's "after ... swap" rules (another process at work):
  // by default the real filesystem (RealFsSwap); the FakeKernel installs its
  // own. Returns 0 or the errno the swap failed with.
  using Swapper = std::function<int(const FsSwap&)>;
  void set_swapper(Swapper s) { swapper_ = std::move(s); }
  // Each swap done so far: "swap /tmp/d with symlink:/x: ok" (or the errno).
  const std::vector<std::string>& swaps_done() const { return swaps_done_; }

  // netutil::Sys: every call of sys_calls.def (NETUTIL_SYS_CALL).
#define NETUTIL_SYS_CALL NETUTIL_SYS_OVERRIDE
#include "netutil/sys_calls.def"
  // monotonic_now is ForwardingSys's, untraced: not a call a fault can hit,
  // and loops read the clock constantly.

 private:
  template <Call C, typename Real, typename... Params>
  auto Intercept(const CallArgs& args, Real&& real, const Params&... params) -> decltype(real());
  // getaddrinfo: a fault, else the resolver table, else the inner Sys;
  // `injected` says whether the answer was not the inner Sys's.
  GaiResult Resolve(const CallArgs& args, const std::optional<std::string>& host,
                    const std::string& service, const AddrInfoHints& hints, bool* injected);
  // The errno an fd would fail with now in the inner Sys (EMFILE, ENFILE),
  // 0 when one is free: an fd opened and closed there, untraced.
  int FdShortage();
  template <typename Real>
  SysInt IntCall(const CallArgs& args, const std::optional<FaultOutcome>& outcome, Real&& real);
  // Keeps the call in the trace: its arguments as the method took them, and
  // what the call wrote to its out-parameters when `outs_written`.
  template <Call C, typename R, typename... Params>
  void Record(const R& result, bool injected, bool outs_written, const Params&... params);
  void RunSwaps();

  FaultInjector faults_;
  Trace trace_;
  ResolverTable resolver_;
  bool tracing_ = true;
  bool ipv6_missing_ = false;
  // Whether a lookup of a name has set up the C library's name services
  // (ResolverTable::WithoutFreeFd).
  bool nss_ready_ = false;
  Swapper swapper_;
  std::vector<std::string> swaps_done_;
};

// The swap on the real filesystem, with the C library: what the plan's
// "after ... swap" rules do by default (fault_plan.h). Returns 0 or an errno.
int RealFsSwap(const FsSwap& swap);

}  // namespace netutil::fakes
