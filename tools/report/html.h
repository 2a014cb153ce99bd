// The conformance matrix as one self-contained HTML page.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace netutil::conform {

// One page (its CSS and a few lines of JS inline, from tools/report/assets,
// no external resource): a summary row (counts and wall time of each run) and
// one column per run, named by the implementation's hello and the run's
// profile (run_document.h Column; a repeat marked "#2"), rows grouped by spec
// rule. A case is listed once, under its first rule (the one it is written
// for; the others are shown on its row), so counts add up. Verdict cells are
// coloured (OK green, NON-STRICT amber, FAILED red, SKIPPED grey, N/A lilac,
// not run blank), carry the case's design when the document names one, and
// open on click to the reason, details and trace. A run with an "error" (no
// results) keeps its column, which says why.
std::string ToHtml(const std::vector<nlohmann::json>& runs);

}  // namespace netutil::conform
