// spec_coverage: which tests name which rule of docs/SPEC.md.
//
// Reads the rule IDs defined in the spec (lines starting "**BIND-013**"), then
// scans the test, fuzz and conformance sources for the IDs they name (BIND_013
// in a gtest name, BIND-013 in a conformance case). Fails when a rule is named
// by no test (a gap) or a source names a rule the spec does not define (a typo).
//
//   spec_coverage --spec docs/SPEC.md --root . [--verbose]
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Maps docs/SPEC.md rule IDs to the tests that name them"};
  std::string spec_path = "docs/SPEC.md";
  std::string root = ".";
  bool verbose = false;
  app.add_option("--spec", spec_path, "the spec")->check(CLI::ExistingFile);
  app.add_option("--root", root, "the source tree")->check(CLI::ExistingDirectory);
  app.add_flag("--verbose", verbose, "print every rule with the files naming it");
  CLI11_PARSE(app, argc, argv);

  const std::regex defined(R"(^\*\*([A-Z]+)-([0-9]{3})\*\*)");
  std::set<std::string> rules;
  std::istringstream spec(ReadFile(spec_path));
  for (std::string line; std::getline(spec, line);) {
    std::smatch m;
    if (std::regex_search(line, m, defined)) rules.insert(m[1].str() + "-" + m[2].str());
  }
  if (rules.empty()) {
    std::cerr << "spec_coverage: no rule IDs found in " << spec_path << "\n";
    return 2;
  }
  std::set<std::string> areas;
  for (const auto& r : rules) areas.insert(r.substr(0, r.find('-')));
  std::string alternation;
  for (const auto& a : areas) alternation += (alternation.empty() ? "" : "|") + a;
  const std::regex named("\\b(" + alternation + ")[-_]([0-9]{3})(?![0-9])");

  std::map<std::string, std::set<std::string>> named_in;  // rule -> files
  std::map<std::string, std::set<std::string>> unknown;   // bad ID -> files
  const std::set<std::string> exts = {".cc", ".h", ".scn", ".py", ".txt", ".json"};
  for (const char* dir : {"tests", "fuzz", "tools/conform"}) {
    fs::path base = fs::path(root) / dir;
    if (!fs::exists(base)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(base)) {
      if (!entry.is_regular_file() || exts.count(entry.path().extension().string()) == 0) continue;
      const std::string text = ReadFile(entry.path());
      const std::string rel = fs::relative(entry.path(), root).string();
      for (std::sregex_iterator it(text.begin(), text.end(), named), end; it != end; ++it) {
        std::string id = (*it)[1].str() + "-" + (*it)[2].str();
        (rules.count(id) ? named_in : unknown)[id].insert(rel);
      }
    }
  }

  int gaps = 0;
  for (const auto& r : rules) {
    auto it = named_in.find(r);
    if (it == named_in.end()) {
      std::cout << "GAP   " << r << ": named by no test\n";
      ++gaps;
    } else if (verbose) {
      std::cout << "OK    " << r << ":";
      for (const auto& f : it->second) std::cout << " " << f;
      std::cout << "\n";
    }
  }
  for (const auto& [id, files] : unknown) {
    std::cout << "UNKNOWN " << id << " (not in the spec) named in:";
    for (const auto& f : files) std::cout << " " << f;
    std::cout << "\n";
  }
  std::cout << rules.size() << " rules, " << (rules.size() - gaps) << " named by tests, " << gaps
            << " gaps, " << unknown.size() << " unknown IDs\n";
  return (gaps == 0 && unknown.empty()) ? 0 : 1;
}
