// The implementation under test, reached through the adapter line protocol
// (docs/ADAPTER.md). A Target opens one Session per case, so cases never share
// listeners, fds or fault counts.
//
//   InProcessTarget: an AdapterSession in this process, over a fakes::InjectingSys
//                    around PosixSys: fault injection and a syscall trace.
//   ProcessTarget:   any command speaking the protocol on stdin/stdout
//                    (netutil-adapter today; Tornado or asyncio adapters later),
//                    with a per-request timeout; a crash or hang fails the case.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "netutil/fakes/injecting_sys.h"

namespace netutil::conform {

// One request's outcome: the reply, or why there is none (adapter crashed,
// hung, answered something that is not JSON).
struct Exchange {
  std::optional<nlohmann::json> reply;
  std::string failure;
};

class Session {
 public:
  virtual ~Session() = default;
  virtual Exchange Send(const nlohmann::json& request, std::chrono::milliseconds timeout) = 0;
  // The Sys decorator the implementation calls through, when there is one.
  virtual fakes::InjectingSys* injector() { return nullptr; }
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
  // Whether sessions have an injector (fault injection and syscall traces).
  virtual bool CanInject() const = 0;
  // `scratch_dir` is the case's own directory (the adapter's stderr goes there).
  virtual std::unique_ptr<Session> Open(const std::string& scratch_dir, std::string* error) = 0;
};

std::unique_ptr<Target> MakeInProcessTarget();
// `command` runs under /bin/sh -c, so it may carry arguments and quoting.
std::unique_ptr<Target> MakeProcessTarget(std::string command);

}  // namespace netutil::conform
