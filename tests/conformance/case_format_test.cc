// The case format of issue 12 (docs/CONFORMANCE.md "Case files"): one fault
// dialect, the fault-plan lines; file modes as octal strings; and the index
// of the cases by rule (tests/conformance/cases/RULES.md, `netconform list
// --rule`). The old forms are refused with the file, the line and the field.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "case_test_util.h"
#include "catalog.h"
#include "environment.h"
#include "rules_index.h"

namespace netutil::conform {
namespace {

using test_util::MakeCase;

// The one problem of loading `text` as the file `origin`; fails unless there
// is exactly one and it holds every one of `words`.
void ExpectRefused(const std::string& origin, const std::string& text,
                   const std::vector<std::string>& words) {
  std::vector<std::string> problems;
  EXPECT_TRUE(LoadCatalog({{origin, text}}, &problems).empty()) << text;
  ASSERT_EQ(problems.size(), 1u) << text;
  for (const std::string& w : words) {
    EXPECT_NE(problems[0].find(w), std::string::npos) << "want \"" << w << "\" in " << problems[0];
  }
}

// A case file of `body` (env and steps) after three lines of header.
std::string CaseFile(const std::string& id, const std::string& body) {
  return "{\n  \"id\": \"" + id + "\",\n  \"rules\": [\"UNIX-005\"],\n  \"title\": \"t\",\n" +
         body + "\n}\n";
}

// --- one fault dialect ---

TEST(CaseFormat, FaultRuleObjectInEnvIsRefusedWithFileLineAndField) {
  ExpectRefused("cases/bind/a.json",
                CaseFile("bind/a",
                         "  \"env\": {\"faults\": [\"bind #1 = EINTR\",\n"
                         "                     {\"call\": \"bind\", \"errno\": \"EINTR\"}]},\n"
                         "  \"steps\": [{\"sleep_ms\": 1}]"),
                {"cases/bind/a.json:6:", "[bind/a]", "env.faults[1]", "fault-plan line",
                 "object form", "no longer read", "{\"call\":\"bind\",\"errno\":\"EINTR\"}"});
}

TEST(CaseFormat, FaultRuleObjectInInjectIsRefusedWithFileLineAndField) {
  ExpectRefused("cases/bind/b.json",
                CaseFile("bind/b",
                         "  \"steps\": [\n"
                         "    {\"sleep_ms\": 1},\n"
                         "    {\"send\": {\"op\": \"hello\"},\n"
                         "     \"inject\": [{\"call\": \"accept4\", \"times\": 0, \"errno\": "
                         "\"EMFILE\"}]}]"),
                {"cases/bind/b.json:8:", "step 2: inject[0]", "fault-plan line", "no longer read"});
}

TEST(CaseFormat, FaultPlanKeyIsRefusedForFaults) {
  ExpectRefused("cases/bind/c.json",
                CaseFile("bind/c",
                         "  \"env\": {\"fault_plan\": [\"bind = EINTR\"]},\n"
                         "  \"steps\": [{\"sleep_ms\": 1}]"),
                {"cases/bind/c.json:5:", "env.fault_plan", "env.faults"});
}

TEST(CaseFormat, FaultLinesAreTheFakeKernelsFaultPlan) {
  const Case c = MakeCase(CaseFile(
      "t/lines", R"(  "env": {"faults": ["accept4 #2 x3 = ENETDOWN   # any errno, a comment",
                                      "bind always family=inet6 = EADDRNOTAVAIL",
                                      "setsockopt opt=SO_REUSEADDR = ENOBUFS",
                                      "getaddrinfo = EAI_SYSTEM EIO"]},
  "steps": [{"send": {"op": "hello"}, "inject": ["listen #2 = EINTR"]}])"));
  std::string error;
  std::optional<Environment> env = ParseEnvironment(c.env, &error);
  ASSERT_TRUE(env.has_value()) << error;
  EXPECT_EQ(env->faults.Print(),
            "accept4 #2 x3 = ENETDOWN\n"
            "bind always family=inet6 = EADDRNOTAVAIL\n"
            "setsockopt opt=SO_REUSEADDR = ENOBUFS\n"
            "getaddrinfo = EAI_SYSTEM EIO\n");
  std::optional<fakes::FaultPlan> inject = ParseFaults(c.steps[0]["inject"], &error);
  ASSERT_TRUE(inject.has_value()) << error;
  EXPECT_EQ(inject->Print(), "listen #2 = EINTR\n");
}

TEST(CaseFormat, MalformedFaultLineNamesItsIndexAndColumn) {
  ExpectRefused("cases/bind/d.json",
                CaseFile("bind/d",
                         "  \"env\": {\"faults\": [\"bind = EINTR\", \"acept4 = EINTR\"]},\n"
                         "  \"steps\": [{\"sleep_ms\": 1}]"),
                {"cases/bind/d.json:5:", "env.faults[1]: line 1, column 1", "acept4"});
}

// --- modes as octal strings ---

TEST(CaseFormat, DecimalModeIsRefusedWithItsOctalSpelling) {
  ExpectRefused("cases/unix/e.json",
                CaseFile("unix/e",
                         "  \"steps\": [\n"
                         "    {\"send\": {\"op\": \"bind_unix_socket\", \"path\": \"${TMP}/s\",\n"
                         "              \"mode\": 432}}]"),
                {"cases/unix/e.json:7:", "step 1: send: mode 432 is decimal", "\"0660\""});
  ExpectRefused("cases/unix/f.json",
                CaseFile("unix/f",
                         "  \"steps\": [\n"
                         "    {\"check\": \"${TMP}/s\",\n"
                         "     \"expect\": {\"mode\": 384}}]"),
                {"cases/unix/f.json:7:", "step 1: expect: mode 384 is decimal", "\"0600\""});
}

TEST(CaseFormat, BadOctalModeIsRefusedSayingWhy) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"("0698")", "'9' is not an octal digit"},
      {R"("0x1b")", "'x' is not an octal digit"},
      {R"("660")", "starts with 0"},
      {R"("")", "starts with 0"},
      {R"("010000")", "over 07777"},
      {R"("077777777777777777777777")", "over 07777"},  // no overflow on the way
      {R"("${a}${b}")", "starts with 0"},               // only a whole "${name}" is a variable
      {R"(4096)", "not an octal string"},
      {R"(-1)", "not an octal string"},
      {R"(4.5)", "not an octal string"},
      {R"({"$ge": 256})", "not an octal string"},
  };
  for (const auto& [mode, why] : bad) {
    ExpectRefused("cases/unix/g.json",
                  CaseFile("unix/g", R"(  "steps": [{"send": {"op": "bind_unix_socket",)"
                                     "\n"
                                     R"("path": "${TMP}/s", "mode": )" +
                                         mode + "}}]"),
                  {"cases/unix/g.json:6:", "mode", why});
  }
  // {"$raw": N} is for requests only: an observed mode is compared as a mode.
  ExpectRefused("cases/unix/h.json",
                CaseFile("unix/h", R"(  "steps": [{"check": "${TMP}/s", "expect": {"mode":)"
                                   "\n"
                                   R"({"$raw": 384}}}])"),
                {"cases/unix/h.json:6:", "expect: mode", "not an octal string"});
}

TEST(CaseFormat, OctalModeIsLoadedAsItsNumber) {
  const Case c = MakeCase(CaseFile("t/modes", R"(  "steps": [
    {"send": {"op": "bind_unix_socket", "path": "${TMP}/a", "mode": "0660"}},
    {"check": "${TMP}/a", "expect": {"mode": "0600"}, "save": {"m": "/mode"}},
    {"check": "${TMP}/a", "expect": {"mode": "${m}"}},
    {"send": {"op": "bind_unix_socket", "path": "${TMP}/b", "mode": "07777"}},
    {"send": {"op": "bind_unix_socket", "path": "${TMP}/c", "mode": "0"}},
    {"send": {"op": "bind_unix_socket", "path": "${TMP}/d", "mode": {"$raw": 4096}}},
    {"send": {"op": "bind_unix_socket", "path": "${TMP}/e", "mode": {"$raw": -1}}}])"));
  ASSERT_EQ(c.steps.size(), 7u);
  EXPECT_EQ(c.steps[0]["send"]["mode"], 0660);
  EXPECT_EQ(c.steps[1]["expect"]["mode"], 0600);
  EXPECT_EQ(c.steps[2]["expect"]["mode"], "${m}");  // a saved value, a number at run time
  EXPECT_EQ(c.steps[3]["send"]["mode"], 07777);
  EXPECT_EQ(c.steps[4]["send"]["mode"], 0);
  EXPECT_EQ(c.steps[5]["send"]["mode"], 4096);  // sent as written, for UNIX-013
  EXPECT_EQ(c.steps[6]["send"]["mode"], -1);
}

// --- the index by rule ---

std::vector<Case> Catalog() {
  std::vector<std::string> problems;
  std::vector<Case> cases = LoadCatalog(ReadCaseDir(DefaultCaseDir(), &problems), &problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  return cases;
}

TEST(RulesIndex, MatchesTheCases) {
  const std::string path = DefaultCaseDir() + "/RULES.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "no " << path;
  std::stringstream text;
  text << in.rdbuf();
  const std::vector<Case> cases = Catalog();
  ASSERT_FALSE(cases.empty());
  EXPECT_TRUE(text.str() == RulesIndexMarkdown(cases))
      << path << " is stale: regenerate it with `build/bin/netconform rules-index > " << path
      << "`";
  // Every case is in it, with its primary rule, so grep answers.
  for (const Case& c : cases) {
    EXPECT_NE(text.str().find("| `" + c.id + ".json` | " + c.rules[0] + " |"), std::string::npos)
        << c.id;
  }
}

TEST(RulesIndex, PrimaryRuleFirstThenTheOthers) {
  std::vector<Case> cases;
  for (const auto& [id, rules] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"bind/a", {"BIND-018", "BIND-013"}},
           {"bind/b", {"BIND-013"}},
           {"bind/c", {"BIND-019"}},
           {"bind/d", {"BIND-013", "BIND-019"}}}) {
    Case c;
    c.id = id;
    c.rules = rules;
    c.title = "t | u";
    cases.push_back(c);
  }
  std::vector<std::string> ids;
  for (const Case* c : CasesForRule(cases, "BIND-013")) ids.push_back(c->id);
  EXPECT_EQ(ids, (std::vector<std::string>{"bind/b", "bind/d", "bind/a"}));
  EXPECT_TRUE(CasesForRule(cases, "BIND-001").empty());
  const std::string md = RulesIndexMarkdown(cases);
  EXPECT_NE(md.find("| BIND-013 | MUST | tornado | `bind/b.json`, `bind/d.json` | `bind/a.json` |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| `bind/a.json` | BIND-018 | BIND-013 | t \\| u |"), std::string::npos) << md;
  EXPECT_NE(md.find("| BIND-001 | "), std::string::npos) << "a rule without a case is listed";
}

TEST(RulesIndex, UnknownRuleIdIsAProblem) {
  EXPECT_FALSE(RuleIdProblem("BIND-013").has_value());
  for (const char* id : {"BIND-13", "bind-013", "", "BIND-013 "}) {
    std::optional<std::string> why = RuleIdProblem(id);
    ASSERT_TRUE(why.has_value()) << id;
    EXPECT_NE(why->find("unknown rule"), std::string::npos) << *why;
    EXPECT_NE(why->find("docs/SPEC.md"), std::string::npos) << *why;
  }
}

}  // namespace
}  // namespace netutil::conform
