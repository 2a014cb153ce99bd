// spec_coverage's scanners, and the whole check on fixture trees made here:
// a link missing of each kind is a gap; a comment or a string is no test; a
// range is no ID in full; hostile input ends in linear time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "coverage.h"

namespace netutil::spec_coverage {
namespace {

namespace fs = std::filesystem;
using Ids = std::vector<std::string>;

const std::set<std::string> kAreas = {"BIND", "UNIX", "LOOP"};

// A temp dir that goes away with the test.
class Tree {
 public:
  Tree() {
    std::string tmpl = (fs::temp_directory_path() / "spec-coverage-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    root_ = tmpl;
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void Write(const std::string& rel, const std::string& text) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  std::string root() const { return root_.string(); }
  std::string spec() const { return (root_ / "docs/SPEC.md").string(); }

 private:
  fs::path root_;
};

constexpr const char* kSpec =
    "# spec\n\n**BIND-001** · MUST · tornado\ntext\n\n**BIND-002** · MUST · strict\ntext\n\n"
    "**UNIX-001** · MUST · tornado · *withdrawn*\ntext\n";

TEST(SpecCoverage, SpecRulesAndWithdrawnOnesAreRead) {
  const std::vector<Rule> rules = ParseSpecRules(kSpec);
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].id, "BIND-001");
  EXPECT_FALSE(rules[0].withdrawn);
  EXPECT_EQ(rules[2].id, "UNIX-001");
  EXPECT_TRUE(rules[2].withdrawn);
  EXPECT_TRUE(ParseSpecRules("BIND-001 in prose\n**BIND-01** short\n**BIND-0011**\n").empty());
}

TEST(SpecCoverage, IdsAreFoundWithTheirBoundaries) {
  EXPECT_EQ(FindIds("BIND_023_BIND_018_NoLeak", kAreas, false), (Ids{"BIND-023", "BIND-018"}));
  EXPECT_EQ(FindIds("x UNIX-013, LOOP-002.", kAreas, false), (Ids{"UNIX-013", "LOOP-002"}));
  EXPECT_EQ(FindIds("BIND-0231 XBIND-001 BIND-01 ACCEPT-001 BIND_", kAreas, false), Ids{});
  EXPECT_EQ(FindIds("BIND_001 BIND-002..004", kAreas, true), (Ids{"BIND-002"}));
}

TEST(SpecCoverage, OnlyTestNamesCountNotCommentsOrStrings) {
  const CppScan s = ScanCpp(R"cc(
    // TEST(Commented, BIND_001_Out)
    /* TEST(Block, BIND_001_Out) */
    const char* a = "TEST(InString, BIND_001_Out)";
    const char* b = R"x(TEST(InRaw, BIND_001_Out) )" )x";
    int n = 1'000;
    char c = '"';
    TEST(Suite, BIND_001_Counted) {}
    RC_GTEST_PROP(Prop, BIND_002_AcrossLines, ()) {}
    void f() {
      rc::check("LOOP_002 a property", [] {});
    }
  )cc");
  EXPECT_EQ(s.test_names,
            (Ids{"Suite.BIND_001_Counted", "Prop.BIND_002_AcrossLines", "LOOP_002 a property"}));
  ASSERT_EQ(s.comments.size(), 2u);
  EXPECT_EQ(s.comments[0], " TEST(Commented, BIND_001_Out)");
}

TEST(SpecCoverage, CmakeAddTestNames) {
  EXPECT_EQ(CmakeTestNames("add_test(NAME Sweep.BIND_018_X COMMAND x)\n"
                           "# add_test(NAME Commented.BIND_001 COMMAND x)\n"
                           "add_test(Old.UNIX_001 cmd)\nmy_add_test(NAME No COMMAND y)\n"),
            (Ids{"Sweep.BIND_018_X", "Old.UNIX_001"}));
}

TEST(SpecCoverage, CaseRulesFromJsonWithComments) {
  std::string error;
  auto rules = CaseRules("{ // c\n \"rules\": [\"BIND-001\"] /* d */ }", &error);
  ASSERT_TRUE(rules) << error;
  EXPECT_EQ(*rules, Ids{"BIND-001"});
  EXPECT_FALSE(CaseRules("{\"rules\": \"BIND-001\"}", &error));
  EXPECT_FALSE(CaseRules("{", &error));
}

// The fixture of the issue: every link missing once.
TEST(SpecCoverage, EachMissingLinkIsAGapNamed) {
  Tree t;
  t.Write("docs/SPEC.md", kSpec);
  // BIND-001: a test name; BIND-002: only a comment and a string.
  t.Write("tests/unit/a_test.cc",
          "// BIND_002 here\nTEST(S, BIND_001_X) { const char* s = \"BIND_002\"; }\n");
  // BIND-001 in full; BIND-002 only as the end of a range.
  t.Write("impl/src/a.cc", "// BIND-001..002\nint a;\n");
  Coverage cov = Check(t.spec(), t.root());
  EXPECT_TRUE(cov.errors.empty());
  EXPECT_EQ(cov.Missing("BIND-001"), std::vector<Link>{});
  EXPECT_EQ(cov.Missing("BIND-002"), (std::vector<Link>{Link::kTest, Link::kImpl}));
  EXPECT_EQ(cov.Gaps(), 1);  // UNIX-001 is withdrawn

  // A conformance case is a test; the ID in full in impl/ closes the gap.
  t.Write("tests/conformance/cases/bind/c.json", "{\"rules\": [\"BIND-002\"]}");
  t.Write("impl/include/a.h", "/* BIND-002 */\n");
  cov = Check(t.spec(), t.root());
  EXPECT_EQ(cov.Gaps(), 0);
  EXPECT_TRUE(cov.unknown.empty());

  // Fixtures under testdata/ are never counted as tests.
  t.Write("tools/x/testdata/b_test.cc", "TEST(S, BIND_009_InFixture) {}\n");
  t.Write("tests/unit/b_test.cc", "TEST(S, BIND_007_Typo) {}\n");
  cov = Check(t.spec(), t.root());
  EXPECT_EQ(cov.unknown.size(), 1u);
  EXPECT_EQ(cov.unknown.count("BIND-007"), 1u);
}

TEST(SpecCoverage, OversizedAndBadFilesAreErrorsNamingThem) {
  Tree t;
  t.Write("docs/SPEC.md", kSpec);
  t.Write("tests/conformance/cases/bind/bad.json", "{\"rules\": [1]}");
  t.Write("impl/src/big.cc", std::string(kMaxFileBytes + 1, 'x'));
  const Coverage cov = Check(t.spec(), t.root());
  ASSERT_EQ(cov.errors.size(), 2u);
  EXPECT_NE(cov.errors[0].find("bad.json"), std::string::npos) << cov.errors[0];
  EXPECT_NE(cov.errors[1].find("big.cc"), std::string::npos) << cov.errors[1];
}

// Inputs that make a backtracking matcher or a naive lexer quadratic: the
// scanners take a few milliseconds a MiB.
TEST(SpecCoverage, HostileInputIsScannedInLinearTime) {
  const size_t n = 3 * 1024 * 1024;
  std::string ids;
  while (ids.size() < n) ids += "BIND_BIND-00BIND_0";
  std::string raw = "R\"abcdefghijklmnop(";
  while (raw.size() < n) raw += ")abcdefghijklmnop ";
  std::string opens(n, '(');
  std::string tests;
  while (tests.size() < n) tests += "TEST(TEST(TEST(";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(FindIds(ids, kAreas, false).empty());
  EXPECT_TRUE(ScanCpp(raw).test_names.empty());
  EXPECT_TRUE(ScanCpp(opens).test_names.empty());
  EXPECT_TRUE(ScanCpp(std::string(n, '/') + "*").test_names.empty());
  EXPECT_TRUE(ScanCpp(tests).test_names.empty());
  EXPECT_TRUE(CmakeTestNames(std::string(n / 8, 'a') + std::string(n / 8, '(')).empty());
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(5));  // linear: well under 1 s on a loaded machine
}

}  // namespace
}  // namespace netutil::spec_coverage
