#include "expectations.h"

#include <fstream>
#include <set>
#include <sstream>

#include "bounded_json.h"
#include "report_text.h"

namespace netutil::conform {

std::optional<std::string> Expectations::Check(const CaseResult& r) const {
  if (r.verdict == Verdict::kSkipped) return std::nullopt;
  auto it = verdicts.find(r.c->id);
  const Verdict want = it == verdicts.end() ? Verdict::kOk : it->second;
  if (r.verdict == want) return std::nullopt;
  std::string why = r.c->id + ": expected " + VerdictName(want) + ", got " + VerdictName(r.verdict);
  // The reason is the adapter's words: cut and escaped for the terminal.
  if (!r.reason.empty()) why += " (" + TerminalText(BoundedString(r.reason, 1000)) + ")";
  return why;
}

CaseResult UnderProfile(const CaseResult& r, Profile profile) {
  CaseResult out = r;
  if (r.c->strict() && (r.verdict == Verdict::kFailed || r.verdict == Verdict::kNonStrict)) {
    out.verdict = profile == Profile::kTornado ? Verdict::kNonStrict : Verdict::kFailed;
  }
  return out;
}

std::optional<Expectations> ReadExpectations(const std::string& path,
                                             const std::vector<Case>& cases, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot read it";
    return std::nullopt;
  }
  std::set<std::string> ids;
  for (const Case& c : cases) ids.insert(c.id);
  Expectations out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (size_t hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string id;
    std::string verdict;
    std::string extra;
    if (!(words >> id)) continue;  // blank or comment
    auto fail = [&](const std::string& what) {
      *error = path + ":" + std::to_string(n) + ": " + what;
      return std::nullopt;
    };
    if (!(words >> verdict))
      return fail("\"" + id + "\" needs a verdict (FAILED, NON-STRICT or N/A)");
    if (words >> extra) return fail("unexpected \"" + extra + "\" after the verdict");
    if (!ids.count(id)) {
      return fail("no case \"" + TerminalText(BoundedString(id, 200)) + "\" in the catalog");
    }
    // SKIPPED is no expectation: a skipped case is never checked against one.
    const std::optional<Verdict> v = ParseVerdict(verdict);
    if (!v || *v == Verdict::kSkipped) {
      return fail("unknown verdict \"" + verdict + "\" (FAILED, NON-STRICT, N/A, BLIND or OK)");
    }
    if (!out.verdicts.emplace(id, *v).second) return fail("\"" + id + "\" is listed twice");
  }
  return out;
}

}  // namespace netutil::conform
