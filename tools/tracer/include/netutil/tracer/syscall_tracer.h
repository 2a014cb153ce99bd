// Runs a command under ptrace, filtered by seccomp-bpf so that only the calls
// of the seam stop it, and applies a fakes::FaultPlan to them at the syscall
// boundary: raw syscalls, any C library or none, static binaries, every thread
// and child. Each call it sees is recorded as the same typed fakes::TraceEntry
// the in-process InjectingSys records, so FormatTraceLine and TraceFields
// print it identically. docs/TRACER.md says why ptrace+seccomp and what is and
// is not seen. x86_64 only: elsewhere Start() refuses with an error.
//
//   SyscallTracer::Options o;
//   o.argv = {"./server", "--port", "0"};
//   std::string error;
//   auto tracer = SyscallTracer::Start(std::move(o), &error);
//   if (!tracer) die(error);                 // "cannot execute './server': ..."
//   tracer->SetPlan(plan);                   // may change while it runs
//   ...
//   fakes::Trace trace = tracer->TakeTrace();
//   if (tracer->SyscallsSeen() == 0) ...     // blind: nothing was seen
//   int status = tracer->Stop();             // kills the whole tree
//
// Every ptrace call happens on the tracer's own thread (ptrace ties a tracee
// to the thread that attached it); the methods below may be called from any
// other thread and exchange data with it under a mutex.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/trace.h"
#include "netutil/tracer/quiet_marker.h"

namespace netutil::tracer {

// kQuietPrctl, the quiet marker a traced program uses: quiet_marker.h.

class SyscallTracer {
 public:
  struct Options {
    std::vector<std::string> argv;                // argv[0] is looked up in PATH
    std::optional<std::vector<std::string>> env;  // nullopt: this process's environment
    // The command's fds 0, 1, 2 (pipes, files); -1 leaves this process's own.
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    size_t trace_limit = 100000;  // entries kept; later calls are only counted
    // Off: nothing is recorded, and a call no rule fired on goes on from its
    // entry stop without an exit stop (half the stops), except the calls
    // that open the seam's fds, whose result the fd set needs.
    bool record_trace = true;
    fakes::FaultPlan plan;  // in force from the first call (or from arming)
    // On: until a tracee first reads data from fd 0 (read or readv on fd 0
    // returning more than 0), no call is faulted or recorded (fds are still
    // followed), so a shell that execs an adapter, an interpreter's imports
    // and its start-up are not the implementation's calls: the LD_PRELOAD
    // interposer's wait_for_stdin. Costs a stop per read of fd 0.
    bool arm_at_stdin_read = false;
    // socket(AF_INET6) fails with EAFNOSUPPORT before the plan sees it (no
    // rule counts it), as on a kernel without IPv6: InjectingSys's switch.
    bool ipv6_missing = false;
    // The command in a process group of its own, which Stop() kills; off when
    // whoever runs this process kills its group (netutil-trace under netconform).
    bool own_process_group = true;
    // Called on the tracer thread at each entry stop before the plan decides:
    // a plan to put in force now (counts restart), or nullopt. For a plan
    // another process changes (netutil-trace --netfault-control-fd).
    std::function<std::optional<fakes::FaultPlan>()> poll_plan;
    // When set, each recorded entry goes here (on the tracer thread) instead
    // of into the trace TakeTrace() returns.
    std::function<void(fakes::TraceEntry&&)> trace_sink;
  };

  // Starts the command and returns once it has exec'd. nullptr with *error set
  // when it cannot: not x86_64, a plan rule FaultPlan::Validate refuses,
  // ptrace or seccomp refused, no such command.
  static std::unique_ptr<SyscallTracer> Start(Options options, std::string* error);
  ~SyscallTracer();  // Stop()s

  SyscallTracer(const SyscallTracer&) = delete;
  SyscallTracer& operator=(const SyscallTracer&) = delete;

  // Replaces the plan and restarts its counts (any errno is admitted, as the
  // LD_PRELOAD interposer does). Throws std::invalid_argument for a rule
  // FaultPlan::Validate refuses.
  void SetPlan(fakes::FaultPlan plan);
  // The calls recorded since the last TakeTrace(); the tracer starts afresh.
  fakes::Trace TakeTrace();
  // Seccomp stops so far, traced or not: 0 means the tracer saw nothing of the
  // command (a blind run), whatever the trace holds.
  uint64_t SyscallsSeen() const;
  // The command's process id (for /proc/PID and pidfd observation).
  pid_t pid() const;
  // Whether the plan and trace are in force (always, without arm_at_stdin_read).
  bool Armed() const;

  // The command's wait status (waitpid's) once it has ended, or nullopt when it
  // is still running after `timeout`. Children it leaves behind stay traced
  // until Stop().
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Kills the command and everything it started, waits for them and returns
  // the command's wait status. Idempotent.
  int Stop();

  class Impl;

 private:
  explicit SyscallTracer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace netutil::tracer
