// Report formats for finished runs: pure functions from netconform's JSON run
// documents (JsonReporter, `netconform run --format json`) to JUnit XML, TAP,
// a self-contained HTML matrix and a merged JSON index. They work on the
// document rather than on CaseResult so that netreport can render runs made
// elsewhere (CI artifacts, other machines) and netconform can render its own.
//
// A run document, as these functions read it (every key but "cases" optional,
// so documents from before a key existed still render):
//
//   {"tool": "netconform", "target": "...", "impl": "tornado", "profile": "strict",
//    "implementation": {hello reply: "impl", "version", ...} | null,
//    "cases": [{"id": "bind/x", "rules": ["BIND-013"], "title": "...",
//               "level": "tornado" | "strict",
//               "verdict": "OK" | "NON-STRICT" | "FAILED" | "SKIPPED",
//               "seconds": 0.01, "reason": "...", "details": ["..."],
//               "trace": ["..."], "notes": ["..."]}],
//    "summary": {"passed", "non_strict", "failed", "skipped", "seconds"}}
//
// A verdict other than the four above is treated as FAILED (an unknown word
// must never read as a pass), keeping the word in the reason.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netutil::conform {

// `s` safe to print on a terminal or in a CI log, as one line: every control
// character (C0 including tab, CR and LF, DEL) written \xNN, C1 controls
// \u00NN, bytes that are not UTF-8 U+FFFD, and a leading "::" (a GitHub
// Actions workflow command) written "\x3a:". The text reporter writes every
// text from a case or an adapter through it.
std::string TerminalText(std::string_view s);

// What netreport merges at most (docs/CONFORMANCE.md "Limits"): the work and
// the output are linear in the cases; these keep them within minutes and
// gigabytes.
inline constexpr size_t kMaxRuns = 64;          // run documents in one report
inline constexpr size_t kMaxRunCases = 100000;  // cases in one run document

// What is wrong with a document as a run (not an object, no "cases" array, a
// case without a string "id", over kMaxRunCases cases), or nullopt when the
// functions below can render it.
std::optional<std::string> CheckRunDocument(const nlohmann::json& run);

// The implementation's short name: "impl", else the hello reply's "impl", else
// "target", else "unknown".
std::string ImplName(const nlohmann::json& run);

// ImplName of each run, made unique ("tornado", "tornado-2") so one name keys
// one column of the matrix and one entry of the index.
std::vector<std::string> ImplNames(const std::vector<nlohmann::json>& runs);

// A file-name stem for an implementation name: [A-Za-z0-9._-] kept, any other
// run of bytes becomes '_' ("python3 x/y.py" -> "python3_x_y.py"); never empty
// and never "." or "..".
std::string FileStem(const std::string& impl);

// JUnit XML: one <testsuites> holding one <testsuite> named after the
// implementation; a <testcase> per case (classname: the area before the ID's
// '/', name: "ID [RULE ...]"). FAILED -> <failure message=reason> with the
// details and trace as text; SKIPPED -> <skipped message=reason/>; NON-STRICT
// passes (CI must not go red on a Tornado-level pass) with a <system-out>
// naming the strict rule(s) it misses. Characters XML 1.0 forbids (C0
// controls but tab, LF, CR; invalid UTF-8) are written as \u00XX or U+FFFD.
std::string ToJunit(const nlohmann::json& run);

// TAP version 13 (a TAP 14 consumer reads it too): the plan "1..N" first, then
// "ok N - ID [RULES]" or "not ok N - ID [RULES]". SKIPPED: "ok N - ID # SKIP
// reason". NON-STRICT: "not ok N - ID # TODO non-strict: reason": TAP's TODO
// is a failure the harness expects and does not count, which is what a missed
// strict rule is under the Tornado profile ("ok ... # TODO" would be read as a
// TODO that unexpectedly passed). FAILED and NON-STRICT carry a YAML block
// (message, rules, title, details, trace) after their line.
std::string ToTap(const nlohmann::json& run);

// One self-contained HTML page (inline CSS and a few lines of JS, no external
// resource): a summary row and one column per run, rows grouped by spec rule.
// A case is listed once, under its first rule (the one it is written for; the
// others are shown on its row), so counts add up. Verdict cells are coloured
// (OK green, NON-STRICT amber, FAILED red, SKIPPED grey, not run blank) and
// open on click (<details>) to the reason, details and trace.
std::string ToHtml(const std::vector<nlohmann::json>& runs);

// Every implementation x case:
//   {"implementations": [{"impl", "target", "profile", "version", "summary"}],
//    "cases": [{"id", "rules", "title", "level",
//               "results": {impl: {"verdict", "reason", "details", "trace"}}}]}
// Cases in order of first appearance; a case a run did not include has no
// entry under that run's impl. The summary is counted from the cases (seconds
// from the run's own summary), so it always agrees with the results.
nlohmann::json MergeIndex(const std::vector<nlohmann::json>& runs);

}  // namespace netutil::conform
