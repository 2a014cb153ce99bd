#include "rules_index.h"

#include <algorithm>
#include <string_view>

#include "spec_rules.h"

namespace netutil::conform {
namespace {

bool IsPrimary(const Case& c, const std::string& id) {
  return !c.rules.empty() && c.rules[0] == id;
}

bool Checks(const Case& c, const std::string& id) {
  return std::find(c.rules.begin(), c.rules.end(), id) != c.rules.end();
}

// "bind/port-zero-one-port.json" (the file, relative to the cases dir), in
// backquotes, joined with ", "; "-" when there is none.
std::string FileList(const std::vector<const Case*>& cases) {
  if (cases.empty()) return "-";
  std::string out;
  for (const Case* c : cases) out += (out.empty() ? "`" : ", `") + c->id + ".json`";
  return out;
}

std::string Joined(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

constexpr const char* kHeader =
    "# Conformance cases by rule\n"
    "\n"
    "Generated from the cases' `rules` by `netconform rules-index`; do not edit. The test\n"
    "`RulesIndex.MatchesTheCases` fails when this file and the cases disagree. After adding\n"
    "or changing a case: `build/bin/netconform rules-index > tests/conformance/cases/RULES.md`.\n"
    "\n"
    "A case's first rule is its primary rule, the one it is written for. Find a rule's\n"
    "cases with `grep BIND-013 tests/conformance/cases/RULES.md`, or with a build,\n"
    "`netconform list --rule BIND-013`. Rules are those of docs/SPEC.md.\n";

}  // namespace

std::optional<std::string> RuleIdProblem(const std::string& id) {
  const spec::Rule* rule = spec::FindRule(id);
  if (rule == nullptr) {
    return "unknown rule \"" + id + "\": not a rule ID of docs/SPEC.md (like BIND-013)";
  }
  if (rule->withdrawn) return "rule " + id + " is withdrawn from docs/SPEC.md";
  return std::nullopt;
}

std::vector<const Case*> CasesForRule(const std::vector<Case>& cases, const std::string& id) {
  std::vector<const Case*> out;
  for (const Case& c : cases) {
    if (IsPrimary(c, id)) out.push_back(&c);
  }
  for (const Case& c : cases) {
    if (Checks(c, id) && !IsPrimary(c, id)) out.push_back(&c);
  }
  return out;
}

std::string RulesIndexMarkdown(const std::vector<Case>& cases) {
  std::string out = kHeader;
  out += "\n## By rule\n\n";
  out += "| rule | level | mark | primary rule of | also checked by |\n";
  out += "|---|---|---|---|---|\n";
  for (const spec::Rule& r : spec::kRules) {
    if (r.withdrawn) continue;
    std::vector<const Case*> primary;
    std::vector<const Case*> also;
    for (const Case& c : cases) {
      if (IsPrimary(c, r.id)) {
        primary.push_back(&c);
      } else if (Checks(c, r.id)) {
        also.push_back(&c);
      }
    }
    out += std::string("| ") + r.id + " | " + r.level + " | " + r.mark + " | " + FileList(primary) +
           " | " + FileList(also) + " |\n";
  }
  out += "\n## By case\n\n";
  out += "| case file | primary rule | other rules | title |\n";
  out += "|---|---|---|---|\n";
  for (const Case& c : cases) {
    const std::vector<std::string> others(c.rules.begin() + (c.rules.empty() ? 0 : 1),
                                          c.rules.end());
    std::string title;  // a bar in a cell is written "\|" (GitHub's tables)
    for (char ch : c.title) title += ch == '|' ? std::string("\\|") : std::string(1, ch);
    out += "| `" + c.id + ".json` | " + (c.rules.empty() ? "-" : c.rules[0]) + " | " +
           (others.empty() ? "-" : Joined(others, ", ")) + " | " + title + " |\n";
  }
  return out;
}

}  // namespace netutil::conform
