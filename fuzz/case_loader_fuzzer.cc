// The case-file loader (tools/conform/catalog.h LoadCatalog) on any bytes, as
// a case from a third party would be: it never crashes, hangs or takes memory
// out of proportion; it gives exactly one of a problem or a case; a problem
// names the file ("fuzz/x.json:<line>") with a line inside the text; a case it
// accepts is within docs/CONFORMANCE.md "Limits" (ID, steps, depth) and its
// make and check paths are in ${TMP}.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bounded_json.h"
#include "catalog.h"
#include "confined_path.h"
#include "fuzzed_sys.h"
#include "json_lines.h"

using netutil::fuzz::Check;
namespace conform = netutil::conform;

namespace {

int Lines(std::string_view text) {
  int n = 1;
  for (char c : text) n += c == '\n';
  return n;
}

// "origin:LINE:..." -> LINE (0 when there is none).
int LineOfProblem(const std::string& problem, const std::string& origin) {
  if (problem.compare(0, origin.size() + 1, origin + ":") != 0) return 0;
  int line = 0;
  for (size_t i = origin.size() + 1; i < problem.size() && problem[i] >= '0' && problem[i] <= '9';
       ++i) {
    line = line * 10 + (problem[i] - '0');
    if (line > 100000000) return 0;
  }
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The ID must match the path: a file named after the area and slug "x/y".
  const std::string origin = "fuzz/x/y.json";
  std::vector<std::string> problems;
  const std::vector<conform::Case> cases = conform::LoadCatalog({{origin, text}}, &problems);
  Check(cases.size() + problems.size() == 1, "not exactly one of a case or a problem");
  if (!problems.empty()) {
    const int line = LineOfProblem(problems[0], origin);
    Check(line >= 1 && line <= Lines(text),
          [&] { return "problem without a line inside the text: " + problems[0]; });
    return 0;
  }
  const conform::Case& c = cases[0];
  Check(c.id == "x/y", "a case whose ID does not match its path");
  Check(!c.steps.empty() && c.steps.size() <= conform::kMaxSteps, "steps out of bounds");
  Check(conform::JsonDepth(c.steps) <= conform::kMaxJsonDepth, "steps nested too deep");
  for (const auto& step : c.steps) {
    if (step.contains("check")) {
      Check(!conform::CasePathProblem(step["check"].get<std::string>()), "check path not in TMP");
    }
    if (step.contains("make")) {
      Check(!conform::CasePathProblem(step["make"]["path"].get<std::string>()),
            "make path not in TMP");
    }
  }
  // The line lookup of any part of an accepted case stays inside the text.
  const int line = conform::LineOf(text, "/steps/" + std::to_string(c.steps.size() - 1));
  Check(line >= 1 && line <= Lines(text), "LineOf outside the text");
  return 0;
}
