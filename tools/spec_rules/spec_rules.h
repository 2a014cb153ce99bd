// The rules of docs/SPEC.md (ID, level, mark), read from the spec at configure
// time by cmake/SpecRules.cmake (target netutil_spec_rules), so the adapter's
// hello, netconform's catalog check and the reports can never disagree with
// the document.
#pragma once

#include <string_view>

namespace netutil::spec {

struct Rule {
  const char* id;     // "BIND-013"
  const char* level;  // "MUST" or "SHOULD"
  const char* mark;   // "tornado" or "strict"
  bool withdrawn;
};

inline constexpr Rule kRules[] = {
#define NETUTIL_SPEC_RULE(id, level, mark, withdrawn) {id, level, mark, withdrawn},
#include "netutil_spec_rules.inc"
#undef NETUTIL_SPEC_RULE
};

inline const Rule* FindRule(std::string_view id) {
  for (const Rule& r : kRules) {
    if (id == r.id) return &r;
  }
  return nullptr;
}

}  // namespace netutil::spec
