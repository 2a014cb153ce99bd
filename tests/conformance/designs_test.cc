// "$designs" (tools/conform/json_match.h): a case naming the designs that
// meet a rule's purpose. The matcher picks the first design that matches and
// holds later "$designs" of the same names to it; the catalog refuses a
// malformed or misplaced one at load; a case's verdict records the design
// matched, and every report format shows it (docs/CONFORMANCE.md "Designs").
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "case_test_util.h"
#include "catalog.h"
#include "json_match.h"
#include "report.h"
#include "report_formats.h"
#include "run_document.h"
#include "runner.h"
#include "target.h"

namespace netutil::conform {
namespace {

using test_util::Details;
using test_util::MakeCase;

// Two sockets on one port, or one dual-stack socket: BIND-013's designs.
const json kPortZeroDesigns = json::parse(R"({"listeners": {"$designs": [
    {"design": "two-sockets", "expect": {"$len": 2, "$each": {"port": 7}}},
    {"design": "dual-stack", "expect": [{"address": "::", "port": 7, "v6only": false}]}]}})");

const json kTwoSockets = json::parse(R"({"listeners": [{"port": 7}, {"port": 7}]})");
const json kDualStack =
    json::parse(R"({"listeners": [{"address": "::", "port": 7, "v6only": false}]})");

TEST(Designs, FirstMatchingDesignIsChosen_BIND_013) {
  DesignChoices choices;
  EXPECT_FALSE(Match(kPortZeroDesigns, kTwoSockets, &choices));
  ASSERT_EQ(choices.size(), 1u);
  EXPECT_EQ(choices[0].chosen, "two-sockets");
  EXPECT_TRUE(choices[0].preferred());
  EXPECT_EQ(choices[0].designs, (std::vector<std::string>{"two-sockets", "dual-stack"}));

  DesignChoices other;
  EXPECT_FALSE(Match(kPortZeroDesigns, kDualStack, &other));
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].chosen, "dual-stack");
  EXPECT_FALSE(other[0].preferred());
}

TEST(Designs, NoDesignMatchingFailsWithEachDesignsMismatch_BIND_013) {
  const json one_v4 = json::parse(R"({"listeners": [{"address": "0.0.0.0", "port": 7}]})");
  DesignChoices choices;
  std::optional<Mismatch> m = Match(kPortZeroDesigns, one_v4, &choices);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->where, "/listeners");
  EXPECT_NE(m->expected.find("one of the designs"), std::string::npos) << m->expected;
  EXPECT_NE(m->expected.find("two-sockets: /listeners expected length 2"), std::string::npos)
      << m->expected;
  EXPECT_NE(m->expected.find("dual-stack: /listeners/0/address expected \"::\""), std::string::npos)
      << m->expected;
  EXPECT_TRUE(choices.empty()) << "a failed match records no design";
}

// Once a case matched a design, a later "$designs" of the same names (a later
// step, the trace) is held to it: half of one design and half of another
// is no design.
TEST(Designs, LaterSitesAreHeldToTheDesignChosen) {
  DesignChoices choices;
  ASSERT_FALSE(Match(kPortZeroDesigns, kDualStack, &choices));
  std::optional<Mismatch> m = Match(kPortZeroDesigns, kTwoSockets, &choices);
  ASSERT_TRUE(m);
  EXPECT_NE(m->expected.find("design dual-stack (matched earlier in the case)"), std::string::npos)
      << m->expected;
  EXPECT_EQ(choices.size(), 1u);
  // Other names are another choice.
  const json unix_designs = json::parse(R"({"$designs": [
      {"design": "probe", "expect": {"step": "connect"}},
      {"design": "bind-refused", "expect": {"step": "bind"}}]})");
  EXPECT_FALSE(Match(unix_designs, json::parse(R"({"step": "bind"})"), &choices));
  ASSERT_EQ(choices.size(), 2u);
  EXPECT_EQ(choices[1].chosen, "bind-refused");
}

// A design matched by a pattern that then fails elsewhere was not shown.
TEST(Designs, ChoicesKeptOnlyWhenTheWholePatternMatches) {
  json pattern = kPortZeroDesigns;
  pattern["ok"] = true;
  DesignChoices choices;
  json reply = kDualStack;
  reply["ok"] = false;
  EXPECT_TRUE(Match(pattern, reply, &choices));
  EXPECT_TRUE(choices.empty());
  // Without choices: any design.
  EXPECT_FALSE(Match(kPortZeroDesigns, kDualStack));
}

TEST(Designs, EachMayHoldDesignsAndAllElementsTakeOne) {
  const json pattern = json::parse(R"({"$each": {"$designs": [
      {"design": "a", "expect": 1}, {"design": "b", "expect": 2}]}})");
  EXPECT_FALSE(CheckPattern(pattern));
  DesignChoices choices;
  EXPECT_FALSE(Match(pattern, json::parse("[2, 2]"), &choices));
  EXPECT_TRUE(Match(pattern, json::parse("[1, 2]"), &choices).has_value());
}

TEST(Designs, MalformedOrMisplacedDesignsAreRefusedAtLoad) {
  const std::pair<const char*, const char*> bad[] = {
      {R"({"$designs": [{"design": "a", "expect": 1}]})", "2 to 8 designs"},
      {R"({"$designs": {"design": "a"}})", "2 to 8 designs"},
      {R"({"$designs": [{"design": "a", "expect": 1}, {"design": "a", "expect": 2}]})",
       "named twice"},
      {R"({"$designs": [{"design": "A b", "expect": 1}, {"design": "c", "expect": 2}]})",
       "[a-z0-9-]"},
      {R"({"$designs": [{"design": "a"}, {"design": "b", "expect": 2}]})", "\"expect\": pattern"},
      {R"({"$designs": [{"design": "a", "expect": 1, "why": 2}, {"design": "b", "expect": 2}]})",
       "\"expect\": pattern"},
      {R"({"$designs": [{"design": "a", "expect": {"$bogus": 1}}, {"design": "b", "expect": 2}]})",
       "unknown operator $bogus"},
      {R"({"$designs": [{"design": "a", "expect": {"x": {"$designs": []}}},
                        {"design": "b", "expect": 2}]})",
       "cannot hold $designs"},
      {R"({"$any": [{"$designs": [{"design": "a", "expect": 1}, {"design": "b", "expect": 2}]}]})",
       "inside another operator"},
      {R"({"x": {"$not": {"y": {"$designs": [{"design": "a", "expect": 1},
                                             {"design": "b", "expect": 2}]}}}})",
       "inside another operator"},
  };
  for (const auto& [text, what] : bad) {
    std::optional<std::string> e = CheckPattern(json::parse(text));
    ASSERT_TRUE(e) << text;
    EXPECT_NE(e->find(what), std::string::npos) << text << ": " << *e;
  }
  EXPECT_FALSE(CheckPattern(kPortZeroDesigns));
  EXPECT_FALSE(CheckPattern(json::parse(
      R"([{"a": {"$designs": [{"design": "x-1", "expect": 1}, {"design": "y", "expect": 2}]}}])")));
}

TEST(Designs, CatalogRefusesABadDesignWithFileAndLine) {
  std::vector<std::string> problems;
  LoadCatalog({{"bind/x.json", R"({"id":"bind/x","rules":["BIND-013"],"title":"t","steps":[
      {"send":{"op":"bind_sockets","port":0},
       "expect":{"$designs":[{"design":"only","expect":{"ok":true}}]}}]})"}},
              &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("bind/x.json:2"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("$designs"), std::string::npos) << problems[0];
}

// The reference on the fake kernel: two sockets for port 0 with no host.
Case PortZeroCase(const std::string& first, const std::string& second) {
  return MakeCase(R"({"id":"t/designs","rules":["BIND-013"],"title":"t","steps":[
      {"send":{"op":"bind_sockets","port":0},"save":{"port":"/listeners/0/port"},
       "expect":{"ok":true,"listeners":{"$designs":[)" +
                  first + "," + second + R"(]}}},
      {"send":{"op":"close_all"},"expect":{"ok":true}}]})");
}

const char* kTwoSocketsDesign =
    R"({"design":"two-sockets","expect":[{"address":"0.0.0.0","port":{"$gt":0}},
                                          {"address":"::","port":"${port}"}]})";
const char* kDualStackDesign =
    R"({"design":"dual-stack","expect":[{"address":"::","props":{"v6only":false}}]})";

TEST(Designs, VerdictRecordsTheDesignAndReportsShowIt_BIND_013) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case preferred = PortZeroCase(kTwoSocketsDesign, kDualStackDesign);
  CaseResult r = runner.Run(preferred);
  ASSERT_EQ(r.verdict, Verdict::kOk) << Details(r);
  ASSERT_EQ(r.designs.size(), 1u);
  EXPECT_EQ(r.designs[0].chosen, "two-sockets");
  EXPECT_EQ(DesignText(r.designs), "design: two-sockets");

  // The same reply, the other design first: met, but not the preferred one.
  // OK all the same, and said.
  const Case other = PortZeroCase(kDualStackDesign, kTwoSocketsDesign);
  CaseResult o = runner.Run(other);
  ASSERT_EQ(o.verdict, Verdict::kOk) << Details(o);
  EXPECT_EQ(DesignText(o.designs), "design: two-sockets; strict prefers dual-stack");

  std::ostringstream text;
  auto reporter = MakeReporter("text", text);
  reporter->Begin({"fake", "reference", Profile::kStrict, json(), 1});
  reporter->CaseDone(o);
  EXPECT_NE(text.str().find("OK         [t/designs] BIND-013 (design: two-sockets; strict "
                            "prefers dual-stack)"),
            std::string::npos)
      << text.str();

  // The text report's first line names the catalog's version, as the other
  // formats do (issue 15: the catalog's version in every report).
  std::ostringstream headed;
  auto headed_reporter = MakeReporter("text", headed);
  RunInfo info{"fake", "reference", Profile::kStrict, json(), 1};
  info.catalog_version = "0.9.1";
  headed_reporter->Begin(info);
  EXPECT_EQ(headed.str().substr(0, headed.str().find('\n')),
            "netconform: 1 cases (catalog 0.9.1) against fake, profile strict")
      << headed.str();

  std::ostringstream doc_text;
  auto doc_reporter = MakeReporter("json", doc_text);
  doc_reporter->Begin({"fake", "reference", Profile::kStrict, json(), 2});
  doc_reporter->CaseDone(r);
  doc_reporter->CaseDone(o);
  doc_reporter->End(Summary());
  const json doc = json::parse(doc_text.str());
  const json& c = doc["cases"][1];
  EXPECT_EQ(c["design"], "two-sockets");
  EXPECT_EQ(c["designs"][0]["preferred"], false);
  EXPECT_EQ(c["designs"][0]["of"], json::parse(R"(["dual-stack","two-sockets"])"));

  const report::CaseEntry e = report::ReadCase(c);
  EXPECT_EQ(report::DesignNote(e), "design: two-sockets; strict prefers dual-stack");
  EXPECT_NE(ToTap(doc).find("ok 2 - t/designs [BIND-013] (design: two-sockets; strict prefers "
                            "dual-stack)"),
            std::string::npos)
      << ToTap(doc);
  EXPECT_NE(ToJunit(doc).find(
                R"(<property name="design" value="two-sockets; strict prefers dual-stack")"),
            std::string::npos)
      << ToJunit(doc);
  EXPECT_NE(ToHtml({doc}).find(">two-sockets</span>"), std::string::npos);
}

TEST(Designs, ReplyMeetingNoDesignFailsWithEachMismatch_BIND_013) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case c = PortZeroCase(R"({"design":"three-sockets","expect":{"$len":3}})",
                              R"({"design":"dual-stack","expect":[{"address":"::"}]})");
  CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  const std::string d = Details(r);
  EXPECT_NE(d.find("three-sockets: /listeners expected length 3"), std::string::npos) << d;
  EXPECT_NE(d.find("dual-stack: /listeners"), std::string::npos) << d;
  EXPECT_TRUE(r.designs.empty());
}

// In a forked in-process case, the design crosses the pipe with the verdict.
TEST(Designs, InProcessResultCarriesTheDesign) {
  std::unique_ptr<Target> target = MakeInProcessTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case c = MakeCase(R"({"id":"t/designs","rules":["BIND-013"],"title":"t","steps":[
      {"send":{"op":"bind_sockets","port":0,"address":"127.0.0.1"},
       "expect":{"ok":true,"listeners":{"$designs":[
         {"design":"one","expect":{"$len":1}},{"design":"two","expect":{"$len":2}}]}}}]})");
  CaseResult r = runner.Run(c);
  ASSERT_EQ(r.verdict, Verdict::kOk) << Details(r);
  ASSERT_EQ(r.designs.size(), 1u);
  EXPECT_EQ(r.designs[0].chosen, "one");
}

}  // namespace
}  // namespace netutil::conform
