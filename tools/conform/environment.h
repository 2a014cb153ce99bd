// A case's environment ("env" in the catalog) and the fault rules of a step's
// "inject", parsed from JSON into what fakes::InjectingSys takes (a
// ResolverTable, a FaultPlan, the ipv6_missing switch).
//
//   resolver: [{"host": "h", "addrs": ["127.0.0.1", "::1"]},
//              {"host": "h", "error": "EAI_NONAME"},
//              {"host": "h", "error": "EAI_SYSTEM", "errno": "EIO"}]
//   faults:   ["accept4 #2 = ENETDOWN", "bind family=inet6 = EADDRNOTAVAIL",
//              "accept4 always = EMFILE", "getaddrinfo = EAI_SYSTEM EIO"]
//             the fault rules, one line each in the fault-plan text format
//             (fakes/include/netutil/fakes/fault_plan.h): a case reads like a
//             packetdrill script, in the one fault vocabulary of the fake
//             kernel, the interposer and netfault; no other form is read.
//             Any errno is taken (ErrnoCheck::kAny: a case may script
//             a failure the man page does not list). "${TMP}" in a line is the
//             case's temp dir, and an "after ... swap" rule's PATH and its
//             symlink target, rename or exchange OTHER must be beneath it
//             (confined_path.h): a case swaps nothing outside its dir.
//   A step's "inject" takes the same: rule lines.
//   ipv6:     "present" (default) | "absent" (socket(AF_INET6) -> EAFNOSUPPORT)
//             | "partial" (IPv6 sockets work but ::1 is not configured: made in
//             a private network namespace on the real kernel)
//   ipv6_missing: true          the same as "ipv6": "absent"
//   fd_limit: N                 RLIMIT_NOFILE of the implementation (not in-process
//                               on the real kernel: it would limit netconform)
//   port_range: [LO, HI]        the ephemeral port range (a private network
//                               namespace on the real kernel)
//   needs:    ["ipv6", "loopback2", <adapter features from hello>,
//             <an op or "op.field" of the capabilities: N/A when not offered>]
//   fault_calls: "optional" (default) | "required": whether the rule requires
//             the calls the fault rules name (a case whose faults never met
//             a call is N/A unless they are required: fault_reach.h)
//   fault_situation: {"call": "bind", "port": {"$gt": 0}}  a trace-entry
//             pattern (json_match.h) an injected call must match for the
//             faults to have made the case's situation: when the traces show
//             injected calls and none matches, a failed case is N/A
//             (fault_reach.h)
//   incidental: ["op.field", ...]  fields the case sends but does not rest on:
//             not offered, the case still runs (capabilities.h)
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/resolver_table.h"

namespace netutil::conform {

struct Environment {
  std::vector<std::string> needs;
  fakes::ResolverTable resolver;
  fakes::FaultPlan faults;
  bool ipv6_missing = false;  // "ipv6": "absent"
  bool ipv6_partial = false;  // "ipv6": "partial"
  std::optional<int> fd_limit;
  std::optional<std::pair<int, int>> port_range;
  // "fault_calls": "required": the rule requires the calls the fault rules
  // name, so an implementation that never makes them fails the case; by
  // default ("optional") such a case is N/A (fault_reach.h).
  bool fault_calls_required = false;
  // "fault_situation": the pattern an injected trace entry must match for the
  // faults to have met the situation the case is about (fault_reach.h).
  std::optional<nlohmann::json> fault_situation;

  // Whether the environment can only be made by injecting into the
  // implementation's syscalls (in-process, the fake kernel, the interposer).
  bool injects() const { return !resolver.hosts().empty() || !faults.empty() || ipv6_missing; }
  // Whether the real kernel needs a private network namespace for it.
  bool needs_netns() const { return ipv6_partial || port_range.has_value(); }
};

// Host conditions a case may need; anything else in "needs" is an adapter feature.
inline constexpr const char* kHostNeeds[] = {"ipv6", "loopback2"};

// How SKIPPED verdicts weigh on a run's exit status (docs/CONFORMANCE.md,
// "Skips"). The fake kernel makes every environment a case can ask for, so on
// it any skip is a case left unchecked: the run fails. On the real kernel the
// run fails when more than `max_skips` cases were skipped (-1: no limit, the
// default; 0: like --mode fake). Returns why the run fails, or nullopt.
std::optional<std::string> SkipsFail(bool real_kernel, int skipped, int max_skips);

// Why a fault rule that is not a rule line is refused: the object form of
// earlier case files ({"call": "bind", "nth": 2, "errno": "EADDRINUSE"}) is
// no longer read, so a case has one fault dialect, the fake kernel's.
inline constexpr const char* kNotARuleLine =
    "a fault rule is a fault-plan line such as \"bind #2 = EADDRINUSE\" (the object form "
    "{\"call\": ...} is no longer read; scripts/migrate_cases.py rewrites it)";

// What "${TMP}" stands for while a case file is checked, before its temp dir
// exists; at run time the parsers are given the dir itself.
inline constexpr const char* kLoadTmp = "/netconform-case-tmp";

// `tmp`: the case's temp dir, for "${TMP}" in rule lines and for keeping the
// paths of swap rules beneath it.
std::optional<Environment> ParseEnvironment(const nlohmann::json& env, std::string* error,
                                            const std::string& tmp = kLoadTmp);
// `faults`: an array of fault-plan rule lines (a step's "inject").
std::optional<fakes::FaultPlan> ParseFaults(const nlohmann::json& faults, std::string* error,
                                            const std::string& tmp = kLoadTmp);

}  // namespace netutil::conform
