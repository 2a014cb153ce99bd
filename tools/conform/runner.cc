#include "runner.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "confined_path.h"
#include "environment.h"
#include "fault_reach.h"
#include "fd_exhaust.h"
#include "json_match.h"
#include "kernel_view.h"
#include "name_service.h"
#include "netns.h"
#include "netutil/errno_name.h"
#include "trace_effects.h"

namespace netutil::conform {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kVerbs[] = {"send",  "connect",  "hold",      "make",
                                  "check", "sleep_ms", kExhaustFds, kRestoreFds};

// Why a target has no fault injection or trace.
const char* kNoInterposer =
    "this target has no instrument (--mode inprocess, --mode fake, or the interposer)";
// The start of a BLIND verdict's reason.
const char* kHarnessBlind = "harness blind: ";

std::optional<std::string> VerbOf(const json& step) {
  std::optional<std::string> verb;
  for (const char* v : kVerbs) {
    if (step.contains(v)) {
      if (verb) return std::nullopt;
      verb = v;
    }
  }
  return verb;
}

void CollectKeys(const json& j, std::set<std::string>* keys) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      keys->insert(key);
      CollectKeys(value, keys);
    }
  } else if (j.is_array()) {
    for (const json& v : j) CollectKeys(v, keys);
  }
}

// Whether a fault plan or a trace pattern names getaddrinfo: a C library
// function, no syscall, which only the interposer sees.
bool NamesLibcCall(const json& j) {
  if (j.is_string())
    return j.get_ref<const std::string&>().find("getaddrinfo") != std::string::npos;
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (key == "getaddrinfo" || NamesLibcCall(value)) return true;
    }
  } else if (j.is_array()) {
    for (const json& v : j) {
      if (NamesLibcCall(v)) return true;
    }
  }
  return false;
}

// Every need of a case: what its env names, and what its steps imply.
// `real_names`: the target gives the resolver entries through real name
// service (name_service.h), so they need no injection.
std::set<std::string> NeedsOf(const Case& c, const Environment& env, bool real_names) {
  std::set<std::string> needs(env.needs.begin(), env.needs.end());
  if (!env.faults.empty() || env.ipv6_missing || (!env.resolver.hosts().empty() && !real_names)) {
    needs.insert("injection");
  }
  for (const fakes::FaultRule& rule : env.faults.rules()) {
    if (rule.call == fakes::Call::kGetaddrinfo) needs.insert("libc_calls");
  }
  for (const json& step : c.steps) {
    for (const char* key : {"inject", "trace"}) {
      if (step.contains(key) && NamesLibcCall(step[key])) needs.insert("libc_calls");
    }
    // A "trace" alone needs nothing: where no trace exists it goes unchecked
    // (and the verdict says so); a case whose point is the trace lists "trace".
    if (step.contains("inject")) needs.insert("injection");
    if (step.contains("send")) {
      const json& req = step["send"];
      if (req.contains("platform")) needs.insert("platform_override");
      if (req.contains("port_retries")) needs.insert("port_retries");
      if (req.contains("remove_at") || req.contains("throw_at")) needs.insert("serve_hooks");
      if (req.contains("op") && req["op"] == "umask") needs.insert("umask");
    }
    if (step.contains("expect")) {
      std::set<std::string> keys;
      CollectKeys(step["expect"], &keys);
      if (keys.count("props")) needs.insert("listener_props");
      if (keys.count("fds_delta")) needs.insert("fds_delta");
      if (keys.count("stats") || keys.count("loop")) needs.insert("serve_stats");
    }
  }
  return needs;
}

std::string StepLabel(size_t index, const std::string& verb, const json& arg) {
  std::string what = verb;
  if (verb == "send" && arg.is_object() && arg.contains("op")) {
    what += " " + Brief(arg, 400);
  } else if (verb != "sleep_ms") {
    what += " " + Brief(arg, 200);
  }
  return "step " + std::to_string(index + 1) + ": " + what;
}

// A string member of a reply, or `fallback` when it is missing or not a
// string: an adapter's reply must never throw in here.
std::string StringField(const json& j, const char* key, const std::string& fallback) {
  auto it = j.is_object() ? j.find(key) : j.end();
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

long long ServeWaitMs(const json& timeout_ms) {
  constexpr long long kMaxServeMs = 120000;  // docs/CONFORMANCE.md "Limits"
  long long v = 0;
  if (timeout_ms.is_number_unsigned()) {
    v = timeout_ms.get<unsigned long long>() > static_cast<unsigned long long>(kMaxServeMs)
            ? kMaxServeMs
            : static_cast<long long>(timeout_ms.get<unsigned long long>());
  } else if (timeout_ms.is_number_integer()) {
    v = std::clamp(timeout_ms.get<long long>(), 0LL, kMaxServeMs);
  }
  return v + 5000;
}

namespace {

std::string TmpBase() {
  const char* t = ::getenv("TMPDIR");
  // Unix socket paths hold 108 bytes: keep the base short.
  if (t != nullptr && *t != '\0' && std::string(t).size() <= 48) return t;
  return "/tmp";
}

}  // namespace

const char* ProfileName(Profile p) { return p == Profile::kTornado ? "tornado" : "strict"; }

bool Selected(const Case& c, const std::string& filter) {
  if (filter.empty() || ::fnmatch(filter.c_str(), c.id.c_str(), 0) == 0) return true;
  return std::any_of(c.rules.begin(), c.rules.end(), [&](const std::string& r) {
    return ::fnmatch(filter.c_str(), r.c_str(), 0) == 0;
  });
}

std::optional<std::string> CheckStep(const json& step) {
  if (!step.is_object()) return "a step must be an object: " + Brief(step);
  std::optional<std::string> verb = VerbOf(step);
  if (!verb)
    return "a step needs exactly one of send, connect, hold, make, check, "
           "sleep_ms, exhaust_fds, restore_fds: " +
           Brief(step);
  std::set<std::string> allowed = {*verb, "expect", "save"};
  if (*verb == "send") allowed.insert({"inject", "trace", "timeout_ms"});
  for (const auto& [key, value] : step.items()) {
    if (!allowed.count(key)) return "step " + *verb + ": unknown key \"" + key + "\"";
  }
  const json& arg = step[*verb];
  if (*verb == "send" && (!arg.is_object() || !arg.contains("op"))) {
    return "send takes a request object with an op: " + Brief(step);
  }
  if ((*verb == "connect" || *verb == "hold" || *verb == "make") && !arg.is_object()) {
    return *verb + " takes an object: " + Brief(step);
  }
  if (*verb == "check" && !arg.is_string()) return "check takes a path: " + Brief(step);
  if (IsFdVerb(*verb)) {
    if (auto e = FdStepProblem(*verb, arg)) return e;
  }
  if (*verb == "sleep_ms" &&
      !(arg.is_number_integer() && arg.get<long long>() >= 0 && arg.get<long long>() <= 10000)) {
    return "sleep_ms takes 0..10000: " + Brief(step);
  }
  for (const char* p : {"expect", "trace"}) {
    if (step.contains(p)) {
      if (auto e = CheckPattern(step[p])) return std::string(p) + ": " + *e;
    }
  }
  if (step.contains("save")) {
    if (!step["save"].is_object()) return "save takes {\"var\": \"/pointer\"}";
    for (const auto& [var, ptr] : step["save"].items()) {
      if (!ptr.is_string()) return "save: the pointer for " + var + " must be a string";
      try {
        (void)json::json_pointer(ptr.get<std::string>());
      } catch (const json::exception& e) {
        return "save: bad JSON pointer for " + var + ": " + e.what();
      }
    }
  }
  if (step.contains("inject")) {
    std::string error;
    if (!ParseFaults(step["inject"], &error)) return "inject: " + error;
  }
  if (step.contains("timeout_ms") && !step["timeout_ms"].is_number_integer()) {
    return "timeout_ms takes an integer";
  }
  return std::nullopt;
}

// A child process that runs in-process cases one after another, so a hung
// implementation can be killed without netconform. Forked once per --jobs
// slot (and again after a kill): a fork per case would cost more than the
// whole fake-kernel catalog.
struct Runner::Worker {
  pid_t pid = -1;
  int to = -1;     // requests: {"case": {...}, "n": N, "start_ns": T}
  int from = -1;   // progress ({"step": label, "timeout_ms": N}) and {"result": {...}}
  int pidfd = -1;  // readable when the worker is gone (-1: no pidfd_open)
  std::string buffer;

  void Kill() {
    if (pid > 0) {
      ::kill(-pid, SIGKILL);  // its group: anything the implementation started too
      UnregisterGroup(pid);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      pid = -1;
    }
    for (int* fd : {&to, &from, &pidfd}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

  // What the worker said of the case it was given.
  struct Report {
    std::optional<json> result;  // the case's result, when it came
    bool gone = false;           // the worker ended (crashed) without a result
    std::string step_label;      // the request it was in, when any
    std::chrono::milliseconds step_timeout{0};
    bool step_cut = false;  // the request's deadline, not the case's, was the nearer

    // A request began: the deadline it sets, never past the case's.
    Clock::time_point StartStep(json& msg, Clock::time_point case_deadline);
    // The failure of a case whose worker was killed at the deadline.
    void DescribeTimeout(std::chrono::milliseconds case_timeout, CaseResult* result) const;
    // The failure of a case whose worker ended with wait status `status`.
    void DescribeEnd(int status, CaseResult* result) const;
  };
  // Reads the worker's messages until its result, its end, or the deadline:
  // the case's, or the current request's when nearer.
  Report Await(Clock::time_point case_deadline);
  // What one wait for the worker's output (WaitForOutput) saw.
  enum class Wait { kOutput, kNothing, kGone, kFailed };
  Wait WaitForOutput(Clock::duration left);
  // Reaps a worker that ended on its own; its wait status.
  int Reap();
};

struct Runner::Context {
  Session* session = nullptr;
  std::string blind;                 // what the case needed and the harness could not see
  bool trace_unseen = false;         // the canary showed the instrument misses the calls
  std::unique_ptr<KernelView> view;  // the implementation's process, opened on first use
  std::unique_ptr<FdRoom> fds;       // its fd limit, when the case has exhaust_fds steps
  host::Host* host = nullptr;
  Vars vars;
  std::string unread;          // a step's expectation on props the adapter could not read
  FaultReach reach;            // which fault rules met a call of theirs (fault_reach.h)
  bool traced = false;         // a request's trace was seen (so `reach` knows something)
  bool mismatch = false;       // the failing step failed an expectation (not a crash, a hang)
  Clock::time_point deadline;  // the case's; see RunOptions::case_timeout
  StepProgress progress;       // told of each request before it is sent
  // The designs matched so far: a later "$designs" with the same names is
  // held to the same design (json_match.h). Mutable: the const checks of a
  // step (CheckExpect, CheckTrace) record what they matched.
  mutable DesignChoices designs;
};

Runner::Runner(Target& target, RunOptions options)
    : target_(target), options_(std::move(options)) {}

Runner::~Runner() {
  for (std::unique_ptr<Worker>& w : idle_workers_) w->Kill();
  if (!tmp_root_.empty() && !options_.keep_tmp) {
    std::error_code ec;
    std::filesystem::remove_all(tmp_root_, ec);
  }
}

bool Runner::MakeTmpRoot() {
  std::call_once(tmp_root_once_, [this] {
    std::string tmpl = TmpBase() + "/netconform-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) tmp_root_ = tmpl;
  });
  return !tmp_root_.empty();
}

std::optional<std::string> Runner::Prepare() {
  if (!MakeTmpRoot()) return "cannot make a temp dir under " + TmpBase();
  probe_ = host::ProbeFor(target_.RealKernel());  // the fake kernel has ::1 and 127.0.0.2

  const std::string dir = tmp_root_ + "/hello";
  std::error_code ec;
  std::filesystem::create_directory(dir, ec);
  std::string error;
  std::unique_ptr<Session> s = target_.Open(dir, Environment{}, &error);
  if (!s) return "cannot start the implementation: " + error;
  Exchange ex = s->Send({{"op", "hello"}}, options_.request_timeout);
  ProbeKernelView(*s);
  const std::string closing = s->Close(options_.request_timeout);
  if (!ex.reply) return "hello got no reply: " + ex.failure;
  if (ex.reply->value("ok", json()) != true) return "hello failed: " + Brief(*ex.reply);
  hello_ = *ex.reply;
  if (hello_.contains("features") && hello_["features"].is_array()) {
    for (const json& f : hello_["features"]) {
      if (f.is_string()) features_.push_back(f.get<std::string>());
    }
  }
  if (!closing.empty()) return "after hello: " + closing;
  // Untrusted: a malformed object is a protocol error, and the run then
  // treats everything as offered (no case is made N/A on its word).
  std::optional<Capabilities> caps = Capabilities::FromHello(hello_, &error);
  if (!caps) return "protocol error: " + error;
  caps_ = std::move(*caps);
  return std::nullopt;
}

std::optional<std::string> Runner::Unmet(const Case& c) const {
  std::string error;
  std::optional<Environment> env = ParseEnvironment(c.env, &error);
  if (!env) return "bad env: " + error;  // LoadCatalog makes this unreachable
  for (const std::string& need : NeedsOf(c, *env, RealNames(*env))) {
    if (need == "injection" || need == "trace") continue;  // BlindBefore's
    if (IsCapabilityNeed(need)) continue;                  // N/A's, decided in Run()
    if (need == "libc_calls") {
      if (!target_.SeesLibcCalls()) {
        return std::string(
            "its faults or traces name getaddrinfo, a C library function that this mode's "
            "instrument does not see (the interposer does: --mode process)");
      }
      continue;
    }
    if (need == "ipv6") {
      if (!probe_.ipv6) return "the host cannot listen on [::1] (no IPv6)";
      continue;
    }
    if (need == "loopback2") {
      if (!probe_.loopback2) return "the host cannot listen on 127.0.0.2";
      continue;
    }
    // What the runner reads from the kernel itself needs no adapter feature.
    if ((need == "listener_props" || need == "fds_delta") && kernel_view_) continue;
    if (std::find(features_.begin(), features_.end(), need) == features_.end()) {
      return "the implementation (" + StringField(hello_, "impl", "unknown") +
             ") does not offer \"" + need + "\"";
    }
  }
  if (std::optional<std::string> why = target_.CannotMake(*env)) return why;
  if (NeedsNetns(*env)) {
    if (std::optional<std::string> why = netns::Unavailable()) return *why;
  }
  if (RealNames(*env)) {
    if (std::optional<std::string> why = NameServiceUnavailable())
      return "real name service " + *why;
    if (NeedsDnsServer(env->resolver)) {
      if (std::optional<std::string> why = DnsServerUnavailable()) return *why;
    }
  }
  return std::nullopt;
}

bool Runner::RealNames(const Environment& env) const {
  return target_.NameService() && !env.resolver.hosts().empty() &&
         !NameServiceCannotGive(env.resolver);
}

bool Runner::NeedsNetns(const Environment& env) const {
  if (!target_.RealKernel()) return false;
  // dnsmasq listens on 127.0.0.1:53 of the case's own namespace.
  return env.needs_netns() || (RealNames(env) && NeedsDnsServer(env.resolver));
}

// Whether the case's verdict rests on faults the harness injects: fault
// rules, a missing IPv6, a resolver entry that fails the lookup (unless a real
// DNS server gives the failure: `real_names`). A real shortage (exhaust_fds)
// is the kernel's own.
bool InjectsFaults(const Case& c, const Environment& env, bool real_names) {
  if (!env.faults.empty() || env.ipv6_missing) return true;
  for (const auto& [host, entry] : env.resolver.hosts()) {
    if (entry.gai_err != 0 && !real_names) return true;
  }
  for (const json& step : c.steps) {
    if (step.contains("inject")) return true;
  }
  return false;
}

bool Runner::NeedsToSee(const Case& c, const Environment& env) const {
  if (NeedsOf(c, env, RealNames(env)).count("injection") != 0) return true;
  for (const std::string& need : env.needs) {
    if (need == "trace" || need == "injection") return true;
  }
  for (const json& step : c.steps) {
    if (step.contains("inject") || step.contains("trace")) return true;
  }
  return false;
}

std::optional<std::string> Runner::BlindBefore(const Case& c) const {
  if (target_.CanInject()) return std::nullopt;
  std::string error;
  std::optional<Environment> env = ParseEnvironment(c.env, &error);
  if (!env) return std::nullopt;  // LoadCatalog makes this unreachable
  const std::set<std::string> needs = NeedsOf(c, *env, RealNames(*env));
  if (needs.count("injection") != 0 && target_.NameService() &&
      NeedsOf(c, *env, true).count("injection") == 0) {
    // Only the resolver needs injection: say why real name service cannot give it.
    return "needs resolver injection: " + NameServiceCannotGive(env->resolver).value_or("") + "; " +
           kNoInterposer;
  }
  if (needs.count("injection") != 0) return "needs fault injection; " + std::string(kNoInterposer);
  if (needs.count("trace") != 0) return "needs a syscall trace; " + std::string(kNoInterposer);
  return std::nullopt;
}

std::optional<std::string> Runner::Canary(Context& ctx, const Environment& env) const {
  Instrument* inst = ctx.session->instrument();
  if (inst == nullptr) return std::string(kNoInterposer);
  inst->SetFaults({});  // the canary must not spend the case's fault counts
  inst->ClearTrace();
  const json probe = {{"op", "bind_sockets"}, {"port", 0}, {"address", "127.0.0.1"}};
  const Exchange ex = ctx.session->Send(probe, options_.request_timeout);
  const json trace = inst->TakeTrace();
  if (ex.reply) (void)ctx.session->Send({{"op", "close_all"}}, options_.request_timeout);
  inst->SetFaults(env.faults);  // as the case set it up, its counts at 0
  // socket() is seen even when it fails (an fd limit): the one call any
  // listener starts with.
  const json sockets = trace.contains("calls") ? trace["calls"].value("socket", json(0)) : json(0);
  if (sockets.is_number() && sockets.get<double>() > 0) return std::nullopt;
  return "the instrument saw no socket() of the implementation during a canary bind_sockets on "
         "127.0.0.1 (" +
         (ex.reply ? Brief(*ex.reply, 160) : ex.failure.substr(0, 160)) +
         "): it reaches the kernel without the C library's functions (raw system calls, a "
         "static binary), which the interposer cannot see";
}

std::string SyntheticReason(const Case& c, const std::string& impl) {
  std::string names;
  for (const std::string& n : c.synthetic_impls) names += (names.empty() ? "" : ", ") + n;
  return "synthetic: " + c.synthetic_why + "; the case checks the defensive code of " + names +
         ", not a state the kernel can give the implementation (" + impl + ")";
}

CaseResult Runner::Run(const Case& c) {
  const auto start = Clock::now();
  CaseResult result;
  // N/A before SKIPPED: what the implementation offers does not depend on
  // the host, so the verdict is the same everywhere.
  const std::string impl = StringField(hello_, "impl", "unknown");
  if (c.reference_only() && std::find(c.reference_impls.begin(), c.reference_impls.end(), impl) ==
                                c.reference_impls.end()) {
    // The method of other implementations, not the rule: judged by the
    // rule's other cases (docs/CONFORMANCE.md, "Reference-only cases").
    result.verdict = Verdict::kNotApplicable;
    result.reason = "reference-only: checks " + c.reference_why + ", the method of " +
                    [&] {
                      std::string names;
                      for (const std::string& n : c.reference_impls)
                        names += (names.empty() ? "" : ", ") + n;
                      return names;
                    }() +
                    ", which the rule does not ask of the implementation (" + impl + ")";
  } else if (c.synthetic() && std::find(c.synthetic_impls.begin(), c.synthetic_impls.end(), impl) ==
                                  c.synthetic_impls.end()) {
    // A state no kernel gives (docs/CONFORMANCE.md, "Synthetic cases"): it
    // checks the defensive code of the implementations named, and a verdict
    // under it would say nothing true about this one.
    result.verdict = Verdict::kNotApplicable;
    result.reason = SyntheticReason(c, impl);
  } else if (std::optional<std::string> why = caps_.NotApplicable(c, impl)) {
    result.verdict = Verdict::kNotApplicable;
    result.reason = *why;
  } else if (std::optional<std::string> why = Unmet(c)) {
    result.verdict = Verdict::kSkipped;
    result.reason = *why;
  } else if (std::optional<std::string> blind = BlindBefore(c)) {
    result.verdict = Verdict::kBlind;
    result.reason = kHarnessBlind + *blind;
  } else {
    MakeTmpRoot();  // normally made by Prepare()
    const int n = ++case_counter_;
    // In-process, a hung implementation would hang netconform: the case runs
    // in a child process the deadline can kill.
    result = target_.InProcess() ? RunIsolated(c, n, start) : RunCase(c, n, start, nullptr);
  }
  result.c = &c;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

namespace {

json DesignsJson(const DesignChoices& designs) {
  json out = json::array();
  for (const DesignChoice& d : designs) out.push_back({{"of", d.designs}, {"design", d.chosen}});
  return out;
}

json ResultJson(const CaseResult& r) {
  return {{"verdict", VerdictName(r.verdict)},
          {"reason", r.reason},
          {"failure", r.failure},
          {"details", r.details},
          {"notes", r.notes},
          {"trace", r.trace},
          {"injected", r.injected},
          {"dns_start_seconds", r.dns_start_seconds ? json(*r.dns_start_seconds) : json()},
          {"designs", DesignsJson(r.designs)}};
}

CaseResult ResultFromJson(const json& j) {
  CaseResult r;
  // A word the worker cannot have written reads as FAILED, never as a pass.
  r.verdict = ParseVerdict(j.at("verdict").get<std::string>()).value_or(Verdict::kFailed);
  r.reason = j.at("reason").get<std::string>();
  r.failure = j.at("failure").get<std::string>();
  r.details = j.at("details").get<std::vector<std::string>>();
  r.notes = j.at("notes").get<std::vector<std::string>>();
  r.trace = j.at("trace").get<std::vector<std::string>>();
  r.injected = j.at("injected").get<bool>();
  if (j.at("dns_start_seconds").is_number()) {
    r.dns_start_seconds = j.at("dns_start_seconds").get<double>();
  }
  for (const json& d : j.at("designs")) {
    r.designs.push_back(
        {d.at("of").get<std::vector<std::string>>(), d.at("design").get<std::string>()});
  }
  return r;
}

// For the forked case: all of `text` to `fd`, or nothing more to do.
void WriteFully(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

std::string Line(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

json CaseJson(const Case& c) {
  return {{"id", c.id},       {"rules", c.rules},   {"title", c.title}, {"env", c.env},
          {"steps", c.steps}, {"origin", c.origin}, {"level", c.level}};
}

Case CaseFromJson(const json& j) {
  Case c;
  c.id = j.at("id").get<std::string>();
  c.rules = j.at("rules").get<std::vector<std::string>>();
  c.title = j.at("title").get<std::string>();
  c.env = j.at("env");
  c.steps = j.at("steps");
  c.origin = j.at("origin").get<std::string>();
  c.level = j.at("level").get<std::string>();
  return c;
}

// Reads lines from `fd` into `buffer`; false at end of file or on an error.
bool ReadMore(int fd, std::string* buffer) {
  char buf[65536];
  ssize_t got;
  do {
    got = ::read(fd, buf, sizeof buf);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) return false;
  buffer->append(buf, static_cast<size_t>(got));
  return true;
}

std::optional<json> TakeLine(std::string* buffer) {
  const size_t nl = buffer->find('\n');
  if (nl == std::string::npos) return std::nullopt;
  json j = json::parse(buffer->substr(0, nl), nullptr, false);
  buffer->erase(0, nl + 1);
  return j;
}

}  // namespace

void Runner::WorkerLoop(int in, int out) {
  std::string buffer;
  while (true) {
    std::optional<json> req = TakeLine(&buffer);
    if (!req) {
      if (!ReadMore(in, &buffer)) return;
      continue;
    }
    auto progress = [out](const std::string& label, std::chrono::milliseconds timeout) {
      WriteFully(out, Line({{"step", label}, {"timeout_ms", timeout.count()}}));
    };
    CaseResult r;
    try {
      const Case c = CaseFromJson(req->at("case"));
      const Clock::time_point start{Clock::duration(req->at("start_ns").get<long long>())};
      r = RunCase(c, req->at("n").get<int>(), start, progress);
    } catch (const std::exception& e) {
      r.verdict = Verdict::kFailed;
      r.reason = std::string("netconform error: ") + e.what();
    }
    WriteFully(out, Line({{"result", ResultJson(r)}}));
  }
}

std::unique_ptr<Runner::Worker> Runner::TakeWorker(std::string* error) {
  std::lock_guard<std::mutex> lock(workers_mu_);
  if (!idle_workers_.empty()) {
    std::unique_ptr<Worker> w = std::move(idle_workers_.back());
    idle_workers_.pop_back();
    return w;
  }
  int req[2];
  int rep[2];
  if (::pipe2(req, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + ErrnoName(errno);
    return nullptr;
  }
  if (::pipe2(rep, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + ErrnoName(errno);
    ::close(req[0]);
    ::close(req[1]);
    return nullptr;
  }
  // Under the lock: every other worker's pipes are in worker_fds_, so the
  // new one closes them (a worker holding another's request pipe would keep
  // it from ever seeing the end of its input).
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + ErrnoName(errno);
    for (int fd : {req[0], req[1], rep[0], rep[1]}) ::close(fd);
    return nullptr;
  }
  if (pid == 0) {
    // A process group of its own, killed with what it started on a timeout
    // and when netconform is interrupted (KillAdapterGroups).
    ::setpgid(0, 0);
    for (int fd : worker_fds_) ::close(fd);
    ::close(req[1]);
    ::close(rep[0]);
    WorkerLoop(req[0], rep[1]);
    // _exit: nothing of the parent's (buffered output, atexit handlers,
    // destructors of what other threads use) runs twice.
    ::_exit(0);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before anyone kills it
  RegisterGroup(pid);
  ::close(req[0]);
  ::close(rep[1]);
  auto w = std::make_unique<Worker>();
  w->pid = pid;
  w->to = req[1];
  w->from = rep[0];
  w->pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  worker_fds_.insert({w->to, w->from});
  if (w->pidfd >= 0) worker_fds_.insert(w->pidfd);
  return w;
}

std::optional<std::string> Runner::StartWorkers(int count) {
  if (!target_.InProcess()) return std::nullopt;
  // What a worker inherits must exist before it is forked.
  if (!MakeTmpRoot()) return "cannot make a temp dir under " + TmpBase();
  std::vector<std::unique_ptr<Worker>> made;
  for (int i = 0; i < count; ++i) {
    std::string error;
    std::unique_ptr<Worker> w = TakeWorker(&error);
    if (!w) return error;
    made.push_back(std::move(w));
  }
  for (std::unique_ptr<Worker>& w : made) ReturnWorker(std::move(w));
  return std::nullopt;
}

void Runner::DropWorker(std::unique_ptr<Worker> w) {
  {
    std::lock_guard<std::mutex> lock(workers_mu_);
    for (int fd : {w->to, w->from, w->pidfd}) worker_fds_.erase(fd);
  }
  w->Kill();
}

void Runner::ReturnWorker(std::unique_ptr<Worker> w) {
  std::lock_guard<std::mutex> lock(workers_mu_);
  idle_workers_.push_back(std::move(w));
}

namespace {

// Nothing waits in `fd` now (what a gone worker wrote before it went is
// still in the pipe when something does).
bool NothingToRead(int fd) {
  pollfd q{fd, POLLIN, 0};
  return ::poll(&q, 1, 0) == 0;
}

}  // namespace

Clock::time_point Runner::Worker::Report::StartStep(json& msg, Clock::time_point case_deadline) {
  step_label = msg["step"].get<std::string>();
  step_timeout = std::chrono::milliseconds(msg["timeout_ms"].get<long long>());
  const auto step_deadline = Clock::now() + step_timeout;
  step_cut = step_deadline < case_deadline;
  return std::min(step_deadline, case_deadline);
}

void Runner::Worker::Report::DescribeTimeout(std::chrono::milliseconds case_timeout,
                                             CaseResult* result) const {
  const auto ms = step_cut ? step_timeout : case_timeout;
  const std::string headline =
      "timeout after " + std::to_string(ms.count()) + " ms" +
      (step_cut ? "" : " (the case's timeout)") +
      ": the in-process implementation did not return; its process was killed";
  result->reason = step_label.empty() ? headline : step_label + ": " + headline;
  result->failure = headline;
  if (!step_label.empty()) result->details.push_back(step_label);
  result->details.push_back("  " + headline);
}

void Runner::Worker::Report::DescribeEnd(int status, CaseResult* result) const {
  result->reason = "the in-process case's process " + DescribeWaitStatus(status) +
                   " without a result" + (step_label.empty() ? "" : " (in " + step_label + ")");
  result->failure = result->reason;
  result->details.push_back("  " + result->reason);
}

Runner::Worker::Report Runner::Worker::Await(Clock::time_point case_deadline) {
  // A little grace past each deadline for the worker's own bookkeeping.
  constexpr auto kGrace = std::chrono::milliseconds(200);
  Report report;
  auto deadline = case_deadline;
  while (!report.result && !report.gone) {
    if (std::optional<json> msg = TakeLine(&buffer)) {
      if (msg->is_object() && msg->contains("result")) {
        report.result = std::move((*msg)["result"]);
      } else if (msg->is_object() && msg->contains("step")) {
        deadline = report.StartStep(*msg, case_deadline);
      }
      continue;
    }
    const auto now = Clock::now();
    if (now >= deadline + kGrace) break;
    const Wait wait = WaitForOutput(deadline + kGrace - now);
    if (wait == Wait::kFailed) break;
    report.gone = wait == Wait::kGone;
  }
  return report;
}

Runner::Worker::Wait Runner::Worker::WaitForOutput(Clock::duration left) {
  const long long wait = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  // Without a pidfd, a worker that died shows at the next short poll.
  const int wait_ms = static_cast<int>(std::min<long long>(wait, pidfd >= 0 ? 1 << 30 : 10));
  pollfd p[2] = {{from, POLLIN, 0}, {pidfd, POLLIN, 0}};
  const int rc = ::poll(p, pidfd >= 0 ? 2 : 1, wait_ms);
  if (rc < 0 && errno != EINTR) return Wait::kFailed;
  if (rc > 0 && p[0].revents != 0) return ReadMore(from, &buffer) ? Wait::kOutput : Wait::kGone;
  bool exited = rc > 0 && pidfd >= 0 && p[1].revents != 0;
  if (pidfd < 0) {
    siginfo_t info{};
    exited = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
             info.si_pid == pid;
  }
  return exited && NothingToRead(from) ? Wait::kGone : Wait::kNothing;
}

int Runner::Worker::Reap() {
  int status = 0;
  UnregisterGroup(pid);
  ::kill(-pid, SIGKILL);  // the worker is a zombie still: its group ID is not reused yet
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  pid = -1;
  return status;
}

CaseResult Runner::RunIsolated(const Case& c, int n, Clock::time_point start) {
  CaseResult result;
  result.verdict =
      c.strict() && options_.profile == Profile::kTornado ? Verdict::kNonStrict : Verdict::kFailed;
  std::string error;
  std::unique_ptr<Worker> w = TakeWorker(&error);
  if (!w) {
    result.reason = "netconform error: cannot start a worker process: " + error;
    return result;
  }
  WriteFully(w->to, Line({{"case", CaseJson(c)},
                          {"n", n},
                          {"start_ns", static_cast<long long>(start.time_since_epoch().count())}}));
  const Worker::Report report = w->Await(start + options_.case_timeout);
  if (report.result) {
    ReturnWorker(std::move(w));
    try {
      return ResultFromJson(*report.result);
    } catch (const json::exception& e) {
      result.reason = std::string("netconform error: the case's result: ") + e.what();
      return result;
    }
  }
  // Reaped first to say how it ended; DropWorker then closes its fds (and
  // kills one that still runs, past the deadline).
  const int status = report.gone ? w->Reap() : 0;
  DropWorker(std::move(w));
  // The worker never finished the case: its temp dir is left to us.
  if (!options_.keep_tmp) {
    std::error_code ec;
    std::filesystem::remove_all(tmp_root_ + "/" + std::to_string(n), ec);
  }
  if (report.gone) {
    report.DescribeEnd(status, &result);
  } else {
    report.DescribeTimeout(options_.case_timeout, &result);
  }
  return result;
}

namespace {

CaseResult FailedCase(std::string reason) {
  CaseResult result;
  result.verdict = Verdict::kFailed;
  result.reason = std::move(reason);
  return result;
}

}  // namespace

struct Runner::Namespaces {
  std::optional<netns::Scope> net;  // left last: dnsmasq lives in it
  std::unique_ptr<RealNameService> names;
};

std::unique_ptr<Runner::Namespaces> Runner::EnterNamespaces(const Environment& env,
                                                            const std::string& dir,
                                                            CaseResult* not_made) const {
  auto spaces = std::make_unique<Namespaces>();
  // A private network namespace for this thread, for what the real kernel
  // must provide itself; the implementation is started inside it.
  if (NeedsNetns(env)) {
    spaces->net.emplace();
    netns::Settings settings;
    settings.port_range = env.port_range;
    settings.no_loopback6 = env.ipv6_partial;
    if (std::optional<std::string> why = spaces->net->Enter(settings)) {
      *not_made = FailedCase("cannot make the network namespace: " + *why);
      return nullptr;
    }
  }
  // The case's resolver entries as real name service, for this thread and
  // what it starts: files in a mount namespace, dnsmasq for failures.
  if (RealNames(env)) {
    std::string error;
    spaces->names = RealNameService::Make(env, dir, &error);
    if (!spaces->names) {
      // The environment could not be made: nothing of the implementation ran.
      not_made->verdict = Verdict::kSkipped;
      not_made->reason = "cannot make the case's name service: " + error;
      return nullptr;
    }
  }
  return spaces;
}

namespace {

// Why a failed case is N/A: no fault rule of its plan ever met a call of its
// own in any request's trace, so the situation the case is about never arose
// (the implementation's design avoids the call: trio never calls getsockname,
// Twisted binds a unix socket in place). Only when `judged`: the failure is an
// expectation the implementation's answer missed (not a crash or a hang) and
// the trace of every request was seen. A case whose rule requires the call
// ("fault_calls": "required") stays FAILED.
std::optional<std::string> NeverMet(const Environment& env, const FaultReach& reach, bool judged) {
  if (!judged || env.fault_calls_required || !reach.NoneMet()) return std::nullopt;
  const std::vector<std::string> unmet = reach.Unmet();
  std::string rules;
  for (const std::string& r : unmet) rules += (rules.empty() ? "\"" : ", \"") + r + "\"";
  const std::string call = unmet.front().substr(0, unmet.front().find(' '));
  return "the implementation never made the call the fault rule" +
         std::string(unmet.size() > 1 ? "s " : " ") + rules + " " +
         (unmet.size() > 1 ? "are" : "is") + " for (" + call +
         "): the situation the case is about never arose";
}

// Why a failed case is N/A: its faults met calls, but none of them the
// case's situation (env.fault_situation, FaultReach::SituationMissed), under
// the same conditions as NeverMet.
std::optional<std::string> SituationMissed(const FaultReach& reach, bool judged) {
  if (!judged) return std::nullopt;
  return reach.SituationMissed();
}

}  // namespace

CaseResult Runner::RunCase(const Case& c, int n, Clock::time_point start,
                           const StepProgress& progress) {
  const std::string dir = tmp_root_ + "/" + std::to_string(n);
  std::error_code ec;
  if (tmp_root_.empty()) ec = std::make_error_code(std::errc::no_such_file_or_directory);
  if (!ec) std::filesystem::create_directory(dir, ec);
  if (ec) return FailedCase("cannot make the case's temp dir " + dir + ": " + ec.message());

  std::string error;
  // Parsed again with the dir itself for "${TMP}" in rule lines; LoadCatalog
  // parsed it with a stand-in, so only a swap path outside the dir can fail.
  std::optional<Environment> parsed_env = ParseEnvironment(c.env, &error, dir);
  if (!parsed_env) {
    std::filesystem::remove_all(dir, ec);
    return FailedCase("env: " + error);
  }
  const Environment env = std::move(*parsed_env);
  CaseResult not_made;
  std::unique_ptr<Namespaces> spaces = EnterNamespaces(env, dir, &not_made);
  if (!spaces) {
    if (!options_.keep_tmp) std::filesystem::remove_all(dir, ec);
    return not_made;
  }
  std::unique_ptr<Session> session = target_.Open(dir, env, &error);
  if (!session) return FailedCase("cannot start the implementation: " + error);
  host::RealHost real_host(dir);  // its make and check stay beneath the case's dir
  Context ctx;
  ctx.session = session.get();
  ctx.host = session->host() != nullptr ? session->host() : &real_host;
  ctx.vars["TMP"] = dir;
  ctx.vars["RUN"] = std::to_string(::getpid()) + "-" + std::to_string(n);
  for (auto& [name, value] : caps_.CaseVars(c)) ctx.vars[name] = std::move(value);
  ctx.deadline = start + options_.case_timeout;
  ctx.progress = progress;
  ctx.reach.Arm(env.faults);
  if (env.fault_situation) ctx.reach.SetSituation(*env.fault_situation);

  CaseResult result;
  result.injected = InjectsFaults(c, env, RealNames(env));
  if (spaces->names) result.dns_start_seconds = spaces->names->dns_start_seconds();
  if (ExhaustsFds(c.steps)) {
    // A real fd shortage needs an fd table netconform can limit.
    ctx.fds = OpenFdRoom(*session, &error);
    if (!ctx.fds) {
      (void)session->Close(options_.request_timeout);
      if (!options_.keep_tmp) std::filesystem::remove_all(dir, ec);
      result.verdict = Verdict::kSkipped;
      result.reason = error;
      return result;
    }
  }
  // An instrument that may miss the implementation's calls proves it sees
  // them before a case that needs it. When it does not: a case resting on
  // injection is BLIND at once (whatever failed could be the faults'
  // absence); a case that only checks traces still runs, its traces unseen,
  // so a failure the runner does see stays FAILED.
  std::optional<std::string> blind;
  if (target_.MayBeBlind() && NeedsToSee(c, env)) {
    if (std::optional<std::string> why = Canary(ctx, env)) {
      if (NeedsOf(c, env, RealNames(env)).count("injection") != 0) {
        blind = why;
      } else {
        ctx.blind = *why;
        ctx.trace_unseen = true;
      }
    }
  }
  const bool ok = !blind && RunSteps(c, ctx, &result);
  result.designs = ctx.designs;
  if (blind) (void)ctx.session->Close(options_.request_timeout);
  ctx.fds.reset();  // before the session: its table may be the session's
  session.reset();
  spaces->names.reset();  // dnsmasq stopped, the thread back in its mount namespace
  ctx.host = nullptr;
  real_host = host::RealHost();
  if (!options_.keep_tmp) std::filesystem::remove_all(dir, ec);
  if (!blind && ok && !ctx.blind.empty()) blind = ctx.blind;
  if (blind) {
    // Whatever the steps found: what the case is about went unseen.
    result.verdict = Verdict::kBlind;
    result.reason = kHarnessBlind + *blind;
  } else if (ok && !ctx.unread.empty()) {
    // Passed, but not wholly judged: what the adapter could not read is the
    // environment's lack, not the implementation's (docs/CONFORMANCE.md).
    result.verdict = Verdict::kSkipped;
    result.reason = ctx.unread;
  } else if (ok) {
    result.verdict = Verdict::kOk;
  } else if (std::optional<std::string> why =
                 NeverMet(env, ctx.reach, ctx.traced && ctx.mismatch && !ctx.trace_unseen)) {
    // What the case is about never arose: the implementation's design
    // avoids the faulted call (docs/CONFORMANCE.md, "Faults never met").
    result.verdict = Verdict::kNotApplicable;
    result.reason = *why + "; " + result.reason;
    result.failure.clear();  // no failure: the reason says what happened
  } else if (std::optional<std::string> why =
                 SituationMissed(ctx.reach, ctx.traced && ctx.mismatch && !ctx.trace_unseen)) {
    // The faults met calls, but none in the situation the case is about
    // (docs/CONFORMANCE.md, "Faults never met": env.fault_situation).
    result.verdict = Verdict::kNotApplicable;
    result.reason = *why + "; " + result.reason;
    result.failure.clear();
  } else {
    // A strict rule missed is no failure for an implementation held to Tornado's.
    result.verdict = c.strict() && options_.profile == Profile::kTornado ? Verdict::kNonStrict
                                                                         : Verdict::kFailed;
  }
  return result;
}

bool Runner::RunSteps(const Case& c, Context& ctx, CaseResult* result) {
  bool ok = true;
  try {
    for (size_t i = 0; ok && i < c.steps.size(); ++i) ok = RunStep(i, c.steps[i], ctx, result);
  } catch (const std::exception& e) {  // a bug of ours must not end the run
    ok = false;
    result->reason = std::string("netconform error: ") + e.what();
  }
  // The end of the session is bounded by the case's deadline too, with a
  // little room for an adapter to exit after a last step that took it all.
  constexpr std::chrono::milliseconds kMinCloseTime(500);
  // The implementation's own fd limit back before it is asked to exit.
  if (ctx.fds) ctx.fds->Finish();
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline - Clock::now());
  const std::string closing =
      ctx.session->Close(std::min(options_.request_timeout, std::max(left, kMinCloseTime)));
  if (ok && !closing.empty()) {
    ok = false;
    result->reason = closing.substr(0, closing.find('\n'));
    result->details.push_back(closing);
  }
  return ok;
}

namespace {

// How long a send waits for its reply: the step's own timeout_ms, or the
// run's, or longer for a serve that takes its own; never past the case's
// deadline (`left`).
std::chrono::milliseconds RequestTimeout(const json& step, const json& arg,
                                         std::chrono::milliseconds fallback,
                                         std::chrono::milliseconds left) {
  std::chrono::milliseconds timeout = fallback;
  if (step.contains("timeout_ms")) {
    timeout = std::chrono::milliseconds(step["timeout_ms"].get<long long>());
  } else if (arg.contains("timeout_ms") && arg["timeout_ms"].is_number_integer()) {
    // A serve may rightly take its own timeout: wait that long and more.
    // The value may come from a variable, unchecked at load: saturated to
    // the bound a written one has (a step's 120000 ms), so the sum cannot
    // overflow and a huge value waits no longer than the case's deadline.
    timeout = std::max(timeout, std::chrono::milliseconds(ServeWaitMs(arg["timeout_ms"])));
  }
  return std::min(timeout, left);
}

// A failure's `lines`, then the step's reply (or result) and, when
// `show_trace`, the calls it made.
std::vector<std::string> WithReply(std::vector<std::string> lines, const std::string& verb,
                                   const json& out, const std::optional<json>& trace,
                                   bool show_trace) {
  lines.push_back("  " + std::string(verb == "send" ? "Reply" : "Result") + ": " +
                  Brief(out, 2000));
  if (trace && show_trace) {
    lines.push_back("  Trace:");
    for (const json& l : (*trace)["log"]) lines.push_back("    " + l.get<std::string>());
  }
  return lines;
}

}  // namespace

bool Runner::FailStep(CaseResult* result, const std::string& label, StepFailure failure) {
  result->reason = label + ": " + failure.headline;
  result->failure = failure.headline;
  result->details.push_back(label);
  if (!failure.explained) result->details.push_back("  " + failure.headline);
  for (std::string& m : failure.more) result->details.push_back(std::move(m));
  return false;
}

bool Runner::RunStep(size_t index, const json& step, Context& ctx, CaseResult* result) {
  const std::string verb = *VerbOf(step);
  std::string error;
  std::optional<json> arg = Substitute(step[verb], ctx.vars, &error);
  const std::string label = StepLabel(index, verb, arg ? *arg : step[verb]);
  if (!arg) return FailStep(result, label, {error});
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline - Clock::now());
  if (left.count() <= 0) {
    return FailStep(result, label,
                    {"the case ran out of time (" + std::to_string(options_.case_timeout.count()) +
                     " ms in all)"});
  }
  if (verb == "sleep_ms") {
    // Never past the case's deadline.
    ctx.host->Sleep(std::min<long long>(arg->get<long long>(), left.count()));
    return true;
  }

  StepOutput output;
  std::optional<StepFailure> failure = verb == "send"
                                           ? SendRequest(step, *arg, label, left, ctx, &output)
                                           : UseHost(verb, *arg, ctx, &output);
  if (failure) return FailStep(result, label, std::move(*failure));
  for (std::string& note : output.notes) result->notes.push_back(label + ": " + note);
  if (output.trace) {
    // Kept with the result in case this step fails: reports show it.
    result->trace.clear();
    for (const json& l : (*output.trace)["log"]) result->trace.push_back(l.get<std::string>());
  }
  // From here a failure is the implementation's answer against the case's
  // expectations, which a fault never met may explain (NeverMet).
  ctx.mismatch = true;
  failure = SaveVars(step, verb, ctx, output);
  if (!failure) failure = CheckExpect(step, verb, *arg, ctx, output);
  if (failure && failure->unread) {
    if (ctx.unread.empty()) ctx.unread = label + ": " + failure->headline;
    failure.reset();
  }
  if (failure) return FailStep(result, label, std::move(*failure));
  const bool trace_seen = output.trace && !ctx.trace_unseen;
  if (step.contains("trace") && !trace_seen && ctx.blind.empty()) {
    ctx.blind = "the trace of " + label + " could not be seen: " + kNoInterposer;
  }
  if (trace_seen) failure = CheckTrace(step, verb, ctx, output);
  if (failure) return FailStep(result, label, std::move(*failure));
  result->trace.clear();  // only a failing step's trace is kept
  ctx.mismatch = false;
  return true;
}

std::optional<Runner::StepFailure> Runner::SendRequest(const json& step, const json& arg,
                                                       const std::string& label,
                                                       std::chrono::milliseconds left, Context& ctx,
                                                       StepOutput* output) const {
  Instrument* inst = ctx.session->instrument();
  if (step.contains("inject")) {
    std::string error;
    std::optional<json> rules = Substitute(step["inject"], ctx.vars, &error);
    // Substituted, and so checked again: a swap stays in the case's dir.
    std::optional<fakes::FaultPlan> faults =
        rules ? ParseFaults(*rules, &error, ctx.vars["TMP"].get<std::string>()) : std::nullopt;
    if (!faults) return StepFailure{"inject: " + error};
    ctx.reach.Arm(*faults);
    if (inst != nullptr) inst->SetFaults(std::move(*faults));
  }
  if (inst != nullptr) inst->ClearTrace();  // only this request's calls
  const std::chrono::milliseconds timeout =
      RequestTimeout(step, arg, options_.request_timeout, left);
  if (ctx.progress) ctx.progress(label, timeout);
  const json* op = arg.is_object() && arg.contains("op") ? &arg["op"] : nullptr;
  const bool bind_op =
      kernel_view_ && op != nullptr && (*op == "bind_sockets" || *op == "bind_unix_socket");
  const std::vector<int> sockets_before =
      bind_op ? SocketsNow(ctx, &output->notes) : std::vector<int>();
  Exchange ex = ctx.session->Send(WithoutUnoffered(arg), timeout);
  if (!ex.reply) {
    const std::string first = ex.failure.substr(0, ex.failure.find('\n'));
    StepFailure failure{first};
    if (first != ex.failure) failure.more.push_back(ex.failure.substr(first.size() + 1));
    return failure;
  }
  output->out = std::move(*ex.reply);
  if (inst != nullptr) output->trace = inst->TakeTrace();
  if (output->trace && !ctx.trace_unseen) {
    ctx.reach.See(*output->trace);
    ctx.traced = true;
  }
  if (bind_op && ctx.view && output->out.is_object()) {
    ObserveBindReply(*ctx.view, sockets_before, &output->out, &output->notes);
  }
  return std::nullopt;
}

// `until_accepted` only shortens a serve (it ends once the case's clients are
// in, instead of at its timeout): an adapter without the serve_until feature
// gets the request without it, and the case's expectations judge the same.
json Runner::WithoutUnoffered(const json& request) const {
  if (!request.is_object() || !request.contains("until_accepted") ||
      std::find(features_.begin(), features_.end(), "serve_until") != features_.end()) {
    return request;
  }
  json out = request;
  out.erase("until_accepted");
  return out;
}

std::vector<int> Runner::SocketsNow(Context& ctx, std::vector<std::string>* notes) const {
  std::string why;
  if (!ctx.view) {
    const std::optional<pid_t> pid = ctx.session->ProcessId();
    if (pid) ctx.view = KernelView::Open(*pid, &why);
    if (!ctx.view) {
      notes->push_back("kernel view: " + (pid ? why : "no process to look at"));
      return {};
    }
  }
  std::optional<std::vector<int>> fds = ctx.view->ListenerCandidates(&why);
  if (!fds) notes->push_back("kernel view: " + why);
  return fds.value_or(std::vector<int>());
}

void Runner::ProbeKernelView(const Session& hello_session) {
  const std::optional<pid_t> pid = hello_session.ProcessId();
  if (!pid) {
    no_kernel_view_ = "the implementation has no process of its own";
    return;
  }
  std::unique_ptr<KernelView> view = KernelView::Open(*pid, &no_kernel_view_);
  kernel_view_ = view != nullptr && view->CanCopy(STDIN_FILENO, &no_kernel_view_);
}

std::optional<Runner::StepFailure> Runner::UseHost(const std::string& verb, const json& arg,
                                                   Context& ctx, StepOutput* output) {
  json& out = output->out;
  if (IsFdVerb(verb)) {
    const std::optional<std::string> e =
        verb == kExhaustFds ? ctx.fds->Exhaust(arg, &out) : ctx.fds->Restore(arg, &out);
    if (e) return StepFailure{*e};
    return std::nullopt;
  }
  // In a process the harness shares with the implementation, not limited.
  const FdRoom::HarnessAction lifted(ctx.fds.get());
  if (verb == "connect") {
    if (auto e = ctx.host->Connect(arg, &out)) return StepFailure{*e};
  } else if (verb == "hold") {
    if (auto e = ctx.host->Hold(arg, &out)) return StepFailure{*e};
  } else if (verb == "make") {
    // LoadCatalog allowed only "${TMP}/..." paths; a variable saved from a
    // reply must not take it elsewhere either (confined_path.h).
    std::string relative;
    const auto path = arg.is_object() ? arg.find("path") : arg.end();
    if (auto e = RelativeBeneath(
            ctx.vars["TMP"].get<std::string>(),
            path != arg.end() && path->is_string() ? path->get<std::string>() : std::string(),
            &relative)) {
      return StepFailure{"make refused: " + *e};
    }
    if (auto e = ctx.host->Make(arg, &out)) return StepFailure{*e};
  } else if (verb == "check") {
    std::string relative;
    const std::string path = arg.is_string() ? arg.get<std::string>() : std::string();
    if (auto e = RelativeBeneath(ctx.vars["TMP"].get<std::string>(), path, &relative)) {
      return StepFailure{"check refused: " + *e};
    }
    out = ctx.host->Inspect(path);
  }
  return std::nullopt;
}

std::optional<Runner::StepFailure> Runner::SaveVars(const json& step, const std::string& verb,
                                                    Context& ctx, const StepOutput& output) const {
  if (!step.contains("save")) return std::nullopt;
  for (const auto& [var, ptr] : step["save"].items()) {
    const json::json_pointer p(ptr.get<std::string>());
    if (!output.out.contains(p)) {
      return StepFailure{"nothing at " + ptr.get<std::string>() + " to save as ${" + var + "}",
                         WithReply({}, verb, output.out, output.trace, options_.verbose)};
    }
    ctx.vars[var] = output.out.at(p);
  }
  return std::nullopt;
}

std::optional<Runner::StepFailure> Runner::CheckExpect(const json& step, const std::string& verb,
                                                       const json& arg, const Context& ctx,
                                                       const StepOutput& output) const {
  json expect = step.contains("expect") ? step["expect"] : json();
  if (!step.contains("expect") && verb == "connect") {
    expect = {{"connected", arg.value("count", 1)}};  // by default every client connects
  }
  if (expect.is_null()) return std::nullopt;
  std::string error;
  std::optional<json> pattern = Substitute(expect, ctx.vars, &error);
  if (!pattern) return StepFailure{"expect: " + error};
  std::optional<Mismatch> m = Match(*pattern, output.out, &ctx.designs);
  if (!m) return std::nullopt;
  // A null prop (unreadable) is no mismatch: judged without it, the rest
  // decides; holding, it is noted as unjudged (RunStep).
  std::set<std::string> unread;
  if (std::optional<json> judged = WithoutUnreadProps(*pattern, output.out, &unread)) {
    m = Match(*judged, output.out, &ctx.designs);
    if (!m) {
      std::string names;
      for (const std::string& n : unread) names += (names.empty() ? "" : ", ") + n;
      StepFailure held{"listener props " + names +
                       " could not be read (null), so the expectation on them was not judged"};
      held.unread = true;
      return held;
    }
  }
  return StepFailure{
      m->where + ": expected " + m->expected + ", got " + m->actual,
      WithReply({"  Expected: " + m->where + " = " + m->expected, "    Actual: " + m->actual}, verb,
                output.out, output.trace, options_.verbose),
      true};
}

std::optional<Runner::StepFailure> Runner::CheckTrace(const json& step, const std::string& verb,
                                                      const Context& ctx,
                                                      const StepOutput& output) {
  if (!step.contains("trace") || !output.trace) return std::nullopt;
  std::string error;
  std::optional<json> pattern = Substitute(step["trace"], ctx.vars, &error);
  if (!pattern) return StepFailure{"trace: " + error};
  std::optional<Mismatch> m;
  if (pattern->is_object() && pattern->contains("effects")) {
    // Order-free constraints on the sockets' model (trace_effects.h); the
    // rest of the pattern is matched as usual.
    if (std::optional<EffectFailure> f = CheckEffects((*pattern)["effects"], *output.trace)) {
      m = Mismatch{"/" + f->where, f->expected, f->actual};
    }
    pattern->erase("effects");
  }
  if (!m) m = Match(*pattern, *output.trace, &ctx.designs);
  if (!m) return std::nullopt;
  std::vector<std::string> lines = {"  Expected: trace " + m->where + " = " + m->expected,
                                    "    Actual: " + m->actual, "  Trace:"};
  for (const json& l : (*output.trace)["log"]) lines.push_back("    " + l.get<std::string>());
  return StepFailure{"trace " + m->where + ": expected " + m->expected + ", got " + m->actual,
                     WithReply(std::move(lines), verb, output.out, output.trace, false), true};
}

}  // namespace netutil::conform
