// The conformance catalog: cases as data.
//
// A case is one JSON document (comments allowed):
//
//   {
//     "id":    "bind/port-zero-one-port",      // <area>/<kebab-slug>, stable forever
//     "rules": ["BIND-013"],                   // rule IDs of docs/SPEC.md it checks
//     "title": "port 0: every address gets the first bound port",
//     "env": {                                 // the environment it needs (optional)
//       "needs":    ["ipv6"],                  // host: ipv6, loopback2; adapter features
//                                              // from hello: platform_override, ...
//       "resolver": [{"host": "conform.test", "addrs": ["127.0.0.1", "::1"]},
//                    {"host": null, "error": "EAI_NONAME"}],
//       "faults":   [{"call": "bind", "nth": 2, "errno": "EADDRINUSE"}],
//       "ipv6_missing": true                   // socket(AF_INET6) -> EAFNOSUPPORT
//     },
//     "steps": [ ... ]                         // run in order; see runner.h
//   }
//
// The catalog lives in cases_*.cc today; a later issue can read the same
// documents from scenario files on disk.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace netutil::conform {

struct Case {
  std::string id;
  std::vector<std::string> rules;
  std::string title;
  nlohmann::json env;    // object (possibly empty)
  nlohmann::json steps;  // array
  std::string origin;    // where the case was written ("cases_bind.cc #3")
};

// A case as written: its origin and its JSON text.
struct CaseSource {
  std::string origin;
  std::string text;
};

// Adds one case written at file:line.
inline void AddCase(std::vector<CaseSource>& out, const char* file, int line, const char* text) {
  out.push_back({std::string(file) + ":" + std::to_string(line), text});
}

// The catalog's parts, one per file.
void AddBindCases(std::vector<CaseSource>& out);
void AddUnixCases(std::vector<CaseSource>& out);
void AddAcceptCases(std::vector<CaseSource>& out);

// Parses and checks every case: unique well-formed IDs, rules that exist in
// docs/SPEC.md, known step kinds, well-formed patterns and fault rules. Any
// problem is a bug in the catalog: the messages name the case and the problem.
std::vector<Case> LoadCatalog(const std::vector<CaseSource>& sources,
                              std::vector<std::string>* problems);

// The built-in catalog (every cases_*.cc).
std::vector<CaseSource> BuiltinCases();

}  // namespace netutil::conform
