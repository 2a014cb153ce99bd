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

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace netutil::conform {

// The bounds a case file is held to (docs/CONFORMANCE.md "Limits"): a case
// from a third party is checked against them before anything of it runs.
// The JSON limits themselves (1 MiB, depth 64, strings of 64 KiB) are
// bounded_json.h's kCaseFileLimits.
inline constexpr size_t kMaxCaseFiles = 10000;  // *.json files under --cases
inline constexpr size_t kMaxIdBytes = 100;      // "area/slug"
inline constexpr size_t kMaxIdParts = 16;       // dash-separated parts of the slug
inline constexpr size_t kMaxRules = 16;
inline constexpr size_t kMaxTitleBytes = 300;  // one line
inline constexpr size_t kMaxSteps = 200;
inline constexpr size_t kMaxNeeds = 16;
inline constexpr size_t kMaxFaultRules = 64;  // env.faults, and each inject
inline constexpr size_t kMaxResolverEntries = 64;
inline constexpr size_t kMaxSaves = 32;        // variables one step saves
inline constexpr size_t kMaxGlobBytes = 1024;  // a $glob, $none or $subseq pattern
inline constexpr long long kMaxSleepTotalMs = 30000;
inline constexpr long long kMaxStepTimeoutMs = 120000;
inline constexpr long long kMaxClientsPerCase = 2000;  // connect counts added up

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
  // A reference-only case ("reference_only": {"impls": [...], "why": "..."}):
  // it checks the method of the implementations named (their hello `impl`),
  // a detail the rule does not ask; any other implementation is N/A.
  std::vector<std::string> reference_impls;  // empty: a case of the rule
  std::string reference_why;
  bool reference_only() const { return !reference_impls.empty(); }
  // A synthetic case ("synthetic": {"impls": [...], "why": "..."}): its fault
  // plan makes a state no Linux kernel gives in the case's environment (EINTR
  // from a call that never sleeps interruptibly, ENOMEM from an option that
  // allocates nothing). It checks the defensive code of the implementations
  // named, whose own spec asks for it; any other is N/A, because a verdict
  // under a state its kernel never makes says nothing true about it.
  std::vector<std::string> synthetic_impls;  // empty: the kernel can give it
  std::string synthetic_why;                 // why no kernel does this
  bool synthetic() const { return !synthetic_impls.empty(); }
};

// A case as written: where (a file path, relative to the catalog's
// directory when read from one) and its text.
struct CaseSource {
  std::string origin;
  std::string text;
};

// Every *.json file under `dir` (recursively), in path order; a directory that
// cannot be read, more than kMaxCaseFiles files, or a file that is not a
// regular file (opened without following a symlink, without blocking) or is
// over 1 MiB, is a problem.
std::vector<CaseSource> ReadCaseDir(const std::string& dir, std::vector<std::string>* problems);

// Parses and checks every case: JSON within kCaseFileLimits, well-formed IDs
// that match their file's path and are unique, rules that exist in
// docs/SPEC.md, known step kinds and keys, well-formed patterns, environments
// and fault rules (fault-plan lines only), file modes (octal strings, turned
// into numbers in the Case's steps), the limits above, and make/check paths
// in ${TMP} (confined_path.h).
std::vector<Case> LoadCatalog(const std::vector<CaseSource>& sources,
                              std::vector<std::string>* problems);

// Where the catalog is when no --cases is given: $NETCONFORM_CASES, else an
// installed netconform's <prefix>/share/netconform/cases (install_layout.h),
// else the source tree's tests/conformance/cases (set by CMake at build time).
std::string DefaultCaseDir();

// The catalog's semantic version, the first line of <dir>/VERSION
// (MAJOR.MINOR.PATCH: a new case is a minor version, a verdict whose meaning
// changes a major one; docs/CONFORMANCE.md), "unversioned" when the directory
// has none, "invalid" when the line is not a version. Every report carries it.
std::string CatalogVersion(const std::string& dir);

}  // namespace netutil::conform
