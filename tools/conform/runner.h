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
//   {"exhaust_fds": {"spare": N} | {"limit": L}}, {"restore_fds": {"after_ms": N}}
//                                        a real EMFILE: the implementation's
//                                        RLIMIT_NOFILE (fd_exhaust.h)
//
// Every string may use ${TMP} (the case's temp dir), ${RUN} (a token unique to
// this case run), ${batch} and ${backoff_ms} (the implementation's, as
// Capabilities::CaseVars gives them) and variables saved by earlier steps. "save" is applied
// before "expect", so an expectation may use what its own step saved.
//
// A case is SKIPPED when its environment cannot be made here: fault injection
// or a trace out of process, a host without IPv6 or 127.0.0.2, an adapter
// without a feature a request uses. It is N/A, before that, when the
// implementation's hello capabilities do not offer an op or field it needs
// (capabilities.h). Verdicts follow h2spec: OK, FAILED with expected against
// actual, SKIPPED with the reason.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "capabilities.h"
#include "catalog.h"
#include "host.h"
#include "json_match.h"  // DesignChoices
#include "target.h"
#include "verdict.h"  // Verdict, VerdictName

namespace netutil::conform {

// Which rules a run holds the implementation to.
enum class Profile { kTornado, kStrict };
const char* ProfileName(Profile p);  // "tornado", "strict"

struct CaseResult {
  const Case* c = nullptr;
  Verdict verdict = Verdict::kOk;
  std::string reason;                // why skipped, or the failure in one line
  std::string failure;               // the failure without its step: "/error/kind: expected ..."
  std::vector<std::string> details;  // the failure: step, expected, actual, reply
  std::vector<std::string> notes;    // what could not be checked here (an OK is partial)
  std::vector<std::string> trace;    // the failing request's syscalls, when traced
  // The verdict rests on injected faults (a fault plan, a missing IPv6), not
  // on states the kernel made itself: reports say "injected" beside it.
  bool injected = false;
  // How long the case's DNS server (real name service, name_service.h) took
  // to answer its first query; nullopt when the case had none.
  std::optional<double> dns_start_seconds;
  // The designs the case's "$designs" patterns matched (json_match.h), in
  // the order first met: which way the implementation meets the rules.
  DesignChoices designs;
  double seconds = 0;
};

struct RunOptions {
  std::chrono::milliseconds request_timeout{10000};
  // A case ends FAILED when its steps take longer in all than this: each
  // request's timeout is cut to what is left.
  std::chrono::milliseconds case_timeout{60000};
  Profile profile = Profile::kStrict;
  bool keep_tmp = false;  // leave each case's temp dir behind
  bool verbose = false;   // failures also show the syscall trace
};

// The N/A reason of a synthetic case (catalog.h Case::synthetic) for an
// implementation it does not judge: "synthetic: <why>; the case checks the
// defensive code of reference, not a state the kernel can give ...".
std::string SyntheticReason(const Case& c, const std::string& impl);

// Whether `filter` (a shell glob; empty matches all) selects the case, by its
// ID or by one of its rule IDs.
bool Selected(const Case& c, const std::string& filter);

// The step verbs; CheckStep() says what is wrong with a step, for LoadCatalog.
std::optional<std::string> CheckStep(const nlohmann::json& step);

// How long netconform waits for a request that carries its own "timeout_ms"
// (a serve): that value, saturated to 0..120000 (it may come from a variable,
// unchecked at load), plus 5000 ms. Anything not an integer counts as 0.
long long ServeWaitMs(const nlohmann::json& timeout_ms);

// Told, in a forked in-process case, of each request before it is sent: its
// step label and timeout (the parent holds the deadline).
using StepProgress = std::function<void(const std::string& label, std::chrono::milliseconds)>;

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
  // What the hello's "capabilities" offer (everything when it had none).
  const Capabilities& capabilities() const { return caps_; }

  // Runs one case. Safe to call from several threads at once (--jobs): each
  // case has its own session, temp dir and (when needed) network namespace.
  // An in-process target's case runs in a forked child, so a hung
  // implementation is killed at the deadline (FAILED "timeout after N ms").
  CaseResult Run(const Case& c);

  // For an in-process target: forks `count` idle workers now. Call it before
  // the threads that call Run() start: a fork while another thread is inside
  // the allocator can leave the child's allocator locked (glibc's malloc
  // guards against that; GCC 12's AddressSanitizer allocator does not), so
  // the workers a run needs are made while the process is single-threaded.
  // A worker killed at a timeout is replaced by a fork from Run(), later.
  std::optional<std::string> StartWorkers(int count);

 private:
  using Clock = std::chrono::steady_clock;
  struct Context;
  bool MakeTmpRoot();
  CaseResult RunCase(const Case& c, int n, Clock::time_point start, const StepProgress& progress);
  CaseResult RunIsolated(const Case& c, int n, Clock::time_point start);
  // The worker processes of RunIsolated.
  struct Worker;
  void WorkerLoop(int in, int out);
  std::unique_ptr<Worker> TakeWorker(std::string* error);
  void ReturnWorker(std::unique_ptr<Worker> w);
  void DropWorker(std::unique_ptr<Worker> w);
  std::optional<std::string> Unmet(const Case& c) const;
  // Why the harness cannot see what the case needs (a trace, injection) on
  // this target: the case is BLIND before it runs.
  std::optional<std::string> BlindBefore(const Case& c) const;
  // Whether the case needs to see the implementation's syscalls at all.
  bool NeedsToSee(const Case& c, const Environment& env) const;
  // Whether the target gives the case's resolver entries through real name
  // service (name_service.h) rather than injection.
  bool RealNames(const Environment& env) const;
  // Whether the case needs a private network namespace on this target.
  bool NeedsNetns(const Environment& env) const;
  // The namespaces a case needs on the calling thread (a network namespace,
  // real name service), entered; nullptr with the case's result (FAILED, or
  // SKIPPED when the name service cannot be made) when they cannot be.
  struct Namespaces;
  std::unique_ptr<Namespaces> EnterNamespaces(const Environment& env, const std::string& dir,
                                              CaseResult* not_made) const;
  // The canary: whether the instrument sees the implementation's calls; why
  // not, when it does not.
  std::optional<std::string> Canary(Context& ctx, const Environment& env) const;
  void ProbeKernelView(const Session& hello_session);
  // The implementation's socket fds now, opening ctx.view on first use; empty
  // (with a note) when they cannot be listed.
  nlohmann::json WithoutUnoffered(const nlohmann::json& request) const;
  std::vector<int> SocketsNow(Context& ctx, std::vector<std::string>* notes) const;
  // The case's steps until one fails, then the session's close; true when
  // all passed and it closed cleanly.
  bool RunSteps(const Case& c, Context& ctx, CaseResult* result);
  bool RunStep(size_t index, const nlohmann::json& step, Context& ctx, CaseResult* result);
  // The parts of RunStep.
  struct StepOutput {
    nlohmann::json out;                   // what expect and save look at
    std::optional<nlohmann::json> trace;  // a send's calls, when the target has an instrument
    std::vector<std::string> notes;       // what the kernel showed against what the adapter said
  };
  struct StepFailure {
    StepFailure(std::string headline, std::vector<std::string> more = {}, bool explained = false)
        : headline(std::move(headline)), more(std::move(more)), explained(explained) {}
    std::string headline;
    std::vector<std::string> more;  // starts with its own Expected/Actual lines when
    bool explained;                 // `explained`; otherwise the headline explains
    // No failure: the expectation held but for listener props the adapter
    // could not read (null); the case goes on, and is SKIPPED if it passes.
    bool unread = false;
  };
  static bool FailStep(CaseResult* result, const std::string& label, StepFailure failure);
  std::optional<StepFailure> SendRequest(const nlohmann::json& step, const nlohmann::json& arg,
                                         const std::string& label, std::chrono::milliseconds left,
                                         Context& ctx, StepOutput* output) const;
  static std::optional<StepFailure> UseHost(const std::string& verb, const nlohmann::json& arg,
                                            Context& ctx, StepOutput* output);
  std::optional<StepFailure> SaveVars(const nlohmann::json& step, const std::string& verb,
                                      Context& ctx, const StepOutput& output) const;
  std::optional<StepFailure> CheckExpect(const nlohmann::json& step, const std::string& verb,
                                         const nlohmann::json& arg, const Context& ctx,
                                         const StepOutput& output) const;
  static std::optional<StepFailure> CheckTrace(const nlohmann::json& step, const std::string& verb,
                                               const Context& ctx, const StepOutput& output);

  Target& target_;
  RunOptions options_;
  nlohmann::json hello_;
  std::vector<std::string> features_;
  Capabilities caps_;  // a case needing what it lacks is N/A (capabilities.h)
  // Whether the runner can look at the implementation's process itself
  // (kernel_view.h): then it gives listener props and fds_delta, whatever
  // the adapter offers. Why not, when not.
  bool kernel_view_ = false;
  std::string no_kernel_view_;
  host::Probe probe_;
  std::string tmp_root_;
  std::once_flag tmp_root_once_;
  std::atomic<int> case_counter_{0};
  std::mutex workers_mu_;
  std::vector<std::unique_ptr<Worker>> idle_workers_;
  std::set<int> worker_fds_;  // every worker's pipes: a new worker closes them
};

}  // namespace netutil::conform
