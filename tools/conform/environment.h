// A case's environment ("env" in the catalog) and the fault rules of a step's
// "inject", parsed from JSON into what fakes::InjectingSys takes (a
// ResolverTable, a FaultPlan, the ipv6_missing switch).
//
//   resolver: [{"host": "h", "addrs": ["127.0.0.1", "::1"]},
//              {"host": "h", "error": "EAI_NONAME"},
//              {"host": "h", "error": "EAI_SYSTEM", "errno": "EIO"}]
//   faults:   [{"call": "bind", "errno": "EADDRINUSE",
//               "nth": 2,                 // first matching call that fails (default 1)
//               "times": 1,               // how many in a row (default 1; 0 = all from nth on)
//               "family": "inet6",        // only calls on this family (optional)
//               "opt": "IPV6_V6ONLY"}]    // setsockopt/getsockopt only (optional)
//             for getaddrinfo, "errno" may be an EAI_* name. A rule must be one
//             fakes::FaultPlan::Validate accepts with ErrnoCheck::kAny (any errno;
//             "family" only on socket, bind, connect and getaddrinfo).
//   ipv6_missing: true
//   needs:    ["ipv6", "loopback2", <adapter features from hello>]
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/resolver_table.h"

namespace netutil::conform {

struct Environment {
  std::vector<std::string> needs;
  fakes::ResolverTable resolver;
  fakes::FaultPlan faults;
  bool ipv6_missing = false;

  // Whether the environment can only be made by injecting (in-process).
  bool injects() const { return !resolver.hosts().empty() || !faults.empty() || ipv6_missing; }
};

// Host conditions a case may need; anything else in "needs" is an adapter feature.
inline constexpr const char* kHostNeeds[] = {"ipv6", "loopback2"};

std::optional<Environment> ParseEnvironment(const nlohmann::json& env, std::string* error);
std::optional<fakes::FaultPlan> ParseFaults(const nlohmann::json& faults, std::string* error);

}  // namespace netutil::conform
