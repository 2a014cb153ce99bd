#include "catalog.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string_view>

#include "bounded_json.h"
#include "capabilities.h"
#include "confined_path.h"
#include "environment.h"
#include "fd_exhaust.h"
#include "install_layout.h"
#include "json_lines.h"
#include "json_match.h"
#include "report_formats.h"
#include "runner.h"
#include "spec_rules.h"
#include "trace_effects.h"

namespace netutil::conform {
namespace {

// Adapter features a case may need (what the reference's hello lists).
constexpr const char* kKnownFeatures[] = {"fds_delta",      "platform_override", "port_retries",
                                          "listener_props", "serve_hooks",       "serve_stats",
                                          "umask"};
// What a target with an instrument gives (in-process, fake kernel, interposer).
constexpr const char* kRunnerNeeds[] = {"injection", "trace"};

bool KnownNeed(const std::string& need) {
  for (const char* n : kHostNeeds) {
    if (need == n) return true;
  }
  for (const char* n : kKnownFeatures) {
    if (need == n) return true;
  }
  for (const char* n : kRunnerNeeds) {
    if (need == n) return true;
  }
  // An op or "op.field" the implementation may not offer (capabilities.h).
  return IsCapabilityNeed(need);
}

// A problem with a case: what, and the JSON pointer of the part at fault.
struct Problem {
  std::string pointer;
  std::string message;
};

// "bind/port-zero" for ".../bind/port-zero.json"; empty when the origin is not
// a file of that shape (a case given as text).
std::string IdFromPath(const std::string& origin) {
  const std::filesystem::path p(origin);
  if (p.extension() != ".json" || !p.has_parent_path()) return {};
  return p.parent_path().filename().string() + "/" + p.stem().string();
}

// What is wrong with an ID, checked in one pass over its bytes (a std::regex
// here recursed once per character and overflowed the stack on a long ID):
// <area>/<slug>, the area [a-z0-9]+, the slug [a-z0-9]+ parts joined by single
// '-', at most kMaxIdParts parts and kMaxIdBytes in all.
std::optional<std::string> IdProblem(std::string_view id) {
  if (id.size() > kMaxIdBytes) {
    return "is " + std::to_string(id.size()) + " bytes, over the limit of " +
           std::to_string(kMaxIdBytes);
  }
  const size_t slash = id.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::string("has no <area>/");
  auto alnum = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); };
  for (char ch : id.substr(0, slash)) {
    if (!alnum(ch)) return std::string("has an area not of a-z, 0-9");
  }
  size_t parts = 1;
  bool after_dash = true;  // the slug starts as after a dash: a part must begin
  for (char ch : id.substr(slash + 1)) {
    if (ch == '-') {
      if (after_dash) return std::string("has an empty slug part (\"--\" or a leading '-')");
      after_dash = true;
      if (++parts > kMaxIdParts) {
        return "has more than " + std::to_string(kMaxIdParts) + " slug parts";
      }
    } else if (alnum(ch)) {
      after_dash = false;
    } else {
      return std::string("has a slug not of a-z, 0-9 and '-'");
    }
  }
  if (after_dash) return std::string("has an empty slug or a trailing '-'");
  return std::nullopt;
}

// A title (or any one-line text of a case): no control character.
bool OneLine(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; });
}

std::optional<long long> LiteralInt(const json& spec, const char* key) {
  auto it = spec.is_object() ? spec.find(key) : spec.end();
  if (it == spec.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<long long>();
}

// Every "$glob", "$none" and "$subseq" operand of a pattern within
// kMaxGlobBytes (fnmatch backtracks: its time grows with the pattern). The
// pattern's depth is bounded by the file's, so the recursion is too.
std::optional<std::string> GlobProblem(const json& pattern) {
  if (pattern.is_object()) {
    for (const auto& [key, sub] : pattern.items()) {
      const bool glob_op = key == "$glob" || key == "$none" || key == "$subseq";
      if (glob_op) {
        const json globs = sub.is_array() ? sub : json::array({sub});
        for (const json& g : globs) {
          if (g.is_string() && g.get_ref<const std::string&>().size() > kMaxGlobBytes) {
            return key + " pattern of " + std::to_string(g.get_ref<const std::string&>().size()) +
                   " bytes, over the limit of " + std::to_string(kMaxGlobBytes);
          }
        }
      }
      if (auto e = GlobProblem(sub)) return e;
    }
  } else if (pattern.is_array()) {
    for (const json& sub : pattern) {
      if (auto e = GlobProblem(sub)) return e;
    }
  }
  return std::nullopt;
}

// Every "path" in a request (at any depth), a unix socket path the
// implementation is asked to make or use: in ${TMP}, abstract, or empty.
std::optional<std::string> RequestPathProblem(const json& request, std::string* where) {
  if (request.is_object()) {
    for (const auto& [key, sub] : request.items()) {
      if (key == "path" && sub.is_string()) {
        if (auto e = SocketPathProblem(sub.get_ref<const std::string&>())) {
          *where = "/path";
          return "path " + Brief(sub, 120) + " " + *e;
        }
      }
      if (auto e = RequestPathProblem(sub, where)) {
        *where = "/" + key + *where;
        return e;
      }
    }
  } else if (request.is_array()) {
    for (size_t i = 0; i < request.size(); ++i) {
      if (auto e = RequestPathProblem(request[i], where)) {
        *where = "/" + std::to_string(i) + *where;
        return e;
      }
    }
  }
  return std::nullopt;
}

// What is bounded per case, added up over its steps.
struct Totals {
  long long sleep_ms = 0;
  long long clients = 0;
  bool exhausts_fds = false;  // an exhaust_fds step came before
  bool sent = false;          // a send step came before
};

// What every step may carry: its sleep, its timeout, its fault rules, its
// saves, and the globs of its patterns.
std::optional<std::string> StepBoundsProblem(const json& step, Totals* totals, std::string* where) {
  if (step.contains("sleep_ms")) {
    totals->sleep_ms += step["sleep_ms"].get<long long>();  // 0..10000, CheckStep says
    if (totals->sleep_ms > kMaxSleepTotalMs) {
      *where = "/sleep_ms";
      return "the case sleeps over " + std::to_string(kMaxSleepTotalMs) + " ms in all";
    }
  }
  if (step.contains("timeout_ms")) {
    const long long t = step["timeout_ms"].get<long long>();
    if (t < 1 || t > kMaxStepTimeoutMs) {
      *where = "/timeout_ms";
      return "timeout_ms takes 1.." + std::to_string(kMaxStepTimeoutMs);
    }
  }
  if (step.contains("inject") && step["inject"].is_array() &&
      step["inject"].size() > kMaxFaultRules) {
    *where = "/inject";
    return "over " + std::to_string(kMaxFaultRules) + " fault rules";
  }
  if (step.contains("save") && step["save"].size() > kMaxSaves) {
    *where = "/save";
    return "saves over " + std::to_string(kMaxSaves) + " variables";
  }
  for (const char* p : {"expect", "trace"}) {
    if (step.contains(p)) {
      if (auto e = GlobProblem(step[p])) {
        *where = std::string("/") + p;
        return std::string(p) + ": " + *e;
      }
    }
  }
  if (step.contains("trace") && step["trace"].is_object() && step["trace"].contains("effects")) {
    // A closed vocabulary (trace_effects.h): a misspelt constraint would
    // otherwise hold vacuously.
    if (auto e = EffectsProblem(step["trace"]["effects"])) {
      *where = "/trace/effects";
      return "trace: " + *e;
    }
  }
  return std::nullopt;
}

// A "send" step's request.
std::optional<std::string> SendProblem(const json& request, std::string* where) {
  // A serve's own timeout sets how long netconform waits (runner.cc adds
  // to it): bounded so the sum cannot overflow.
  const std::optional<long long> serve_ms = LiteralInt(request, "timeout_ms");
  if (serve_ms && (*serve_ms < 0 || *serve_ms > kMaxStepTimeoutMs)) {
    *where = "/send/timeout_ms";
    return "send: timeout_ms takes 0.." + std::to_string(kMaxStepTimeoutMs);
  }
  if (auto e = RequestPathProblem(request, where)) {
    *where = "/send" + *where;
    return "send: " + *e;
  }
  return std::nullopt;
}

// The keys of the `verb` step's spec: all among `known`.
std::optional<std::string> UnknownKeyProblem(const std::string& verb, const json& spec,
                                             std::initializer_list<std::string_view> known,
                                             std::string* where) {
  for (const auto& [key, value] : spec.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      *where = "/" + verb + "/" + key;
      return verb + ": unknown key \"" + key + "\"";
    }
  }
  return std::nullopt;
}

// A "connect" step's spec; `totals` adds its clients.
std::optional<std::string> ConnectProblem(const json& spec, Totals* totals, std::string* where) {
  if (auto e =
          UnknownKeyProblem("connect", spec, {"host", "address", "port", "path", "count"}, where)) {
    return e;
  }
  if (spec.contains("path") && spec["path"].is_string()) {
    if (auto e = SocketPathProblem(spec["path"].get_ref<const std::string&>())) {
      *where = "/connect/path";
      return "connect: path " + *e;
    }
  }
  // A count from a variable is checked when the step runs (host.h kMaxClients).
  const std::optional<long long> count = LiteralInt(spec, "count");
  if (count && (*count < 1 || *count > host::kMaxClients)) {
    *where = "/connect/count";
    return "connect: count takes 1.." + std::to_string(host::kMaxClients);
  }
  totals->clients += count.value_or(1);
  if (totals->clients > kMaxClientsPerCase) {
    *where = "/connect/count";
    return "the case connects over " + std::to_string(kMaxClientsPerCase) + " clients in all";
  }
  return std::nullopt;
}

// The keys of a "make" step's spec: known, each a string.
std::optional<std::string> MakeKeysProblem(const json& spec, std::string* where) {
  for (const auto& [key, value] : spec.items()) {
    if (key != "path" && key != "kind" && key != "content" && key != "target") {
      *where = "/make/" + key;
      return "make: unknown key \"" + key + "\"";
    }
    if (!value.is_string()) {
      *where = "/make/" + key;
      return "make: " + key + " must be a string";
    }
  }
  if (!spec.contains("path") || !spec.contains("kind")) {
    *where = "/make";
    return "make needs a path and a kind";
  }
  return std::nullopt;
}

// A "make" step's spec: what it makes and where, all in the case's temp dir.
std::optional<std::string> MakeProblem(const json& spec, std::string* where) {
  if (auto e = MakeKeysProblem(spec, where)) return e;
  if (auto e = CasePathProblem(spec["path"].get_ref<const std::string&>())) {
    *where = "/make/path";
    return "make: path " + Brief(spec["path"], 120) + " " + *e;
  }
  const std::string& kind = spec["kind"].get_ref<const std::string&>();
  if (kind != "regular" && kind != "dir" && kind != "symlink" && kind != "stale_socket" &&
      kind != "live_socket") {
    *where = "/make/kind";
    return "make: unknown kind \"" + kind + "\" (regular, dir, symlink, stale_socket, live_socket)";
  }
  if (kind == "symlink") {
    // What the link points to is the implementation's to follow: in ${TMP}
    // as well, so a case cannot lead it to a file outside.
    if (!spec.contains("target")) {
      *where = "/make";
      return "make: a symlink needs a target";
    }
    if (auto e = CasePathProblem(spec["target"].get_ref<const std::string&>())) {
      *where = "/make/target";
      return "make: target " + Brief(spec["target"], 120) + " " + *e;
    }
  }
  return std::nullopt;
}

// The checks of one step beyond CheckStep's (runner.cc): the limits of
// docs/CONFORMANCE.md "Limits" and paths kept in the case's temp dir.
// `totals` adds up what is bounded per case. `where` gets the pointer, below
// the step's, of the part at fault. The parts above each set it the same way.
std::optional<std::string> StepLimitProblem(const json& step, Totals* totals, std::string* where) {
  if (auto e = StepBoundsProblem(step, totals, where)) return e;
  if (step.contains("send")) {
    if (auto e = SendProblem(step["send"], where)) return e;
  }
  if (step.contains("connect")) {
    if (auto e = ConnectProblem(step["connect"], totals, where)) return e;
  }
  if (step.contains("hold")) {
    if (auto e = UnknownKeyProblem("hold", step["hold"], {"host", "address", "port"}, where)) {
      return e;
    }
  }
  if (step.contains("make")) {
    if (auto e = MakeProblem(step["make"], where)) return e;
  }
  if (step.contains("send")) totals->sent = true;
  // Before the implementation has answered a request it may still be
  // starting (a dynamic loader, a runtime): a limit then starves its start.
  if (step.contains(kExhaustFds) && !totals->sent) {
    *where = std::string("/") + kExhaustFds;
    return std::string(kExhaustFds) +
           " needs a send step before it: the implementation may still be starting";
  }
  if (step.contains(kExhaustFds)) totals->exhausts_fds = true;
  if (step.contains(kRestoreFds) && !totals->exhausts_fds) {
    *where = std::string("/") + kRestoreFds;
    return std::string(kRestoreFds) + " needs an exhaust_fds step before it";
  }
  if (step.contains("check")) {
    if (auto e = CasePathProblem(step["check"].get_ref<const std::string&>())) {
      *where = "/check";
      return "check: path " + Brief(step["check"], 120) + " " + *e;
    }
  }
  return std::nullopt;
}

// One fault dialect (issue 12): env.faults and a step's "inject" hold
// fault-plan rule lines, nothing else; a rule object of the old dialect, or
// env.fault_plan (the old name of the lines), is named with the pointer of
// the element at fault, so the error gives its line.
std::optional<Problem> FaultLinesProblem(const json& rules, const std::string& pointer,
                                         const std::string& label) {
  if (!rules.is_array()) return std::nullopt;  // ParseFaults says what is wrong
  for (size_t k = 0; k < rules.size(); ++k) {
    if (rules[k].is_string()) continue;
    return Problem{
        pointer + "/" + std::to_string(k),
        label + "[" + std::to_string(k) + "]: " + kNotARuleLine + ", not " + Brief(rules[k], 120)};
  }
  return std::nullopt;
}

std::optional<Problem> EnvFaultDialectProblem(const json& env) {
  if (!env.is_object()) return std::nullopt;
  if (env.contains("fault_plan")) {
    return Problem{"/env/fault_plan",
                   "env.fault_plan: the fault-plan lines go in env.faults (the one list of fault "
                   "rules)"};
  }
  if (env.contains("faults")) return FaultLinesProblem(env["faults"], "/env/faults", "env.faults");
  return std::nullopt;
}

// A file mode in a case is an octal string, "0660" as ls and chmod write it:
// a decimal 432 reads as nothing. Returns the mode's value, or why `text` is
// not one (a missing leading 0, a digit that is not octal, over 07777).
std::optional<int> OctalMode(const std::string& text, std::string* why) {
  if (text.empty() || text[0] != '0') {
    *why = "an octal mode starts with 0, like \"0660\"";
    return std::nullopt;
  }
  long long value = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '7') {
      *why = std::string("'") + ch + "' is not an octal digit";
      return std::nullopt;
    }
    value = std::min(value * 8 + (ch - '0'), 010000LL);  // capped: no overflow
  }
  if (value > 07777) {
    *why = "over 07777 (the permission and set-id bits)";
    return std::nullopt;
  }
  return static_cast<int>(value);
}

// A whole "${name}": a saved value, checked when the step runs.
bool IsVariable(const std::string& s) {
  return s.size() > 3 && s.rfind("${", 0) == 0 && s.back() == '}' && s.find('}') == s.size() - 1;
}

// The "mode" of a send request or a check's expectation, written as an
// octal string (or a variable), replaced by its number: what the adapter
// protocol and the check's observation carry. A request may send a value
// as written with {"$raw": N}, for a case that checks the implementation's
// own argument check (UNIX-013).
std::optional<std::string> NormalizeMode(json* mode, bool raw_allowed) {
  if (mode->is_string()) {
    const std::string& text = mode->get_ref<const std::string&>();
    if (IsVariable(text)) return std::nullopt;
    std::string why;
    const std::optional<int> value = OctalMode(text, &why);
    if (!value) return "mode " + Brief(*mode, 40) + ": " + why;
    *mode = *value;
    return std::nullopt;
  }
  if (raw_allowed && mode->is_object() && mode->size() == 1 && mode->contains("$raw")) {
    *mode = json((*mode)["$raw"]);
    return std::nullopt;
  }
  if (mode->is_number_integer() && mode->get<long long>() >= 0 && mode->get<long long>() <= 07777) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "0%03llo",
                  static_cast<unsigned long long>(mode->get<long long>()));
    return "mode " + mode->dump() + " is decimal: write a file mode as an octal string, \"" +
           octal + "\"";
  }
  return "mode " + Brief(*mode, 40) + " is not an octal string like \"0660\"" +
         (raw_allowed ? " (a value sent as written is {\"$raw\": N})" : "");
}

// The old forms a step may still be written in: a fault rule object in
// "inject", a decimal mode. Modes are replaced by their numbers in `step`.
std::optional<Problem> StepFormProblem(json* step, const std::string& at,
                                       const std::string& label) {
  if (!step->is_object()) return std::nullopt;  // CheckStep says what is wrong
  if (step->contains("inject")) {
    if (auto p = FaultLinesProblem((*step)["inject"], at + "/inject", "inject")) {
      p->message = label + p->message;
      return p;
    }
  }
  struct Place {
    const char* verb;
    const char* object;
    bool raw_allowed;
  };
  for (const Place& place : {Place{"send", "send", true}, Place{"check", "expect", false}}) {
    if (!step->contains(place.verb) || !step->contains(place.object)) continue;
    json& holder = (*step)[place.object];
    if (!holder.is_object() || !holder.contains("mode")) continue;
    if (auto e = NormalizeMode(&holder["mode"], place.raw_allowed)) {
      return Problem{at + "/" + place.object + "/mode", label + place.object + ": " + *e};
    }
  }
  return std::nullopt;
}

// "reference_only" and "synthetic" take the same form: {"impls": [hello impl
// names, 1 to 8], "why": "one line"}. `key` names the member in problems.
std::optional<Problem> JudgedOnlyProblem(const json& r, const std::string& key,
                                         std::vector<std::string>* impls_out,
                                         std::string* why_out) {
  constexpr size_t kMaxImpls = 8;
  const std::string form =
      key + " takes {\"impls\": [hello impl names], \"why\": \"" +
      (key == "synthetic" ? "why no kernel gives this state" : "what method it checks") + "\"}";
  if (!r.is_object() || !r.contains("impls") || !r.contains("why") || r.size() != 2) {
    return Problem{"/" + key, form};
  }
  const json& impls = r["impls"];
  if (!impls.is_array() || impls.empty() || impls.size() > kMaxImpls) {
    return Problem{"/" + key + "/impls", key + ".impls: 1 to 8 implementation names"};
  }
  for (const json& i : impls) {
    if (!i.is_string() || i.get<std::string>().empty() || i.get<std::string>().size() > 64 ||
        !OneLine(i.get<std::string>())) {
      return Problem{"/" + key + "/impls",
                     key + ".impls: " + Brief(i, 80) + " is no implementation name"};
    }
    impls_out->push_back(i.get<std::string>());
  }
  const json& why = r["why"];
  if (!why.is_string() || why.get<std::string>().empty() ||
      why.get<std::string>().size() > kMaxTitleBytes || !OneLine(why.get<std::string>())) {
    return Problem{"/" + key + "/why",
                   key + ".why: one line of at most " + std::to_string(kMaxTitleBytes) + " bytes"};
  }
  *why_out = why.get<std::string>();
  return std::nullopt;
}

// Whether the case makes any state by injection: a fault rule in env.faults
// or in a step's inject, or a resolver answer that is an error.
bool InjectsFaults(const json& j) {
  const json env = j.value("env", json::object());
  if (!env.is_object()) return false;
  if (env.contains("faults") && env["faults"].is_array() && !env["faults"].empty()) return true;
  if (env.contains("resolver") && env["resolver"].is_array()) {
    for (const json& e : env["resolver"]) {
      if (e.is_object() && e.contains("error")) return true;
    }
  }
  if (j.contains("steps") && j["steps"].is_array()) {
    for (const json& step : j["steps"]) {
      if (step.is_object() && step.contains("inject") && step["inject"].is_array() &&
          !step["inject"].empty())
        return true;
    }
  }
  return false;
}

std::optional<Problem> CheckCase(const json& j, Case* c) {
  if (!j.is_object()) return Problem{"", "a case must be a JSON object"};
  for (const auto& [key, value] : j.items()) {
    if (key != "id" && key != "rules" && key != "title" && key != "env" && key != "steps" &&
        key != "reference_only" && key != "synthetic") {
      return Problem{"/" + key, "unknown key \"" + key + "\""};
    }
  }
  if (j.contains("reference_only")) {
    if (auto p = JudgedOnlyProblem(j["reference_only"], "reference_only", &c->reference_impls,
                                   &c->reference_why))
      return p;
  }
  if (j.contains("synthetic")) {
    if (j.contains("reference_only")) {
      // One judged set a case: a reference-only case already leaves every
      // other implementation N/A, and two reasons would contradict.
      return Problem{"/synthetic", "a case is reference_only or synthetic, not both"};
    }
    if (auto p =
            JudgedOnlyProblem(j["synthetic"], "synthetic", &c->synthetic_impls, &c->synthetic_why))
      return p;
    if (!InjectsFaults(j)) {
      return Problem{"/synthetic",
                     "synthetic: the case injects no fault (env.faults, a step's inject, an "
                     "env.resolver error): there is no state for the kernel not to give"};
    }
  }
  if (!j.contains("id") || !j["id"].is_string()) {
    return Problem{"/id", "id must be a string like area/kebab-slug"};
  }
  if (std::optional<std::string> why = IdProblem(j["id"].get_ref<const std::string&>())) {
    return Problem{
        "/id", "id " + Brief(j["id"], 120) + " " + *why + ": it must look like area/kebab-slug"};
  }
  c->id = j["id"].get<std::string>();
  if (const std::string want = IdFromPath(c->origin); !want.empty() && want != c->id) {
    return Problem{"/id", "id \"" + c->id + "\" does not match the file's path (" + want + ")"};
  }
  if (!j.contains("rules") || !j["rules"].is_array() || j["rules"].empty()) {
    return Problem{"/rules", "rules must name at least one rule of docs/SPEC.md"};
  }
  if (j["rules"].size() > kMaxRules) {
    return Problem{"/rules", "over " + std::to_string(kMaxRules) + " rules"};
  }
  c->level = "tornado";
  for (size_t k = 0; k < j["rules"].size(); ++k) {
    const json& r = j["rules"][k];
    const std::string where = "/rules/" + std::to_string(k);
    const spec::Rule* rule = r.is_string() ? spec::FindRule(r.get<std::string>()) : nullptr;
    if (rule == nullptr) return Problem{where, "rule " + Brief(r, 120) + " is not in docs/SPEC.md"};
    if (rule->withdrawn) return Problem{where, "rule " + r.dump() + " is withdrawn"};
    if (std::string_view(rule->mark) == "strict") c->level = "strict";
    c->rules.push_back(r.get<std::string>());
  }
  if (!j.contains("title") || !j["title"].is_string() || j["title"].get<std::string>().empty()) {
    return Problem{"/title", "title must be a non-empty string"};
  }
  const std::string& title = j["title"].get_ref<const std::string&>();
  if (title.size() > kMaxTitleBytes || !OneLine(title)) {
    return Problem{"/title", "title must be one line of at most " + std::to_string(kMaxTitleBytes) +
                                 " bytes, no control character"};
  }
  c->title = title;
  c->env = j.value("env", json::object());
  if (auto p = EnvFaultDialectProblem(c->env)) return p;
  std::string error;
  std::optional<Environment> env = ParseEnvironment(c->env, &error);
  if (!env) return Problem{"/env", error};
  if (env->needs.size() > kMaxNeeds) {
    return Problem{"/env/needs", "env.needs: over " + std::to_string(kMaxNeeds) + " names"};
  }
  for (const std::string& need : env->needs) {
    if (!KnownNeed(need)) return Problem{"/env/needs", "env.needs: unknown need \"" + need + "\""};
  }
  if (env->faults.rules().size() > kMaxFaultRules) {
    return Problem{"/env", "env: over " + std::to_string(kMaxFaultRules) + " fault rules"};
  }
  if (c->env.contains("resolver") && c->env["resolver"].size() > kMaxResolverEntries) {
    return Problem{"/env/resolver",
                   "env.resolver: over " + std::to_string(kMaxResolverEntries) + " entries"};
  }
  if (!j.contains("steps") || !j["steps"].is_array() || j["steps"].empty()) {
    return Problem{"/steps", "steps must be a non-empty array"};
  }
  if (j["steps"].size() > kMaxSteps) {
    return Problem{"/steps", "over " + std::to_string(kMaxSteps) + " steps"};
  }
  c->steps = j["steps"];
  Totals totals;
  for (size_t i = 0; i < c->steps.size(); ++i) {
    const std::string at = "/steps/" + std::to_string(i);
    const std::string label = "step " + std::to_string(i + 1) + ": ";
    if (auto p = StepFormProblem(&c->steps[i], at, label)) return p;
    if (auto e = CheckStep(c->steps[i])) return Problem{at, label + *e};
    std::string where;
    if (auto e = StepLimitProblem(c->steps[i], &totals, &where)) {
      return Problem{at + where, label + *e};
    }
  }
  return std::nullopt;
}

}  // namespace

namespace {

// A problem as printed: it may quote the file's own text (a key, a rule), so
// it is cut to a length and has no control character or workflow command
// left for the terminal or CI log (report_formats.h TerminalText).
std::string Shown(const std::string& message) { return TerminalText(BoundedString(message, 1000)); }

}  // namespace

std::vector<Case> LoadCatalog(const std::vector<CaseSource>& sources,
                              std::vector<std::string>* problems) {
  std::vector<Case> out;
  std::set<std::string> ids;
  for (const CaseSource& src : sources) {
    // Within the limits (size, depth, string length) before any tree is built.
    JsonProblem bad;
    std::optional<json> parsed = ParseJsonBounded(src.text, kCaseFileLimits, &bad);
    if (!parsed) {
      const auto [line, column] = LineColumn(src.text, bad.offset);
      problems->push_back(src.origin + ":" + std::to_string(line) + ":" + std::to_string(column) +
                          ": " + bad.message);
      continue;
    }
    const json& j = *parsed;
    Case c;
    c.origin = src.origin;
    if (std::optional<Problem> p = CheckCase(j, &c)) {
      const int line = LineOf(src.text, p->pointer);
      problems->push_back(src.origin + ":" + std::to_string(line) + ": " +
                          (c.id.empty() ? "" : "[" + c.id + "] ") + Shown(p->message));
      continue;
    }
    if (!ids.insert(c.id).second) {
      problems->push_back(src.origin + ":" + std::to_string(LineOf(src.text, "/id")) +
                          ": duplicate id " + c.id);
      continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

// The file's text, read through one descriptor opened without blocking (a
// FIFO named *.json must not hang the load) and checked to be a regular file
// (not a device), and at most kCaseFileLimits.max_bytes + 1 bytes of it.
std::optional<std::string> ReadCaseFile(const std::string& name, std::string* why) {
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    *why = std::string("cannot open it: ") + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *why = "not a regular file";
  } else {
    const size_t cap = kCaseFileLimits.max_bytes + 1;
    char buf[65536];
    while (text.size() < cap) {
      const ssize_t n = ::read(fd, buf, std::min(sizeof buf, cap - text.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        *why = std::string("cannot read it: ") + std::strerror(errno);
        break;
      }
      if (n == 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    if (text.size() > kCaseFileLimits.max_bytes) {
      *why = "over " + std::to_string(kCaseFileLimits.max_bytes) + " bytes; a case is small";
    }
  }
  ::close(fd);
  if (!why->empty()) return std::nullopt;
  return text;
}

}  // namespace

std::vector<CaseSource> ReadCaseDir(const std::string& dir, std::vector<std::string>* problems) {
  namespace fs = std::filesystem;
  std::vector<CaseSource> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    problems->push_back(dir + ": not a directory of cases");
    return out;
  }
  std::vector<fs::path> files;
  // Directory symlinks are not followed (the iterator's default), so a loop
  // of links cannot make this endless.
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".json") continue;
    if (files.size() == kMaxCaseFiles) {
      problems->push_back(dir + ": over " + std::to_string(kMaxCaseFiles) + " *.json files");
      return {};
    }
    files.push_back(it->path());
  }
  if (ec) problems->push_back(dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    const std::string name = f.string();
    std::string why;
    std::optional<std::string> text = ReadCaseFile(name, &why);
    if (!text) {
      problems->push_back(name + ": " + why);
      continue;
    }
    out.push_back({name, std::move(*text)});
  }
  if (out.empty() && problems->empty()) problems->push_back(dir + ": no *.json case files");
  return out;
}

std::string DefaultCaseDir() {
  if (const char* env = std::getenv("NETCONFORM_CASES"); env != nullptr && *env != '\0') {
    return env;
  }
  // An installed netconform: the catalog of its own prefix.
  if (std::optional<std::string> installed = InstalledDataDir("cases")) return *installed;
  return NETCONFORM_CASES_DIR;
}

std::string CatalogVersion(const std::string& dir) {
  std::ifstream in(std::filesystem::path(dir) / "VERSION");
  std::string line;
  if (!in || !std::getline(in, line)) return "unversioned";
  // MAJOR.MINOR.PATCH: digits and two dots, nothing else (a report quotes it).
  int dots = 0;
  for (char ch : line) {
    if (ch == '.') {
      ++dots;
    } else if (ch < '0' || ch > '9') {
      return "invalid";
    }
  }
  if (dots != 2 || line.size() > 32 || line.front() == '.' || line.back() == '.' ||
      line.find("..") != std::string::npos) {
    return "invalid";
  }
  return line;
}

}  // namespace netutil::conform
