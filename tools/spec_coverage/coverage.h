// Which link of docs/SPEC.md's rules is present in a source tree.
//
// A rule counts as tested only when its ID is carried by something that runs
// and can fail:
//   - a test's NAME: gtest TEST/TEST_F/TEST_P/TYPED_TEST names and RapidCheck
//     RC_GTEST_PROP / rc::check names in C++ sources (comments and string
//     literals do not count), ctest add_test() names in CMake files
//     ("BIND_013" or "BIND-013" inside the name);
//   - a conformance case that lists it in "rules"
//     (tests/conformance/cases/**/*.json).
// And it counts as implemented when a comment in impl/ carries its ID written
// in full ("BIND-013"; a range such as "BIND-019..022" names only BIND-019).
//
// Every scanner here is a single forward pass (no regex, no backtracking), so
// hostile input costs time linear in its size; files above kMaxFileBytes are
// refused with an error naming them.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace netutil::spec_coverage {

inline constexpr size_t kMaxFileBytes = 4 * 1024 * 1024;

struct Rule {
  std::string id;  // "BIND-013"
  bool withdrawn = false;
};

// Rules defined in the spec: lines starting "**AREA-NNN**"; a definition line
// containing "withdrawn" marks the rule withdrawn.
std::vector<Rule> ParseSpecRules(std::string_view spec);

// IDs of the given areas in `text`, normalised to "AREA-NNN". An ID starts
// after a non-letter (so "BIND_023_BIND_018" names two), has exactly three
// digits, and is followed by a non-digit. `dash_only`: only "AREA-NNN".
std::vector<std::string> FindIds(std::string_view text, const std::set<std::string>& areas,
                                 bool dash_only);

// C++ source split into what matters here.
struct CppScan {
  std::vector<std::string> test_names;  // TEST(S, NAME) ..., RC_GTEST_PROP, rc::check("NAME")
  std::vector<std::string> comments;    // the text of each // and /* */ comment
};
CppScan ScanCpp(std::string_view source);

// Names given to add_test() in a CMake file (NAME form or the old positional form).
std::vector<std::string> CmakeTestNames(std::string_view cmake);

// The "rules" of a conformance case file (JSON with comments), or an error.
std::optional<std::vector<std::string>> CaseRules(std::string_view json_text, std::string* error);

enum class Link { kTest, kImpl };  // kTest: no test name and no case

struct Coverage {
  std::vector<Rule> rules;
  // rule ID -> where the link was found ("tests/unit/x.cc: Suite.NAME").
  std::map<std::string, std::set<std::string>> test_names;
  std::map<std::string, std::set<std::string>> cases;
  std::map<std::string, std::set<std::string>> impl;
  std::map<std::string, std::set<std::string>> unknown;  // ID not in the spec -> where
  std::vector<std::string> errors;                       // unreadable or oversized files, bad JSON

  // The links a live rule lacks: kImpl when no impl comment names it, and
  // kTestName (standing for "no test name and no case") when neither a test
  // name nor a case does.
  std::vector<Link> Missing(const std::string& id) const;
  int Gaps() const;  // live rules with a missing link
};

// Scans `root` (tests/, fuzz/, tools/ for test names, except directories named
// "testdata", which hold fixtures; tests/conformance/cases for cases; impl/
// for comments) against the rules of `spec_path`.
Coverage Check(const std::string& spec_path, const std::string& root);

}  // namespace netutil::spec_coverage
