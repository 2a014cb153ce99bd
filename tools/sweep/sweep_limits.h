// What a full sweep must have done to pass (tools/sweep/README.md): not only "no leak, no crash, no
// violation", which an empty or lopsided sweep also gives, but enough faults injected and verified,
// spread over every scenario of the catalogue.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace netutil::sweep {

struct Limits {
  // Faults injected, fired and checked against the invariants, over the
  // whole catalogue. The catalogue of 31 scenarios gives 9,221; a change that
  // drops a scenario or thins the errno table under this fails the sweep.
  // Raise it when the catalogue grows.
  long long min_faults = 9000;
  // No scenario gives more than this share of the faults (percent), so the
  // total cannot be reached by one scenario repeating the same paths.
  double max_share_percent = 40.0;
  // Every scenario gives at least this many: one that gives fewer is not
  // being swept (it makes almost no call).
  long long min_per_scenario = 10;
};

// Faults verified per scenario, in catalogue order.
using PerScenario = std::vector<std::pair<std::string, long long>>;

// Why the counts fall short of `limits` (empty: they do not), one line each,
// naming the scenario and the figures.
std::vector<std::string> SpreadProblems(const PerScenario& counts, const Limits& limits);

// "  bind/port0-dual-stack                      42   1.4%" lines and the total.
std::string SpreadTable(const PerScenario& counts);

}  // namespace netutil::sweep
