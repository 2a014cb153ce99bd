// sweep: the exhaustive single-fault sweep. For each scenario of the
// catalogue (fakes/scenario.h) it runs the call once without faults, then once
// per (call of that run) x (errno legal for that call), with only that fault
// (and, for a unix scenario in an attacked directory, once per call x swap
// another process could make after it: fakes::SwapFaults),
// and checks the spec's invariants (fakes/spec_invariants.h) every time.
//
//   sweep [--filter SUBSTRING] [--verbose] [--no-fork] [--list]
//         [--min-faults N] [--max-share PCT] [--min-per-scenario N]
//
// Each scenario runs in a forked child, so a crash (a signal, not only an
// exception) is counted instead of ending the sweep; a crashed scenario is
// re-run one fault a child to count and name the faults that crash it.
// Prints one line per scenario, then
//   swept N faults over M scenarios: L leaks, C crashes, V invariant violations
// then the faults each scenario gave, and exits 0 only when all three are 0
// and the counts meet the limits of sweep_limits.h (a minimum of faults
// injected and verified, no scenario over 40% of them, none under 10; see
// tools/sweep/README.md). A fault counts once it fired: a rule that never
// fires is a violation, not a fault swept. With --filter the limits, which
// are about the whole catalogue, are not applied (and the output says so).
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "netutil/fakes/scenario.h"
#include "sweep_limits.h"

namespace {

using netutil::fakes::FaultPlan;
using netutil::fakes::FaultRule;
using netutil::fakes::Scenario;
using netutil::fakes::ScenarioRun;

enum class Kind { kLeak, kCrash, kInvariant };

Kind KindOf(const std::string& violation) {
  if (violation.starts_with("crash:")) return Kind::kCrash;
  for (const char* rule : {"BIND-018", "UNIX-011", "ACCEPT-017", "UNIX-015"}) {
    if (violation.starts_with(rule)) return Kind::kLeak;
  }
  return Kind::kInvariant;
}

struct Tally {
  long long faults = 0;
  long long leaks = 0;
  long long crashes = 0;
  long long violations = 0;
  std::vector<std::string> details;  // one report per failing case

  void Add(const std::string& where, const std::vector<std::string>& vs, const std::string& trace,
           bool verbose) {
    if (vs.empty()) return;
    std::string report = where + "\n";
    for (const auto& v : vs) {
      switch (KindOf(v)) {
        case Kind::kLeak:
          ++leaks;
          break;
        case Kind::kCrash:
          ++crashes;
          break;
        case Kind::kInvariant:
          ++violations;
          break;
      }
      report += "    " + v + "\n";
    }
    // The first failing case of a scenario shows its trace; --verbose, all.
    if (verbose || details.empty()) report += "  trace:\n" + trace;
    details.push_back(report);
  }
};

// Runs the whole scenario in this process.
Tally SweepScenario(const Scenario& s, bool verbose) {
  Tally t;
  const ScenarioRun base = netutil::fakes::RunScenario(s, {});
  t.Add("  without faults", base.violations, base.trace, verbose);
  for (const FaultRule& rule : netutil::fakes::SingleFaults(base)) {
    FaultPlan plan({rule});
    const ScenarioRun run = netutil::fakes::RunScenario(s, plan, &base, &rule);
    std::vector<std::string> vs = run.violations;
    if (run.faults_fired > 0) ++t.faults;  // injected, and checked below
    if (run.faults_fired == 0) vs.push_back("sweep: the fault never fired (the run diverged)");
    t.Add("  fault: " + netutil::fakes::PrintRule(rule), vs, run.trace, verbose);
  }
  // Another process swapping entries after each call (UNIX-017 to UNIX-020).
  for (const FaultRule& rule : netutil::fakes::SwapFaults(s, base)) {
    FaultPlan plan({rule});
    const ScenarioRun run = netutil::fakes::RunScenario(s, plan, &base, &rule);
    ++t.faults;
    std::vector<std::string> vs = run.violations;
    if (run.faults_fired == 0) vs.push_back("sweep: the swap never happened (the run diverged)");
    t.Add("  swap: " + netutil::fakes::PrintRule(rule), vs, run.trace, verbose);
  }
  return t;
}

// The child's report travels as text lines: counts, then the details.
std::string Serialize(const Tally& t) {
  std::ostringstream os;
  os << t.faults << " " << t.leaks << " " << t.crashes << " " << t.violations << " "
     << t.details.size() << "\n";
  for (const auto& d : t.details) os << d.size() << "\n" << d;
  return os.str();
}

bool Deserialize(const std::string& text, Tally& t) {
  std::istringstream is(text);
  size_t n = 0;
  if (!(is >> t.faults >> t.leaks >> t.crashes >> t.violations >> n)) return false;
  for (size_t i = 0; i < n; ++i) {
    size_t len = 0;
    if (!(is >> len)) return false;
    is.get();
    std::string d(len, '\0');
    if (!is.read(d.data(), static_cast<std::streamsize>(len))) return false;
    t.details.push_back(d);
  }
  return true;
}

// Runs `work` in a child; returns its output, or nullopt with `why` if it died.
template <typename Work>
std::optional<std::string> InChild(Work&& work, std::string& why) {
  int fds[2];
  if (pipe(fds) != 0) {
    why = std::string("pipe: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::cout.flush();
  const pid_t pid = fork();
  if (pid < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (pid == 0) {
    close(fds[0]);
    const std::string out = work();
    size_t off = 0;
    while (off < out.size()) {
      const ssize_t w = write(fds[1], out.data() + off, out.size() - off);
      if (w <= 0) _exit(3);
      off += static_cast<size_t>(w);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t r = read(fds[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    why = std::string("killed by signal ") + strsignal(WTERMSIG(status));
    return std::nullopt;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    why = "exited with status " + std::to_string(WEXITSTATUS(status));
    return std::nullopt;
  }
  return out;
}

// A scenario whose child died: every fault alone, so each crash is named.
Tally Isolate(const Scenario& s, bool verbose) {
  Tally t;
  std::string why;
  const ScenarioRun base = netutil::fakes::RunScenario(s, {});
  for (const FaultRule& rule : netutil::fakes::SingleFaults(base)) {
    ++t.faults;
    auto out = InChild(
        [&] {
          const ScenarioRun run = netutil::fakes::RunScenario(s, FaultPlan({rule}), &base, &rule);
          Tally one;
          one.Add("  fault: " + netutil::fakes::PrintRule(rule), run.violations, run.trace,
                  verbose);
          return Serialize(one);
        },
        why);
    Tally one;
    if (!out || !Deserialize(*out, one)) {
      t.Add("  fault: " + netutil::fakes::PrintRule(rule), {"crash: " + why}, "", false);
      continue;
    }
    t.leaks += one.leaks;
    t.crashes += one.crashes;
    t.violations += one.violations;
    t.details.insert(t.details.end(), one.details.begin(), one.details.end());
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs every single fault of every scenario against the spec's invariants"};
  std::string filter;
  bool verbose = false, no_fork = false, list = false;
  app.add_option("--filter", filter, "only scenarios whose name contains this");
  app.add_flag("--verbose", verbose, "print the trace of every failing case");
  app.add_flag("--no-fork", no_fork, "run in this process (for a debugger)");
  app.add_flag("--list", list, "list the scenarios and their fault counts");
  netutil::sweep::Limits limits;
  app.add_option("--min-faults", limits.min_faults, "faults the whole sweep must verify")
      ->capture_default_str();
  app.add_option("--max-share", limits.max_share_percent, "most faults one scenario may give (%)")
      ->capture_default_str();
  app.add_option("--min-per-scenario", limits.min_per_scenario, "fewest faults a scenario may give")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  Tally total;
  int scenarios = 0;
  netutil::sweep::PerScenario per_scenario;
  for (const Scenario& s : netutil::fakes::StandardScenarios()) {
    if (!filter.empty() && s.name.find(filter) == std::string::npos) continue;
    ++scenarios;
    if (list) {
      const ScenarioRun base = netutil::fakes::RunScenario(s, {});
      std::cout << s.name << ": " << base.calls.size() << " calls, "
                << netutil::fakes::SingleFaults(base).size() << " faults\n";
      continue;
    }
    Tally t;
    std::string why;
    if (no_fork) {
      t = SweepScenario(s, verbose);
    } else {
      auto out = InChild([&] { return Serialize(SweepScenario(s, verbose)); }, why);
      if (!out || !Deserialize(*out, t)) {
        std::cout << "CRASH [" << s.name << "] " << why << "; isolating each fault\n";
        t = Isolate(s, verbose);
      }
    }
    const bool clean = t.leaks == 0 && t.crashes == 0 && t.violations == 0;
    std::cout << (clean ? "OK   [" : "FAIL [") << s.name << "] " << t.faults << " faults\n";
    size_t shown = 0;
    for (const auto& d : t.details) {
      if (++shown > 20 && !verbose) {
        std::cout << "  ... " << t.details.size() - 20 << " more failing cases (--verbose)\n";
        break;
      }
      std::cout << d;
    }
    per_scenario.emplace_back(s.name, t.faults);
    total.faults += t.faults;
    total.leaks += t.leaks;
    total.crashes += t.crashes;
    total.violations += t.violations;
  }
  if (list) return 0;
  std::cout << "swept " << total.faults << " faults over " << scenarios
            << " scenarios: " << total.leaks << " leaks, " << total.crashes << " crashes, "
            << total.violations << " invariant violations\n";
  std::cout << "faults per scenario:\n" << netutil::sweep::SpreadTable(per_scenario);
  std::vector<std::string> short_of;
  if (filter.empty()) {
    short_of = netutil::sweep::SpreadProblems(per_scenario, limits);
  } else {
    std::cout << "limits not applied: --filter sweeps part of the catalogue\n";
  }
  for (const std::string& p : short_of) std::cout << "LIMIT " << p << "\n";
  std::cout << "limits (at least " << limits.min_faults << " faults, at most "
            << limits.max_share_percent << "% and at least " << limits.min_per_scenario
            << " per scenario): "
            << (filter.empty() ? (short_of.empty() ? "met" : "NOT met") : "not applied") << "\n";
  const bool clean = total.leaks == 0 && total.crashes == 0 && total.violations == 0;
  return clean && short_of.empty() ? 0 : 1;
}
