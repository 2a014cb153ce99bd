// Reporters: how a run's verdicts are written. Text follows packetdrill's
// run_all.py and h2spec (one line per case, expected against actual under a
// failure, one closing count line); JSON is for machines, and JUnit, TAP and
// HTML are made from the JSON document (report_formats.h).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "runner.h"

namespace netutil::conform {

struct RunInfo {
  std::string target;  // Target::Describe()
  std::string impl;    // the short name: "reference", "tornado", ... or the adapter command
  Profile profile = Profile::kStrict;
  nlohmann::json hello;   // the implementation's hello reply (may be null)
  size_t cases = 0;       // cases selected
  std::string mode = "";  // fake | inprocess | process | traced ("" when not known)
  int jobs = 0;  // cases run at once (0 when not known); with mode, what the wall time means
  std::string catalog_version = "";  // CatalogVersion (catalog.h); "" when not known
};

// The run's counts: NON-STRICT among the passed (it passed under the run's
// profile), and `non_strict` says how many of the passed it was.
struct Summary : VerdictCounts {
  Summary() : VerdictCounts(NonStrictCounts::kAmongPassed) {}
  double seconds = 0;
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void Begin(const RunInfo& info) = 0;
  virtual void CaseDone(const CaseResult& r) = 0;
  virtual void End(const Summary& s) = 0;
};

// What a report keeps of a case's texts and of the implementation's hello
// (docs/CONFORMANCE.md "Limits"): they come from the adapter, which may send
// anything up to the reply limit (16 MiB a line). What is cut is marked
// "... [N bytes cut]" / "... [N more lines cut]" where it was.
inline constexpr size_t kReportMaxText = 4096;   // bytes of a reason, failure, detail or note
inline constexpr size_t kReportMaxDetails = 64;  // detail lines of a case
inline constexpr size_t kReportMaxNotes = 16;
inline constexpr size_t kReportMaxTraceLine = 512;  // bytes of one trace line (4000 lines kept)
inline constexpr size_t kReportMaxTraceLines = 4000;

// `lines` with at most `max_lines` of at most `max_bytes` each.
std::vector<std::string> BoundedLines(const std::vector<std::string>& lines, size_t max_lines,
                                      size_t max_bytes);

// The hello reply as a report keeps it (bounded_json.h BoundedCopy): 8 levels,
// strings of 1 KiB, 64 members an object or array, 64 KiB of text in all.
nlohmann::json HelloForReport(const nlohmann::json& hello);

// The designs a case matched ("$designs", json_match.h), each once, in the
// order met: "dual-stack".
std::string DesignNames(const DesignChoices& designs);

// What a report writes beside a case's verdict: "design: dual-stack", and
// "; strict prefers two-sockets" when a design matched is not the one the
// strict profile prefers (which is no failure, under either profile).
std::string DesignText(const DesignChoices& designs);

// "N passed, N failed, N skipped": the closing line of every text report,
// followed by "; K of the passed NON-STRICT" when there are such.
std::string SummaryLine(const Summary& s);

// The formats MakeReporter knows.
inline constexpr const char* kFormats[] = {"text", "json", "junit", "tap", "html"};

// One of kFormats; nullptr for another name. json, junit, tap and html are
// written whole at End(); text case by case.
std::unique_ptr<Reporter> MakeReporter(std::string_view format, std::ostream& out);

}  // namespace netutil::conform
