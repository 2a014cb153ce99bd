// The conformance catalog: one scenario file per case under
// tests/conformance/cases/<area>/<slug>.json; the format is documented in
// docs/CONFORMANCE.md. In short, a case is one JSON document (comments allowed):
//
//   {
//     "id":    "bind/port-zero-one-port",      // <area>/<slug>: the file's own path
//     "rules": ["BIND-013"],                   // rule IDs of docs/SPEC.md it checks
//     "title": "port 0: every address gets the first bound port",
//     "env": {...},                            // the environment (environment.h)
//     "steps": [ ... ]                         // run in order (runner.h)
//   }
//
// Every problem is reported as "<file>:<line>: <what>", the line being where
// the faulty part starts, so a scenario author can go straight to it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace netutil::conform {

struct Case {
  std::string id;
  std::vector<std::string> rules;
  std::string title;
  nlohmann::json env;    // object (possibly empty)
  nlohmann::json steps;  // array
  std::string origin;    // the file it came from
  // "strict" when one of its rules is marked strict in docs/SPEC.md, else
  // "tornado": what an implementation claiming Tornado compatibility must pass.
  std::string level;
  bool strict() const { return level == "strict"; }
};

// A case as written: where (a file path, relative to the catalog's
// directory when read from one) and its text.
struct CaseSource {
  std::string origin;
  std::string text;
};

// Every *.json file under `dir` (recursively), in path order; a directory that
// cannot be read, or a file that is not a regular file or is over 1 MiB, is a
// problem.
std::vector<CaseSource> ReadCaseDir(const std::string& dir, std::vector<std::string>* problems);

// Parses and checks every case: well-formed IDs that match their file's path
// and are unique, rules that exist in docs/SPEC.md, known step kinds,
// well-formed patterns, environments and fault rules.
std::vector<Case> LoadCatalog(const std::vector<CaseSource>& sources,
                              std::vector<std::string>* problems);

// Where the catalog is when no --cases is given: $NETCONFORM_CASES, else the
// source tree's tests/conformance/cases (set by CMake at build time).
std::string DefaultCaseDir();

}  // namespace netutil::conform
