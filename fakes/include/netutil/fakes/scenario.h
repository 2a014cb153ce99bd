// Scenarios: a FakeKernel set-up plus the one netutil call made on it
// (bind_sockets, bind_unix_socket, or draining a listener with
// add_accept_handler), runnable with any fault plan and checked against the
// spec's invariants (spec_invariants.h). The exhaustive fault sweep
// (tools/sweep) runs every call x every legal errno of each; the no-leak
// property draws from the same catalogue.
//
//   for (const Scenario& s : StandardScenarios()) {
//     ScenarioRun base = RunScenario(s, {});
//     ... RunScenario(s, plan_with_one_fault, &base) ...
//   }
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "netutil/accept_handler.h"
#include "netutil/bind_sockets.h"
#include "netutil/bind_unix_socket.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/kernel_config.h"
#include "netutil/fakes/trace.h"

namespace netutil::fakes {

// How an accept scenario drives the handler.
struct AcceptDrive {
  int pending = 5;          // connections queued before the first event
  AcceptOptions options;    // batch and back-off
  bool epoll_loop = false;  // EpollLoop over the fake's epoll; ManualLoop otherwise
  int abort_at = 0;         // this queued connection (1-based) is reset; 0: none
  int throw_at = 0;         // the callback throws on this connection (1-based); 0: never
};

struct Scenario {
  enum class Op { kBindSockets, kBindUnixSocket, kAcceptDrain };

  std::string name;  // "bind/issue-1860"
  Op op = Op::kBindSockets;
  KernelConfig config;
  // Before the call: other processes' sockets, files, ... (not traced, not faulted).
  std::function<void(FakeKernel&)> setup;
  BindOptions bind;    // kBindSockets
  UnixOptions unix;    // kBindUnixSocket
  AcceptDrive accept;  // kAcceptDrain
};

// What the call did, kept after its results are released.
struct Outcome {
  bool ok = false;
  std::optional<Error> error;       // the call's error (or the loop's, for accept)
  std::vector<SockAddr> listeners;  // bind_sockets / bind_unix_socket: what was returned
  std::string crash;                // non-empty: an exception escaped the call
  // kAcceptDrain
  long long queued = 0;  // connections the listener's queue took
  long long accepted = 0;
  std::vector<int> reports;     // errnos passed to the error callback, in order
  bool handler_active = false;  // at the end of the drive
  bool callback_threw = false;
  size_t queued_at_end = 0;
  int largest_batch = 0;
  long long backoffs = 0;
  bool spun = false;  // the drive hit its iteration bound
};

// The state the invariants compare with, taken after set-up, before the call.
struct Before {
  std::vector<int> fds;
  mode_t umask = 0;
  std::optional<FakeFs::Node> node;  // kBindUnixSocket: what was at the path
  bool node_was_live = false;        // ... and whether something listened on it
  // Every node under /victims (a directory the call is never given), by
  // inode, and that directory's inode: what another process's swaps must not
  // make the call touch (UNIX-017 to UNIX-019).
  std::map<uint64_t, FakeFs::Node> victims;
  uint64_t victims_dir_ino = 0;
};

struct ScenarioRun {
  Outcome outcome;
  std::vector<std::string> violations;  // "BIND-018: fd 5 (...) left open"
  std::vector<TraceEntry> calls;        // the call's trace (set-up excluded)
  std::string trace;                    // the same, printed
  long long faults_fired = 0;
};

// Runs `s` on a fresh FakeKernel with `plan` installed after set-up (so call
// indexes count the call's own syscalls). `baseline` (the same scenario
// without faults) and `fault` (the plan's single rule) sharpen the checks:
// an EINTR must change nothing, a skipped address must be skipped, ...
ScenarioRun RunScenario(const Scenario& s, const FaultPlan& plan,
                        const ScenarioRun* baseline = nullptr, const FaultRule* fault = nullptr);

// Every single fault of a run: for each of its calls (umask aside: it cannot
// fail), one rule per outcome the call may legally have ("bind #2 = EACCES",
// ...; getaddrinfo's EAI_SYSTEM carries EMFILE).
std::vector<FaultRule> SingleFaults(const ScenarioRun& baseline);
// For a bind_unix_socket scenario of a path under /tmp/d: after each call of
// the baseline, each swap another process could make there (the entry at the
// path becomes a symlink to a victim, a file, a directory, a stale socket;
// the directory becomes a symlink to /victims, an empty directory, or is
// exchanged with /victims). Empty for other scenarios.
std::vector<FaultRule> SwapFaults(const Scenario& s, const ScenarioRun& baseline);

// The catalogue: port 0 dual-stack, IPv6 missing three ways, issue 1860,
// REUSEPORT, darwin and Windows, duplicates, unix paths in every state,
// abstract names, accept drains on both loops with aborts and throwing callbacks.
const std::vector<Scenario>& StandardScenarios();

}  // namespace netutil::fakes
