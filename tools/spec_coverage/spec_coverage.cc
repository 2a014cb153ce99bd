// spec_coverage: which rules of docs/SPEC.md are tested and implemented.
//
// A rule is covered when (1) a test's name carries its ID (gtest and
// RapidCheck names, ctest add_test() names) or a conformance case lists it,
// and (2) a comment in impl/ carries its ID written in full. A comment or a
// string elsewhere does not count (coverage.h has the details). Prints one
// line per gap naming the missing link, then the totals; exits 1 on a gap, an
// ID the spec lacks, or an unreadable file; 2 on a usage error.
//
//   spec_coverage --spec docs/SPEC.md --root . [--verbose]
#include <CLI/CLI.hpp>
#include <iostream>

#include "coverage.h"

namespace {

using netutil::spec_coverage::Coverage;
using netutil::spec_coverage::Link;

const char* LinkText(Link l) {
  switch (l) {
    case Link::kTest:
      return "no test name carries it and no conformance case lists it";
    case Link::kImpl:
      return "no comment in impl/ names it in full";
  }
  return "?";
}

void PrintWhere(const char* label, const std::map<std::string, std::set<std::string>>& m,
                const std::string& id) {
  auto it = m.find(id);
  if (it == m.end()) return;
  std::cout << "      " << label << ":";
  for (const auto& w : it->second) std::cout << " " << w << ";";
  std::cout << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Checks that every rule of docs/SPEC.md has a test and an implementation"};
  std::string spec_path = "docs/SPEC.md";
  std::string root = ".";
  bool verbose = false;
  app.add_option("--spec", spec_path, "the spec")->check(CLI::ExistingFile);
  app.add_option("--root", root, "the source tree")->check(CLI::ExistingDirectory);
  app.add_flag("--verbose", verbose, "print every rule with where each link was found");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  const Coverage cov = netutil::spec_coverage::Check(spec_path, root);
  for (const std::string& e : cov.errors) std::cout << "ERROR " << e << "\n";
  if (cov.rules.empty()) {
    std::cout << "spec_coverage: no rule IDs found in " << spec_path << "\n";
    return 1;
  }
  int live = 0;
  for (const auto& r : cov.rules) {
    if (r.withdrawn) continue;
    ++live;
    const std::vector<Link> missing = cov.Missing(r.id);
    for (Link l : missing) std::cout << "GAP   " << r.id << ": " << LinkText(l) << "\n";
    if (verbose && missing.empty()) std::cout << "OK    " << r.id << "\n";
    if (verbose) {
      PrintWhere("test names", cov.test_names, r.id);
      PrintWhere("cases", cov.cases, r.id);
      PrintWhere("impl", cov.impl, r.id);
    }
  }
  for (const auto& [id, where] : cov.unknown) {
    std::cout << "UNKNOWN " << id << " (not in the spec) in:";
    for (const auto& w : where) std::cout << " " << w << ";";
    std::cout << "\n";
  }
  auto count = [&](const std::map<std::string, std::set<std::string>>& m) {
    int n = 0;
    for (const auto& r : cov.rules) n += (!r.withdrawn && m.count(r.id)) ? 1 : 0;
    return n;
  };
  const int gaps = cov.Gaps();
  std::cout << live << " rules: " << count(cov.test_names) << " named by tests, "
            << count(cov.cases) << " listed by conformance cases, " << count(cov.impl)
            << " named in impl/; " << gaps << " gaps, " << cov.unknown.size() << " unknown IDs, "
            << cov.errors.size() << " errors\n";
  return gaps == 0 && cov.unknown.empty() && cov.errors.empty() ? 0 : 1;
}
