// The implementation under test, reached through the adapter line protocol
// (docs/ADAPTER.md). A Target opens one Session per case, so cases never share
// listeners, fds or fault counts.
//
//   InProcessTarget: an AdapterSession in this process, over a fakes::InjectingSys
//                    around PosixSys: fault injection and a syscall trace.
//   ProcessTarget:   any command speaking the protocol on stdin/stdout
//                    (netutil-adapter, the Python adapters, anyone's), with a
//                    per-request timeout; a crash or hang fails the case.
//
// A session's Instrument, when it has one, is what makes a case's environment
// on the implementation's own syscalls (faults, resolver, missing IPv6) and
// records the trace; its Host, when it has one, replaces netconform's real
// host actions (the fake kernel has its own clients and files).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "environment.h"
#include "fd_exhaust.h"
#include "host.h"
#include "netutil/fakes/fault_injector.h"
#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/trace.h"

namespace netutil::conform {

// One request's outcome: the reply, or why there is none (adapter crashed,
// hung, answered something that is not JSON).
struct Exchange {
  std::optional<nlohmann::json> reply;
  std::string failure;
};

// Faults and traces on the implementation's syscalls.
class Instrument {
 public:
  virtual ~Instrument() = default;
  // Replaces the fault rules (a step's "inject"); counts restart.
  virtual void SetFaults(fakes::FaultPlan plan) = 0;
  // Starts the trace of the next request.
  virtual void ClearTrace() = 0;
  // The calls since ClearTrace(): {"calls": {"bind": N, ...}, "total": N,
  // "log": ["bind(5, 127.0.0.1:0) = 0", ...], "dropped": N}.
  virtual nlohmann::json TakeTrace() = 0;
};

// The Instrument of a fakes::FaultInjector and Trace: an InjectingSys's (the
// in-process target) or a FakeKernel's (the fake target).
class InjectingInstrument final : public Instrument {
 public:
  InjectingInstrument(fakes::FaultInjector& faults, fakes::Trace& trace)
      : faults_(faults), trace_(trace) {}
  void SetFaults(fakes::FaultPlan plan) override;
  void ClearTrace() override { trace_.Clear(); }
  nlohmann::json TakeTrace() override;

 private:
  fakes::FaultInjector& faults_;
  fakes::Trace& trace_;
};

class Session {
 public:
  virtual ~Session() = default;
  virtual Exchange Send(const nlohmann::json& request, std::chrono::milliseconds timeout) = 0;
  // Faults and trace, when the target offers them (Target::CanInject()).
  virtual Instrument* instrument() { return nullptr; }
  // The implementation's own process, when it runs in one on the real kernel
  // (so the runner can look at it: kernel_view.h).
  virtual std::optional<pid_t> ProcessId() const { return std::nullopt; }
  // The fd table a case's exhaust_fds limits (fd_exhaust.h) when it is not
  // the process's of ProcessId(): the fake kernel's, the in-process worker's.
  virtual std::unique_ptr<FdTable> fd_table() { return nullptr; }
  // The host the case's own actions go to; nullptr: the real one.
  virtual host::Host* host() { return nullptr; }
  // Ends the session, waiting at most `timeout` for the implementation to go.
  // Non-empty: how it misbehaved at the end (crashed, did not exit at end of
  // input, exited non-zero).
  virtual std::string Close(std::chrono::milliseconds /*timeout*/) { return {}; }
};

class Target {
 public:
  virtual ~Target() = default;
  // "reference (in-process)", "adapter: <command>".
  virtual std::string Describe() const = 0;
  // Whether sessions have an Instrument (fault injection and syscall traces).
  virtual bool CanInject() const = 0;
  // Whether that instrument may miss the implementation's syscalls (an
  // LD_PRELOAD interposer does when they bypass the C library), so the
  // runner checks it sees them before a case that needs it (the canary).
  virtual bool MayBeBlind() const { return false; }
  // Whether the instrument sees C library functions that are no syscall
  // (getaddrinfo): the syscall tracer does not, so a case whose faults or
  // traces name one cannot be made with it.
  virtual bool SeesLibcCalls() const { return true; }
  // Whether the implementation runs inside netconform (so the runner isolates
  // each case in a child process the case's deadline can kill).
  virtual bool InProcess() const { return false; }
  // Whether the case's resolver entries reach the implementation as real name
  // service (name_service.h: /etc/hosts and friends in a mount namespace, a
  // DNS server for failures) because its instrument, if any, cannot override
  // getaddrinfo. An interposer that does keeps its override.
  virtual bool NameService() const { return false; }
  // Whether the implementation runs on the real kernel (so an environment the
  // kernel must provide, such as a narrowed port range, needs a namespace).
  virtual bool RealKernel() const { return true; }
  // Why this target cannot make `env` (nullopt: it can), checked before Open.
  virtual std::optional<std::string> CannotMake(const Environment& env) const;
  // `scratch_dir` is the case's own directory (the adapter's stderr goes there);
  // `env` is the case's environment, made before the first request.
  virtual std::unique_ptr<Session> Open(const std::string& scratch_dir, const Environment& env,
                                        std::string* error) = 0;
};

std::unique_ptr<Target> MakeInProcessTarget();
// The reference in-process on a fakes::FakeKernel: no real syscall, clients
// and files of the kernel's own; fast and deterministic.
std::unique_ptr<Target> MakeFakeKernelTarget();
// `command` runs under /bin/sh -c, so it may carry arguments and quoting.
std::unique_ptr<Target> MakeProcessTarget(std::string command);

// Starts `command` under /bin/sh -c, in a process group of its own, with the
// protocol on its stdin/stdout; the last kStderrKeptBytes of its stderr are
// kept (and written to scratch_dir/adapter.stderr when the session ends);
// `extra_env` ("NAME=value") is added to netconform's environment;
// env.fd_limit becomes its RLIMIT_NOFILE. For targets built on another
// process (the interposer's).
std::unique_ptr<Session> SpawnAdapter(const std::string& command, const std::string& scratch_dir,
                                      const Environment& env,
                                      const std::vector<std::string>& extra_env,
                                      std::string* error);

// SIGKILLs the process group of every adapter session alive now (and of
// every in-process worker): for a signal handler (async-signal-safe).
void KillAdapterGroups();
// Adds a process group to (removes it from) what KillAdapterGroups kills.
void RegisterGroup(pid_t pgid);
void UnregisterGroup(pid_t pgid);

// Limits on what an adapter writes (docs/ADAPTER.md, Limits): a reply line
// longer than this is a protocol error, detected as the bytes arrive ...
inline constexpr size_t kMaxReplyLineBytes = 1 << 20;
// ... and of its stderr only the last this many bytes are kept.
inline constexpr size_t kStderrKeptBytes = 64 << 10;

// A reply line as an Exchange: the JSON object, or why it is none.
Exchange ReplyOrFailure(const std::string& line);

// A trace as Instrument::TakeTrace() gives it; its log lines are
// fakes::FormatTraceLine's ("bind(5, 127.0.0.1:0) = -1 EADDRINUSE (injected)").
nlohmann::json TraceJson(const fakes::Trace& trace);

// A request's trace log keeps this many lines, in every mode; later calls are
// only counted.
inline constexpr size_t kMaxTraceLogLines = 4000;

}  // namespace netutil::conform
