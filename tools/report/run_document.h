// The run document, read: netconform's JSON run documents (JsonReporter,
// `netconform run --format json`) as typed values for the report formats
// (junit.h, tap.h, html.h, matrix.h). The formats work on the document rather
// than on CaseResult so that netreport can render runs made elsewhere (CI
// artifacts, other machines) and netconform can render its own.
//
// A run document, as it is read here (every key but "cases" optional, so
// documents from before a key existed still render):
//
//   {"tool": "netconform", "target": "...", "impl": "tornado", "profile": "strict",
//    "mode": "process", "jobs": 2,
//    "implementation": {hello reply: "impl", "version", ...} | null,
//    "error": "why the run has no results" (a placeholder written by the report
//             script for a run that crashed, hung or wrote nothing),
//    "cases": [{"id": "bind/x", "rules": ["BIND-013"], "title": "...",
//               "level": "tornado" | "strict",
//               "verdict": "OK" | "NON-STRICT" | "FAILED" | "SKIPPED" | "BLIND" | "N/A",
//               "design": "dual-stack" (the design the implementation met the rule by),
//               "seconds": 0.01, "reason": "...", "details": ["..."],
//               "trace": ["..."], "notes": ["..."],
//               "design": "dual-stack",        (the designs its "$designs" matched)
//               "designs": [{"design": "dual-stack", "of": ["two-sockets", "dual-stack"],
//                            "preferred": false}]}],
//    "summary": {"passed", "non_strict", "failed", "skipped", "blind", "not_applicable",
//                "seconds" (the run's wall time)}}
//
// A verdict other than the six above is read as FAILED (an unknown word must
// never read as a pass), keeping the word in the reason. A key that is absent
// or of another type reads as empty, because documents come from older and
// newer netconforms alike.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "verdict.h"

namespace netutil::conform {

// What netreport merges at most (docs/CONFORMANCE.md "Limits"): the work and
// the output are linear in the cases; these keep them within minutes and
// gigabytes.
inline constexpr size_t kMaxRuns = 64;          // run documents in one report
inline constexpr size_t kMaxRunCases = 100000;  // cases in one run document

// What is wrong with a document as a run (not an object, no "cases" array, a
// case without a string "id", over kMaxRunCases cases), or nullopt when the
// formats can render it.
std::optional<std::string> CheckRunDocument(const nlohmann::json& run);

// The implementation's name as its hello gives it ("impl"). Without one: the
// document's "impl" when it is a plain name ("tornado", not an adapter's
// command line), else its "target" unless that is a command line, else
// "unnamed". A column is never named by the command that started the adapter.
std::string ImplName(const nlohmann::json& run);

// A run's column of the matrix: who ran (from the hello), under which profile,
// and how, which is what its wall time means.
struct Column {
  std::string name;     // ImplName
  std::string version;  // the hello's "version", or ""
  std::string profile;  // "strict", "tornado", or "" in an older document
  std::string mode;     // "process", "traced", ... or "" in an older document
  int jobs = 0;         // cases run at once; 0 when the document does not say
  std::string error;    // the run's "error": why it holds no results, or ""
  // "name version (profile)", with " #2", " #3" for a repeat of the same three:
  // one key names one column of the matrix, one entry of the index, one file.
  std::string key;
  int repeat = 1;  // 2 for the second column with this name, version and profile, ...
};

// The column of each run, in order, with unique keys.
std::vector<Column> Columns(const std::vector<nlohmann::json>& runs);

// The key of each run's column (Columns(runs)[k].key).
std::vector<std::string> ImplNames(const std::vector<nlohmann::json>& runs);

// A file-name stem for an implementation name: [A-Za-z0-9._-] kept, any other
// run of bytes becomes '_' ("python3 x/y.py" -> "python3_x_y.py"); never empty
// and never "." or "..".
std::string FileStem(const std::string& impl);

namespace report {

// One case of a run document.
struct CaseEntry {
  std::string id;
  std::vector<std::string> rules;
  std::string title;
  std::string level;  // "tornado", "strict", or "" when neither is known
  Verdict verdict = Verdict::kFailed;
  std::string reason;
  std::vector<std::string> details;
  std::vector<std::string> trace;
  std::vector<std::string> notes;
  bool injected = false;  // the verdict rests on injected faults
  // Why the case's fault plan is a state no kernel gives ("" for a case whose
  // state a kernel can give): its verdicts check defensive code only.
  std::string synthetic;
  // The designs the case matched ("dual-stack"; "" when it names none), and
  // the strict profile's preference when a design matched is not it.
  std::string design;
  std::string design_preferred;
  double seconds = 0;
  bool has_seconds = false;
};

// A case read from its JSON; an older document's missing level is derived
// from this build's spec when every rule is known there.
CaseEntry ReadCase(const nlohmann::json& c);

// The run's "cases" array, or an empty one.
const nlohmann::json& CasesOf(const nlohmann::json& run);

// A string member ("" when absent or null; another type dumped as JSON).
std::string TextAt(const nlohmann::json& obj, const char* key);

// The hello reply's "version", or "".
std::string VersionOf(const nlohmann::json& run);

// "12.3 s" (two significant decimals under 10 s, one above).
std::string WallTime(double seconds);

// The cases of each verdict, NON-STRICT apart from the OK (a column of its
// own in every format), and the run's wall time.
struct Tally : VerdictCounts {
  Tally() : VerdictCounts(NonStrictCounts::kApart) {}
  double seconds = 0;
};

// Counted from the cases, so a summary always matches the rows shown with it;
// only the wall time comes from the run's own summary (the sum of the cases'
// times leaves out the runner's set-up).
Tally CountRun(const nlohmann::json& run);

// The area of a case ID, the part before '/' ("netconform" when none).
std::string AreaOf(const std::string& id);

// "design: dual-stack", with "; strict prefers two-sockets" when so; "" when
// the case matched no design.
std::string DesignNote(const CaseEntry& c);

// "ID [RULE RULE]", or the ID alone.
std::string CaseName(const CaseEntry& c);

// The rules of a case that docs/SPEC.md marks strict; all of its rules when
// none is known here but the document says the case is strict (a run made
// against a newer spec than this build's).
std::vector<std::string> StrictRules(const CaseEntry& c);

std::string Join(const std::vector<std::string>& parts, const char* separator);

}  // namespace report
}  // namespace netutil::conform
