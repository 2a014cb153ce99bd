// The catalog by rule: which cases check a rule of docs/SPEC.md, for
// `netconform list --rule ID` and for tests/conformance/cases/RULES.md, the
// index a person reads without a build (`grep BIND-013 .../RULES.md`).
//
// A case's first rule is its primary rule (what the case is written for);
// the others are rules it checks along the way.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog.h"

namespace netutil::conform {

// Why `id` cannot be listed: not a rule of docs/SPEC.md, or withdrawn;
// nullopt for a rule in force.
std::optional<std::string> RuleIdProblem(const std::string& id);

// The cases that name `id` among their rules, in catalog order, those with it
// as their primary rule first.
std::vector<const Case*> CasesForRule(const std::vector<Case>& cases, const std::string& id);

// RULES.md: for every rule in force, in docs/SPEC.md's order, the files of the
// cases that check it (primary, then the others), and for every case its
// rules. The same cases give the same text, byte for byte.
std::string RulesIndexMarkdown(const std::vector<Case>& cases);

}  // namespace netutil::conform
