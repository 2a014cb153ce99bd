#include "environment.h"

#include <netdb.h>
#include <sys/socket.h>

#include "capabilities.h"
#include "confined_path.h"
#include "json_match.h"
#include "netutil/errno_name.h"
#include "netutil/fakes/call_args.h"
#include "netutil/fakes/syscall_table.h"
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
  // Any errno: a case may script a failure the man page does not list.
  fakes::FaultPlan::Parsed parsed = fakes::FaultPlan::Parse(text, fakes::ErrnoCheck::kAny);
  if (!parsed.ok()) return Fail(error, std::string(what) + ": " + parsed.error->ToString());
  for (const fakes::FaultRule& r : parsed.plan->rules()) {
    if (auto e = SwapProblem(r, tmp)) {
      return Fail(error, std::string(what) + ": " + fakes::PrintRule(r) + ": " + *e);
    }
    out->Add(r);
  }
  return true;
}

// A JSON array of fault-plan rule lines, the one way a case writes fault
// rules; `label` ("env.faults", or empty for a step's "inject") starts each
// error, followed by the index of the line at fault.
std::optional<fakes::FaultPlan> ParseRuleLines(const json& faults, const std::string& label,
                                               const std::string& tmp, std::string* error) {
  if (!faults.is_array()) {
    Fail(error, label + (label.empty() ? "" : " ") + "must be an array of fault-plan rule lines");
    return std::nullopt;
  }
  fakes::FaultPlan out;
  for (size_t i = 0; i < faults.size(); ++i) {
    const std::string what = label + "[" + std::to_string(i) + "]";
    if (!faults[i].is_string()) {
      Fail(error, what + ": " + kNotARuleLine + ", not " + Brief(faults[i]));
      return std::nullopt;
    }
    if (!ParsePlanLines({faults[i].get<std::string>()}, tmp, what.c_str(), &out, error)) {
      return std::nullopt;
    }
  }
  return out;
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
  return ParseRuleLines(faults, "", tmp, error);
}

namespace {

// env.fd_limit's bounds: room for the few fds any case needs, and Linux's
// default ceiling for RLIMIT_NOFILE (fs.nr_open).
constexpr long long kMinFdLimit = 4;
constexpr long long kMaxFdLimit = 1048576;
// env.port_range stays above the privileged ports.
constexpr long long kMinPortRangeLow = 1024;
constexpr long long kMaxPort = 65535;

bool ParseNeeds(const json& v, Environment* e, std::string* error) {
  if (!v.is_array()) return Fail(error, "env.needs must be an array of names");
  for (const json& n : v) {
    if (!n.is_string()) return Fail(error, "env.needs must be an array of names");
    e->needs.push_back(n.get<std::string>());
  }
  return true;
}

// env.incidental: "op.field" names of the implementation's capabilities that
// the case sends but does not rest on (capabilities.h): checked, not kept.
bool CheckIncidental(const json& v, std::string* error) {
  if (!v.is_array() || v.size() > kMaxCapabilityNames) {
    return Fail(error, "env.incidental must be an array of \"op.field\" names");
  }
  for (const json& n : v) {
    if (!n.is_string() || !IsCapabilityField(n.get<std::string>())) {
      return Fail(error, "env.incidental: " + Brief(n) + " is no op.field of the protocol");
    }
  }
  return true;
}

bool ParseResolver(const json& v, Environment* e, std::string* error) {
  if (!v.is_array()) return Fail(error, "env.resolver must be an array");
  for (const json& r : v) {
    if (!ParseOverride(r, &e->resolver, error)) return false;
  }
  return true;
}

bool ParseIpv6(const json& v, Environment* e, std::string* error) {
  if (v == "absent") {
    e->ipv6_missing = true;
  } else if (v == "partial") {
    e->ipv6_partial = true;
  } else if (v != "present") {
    return Fail(error, "env.ipv6 must be \"present\", \"absent\" or \"partial\": " + Brief(v));
  }
  return true;
}

bool ParseFdLimit(const json& v, Environment* e, std::string* error) {
  if (!v.is_number_integer() || v.get<long long>() < kMinFdLimit ||
      v.get<long long>() > kMaxFdLimit) {
    return Fail(error, "env.fd_limit must be an integer in " + std::to_string(kMinFdLimit) + ".." +
                           std::to_string(kMaxFdLimit) + ": " + Brief(v));
  }
  e->fd_limit = static_cast<int>(v.get<long long>());
  return true;
}

bool ParsePortRange(const json& v, Environment* e, std::string* error) {
  const bool ok = v.is_array() && v.size() == 2 && v[0].is_number_integer() &&
                  v[1].is_number_integer() && v[0].get<long long>() >= kMinPortRangeLow &&
                  v[1].get<long long>() <= kMaxPort &&
                  v[0].get<long long>() <= v[1].get<long long>();
  if (!ok) {
    return Fail(error, "env.port_range must be [LO, HI] with " + std::to_string(kMinPortRangeLow) +
                           " <= LO <= HI <= " + std::to_string(kMaxPort) + ": " + Brief(v));
  }
  e->port_range = {static_cast<int>(v[0].get<long long>()),
                   static_cast<int>(v[1].get<long long>())};
  return true;
}

// What is wrong with a fault_situation: an object pattern (json_match.h)
// whose "call" is a call of the seam, with no variables (the pattern is
// matched against the traces as written).
std::optional<std::string> FaultSituationProblem(const json& v) {
  if (!v.is_object()) return std::string("must be an object: a trace-entry pattern");
  const auto call = v.find("call");
  if (call == v.end() || !call->is_string()) {
    return std::string("must name the call: {\"call\": \"bind\", ...}");
  }
  if (!fakes::CallFromName(call->get<std::string>())) {
    return "\"" + call->get<std::string>() + "\" is not a call of the seam";
  }
  if (v.dump().find("${") != std::string::npos) {
    return std::string("takes no variables: it is matched as written");
  }
  return CheckPattern(v);
}

// The members of env, each parsed in this order (ipv6 after ipv6_missing:
// "ipv6": "absent" wins over "ipv6_missing": false).
bool ParseEnvironmentMembers(const json& env, const std::string& tmp, Environment* e,
                             std::string* error) {
  if (env.contains("needs") && !ParseNeeds(env["needs"], e, error)) return false;
  if (env.contains("incidental") && !CheckIncidental(env["incidental"], error)) return false;
  if (env.contains("resolver") && !ParseResolver(env["resolver"], e, error)) return false;
  if (env.contains("faults")) {
    auto f = ParseRuleLines(env["faults"], "env.faults", tmp, error);
    if (!f) return false;
    e->faults = std::move(*f);
  }
  if (env.contains("ipv6_missing")) {
    if (!env["ipv6_missing"].is_boolean()) {
      return Fail(error, "env.ipv6_missing must be a boolean");
    }
    e->ipv6_missing = env["ipv6_missing"].get<bool>();
  }
  if (env.contains("ipv6") && !ParseIpv6(env["ipv6"], e, error)) return false;
  if (env.contains("fd_limit") && !ParseFdLimit(env["fd_limit"], e, error)) return false;
  if (env.contains("port_range") && !ParsePortRange(env["port_range"], e, error)) return false;
  if (env.contains("fault_calls")) {
    const json& v = env["fault_calls"];
    if (v != "optional" && v != "required") {
      return Fail(error, "env.fault_calls takes \"optional\" or \"required\"");
    }
    e->fault_calls_required = v == "required";
  }
  if (env.contains("fault_situation")) {
    if (std::optional<std::string> why = FaultSituationProblem(env["fault_situation"])) {
      return Fail(error, "env.fault_situation: " + *why);
    }
    if (e->faults.empty()) {
      return Fail(error,
                  "env.fault_situation needs env.faults: it says which injected call made "
                  "the case's situation");
    }
    e->fault_situation = env["fault_situation"];
  }
  return true;
}

}  // namespace

std::optional<Environment> ParseEnvironment(const json& env, std::string* error,
                                            const std::string& tmp) {
  Environment e;
  if (env.is_null()) return e;
  if (!env.is_object()) {
    Fail(error, "env must be an object");
    return std::nullopt;
  }
  if (!OnlyKeys(env,
                {"needs", "incidental", "resolver", "faults", "ipv6", "ipv6_missing", "fd_limit",
                 "port_range", "fault_calls", "fault_situation"},
                "env", error)) {
    return std::nullopt;
  }
  if (!ParseEnvironmentMembers(env, tmp, &e, error)) return std::nullopt;
  return e;
}

}  // namespace netutil::conform
