// netconform: the conformance runner for netutil implementations.
//
//   netconform list [--filter GLOB] [--format text|json]
//   netconform coverage
//   netconform run [--filter GLOB] [--adapter 'CMD ...'] [--format text|json]
//                  [--out FILE] [--timeout-ms N] [--keep-tmp] [-v]
//
// run: in-process against the reference by default (with fault injection and a
// syscall trace), or against any adapter command speaking docs/ADAPTER.md.
// Exit status: 0 when no case failed, 1 when one did, 2 on a usage or catalog error.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "catalog.h"
#include "report.h"
#include "runner.h"
#include "spec_rules.h"
#include "target.h"

namespace {

using netutil::conform::Case;
using json = nlohmann::json;

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

int List(const std::vector<Case>& cases, const std::string& filter, const std::string& format) {
  json out = json::array();
  for (const Case& c : cases) {
    if (!netutil::conform::Selected(c, filter)) continue;
    if (format == "json") {
      out.push_back({{"id", c.id}, {"rules", c.rules}, {"title", c.title}, {"env", c.env}});
    } else {
      std::printf("%-46s %-24s %s\n", c.id.c_str(), Join(c.rules, ",").c_str(), c.title.c_str());
    }
  }
  if (format == "json") std::cout << out.dump(2) << "\n";
  return 0;
}

int Coverage(const std::vector<Case>& cases) {
  int covered = 0;
  int total = 0;
  for (const netutil::spec::Rule& r : netutil::spec::kRules) {
    if (r.withdrawn) continue;
    ++total;
    std::vector<std::string> ids;
    for (const Case& c : cases) {
      for (const std::string& id : c.rules) {
        if (id == r.id) ids.push_back(c.id);
      }
    }
    if (!ids.empty()) ++covered;
    std::printf("%-11s %-6s %-8s %s\n", r.id, r.level, r.mark,
                ids.empty() ? "-" : Join(ids, " ").c_str());
  }
  std::printf("%d of %d rules have a conformance case\n", covered, total);
  return 0;
}

int Run(const std::vector<Case>& all, const std::string& filter, const std::string& adapter,
        const std::string& format, const std::string& out_path,
        const netutil::conform::RunOptions& options) {
  using namespace netutil::conform;
  std::unique_ptr<Target> target =
      adapter.empty() ? MakeInProcessTarget() : MakeProcessTarget(adapter);
  std::ofstream file;
  if (!out_path.empty()) {
    file.open(out_path);
    if (!file) {
      std::fprintf(stderr, "netconform: cannot write %s\n", out_path.c_str());
      return 2;
    }
  }
  std::ostream& out = out_path.empty() ? std::cout : static_cast<std::ostream&>(file);
  std::unique_ptr<Reporter> reporter = MakeReporter(format, out);

  std::vector<const Case*> selected;
  for (const Case& c : all) {
    if (Selected(c, filter)) selected.push_back(&c);
  }
  if (selected.empty()) {  // a typo in --filter must not read as a clean run
    std::fprintf(stderr, "netconform: no case matches --filter %s\n", filter.c_str());
    return 2;
  }
  Runner runner(*target, options);
  const auto start = std::chrono::steady_clock::now();
  const std::optional<std::string> not_ready = runner.Prepare();
  if (not_ready) std::fprintf(stderr, "netconform: %s\n", not_ready->c_str());
  reporter->Begin(RunInfo{target->Describe(), runner.hello(), selected.size()});
  Summary s;
  for (const Case* c : selected) {
    CaseResult r = runner.Run(*c);
    switch (r.verdict) {
      case Verdict::kOk:
        ++s.passed;
        break;
      case Verdict::kFailed:
        ++s.failed;
        break;
      case Verdict::kSkipped:
        ++s.skipped;
        break;
    }
    reporter->CaseDone(r);
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  reporter->End(s);
  // With --out the report goes to the file; the terminal still gets the count.
  if (!out_path.empty()) std::cout << SummaryLine(s) << "\n";
  return s.failed == 0 && !not_ready ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a dead adapter's pipe must not kill the runner

  CLI::App app{"netconform: conformance cases for netutil implementations (docs/SPEC.md)"};
  app.require_subcommand(1);
  std::string filter;
  std::string format = "text";

  CLI::App* list = app.add_subcommand("list", "List the cases: ID, rules, title");
  list->add_option("--filter", filter, "Only cases whose ID or a rule ID matches this glob");
  list->add_option("--format", format, "text or json")->check(CLI::IsMember({"text", "json"}));

  app.add_subcommand("coverage", "For every rule of docs/SPEC.md, the cases that check it");

  CLI::App* run = app.add_subcommand("run", "Run the cases and give each a verdict");
  std::string adapter;
  std::string out_path;
  long long timeout_ms = 10000;
  netutil::conform::RunOptions options;
  run->add_option("--filter", filter, "Only cases whose ID or a rule ID matches this glob");
  run->add_option("--adapter", adapter,
                  "Run against this adapter command (docs/ADAPTER.md) instead of in-process");
  run->add_option("--format", format, "text or json")->check(CLI::IsMember({"text", "json"}));
  run->add_option("--out", out_path, "Write the report to this file");
  run->add_option("--timeout-ms", timeout_ms, "Per-request timeout for an adapter")
      ->check(CLI::Range(1LL, 3600000LL));
  run->add_flag("--keep-tmp", options.keep_tmp, "Keep each case's temp dir");
  run->add_flag("-v,--verbose", options.verbose, "Show the syscall trace of a failed step");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints the usage or the error
    return rc == 0 ? 0 : 2;
  }

  std::vector<std::string> problems;
  const std::vector<Case> cases =
      netutil::conform::LoadCatalog(netutil::conform::BuiltinCases(), &problems);
  if (!problems.empty()) {
    for (const std::string& p : problems)
      std::fprintf(stderr, "netconform: catalog: %s\n", p.c_str());
    return 2;
  }
  if (*list) return List(cases, filter, format);
  if (app.got_subcommand("coverage")) return Coverage(cases);
  options.request_timeout = std::chrono::milliseconds(timeout_ms);
  return Run(cases, filter, adapter, format, out_path, options);
}
