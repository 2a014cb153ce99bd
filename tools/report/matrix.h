// The runs side by side: every case x implementation, as rows (what the HTML
// page shows, html.h) and as the merged JSON index netreport writes.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "run_document.h"

namespace netutil::conform {

// Every implementation x case:
//   {"implementations": [{"impl" (the column's key, run_document.h Column),
//                         "name" (the hello's), "target", "profile", "version",
//                         "mode", "jobs", "error" (when present), "summary"}],
//    "cases": [{"id", "rules", "title", "level",
//               "results": {impl: {"verdict", "design", "reason", "details", "trace"}}}]}
// Cases in order of first appearance; a case a run did not include has no
// entry under that run's impl. The summary is counted from the cases (seconds
// from the run's own summary), so it always agrees with the results.
nlohmann::json MergeIndex(const std::vector<nlohmann::json>& runs);

namespace report {

// One row of the matrix: a case, and what each run said about it.
struct MatrixRow {
  CaseEntry c;                               // from the first run that has the case
  std::vector<std::optional<CaseEntry>> at;  // per run; nullopt: not in that run
};

// The cases of all runs in order of first appearance; a repeated ID within a
// run: the first result stands.
std::vector<MatrixRow> MatrixRows(const std::vector<nlohmann::json>& runs);

}  // namespace report
}  // namespace netutil::conform
