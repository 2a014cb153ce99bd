// The engine: runs catalog cases against a Target and gives each a verdict.
//
// Steps (each an object with one verb, run in order; the first failing step
// ends the case):
//
//   {"send": {request},                  an adapter-protocol request
//    "inject": [fault rules] | [],       (optional) replaces the fault rules
//                                        before the request; counts restart
//    "expect": pattern,                  (optional) on the reply
//    "trace": pattern,                   (optional) on the syscalls the
//                                        request made: {"calls": {"bind": 3, ...},
//                                        "total": N, "log": ["bind(5, ...) = 0", ...]};
//                                        unchecked (and noted) where no trace exists,
//                                        unless the case lists "trace" in env.needs
//    "save": {"var": "/json/pointer"},   (optional) names parts of the reply
//    "timeout_ms": N}                    (optional) for this request
//   {"connect": {"host": .., "port": .., "count": N} | {"path": .., "count": N},
//    "expect": pattern}                  default expect: every client connected
//   {"hold": {"address": .., "port": ..}, "save": {...}}   a busy port
//   {"make": {"path": .., "kind": ..}}                       a file, link, socket
//   {"check": "path", "expect": pattern}                   lstat and friends
//   {"sleep_ms": N}
//
// Every string may use ${TMP} (the case's temp dir), ${RUN} (a token unique to
// this case run) and variables saved by earlier steps. "save" is applied
// before "expect", so an expectation may use what its own step saved.
//
// A case is SKIPPED when its environment cannot be made here: fault injection
// or a trace out of process, a host without IPv6 or 127.0.0.2, an adapter
// without a feature a request uses. Verdicts follow h2spec: OK, FAILED with
// expected against actual, SKIPPED with the reason.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog.h"
#include "host.h"
#include "target.h"

namespace netutil::conform {

enum class Verdict { kOk, kFailed, kSkipped };
const char* VerdictName(Verdict v);  // "OK", "FAILED", "SKIPPED"

struct CaseResult {
  const Case* c = nullptr;
  Verdict verdict = Verdict::kOk;
  std::string reason;                // why skipped, or the failure in one line
  std::vector<std::string> details;  // the failure: step, expected, actual, reply
  std::vector<std::string> notes;    // what could not be checked here (an OK is partial)
  double seconds = 0;
};

struct RunOptions {
  std::chrono::milliseconds request_timeout{10000};
  bool keep_tmp = false;  // leave each case's temp dir behind
  bool verbose = false;   // failures also show the syscall trace
};

// Whether `filter` (a shell glob; empty matches all) selects the case, by its
// ID or by one of its rule IDs.
bool Selected(const Case& c, const std::string& filter);

// The step verbs; CheckStep() says what is wrong with a step, for LoadCatalog.
std::optional<std::string> CheckStep(const nlohmann::json& step);

class Runner {
 public:
  Runner(Target& target, RunOptions options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Asks the implementation who it is (hello) and probes the host. An
  // implementation that does not answer hello still runs (every case it
  // cannot answer fails); the message says why.
  std::optional<std::string> Prepare();
  const nlohmann::json& hello() const { return hello_; }

  CaseResult Run(const Case& c);

 private:
  struct Context;
  std::optional<std::string> Unmet(const Case& c) const;
  bool RunStep(size_t index, const nlohmann::json& step, Context& ctx, CaseResult* result);

  Target& target_;
  RunOptions options_;
  nlohmann::json hello_;
  std::vector<std::string> features_;
  host::Probe probe_;
  std::string tmp_root_;
  int case_counter_ = 0;
};

}  // namespace netutil::conform
