#include "sweep_limits.h"

#include <cstdio>

namespace netutil::sweep {
namespace {

std::string Percent(double pct, const char* format) {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, pct);
  return buf;
}

}  // namespace

std::vector<std::string> SpreadProblems(const PerScenario& counts, const Limits& limits) {
  std::vector<std::string> problems;
  long long total = 0;
  for (const auto& [name, n] : counts) total += n;
  if (total < limits.min_faults) {
    problems.push_back("only " + std::to_string(total) +
                       " faults injected and verified, fewer than " +
                       std::to_string(limits.min_faults));
  }
  for (const auto& [name, n] : counts) {
    const double pct = total > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(total) : 0;
    if (pct > limits.max_share_percent) {
      problems.push_back(name + " gives " + std::to_string(n) + " faults, " +
                         Percent(pct, "%.1f%%") + " of all, more than " +
                         Percent(limits.max_share_percent, "%.0f%%"));
    }
    if (n < limits.min_per_scenario) {
      problems.push_back(name + " gives " + std::to_string(n) + " faults, fewer than " +
                         std::to_string(limits.min_per_scenario));
    }
  }
  if (counts.empty()) problems.push_back("no scenario was swept");
  return problems;
}

std::string SpreadTable(const PerScenario& counts) {
  long long total = 0;
  for (const auto& [name, n] : counts) total += n;
  std::string out;
  char line[160];
  for (const auto& [name, n] : counts) {
    const double pct = total > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(total) : 0;
    std::snprintf(line, sizeof line, "  %-40s %6lld %5.1f%%\n", name.c_str(), n, pct);
    out += line;
  }
  std::snprintf(line, sizeof line, "  %-40s %6lld\n", "total", total);
  return out + line;
}

}  // namespace netutil::sweep
