#include "runner.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>
#include <thread>

#include "confined_path.h"
#include "environment.h"
#include "json_match.h"
#include "netns.h"
#include "netutil/errno_name.h"

namespace netutil::conform {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kVerbs[] = {"send", "connect", "hold", "make", "check", "sleep_ms"};

// Why a target has no fault injection or trace.
const char* kNoInterposer =
    "this target has no instrument (--mode inprocess, --mode fake, or the interposer)";

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

// Every need of a case: what its env names, and what its steps imply.
std::set<std::string> NeedsOf(const Case& c, const Environment& env) {
  std::set<std::string> needs(env.needs.begin(), env.needs.end());
  if (env.injects()) needs.insert("injection");
  for (const json& step : c.steps) {
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

std::string TmpBase() {
  const char* t = ::getenv("TMPDIR");
  // Unix socket paths hold 108 bytes: keep the base short.
  if (t != nullptr && *t != '\0' && std::string(t).size() <= 48) return t;
  return "/tmp";
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "OK";
    case Verdict::kNonStrict:
      return "NON-STRICT";
    case Verdict::kFailed:
      return "FAILED";
    case Verdict::kSkipped:
      return "SKIPPED";
  }
  return "?";
}

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
           "sleep_ms: " +
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

struct Runner::Context {
  Session* session = nullptr;
  host::Host* host = nullptr;
  Vars vars;
  Clock::time_point deadline;  // the case's; see RunOptions::case_timeout
};

Runner::Runner(Target& target, RunOptions options)
    : target_(target), options_(std::move(options)) {}

Runner::~Runner() {
  if (!tmp_root_.empty() && !options_.keep_tmp) {
    std::error_code ec;
    std::filesystem::remove_all(tmp_root_, ec);
  }
}

std::optional<std::string> Runner::Prepare() {
  std::string tmpl = TmpBase() + "/netconform-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return "cannot make a temp dir under " + TmpBase();
  tmp_root_ = tmpl;
  probe_ = host::ProbeHost();

  const std::string dir = tmp_root_ + "/hello";
  std::error_code ec;
  std::filesystem::create_directory(dir, ec);
  std::string error;
  std::unique_ptr<Session> s = target_.Open(dir, Environment{}, &error);
  if (!s) return "cannot start the implementation: " + error;
  Exchange ex = s->Send({{"op", "hello"}}, options_.request_timeout);
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
  return std::nullopt;
}

std::optional<std::string> Runner::Unmet(const Case& c) const {
  std::string error;
  std::optional<Environment> env = ParseEnvironment(c.env, &error);
  if (!env) return "bad env: " + error;  // LoadCatalog makes this unreachable
  for (const std::string& need : NeedsOf(c, *env)) {
    if (need == "injection" && !target_.CanInject())
      return "needs fault injection; " + std::string(kNoInterposer);
    if (need == "trace" && !target_.CanInject())
      return "needs a syscall trace; " + std::string(kNoInterposer);
    if (need == "injection" || need == "trace") continue;
    if (need == "ipv6") {
      if (!probe_.ipv6) return "the host cannot listen on [::1] (no IPv6)";
      continue;
    }
    if (need == "loopback2") {
      if (!probe_.loopback2) return "the host cannot listen on 127.0.0.2";
      continue;
    }
    if (std::find(features_.begin(), features_.end(), need) == features_.end()) {
      return "the implementation (" + StringField(hello_, "impl", "unknown") +
             ") does not offer \"" + need + "\"";
    }
  }
  if (std::optional<std::string> why = target_.CannotMake(*env)) return why;
  if (env->needs_netns() && target_.RealKernel()) {
    if (std::optional<std::string> why = netns::Unavailable()) return *why;
  }
  return std::nullopt;
}

CaseResult Runner::Run(const Case& c) {
  const auto start = Clock::now();
  CaseResult result;
  result.c = &c;
  auto done = [&](CaseResult r) {
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return r;
  };
  if (std::optional<std::string> why = Unmet(c)) {
    result.verdict = Verdict::kSkipped;
    result.reason = *why;
    return done(std::move(result));
  }

  const int n = ++case_counter_;
  const std::string dir = tmp_root_ + "/" + std::to_string(n);
  std::error_code ec;
  if (tmp_root_.empty()) ec = std::make_error_code(std::errc::no_such_file_or_directory);
  if (!ec) std::filesystem::create_directory(dir, ec);
  if (ec) {
    result.verdict = Verdict::kFailed;
    result.reason = "cannot make the case's temp dir " + dir + ": " + ec.message();
    return done(std::move(result));
  }

  std::string error;
  const Environment env = *ParseEnvironment(c.env, &error);
  // A private network namespace for this thread, for what the real kernel
  // must provide itself; the implementation is started inside it.
  std::optional<netns::Scope> ns;
  if (env.needs_netns() && target_.RealKernel()) {
    ns.emplace();
    netns::Settings settings;
    settings.port_range = env.port_range;
    settings.no_loopback6 = env.ipv6_partial;
    if (std::optional<std::string> why = ns->Enter(settings)) {
      result.verdict = Verdict::kFailed;
      result.reason = "cannot make the network namespace: " + *why;
      return done(std::move(result));
    }
  }
  std::unique_ptr<Session> session = target_.Open(dir, env, &error);
  if (!session) {
    result.verdict = Verdict::kFailed;
    result.reason = "cannot start the implementation: " + error;
    return done(std::move(result));
  }
  host::RealHost real_host(dir);  // its make and check stay beneath the case's dir
  Context ctx;
  ctx.session = session.get();
  ctx.host = session->host() != nullptr ? session->host() : &real_host;
  ctx.vars["TMP"] = dir;
  ctx.vars["RUN"] = std::to_string(::getpid()) + "-" + std::to_string(n);
  ctx.deadline = start + options_.case_timeout;

  bool ok = true;
  try {
    for (size_t i = 0; ok && i < c.steps.size(); ++i) ok = RunStep(i, c.steps[i], ctx, &result);
  } catch (const std::exception& e) {  // a bug of ours must not end the run
    ok = false;
    result.reason = std::string("netconform error: ") + e.what();
  }
  const std::string closing = session->Close(options_.request_timeout);
  if (ok && !closing.empty()) {
    ok = false;
    result.reason = closing.substr(0, closing.find('\n'));
    result.details.push_back(closing);
  }
  session.reset();
  ctx.host = nullptr;
  real_host = host::RealHost();
  if (!options_.keep_tmp) std::filesystem::remove_all(dir, ec);
  if (ok) {
    result.verdict = Verdict::kOk;
  } else {
    // A strict rule missed is no failure for an implementation held to Tornado's.
    result.verdict = c.strict() && options_.profile == Profile::kTornado ? Verdict::kNonStrict
                                                                         : Verdict::kFailed;
  }
  return done(std::move(result));
}

bool Runner::RunStep(size_t index, const json& step, Context& ctx, CaseResult* result) {
  const std::string verb = *VerbOf(step);
  std::string error;
  // `more` starts with its own Expected/Actual lines when `explained`;
  // otherwise the headline is the explanation.
  auto fail = [&](const std::string& label, const std::string& headline,
                  std::vector<std::string> more = {}, bool explained = false) {
    result->reason = label + ": " + headline;
    result->failure = headline;
    result->details.push_back(label);
    if (!explained) result->details.push_back("  " + headline);
    for (std::string& m : more) result->details.push_back(std::move(m));
    return false;
  };

  std::optional<json> arg = Substitute(step[verb], ctx.vars, &error);
  const std::string label = StepLabel(index, verb, arg ? *arg : step[verb]);
  if (!arg) return fail(label, error);
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline - Clock::now());
  if (left.count() <= 0) {
    return fail(label, "the case ran out of time (" +
                           std::to_string(options_.case_timeout.count()) + " ms in all)");
  }

  json out;  // the step's result: what expect and save look at
  std::optional<json> trace;
  if (verb == "send") {
    Instrument* inst = ctx.session->instrument();
    if (step.contains("inject")) {
      std::optional<json> rules = Substitute(step["inject"], ctx.vars, &error);
      std::optional<fakes::FaultPlan> faults = rules ? ParseFaults(*rules, &error) : std::nullopt;
      if (!faults) return fail(label, "inject: " + error);
      if (inst != nullptr) inst->SetFaults(std::move(*faults));
    }
    if (inst != nullptr) inst->ClearTrace();  // only this request's calls
    auto timeout = options_.request_timeout;
    if (step.contains("timeout_ms")) {
      timeout = std::chrono::milliseconds(step["timeout_ms"].get<long long>());
    } else if (arg->contains("timeout_ms") && (*arg)["timeout_ms"].is_number_integer()) {
      // A serve may rightly take its own timeout: wait that long and more.
      timeout = std::max(timeout,
                         std::chrono::milliseconds((*arg)["timeout_ms"].get<long long>() + 5000));
    }
    Exchange ex = ctx.session->Send(*arg, std::min(timeout, left));
    if (!ex.reply) {
      const std::string first = ex.failure.substr(0, ex.failure.find('\n'));
      return fail(label, first,
                  first == ex.failure
                      ? std::vector<std::string>{}
                      : std::vector<std::string>{ex.failure.substr(first.size() + 1)});
    }
    out = std::move(*ex.reply);
    if (inst != nullptr) trace = inst->TakeTrace();
  } else if (verb == "connect") {
    if (auto e = ctx.host->Connect(*arg, &out)) return fail(label, *e);
  } else if (verb == "hold") {
    if (auto e = ctx.host->Hold(*arg, &out)) return fail(label, *e);
  } else if (verb == "make") {
    // LoadCatalog allowed only "${TMP}/..." paths; a variable saved from a
    // reply must not take it elsewhere either (confined_path.h).
    std::string relative;
    const auto path = arg->is_object() ? arg->find("path") : arg->end();
    if (auto e = RelativeBeneath(
            ctx.vars["TMP"].get<std::string>(),
            path != arg->end() && path->is_string() ? path->get<std::string>() : std::string(),
            &relative)) {
      return fail(label, "make refused: " + *e);
    }
    if (auto e = ctx.host->Make(*arg, &out)) return fail(label, *e);
  } else if (verb == "check") {
    std::string relative;
    const std::string path = arg->is_string() ? arg->get<std::string>() : std::string();
    if (auto e = RelativeBeneath(ctx.vars["TMP"].get<std::string>(), path, &relative)) {
      return fail(label, "check refused: " + *e);
    }
    out = ctx.host->Inspect(path);
  } else if (verb == "sleep_ms") {
    ctx.host->Sleep(arg->get<long long>());
    return true;
  }

  if (trace) {
    // Kept with the result in case this step fails: reports show it.
    result->trace.clear();
    for (const json& l : (*trace)["log"]) result->trace.push_back(l.get<std::string>());
  }
  auto with_reply = [&](std::vector<std::string> lines, bool show_trace) {
    lines.push_back("  " + std::string(verb == "send" ? "Reply" : "Result") + ": " +
                    Brief(out, 2000));
    if (trace && show_trace) {
      lines.push_back("  Trace:");
      for (const json& l : (*trace)["log"]) lines.push_back("    " + l.get<std::string>());
    }
    return lines;
  };

  if (step.contains("save")) {
    for (const auto& [var, ptr] : step["save"].items()) {
      const json::json_pointer p(ptr.get<std::string>());
      if (!out.contains(p)) {
        return fail(label, "nothing at " + ptr.get<std::string>() + " to save as ${" + var + "}",
                    with_reply({}, options_.verbose));
      }
      ctx.vars[var] = out.at(p);
    }
  }

  json expect = step.contains("expect") ? step["expect"] : json();
  if (!step.contains("expect") && verb == "connect") {
    expect = {{"connected", (*arg).value("count", 1)}};  // by default every client connects
  }
  if (!expect.is_null()) {
    std::optional<json> pattern = Substitute(expect, ctx.vars, &error);
    if (!pattern) return fail(label, "expect: " + error);
    if (std::optional<Mismatch> m = Match(*pattern, out)) {
      return fail(
          label, m->where + ": expected " + m->expected + ", got " + m->actual,
          with_reply({"  Expected: " + m->where + " = " + m->expected, "    Actual: " + m->actual},
                     options_.verbose),
          true);
    }
  }
  if (step.contains("trace") && !trace) {
    const std::string note = "trace unchecked: " + std::string(kNoInterposer);
    if (std::find(result->notes.begin(), result->notes.end(), note) == result->notes.end()) {
      result->notes.push_back(note);
    }
  }
  if (step.contains("trace") && trace) {
    std::optional<json> pattern = Substitute(step["trace"], ctx.vars, &error);
    if (!pattern) return fail(label, "trace: " + error);
    if (std::optional<Mismatch> m = Match(*pattern, *trace)) {
      std::vector<std::string> lines = {"  Expected: trace " + m->where + " = " + m->expected,
                                        "    Actual: " + m->actual, "  Trace:"};
      for (const json& l : (*trace)["log"]) lines.push_back("    " + l.get<std::string>());
      return fail(label, "trace " + m->where + ": expected " + m->expected + ", got " + m->actual,
                  with_reply(std::move(lines), false), true);
    }
  }
  result->trace.clear();  // only a failing step's trace is kept
  return true;
}

}  // namespace netutil::conform
