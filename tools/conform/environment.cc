#include "environment.h"

#include <netdb.h>
#include <sys/socket.h>

#include "confined_path.h"
#include "json_match.h"
#include "netutil/errno_name.h"
#include "netutil/fakes/call_args.h"
#include "netutil/sock_addr.h"
#include "protocol.h"

namespace netutil::conform {
namespace {

bool Fail(std::string* error, std::string message) {
  *error = std::move(message);
  return false;
}

// Only the listed keys may appear in `obj`.
bool OnlyKeys(const json& obj, std::initializer_list<const char*> keys, const char* what,
              std::string* error) {
  for (const auto& [key, value] : obj.items()) {
    bool ok = false;
    for (const char* k : keys) ok = ok || key == k;
    if (!ok) return Fail(error, std::string(what) + ": unknown key \"" + key + "\"");
  }
  return true;
}

bool ParseFault(const json& j, fakes::FaultRule* r, std::string* error) {
  if (!j.is_object()) return Fail(error, "fault rule must be an object: " + Brief(j));
  if (!OnlyKeys(j, {"call", "errno", "nth", "times", "family", "opt"}, "fault rule", error)) {
    return false;
  }
  if (!j.contains("call") || !j["call"].is_string()) return Fail(error, "fault rule needs a call");
  std::optional<fakes::Call> call = fakes::CallFromName(j["call"].get<std::string>());
  if (!call || *call == fakes::Call::kUmask) {
    return Fail(error, "fault rule: no call to fail named " + j["call"].dump());
  }
  r->call = *call;
  if (!j.contains("errno") || !j["errno"].is_string())
    return Fail(error, "fault rule needs an errno");
  const std::string name = j["errno"].get<std::string>();
  const bool gai_call = *call == fakes::Call::kGetaddrinfo;
  if (std::optional<int> e = ErrnoFromName(name)) {
    // getaddrinfo fails with EAI_SYSTEM carrying the errno.
    r->outcome =
        gai_call ? fakes::FaultOutcome::Gai(EAI_SYSTEM, *e) : fakes::FaultOutcome::Errno(*e);
  } else if (std::optional<int> g = GaiErrorFromName(name); g && gai_call) {
    r->outcome = fakes::FaultOutcome::Gai(*g);
  } else {
    return Fail(error, "fault rule: unknown errno " + name);
  }
  if (j.contains("nth")) {
    if (!j["nth"].is_number_integer() || j["nth"].get<long long>() < 1) {
      return Fail(error, "fault rule: nth must be an integer >= 1");
    }
    r->first = j["nth"].get<long long>();
  }
  if (j.contains("times")) {
    if (!j["times"].is_number_integer() || j["times"].get<long long>() < 0) {
      return Fail(error, "fault rule: times must be an integer >= 0");
    }
    r->count = j["times"].get<long long>();  // 0 is FaultRule::kAlways
  }
  if (j.contains("family")) {
    std::optional<int> f = j["family"].is_string()
                               ? FamilyFromShortName(j["family"].get<std::string>())
                               : std::nullopt;
    if (!f) return Fail(error, "fault rule: unknown family " + j["family"].dump());
    r->Where(fakes::ArgKey::kFamily, fakes::FamilyToken(*f));
  }
  if (j.contains("opt")) {
    if (!j["opt"].is_string()) {
      return Fail(error, "fault rule: unknown socket option " + j["opt"].dump());
    }
    r->Where(fakes::ArgKey::kOpt, j["opt"].get<std::string>());
  }
  // Any errno: a case may script a failure the man page does not list.
  if (std::optional<std::string> why = fakes::FaultPlan::Validate(*r, fakes::ErrnoCheck::kAny)) {
    return Fail(error, "fault rule " + Brief(j) + ": " + *why);
  }
  return true;
}

bool ParseOverride(const json& j, fakes::ResolverTable* table, std::string* error) {
  if (!j.is_object()) return Fail(error, "resolver entry must be an object: " + Brief(j));
  if (!OnlyKeys(j, {"host", "addrs", "error", "errno"}, "resolver entry", error)) return false;
  if (!j.contains("host") || !j["host"].is_string()) {
    return Fail(error, "resolver entry needs a host (a string)");
  }
  const std::string host = j["host"].get<std::string>();
  if (j.contains("error")) {
    std::optional<int> g =
        j["error"].is_string() ? GaiErrorFromName(j["error"].get<std::string>()) : std::nullopt;
    if (!g) return Fail(error, "resolver entry: unknown EAI code " + j["error"].dump());
    int sys_err = 0;
    if (j.contains("errno")) {
      std::optional<int> e =
          j["errno"].is_string() ? ErrnoFromName(j["errno"].get<std::string>()) : std::nullopt;
      if (!e) return Fail(error, "resolver entry: unknown errno " + j["errno"].dump());
      sys_err = *e;
    }
    table->Fail(host, *g, sys_err);
    return true;
  }
  if (!j.contains("addrs") || !j["addrs"].is_array()) {
    return Fail(error, "resolver entry needs addrs (or an error)");
  }
  std::vector<SockAddr> addrs;
  for (const json& a : j["addrs"]) {
    std::optional<SockAddr> addr =
        a.is_string() ? SockAddr::FromIp(a.get<std::string>(), 0) : std::nullopt;
    if (!addr) return Fail(error, "resolver entry: not an IP literal: " + a.dump());
    addrs.push_back(*addr);
  }
  table->Set(host, std::move(addrs));
  return true;
}

// UNIX-017, UNIX-018, UNIX-019, UNIX-020: the swap rules that play another
// process act on the real filesystem in the real-kernel modes, so what they
// name must be the case's own: the swapped path, and the symlink's target or
// the OTHER path, each the case's temp dir plus a relative path of plain names.
std::optional<std::string> SwapProblem(const fakes::FaultRule& r, const std::string& tmp) {
  if (!r.swap) return std::nullopt;
  std::string relative;
  if (auto e = RelativeBeneath(tmp, r.swap->path, &relative)) return "swap: " + *e;
  if (r.swap->kind == fakes::FsSwap::Kind::kSymlink ||
      r.swap->kind == fakes::FsSwap::Kind::kRename ||
      r.swap->kind == fakes::FsSwap::Kind::kExchange) {
    if (auto e = RelativeBeneath(tmp, r.swap->arg, &relative)) {
      return "swap with " + fakes::PrintSwapWhat(*r.swap) + ": " + *e;
    }
  }
  return std::nullopt;
}

// Rule lines in the fault-plan text format, "${TMP}" replaced by `tmp` (no
// other variable: a saved value reaches "inject" lines through the runner's
// substitution, and is checked here like any path).
bool ParsePlanLines(const std::vector<std::string>& lines, const std::string& tmp, const char* what,
                    fakes::FaultPlan* out, std::string* error) {
  std::string text;
  for (const std::string& line : lines) {
    std::string l = line;
    for (size_t at = l.find("${TMP}"); at != std::string::npos; at = l.find("${TMP}", at)) {
      l.replace(at, 6, tmp);
      at += tmp.size();
    }
    text += l + "\n";
  }
  fakes::FaultPlan::Parsed parsed = fakes::FaultPlan::Parse(text);
  if (!parsed.ok()) return Fail(error, std::string(what) + ": " + parsed.error->ToString());
  for (const fakes::FaultRule& r : parsed.plan->rules()) {
    if (auto e = SwapProblem(r, tmp)) {
      return Fail(error, std::string(what) + ": " + fakes::PrintRule(r) + ": " + *e);
    }
    out->Add(r);
  }
  return true;
}

}  // namespace

std::optional<std::string> SkipsFail(bool real_kernel, int skipped, int max_skips) {
  if (!real_kernel && skipped > 0) {
    return std::to_string(skipped) +
           " cases SKIPPED on the fake kernel, which can make every environment: each is a case "
           "left unchecked";
  }
  if (real_kernel && max_skips >= 0 && skipped > max_skips) {
    return std::to_string(skipped) + " cases SKIPPED, more than --max-skips " +
           std::to_string(max_skips);
  }
  return std::nullopt;
}

std::optional<fakes::FaultPlan> ParseFaults(const json& faults, std::string* error,
                                            const std::string& tmp) {
  if (!faults.is_array()) {
    Fail(error, "faults must be an array");
    return std::nullopt;
  }
  fakes::FaultPlan out;
  for (const json& f : faults) {
    if (f.is_string()) {  // a rule line: swap rules are written so
      if (!ParsePlanLines({f.get<std::string>()}, tmp, "rule line", &out, error)) {
        return std::nullopt;
      }
      continue;
    }
    fakes::FaultRule r;
    if (!ParseFault(f, &r, error)) return std::nullopt;
    out.Add(std::move(r));
  }
  return out;
}

std::optional<Environment> ParseEnvironment(const json& env, std::string* error,
                                            const std::string& tmp) {
  Environment e;
  if (env.is_null()) return e;
  if (!env.is_object()) {
    Fail(error, "env must be an object");
    return std::nullopt;
  }
  if (!OnlyKeys(env,
                {"needs", "resolver", "faults", "fault_plan", "ipv6", "ipv6_missing", "fd_limit",
                 "port_range"},
                "env", error)) {
    return std::nullopt;
  }
  if (env.contains("needs")) {
    if (!env["needs"].is_array()) {
      Fail(error, "env.needs must be an array of names");
      return std::nullopt;
    }
    for (const json& n : env["needs"]) {
      if (!n.is_string()) {
        Fail(error, "env.needs must be an array of names");
        return std::nullopt;
      }
      e.needs.push_back(n.get<std::string>());
    }
  }
  if (env.contains("resolver")) {
    if (!env["resolver"].is_array()) {
      Fail(error, "env.resolver must be an array");
      return std::nullopt;
    }
    for (const json& r : env["resolver"]) {
      if (!ParseOverride(r, &e.resolver, error)) return std::nullopt;
    }
  }
  if (env.contains("faults")) {
    auto f = ParseFaults(env["faults"], error, tmp);
    if (!f) return std::nullopt;
    e.faults = std::move(*f);
  }
  if (env.contains("ipv6_missing")) {
    if (!env["ipv6_missing"].is_boolean()) {
      Fail(error, "env.ipv6_missing must be a boolean");
      return std::nullopt;
    }
    e.ipv6_missing = env["ipv6_missing"].get<bool>();
  }
  if (env.contains("fault_plan")) {
    const json& lines = env["fault_plan"];
    std::vector<std::string> text;
    bool ok = lines.is_array();
    for (size_t i = 0; ok && i < lines.size(); ++i) {
      ok = lines[i].is_string();
      if (ok) text.push_back(lines[i].get<std::string>());
    }
    if (!ok) {
      Fail(error, "env.fault_plan must be an array of rule lines");
      return std::nullopt;
    }
    if (!ParsePlanLines(text, tmp, "env.fault_plan", &e.faults, error)) return std::nullopt;
  }
  if (env.contains("ipv6")) {
    const json& v = env["ipv6"];
    if (v == "absent") {
      e.ipv6_missing = true;
    } else if (v == "partial") {
      e.ipv6_partial = true;
    } else if (v != "present") {
      Fail(error, "env.ipv6 must be \"present\", \"absent\" or \"partial\": " + Brief(v));
      return std::nullopt;
    }
  }
  if (env.contains("fd_limit")) {
    const json& v = env["fd_limit"];
    if (!v.is_number_integer() || v.get<long long>() < 4 || v.get<long long>() > 1048576) {
      Fail(error, "env.fd_limit must be an integer in 4..1048576: " + Brief(v));
      return std::nullopt;
    }
    e.fd_limit = static_cast<int>(v.get<long long>());
  }
  if (env.contains("port_range")) {
    const json& v = env["port_range"];
    const bool ok = v.is_array() && v.size() == 2 && v[0].is_number_integer() &&
                    v[1].is_number_integer() && v[0].get<long long>() >= 1024 &&
                    v[1].get<long long>() <= 65535 &&
                    v[0].get<long long>() <= v[1].get<long long>();
    if (!ok) {
      Fail(error, "env.port_range must be [LO, HI] with 1024 <= LO <= HI <= 65535: " + Brief(v));
      return std::nullopt;
    }
    e.port_range = {static_cast<int>(v[0].get<long long>()),
                    static_cast<int>(v[1].get<long long>())};
  }
  return e;
}

}  // namespace netutil::conform
