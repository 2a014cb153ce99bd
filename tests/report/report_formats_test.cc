// The report formats (tools/report/report_formats.h) on small run documents:
// JUnit that an XML parser (pugixml, the library that writes it) reads back
// to the documented text whatever the reasons and names hold, TAP plans that
// match, HTML that escapes, an index of every implementation x case, and
// documents with keys missing still rendering. check_outputs.py reads
// netreport's files back with Python's parsers (expat) too.
#include "report_formats.h"

#include <gtest/gtest.h>

#include <memory>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace netutil::conform {
namespace {

using json = nlohmann::json;

json CaseDoc(const std::string& id, const std::string& verdict, const std::string& reason = "") {
  json c = {{"id", id},          {"rules", {"BIND-019"}}, {"title", "t"},
            {"level", "strict"}, {"verdict", verdict},    {"seconds", 0.5}};
  if (!reason.empty()) c["reason"] = reason;
  return c;
}

// The cases as a vector: a braced list of one json would be that json itself
// with some compilers (CWG 2137), not an array of one.
json RunDoc(const std::string& impl, const std::vector<json>& cases) {
  return {{"tool", "netconform"},
          {"target", "adapter: " + impl},
          {"impl", impl},
          {"profile", "tornado"},
          {"implementation", {{"impl", impl}, {"version", "1.0"}}},
          {"cases", json(cases)}};
}

json Mixed(const std::string& impl) {
  json f = CaseDoc("bind/b", "FAILED", "boom");
  f["details"] = {"Expected: 1", "Actual:   2\nsecond line"};
  f["trace"] = {"bind(5, 127.0.0.1:0) = -1 EADDRINUSE"};
  return RunDoc(impl, {CaseDoc("bind/a", "OK"), f, CaseDoc("unix/c", "SKIPPED", "needs faults"),
                       CaseDoc("accept/d", "NON-STRICT", "listened on 4464")});
}

// The JUnit document parsed; a parse error fails the test that called it.
struct ParsedXml {
  pugi::xml_document doc;
  pugi::xml_parse_result result;
};
std::unique_ptr<ParsedXml> ParseXml(const std::string& x) {
  auto parsed = std::make_unique<ParsedXml>();
  parsed->result = parsed->doc.load_buffer(
      x.data(), x.size(), pugi::parse_default | pugi::parse_declaration, pugi::encoding_utf8);
  EXPECT_TRUE(parsed->result) << parsed->result.description() << " at byte "
                              << parsed->result.offset << " of\n"
                              << x;
  return parsed;
}

pugi::xml_node Suite(const ParsedXml& p) { return p.doc.child("testsuites").child("testsuite"); }

std::vector<pugi::xml_node> Testcases(const ParsedXml& p) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node tc : Suite(p).children("testcase")) out.push_back(tc);
  return out;
}

size_t Count(std::string_view hay, std::string_view needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + 1))
    ++n;
  return n;
}

TEST(ReportFormats, JunitIsWellFormedWithCounts) {
  const std::string x = ToJunit(Mixed("tornado"));
  const auto xml = ParseXml(x);
  const pugi::xml_node suite = Suite(*xml);
  EXPECT_STREQ(xml->doc.child("testsuites").attribute("name").value(), "netconform");
  EXPECT_STREQ(suite.attribute("name").value(), "tornado");
  EXPECT_EQ(suite.attribute("tests").as_int(), 4);
  EXPECT_EQ(suite.attribute("failures").as_int(), 1);
  EXPECT_EQ(suite.attribute("errors").as_int(), 0);
  EXPECT_EQ(suite.attribute("skipped").as_int(), 1);
  EXPECT_DOUBLE_EQ(suite.attribute("time").as_double(), 2.0);
  EXPECT_STREQ(suite.child("properties")
                   .find_child_by_attribute("property", "name", "non_strict")
                   .attribute("value")
                   .value(),
               "1");
  const std::vector<pugi::xml_node> tcs = Testcases(*xml);
  ASSERT_EQ(tcs.size(), 4u) << x;
  EXPECT_STREQ(tcs[1].attribute("classname").value(), "bind");
  EXPECT_STREQ(tcs[1].attribute("name").value(), "bind/b [BIND-019]");
  EXPECT_FALSE(tcs[0].first_child()) << "an OK case has no child";
  const pugi::xml_node failure = tcs[1].child("failure");
  EXPECT_STREQ(failure.attribute("message").value(), "boom");
  EXPECT_STREQ(failure.attribute("type").value(), "FAILED");
  EXPECT_STREQ(failure.text().get(),
               "t\nboom\n\nExpected: 1\nActual:   2\nsecond line\n\nsyscall trace:\n"
               "bind(5, 127.0.0.1:0) = -1 EADDRINUSE\n");
  EXPECT_STREQ(tcs[2].child("skipped").attribute("message").value(), "needs faults");
  // NON-STRICT passes, and says which strict rule it misses.
  EXPECT_FALSE(tcs[3].child("failure"));
  EXPECT_STREQ(tcs[3].child("system-out").text().get(),
               "NON-STRICT: passes at the Tornado level but misses strict rule BIND-019: "
               "listened on 4464");
}

// BLIND is counted apart in every format: a JUnit error (the harness could
// not judge it), a TAP TODO, a colour and a count of its own in the page.
TEST(ReportFormats, BlindIsNeitherPassNorFailure) {
  const json run = RunDoc("go", {CaseDoc("bind/a", "OK"),
                                 CaseDoc("bind/t", "BLIND", "harness blind: no socket() seen")});
  const auto xml = ParseXml(ToJunit(run));
  const pugi::xml_node suite = Suite(*xml);
  EXPECT_EQ(suite.attribute("tests").as_int(), 2);
  EXPECT_EQ(suite.attribute("failures").as_int(), 0);
  EXPECT_EQ(suite.attribute("errors").as_int(), 1);
  const pugi::xml_node error = Testcases(*xml)[1].child("error");
  EXPECT_STREQ(error.attribute("type").value(), "BLIND");
  EXPECT_STREQ(error.attribute("message").value(), "harness blind: no socket() seen");
  const std::string tap = ToTap(run);
  EXPECT_NE(
      tap.find("not ok 2 - bind/t [BIND-019] # TODO harness blind: harness blind: no socket()"),
      std::string::npos)
      << tap;
  EXPECT_NE(tap.find("# 1 passed, 0 non-strict, 0 failed, 0 skipped, 1 blind"), std::string::npos)
      << tap;
  const std::string html = ToHtml({run});
  EXPECT_NE(html.find("var(--blind)"), std::string::npos);
  EXPECT_NE(html.find("<b>1</b>blind"), std::string::npos);
}

// N/A (the implementation does not offer what the case needs) is apart from
// SKIPPED (the environment) in every format: a JUnit skip typed "N/A" and a
// property with its count, a TAP SKIP marked N/A, a colour and a count of its
// own in the page and a key of its own in the index's summary.
TEST(ReportFormats, NotApplicableIsApartFromSkipped) {
  const json run =
      RunDoc("node", {CaseDoc("accept/a", "OK"), CaseDoc("unix/c", "SKIPPED", "no IPv6"),
                      CaseDoc("accept/b", "N/A", "needs serve.batch=4; the batch is fixed at 1")});
  const auto xml = ParseXml(ToJunit(run));
  const pugi::xml_node suite = Suite(*xml);
  EXPECT_EQ(suite.attribute("tests").as_int(), 3);
  EXPECT_EQ(suite.attribute("failures").as_int(), 0);
  EXPECT_EQ(suite.attribute("skipped").as_int(), 2);
  EXPECT_STREQ(suite.child("properties")
                   .find_child_by_attribute("property", "name", "not_applicable")
                   .attribute("value")
                   .value(),
               "1");
  const pugi::xml_node skipped = Testcases(*xml)[2].child("skipped");
  EXPECT_STREQ(skipped.attribute("type").value(), "N/A");
  EXPECT_STREQ(skipped.attribute("message").value(),
               "N/A: needs serve.batch=4; the batch is fixed at 1");
  EXPECT_FALSE(Testcases(*xml)[1].child("skipped").attribute("type"));
  const std::string tap = ToTap(run);
  EXPECT_NE(tap.find("ok 2 - unix/c [BIND-019] # SKIP no IPv6\n"), std::string::npos) << tap;
  EXPECT_NE(tap.find("ok 3 - accept/b [BIND-019] # SKIP N/A: needs serve.batch=4"),
            std::string::npos)
      << tap;
  EXPECT_NE(tap.find("# 1 passed, 0 non-strict, 0 failed, 1 skipped, 0 blind, 1 n/a"),
            std::string::npos)
      << tap;
  const std::string html = ToHtml({run});
  EXPECT_NE(html.find("td class=\"v na\""), std::string::npos);
  EXPECT_NE(html.find("<b>1</b>N/A"), std::string::npos);
  EXPECT_NE(html.find("<b>1</b>skipped"), std::string::npos);
  const json index = MergeIndex({run});
  EXPECT_EQ(index["implementations"][0]["summary"]["not_applicable"], 1);
  EXPECT_EQ(index["implementations"][0]["summary"]["skipped"], 1);
}

TEST(ReportFormats, JunitReplacesWhatXmlForbids) {
  // NUL (an abstract unix path), other C0 controls, a lone continuation byte,
  // a truncated sequence, a noncharacter, a C1 control, markup and quotes, in
  // an attribute and in text: read back as report_text.h documents.
  static constexpr char kNasty[] =
      "a\0b\x01\x1b[0m <x> & \"q\" 'a' \x80 \xe2\x82 \xef\xbf\xbe \xc2\x85";
  const std::string nasty(kNasty, sizeof kNasty - 1);
  const std::string shown =
      "a\\u0000b\\u0001\\u001b[0m <x> & \"q\" 'a' \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD "
      "\xEF\xBF\xBD \\u0085";
  json run = RunDoc("x", {CaseDoc("bind/n", "FAILED", nasty)});
  run["cases"][0]["details"] = {nasty};
  const std::string x = ToJunit(run);
  const auto xml = ParseXml(x);
  const pugi::xml_node failure = Testcases(*xml).at(0).child("failure");
  EXPECT_EQ(std::string(failure.attribute("message").value()), shown) << x;
  EXPECT_EQ(std::string(failure.text().get()), "t\n" + shown + "\n\n" + shown + "\n") << x;
  EXPECT_EQ(x.find("\xef\xbf\xbe"), std::string::npos);  // U+FFFE is not XML
}

// A hostile case ID, implementation name and title: the markup, a CDATA end,
// controls (CR, tab, LF, ESC, DEL), a workflow command and invalid UTF-8
// come back from the parser as the documented text, never as markup.
TEST(ReportFormats, JunitHostileNamesRoundTrip) {
  const std::string rest = "]]><y a=\"1\">&amp;\r\n\t\x1b\x7f\xff<![CDATA[z]]>";
  const std::string hostile = "::x" + rest;
  // In attributes CR, LF and tab are kept (written as references); in text a
  // CR is shown, as a reader would take a raw one for LF. A leading "::" (a
  // workflow command) is broken; inside the ID it is not at a line start.
  const std::string rest_attr = "]]><y a=\"1\">&amp;\r\n\t\\u001b\\u007f\xEF\xBF\xBD<![CDATA[z]]>";
  const std::string rest_text =
      "]]><y a=\"1\">&amp;\\u000d\n\t\\u001b\\u007f\xEF\xBF\xBD<![CDATA[z]]>";
  json c = CaseDoc("bind/" + hostile, "FAILED", "r");
  c["rules"] = json::array();
  c["title"] = hostile;
  const std::string x = ToJunit(RunDoc(hostile, {c}));
  const auto xml = ParseXml(x);
  EXPECT_EQ(std::string(Suite(*xml).attribute("name").value()), "\\u003a:x" + rest_attr) << x;
  const std::vector<pugi::xml_node> tcs = Testcases(*xml);
  ASSERT_EQ(tcs.size(), 1u) << x;
  EXPECT_EQ(std::string(tcs[0].attribute("name").value()), "bind/::x" + rest_attr) << x;
  EXPECT_STREQ(tcs[0].attribute("classname").value(), "bind");
  EXPECT_EQ(std::string(tcs[0].child("failure").text().get()), "\\u003a:x" + rest_text + "\nr\n")
      << x;
  // Nothing of the hostile text became markup.
  EXPECT_FALSE(xml->doc.find_node([](pugi::xml_node n) {
    return std::string_view(n.name()) == "y" || n.type() == pugi::node_cdata;
  }));
}

TEST(ReportFormats, JunitKeepsLineBreaksInAttributes) {
  const std::string x =
      ToJunit(RunDoc("x", {CaseDoc("bind/n", "FAILED", "one\ntwo\rthree\tfour")}));
  const auto xml = ParseXml(x);
  // Written raw, they would read back as spaces (attribute-value normalisation).
  EXPECT_STREQ(Testcases(*xml).at(0).child("failure").attribute("message").value(),
               "one\ntwo\rthree\tfour")
      << x;
}

TEST(ReportFormats, TapPlanMatchesTestLines) {
  const std::string t = ToTap(Mixed("tornado"));
  EXPECT_EQ(t.rfind("TAP version 13\n1..4\n", 0), 0u) << t;
  EXPECT_EQ(Count(t, "\nok "), 2u);
  EXPECT_EQ(Count(t, "\nnot ok "), 2u);
  EXPECT_NE(t.find("\nok 1 - bind/a [BIND-019]\n"), std::string::npos);
  EXPECT_NE(t.find("\nnot ok 2 - bind/b [BIND-019]\n  ---\n  message: \"boom\"\n"),
            std::string::npos)
      << t;
  // ':' as \x3a: prove's YAML reader takes "- \"Actual: 2\"" for a mapping.
  EXPECT_NE(t.find("    - \"Actual\\x3a   2\"\n    - \"second line\"\n"), std::string::npos);
  EXPECT_NE(t.find("\nok 3 - unix/c [BIND-019] # SKIP needs faults\n"), std::string::npos);
  EXPECT_NE(t.find("\nnot ok 4 - accept/d [BIND-019] # TODO non-strict: listened on 4464\n"),
            std::string::npos);
  EXPECT_EQ(Count(t, "  ---\n"), Count(t, "  ...\n"));
  EXPECT_EQ(Count(t, "  ---\n"), 2u);  // the failure and the non-strict pass
}

TEST(ReportFormats, TapEscapesDirectivesAndLineBreaks) {
  const std::string t =
      ToTap(RunDoc("x", {CaseDoc("bind/a#b", "SKIPPED", "one\ntwo"),
                         CaseDoc("bind/z", "FAILED", std::string("nul\0here", 8))}));
  EXPECT_NE(t.find("ok 1 - bind/a\\#b [BIND-019] # SKIP one two\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  message: \"nul\\\\u0000here\"\n"), std::string::npos) << t;
  EXPECT_EQ(ToTap(RunDoc("x", {})), "TAP version 13\n1..0 # SKIP no cases in this run\n");
}

TEST(ReportFormats, HtmlEscapesEverythingFromTheDocuments) {
  json run = Mixed("<b>impl</b>");
  run["cases"][1]["reason"] = "<script>alert('x')</script>";
  run["cases"][1]["details"] = {"</pre><img src=x onerror=alert(1)>"};
  run["cases"][0]["title"] = "a \"quoted\" & <tagged> title";
  const std::string h = ToHtml({run});
  EXPECT_EQ(h.find("<script>alert"), std::string::npos);
  EXPECT_NE(h.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(h.find("<img"), std::string::npos);
  EXPECT_EQ(h.find("<b>impl"), std::string::npos);
  EXPECT_NE(h.find("a &quot;quoted&quot; &amp; &lt;tagged&gt; title"), std::string::npos);
  EXPECT_EQ(Count(h, "<script"), 1u);  // its own toggle only
}

TEST(ReportFormats, HtmlHasAColumnPerRunAndNoExternalResource) {
  const std::string h = ToHtml({Mixed("reference"), Mixed("tornado"), Mixed("asyncio")});
  EXPECT_EQ(Count(h, "<th class=\"impl\""), 3u);
  EXPECT_EQ(Count(h, "<tr class=\"case"), 4u);
  EXPECT_EQ(Count(h, "<td class=\"v failed\""), 3u);
  EXPECT_EQ(Count(h, "<td class=\"v ns\""), 3u);
  EXPECT_EQ(Count(h, "<tr class=\"rule"), 1u);  // all four cases are BIND-019's
  EXPECT_EQ(h.find("http://"), std::string::npos);
  EXPECT_EQ(h.find("https://"), std::string::npos);
  EXPECT_EQ(h.find("<link"), std::string::npos);
  EXPECT_EQ(h.find(" src="), std::string::npos);
}

TEST(ReportFormats, HtmlListsACaseUnderItsFirstRuleOnly) {
  json c = CaseDoc("bind/two", "OK");
  c["rules"] = {"BIND-023", "BIND-013"};
  const std::string h = ToHtml({RunDoc("r", {c, CaseDoc("bind/one", "OK")})});
  EXPECT_EQ(Count(h, "<code>bind/two</code>"), 1u);
  EXPECT_NE(h.find("also BIND-013"), std::string::npos);
  // Rule groups follow docs/SPEC.md, where BIND-019 comes before BIND-023.
  EXPECT_LT(h.find(">BIND-019<"), h.find(">BIND-023<"));
}

TEST(ReportFormats, MergeIndexHoldsEveryImplementationAndCase) {
  json partial =
      RunDoc("pysocket", {CaseDoc("bind/a", "FAILED", "x"), CaseDoc("bind/extra", "OK")});
  const json index = MergeIndex({Mixed("tornado"), Mixed("tornado"), partial});
  ASSERT_EQ(index["implementations"].size(), 3u);
  // A column's key: the hello's name and version, and the profile; a repeat is numbered.
  EXPECT_EQ(index["implementations"][0]["impl"], "tornado 1.0 (tornado)");
  EXPECT_EQ(index["implementations"][1]["impl"], "tornado 1.0 (tornado) #2");
  EXPECT_EQ(index["implementations"][0]["name"], "tornado");
  EXPECT_EQ(index["implementations"][0]["summary"], json({{"passed", 1},
                                                          {"non_strict", 1},
                                                          {"failed", 1},
                                                          {"skipped", 1},
                                                          {"blind", 0},
                                                          {"not_applicable", 0},
                                                          {"seconds", 2.0}}));
  EXPECT_EQ(index["implementations"][0]["version"], "1.0");
  EXPECT_EQ(index["implementations"][0]["profile"], "tornado");
  ASSERT_EQ(index["cases"].size(), 5u);
  const json& a = index["cases"][0];
  EXPECT_EQ(a["id"], "bind/a");
  EXPECT_EQ(a["level"], "strict");
  EXPECT_EQ(a["results"].size(), 3u);
  EXPECT_EQ(a["results"]["pysocket 1.0 (tornado)"]["verdict"], "FAILED");
  EXPECT_EQ(a["results"]["pysocket 1.0 (tornado)"]["reason"], "x");
  const json& b = index["cases"][1];
  EXPECT_EQ(b["results"]["tornado 1.0 (tornado)"]["trace"][0],
            "bind(5, 127.0.0.1:0) = -1 EADDRINUSE");
  EXPECT_FALSE(b["results"].contains("pysocket 1.0 (tornado)"));  // not in that run
  EXPECT_EQ(index["cases"][4]["id"], "bind/extra");
  EXPECT_EQ(index["cases"][4]["results"].size(), 1u);
}

TEST(ReportFormats, MinimalAndOddDocumentsStillRender) {
  // An early netconform document: no impl, profile, level or summary; an
  // unknown verdict word must not read as a pass.
  const json old = {{"target", "in-process reference"},
                    {"cases",
                     {{{"id", "bind/a"}, {"verdict", "OK"}, {"rules", {"BIND-019"}}},
                      {{"id", "bind/b"}, {"verdict", "PASSED?"}}}}};
  EXPECT_EQ(ImplName(old), "in-process reference");
  const auto xml = ParseXml(ToJunit(old));
  EXPECT_EQ(Suite(*xml).attribute("failures").as_int(), 1);
  EXPECT_STREQ(Testcases(*xml).at(1).child("failure").attribute("message").value(),
               "unknown verdict \"PASSED?\"");
  EXPECT_NE(ToTap(old).find("not ok 2 - bind/b\n"), std::string::npos);
  const json index = MergeIndex({old});
  EXPECT_EQ(index["cases"][0]["level"], "strict");  // from this build's spec
  EXPECT_EQ(index["cases"][1]["results"]["in-process reference"]["verdict"], "FAILED");
  EXPECT_NO_THROW(ToHtml({old, json::object()}));
  EXPECT_NO_THROW(ToHtml({}));
}

// The run document of an adapter started by a command line, whose hello names it.
json AdapterRun(const std::string& hello_impl, const std::string& profile) {
  json run = RunDoc("python3 /opt/x/adapter.py --flag", {CaseDoc("bind/a", "OK")});
  run["target"] = "adapter: python3 /opt/x/adapter.py --flag";
  run["profile"] = profile;
  run["implementation"] = {{"impl", hello_impl}, {"version", "0.22.0"}};
  return run;
}

// The text of the first column head (<th class="impl"...>...</th>).
std::string FirstHead(const std::string& h) {
  const size_t at = h.find("<th class=\"impl");
  return at == std::string::npos ? "" : h.substr(at, h.find("</th>", at) - at);
}

TEST(ReportFormats, ColumnIsNamedByHelloAndProfileNeverByCommandLine) {
  const json run = AdapterRun("trio", "strict");
  EXPECT_EQ(ImplName(run), "trio");
  const std::vector<Column> cols = Columns({run});
  ASSERT_EQ(cols.size(), 1u);
  EXPECT_EQ(cols[0].key, "trio 0.22.0 (strict)");
  const std::string head = FirstHead(ToHtml({run}));
  EXPECT_NE(head.find("<div class=\"name\">trio</div>"), std::string::npos) << head;
  EXPECT_NE(head.find("0.22.0 \xC2\xB7 strict"), std::string::npos) << head;
  // The command line is only the tooltip, never the visible name.
  EXPECT_EQ(head.substr(head.find('>')).find("python3"), std::string::npos) << head;
  // Without a hello: the short name when the document has one, else "unnamed".
  json no_hello = run;
  no_hello["implementation"] = nullptr;
  EXPECT_EQ(ImplName(no_hello), "unnamed");
  no_hello["impl"] = "go";
  EXPECT_EQ(ImplName(no_hello), "go");
}

TEST(ReportFormats, RepeatOfNameVersionProfileIsMarkedVisibly) {
  const std::vector<json> runs = {AdapterRun("tornado", "strict"), AdapterRun("tornado", "strict"),
                                  AdapterRun("tornado", "tornado")};
  const std::vector<Column> cols = Columns(runs);
  ASSERT_EQ(cols.size(), 3u);
  EXPECT_EQ(cols[0].key, "tornado 0.22.0 (strict)");
  EXPECT_EQ(cols[1].key, "tornado 0.22.0 (strict) #2");
  EXPECT_EQ(cols[1].repeat, 2);
  EXPECT_EQ(cols[2].key, "tornado 0.22.0 (tornado)");  // another profile: no repeat
  const std::string h = ToHtml(runs);
  EXPECT_EQ(Count(h, "<span class=\"repeat\""), 1u);
  EXPECT_NE(h.find(">#2</span>"), std::string::npos);
  // One file stem per column, so neither JUnit file replaces the other.
  EXPECT_NE(FileStem(cols[0].key), FileStem(cols[1].key));
}

TEST(ReportFormats, SummaryShowsEachRunsWallTimeModeAndJobs) {
  json run = AdapterRun("go-net", "strict");
  run["summary"] = {{"seconds", 42.25}};
  run["mode"] = "traced";
  run["jobs"] = 2;
  json other = AdapterRun("node-net", "tornado");
  other["summary"] = {{"seconds", 3.5}};
  const std::string h = ToHtml({run, other});
  EXPECT_NE(h.find("wall 42.2 s"), std::string::npos);
  EXPECT_NE(h.find("wall 3.50 s"), std::string::npos);
  EXPECT_NE(h.find("<div class=\"sub how\">traced, --jobs 2</div>"), std::string::npos);
  EXPECT_EQ(Count(h, "class=\"sub how\""), 1u);  // the other run says neither
  const json index = MergeIndex({run});
  EXPECT_EQ(index["implementations"][0]["mode"], "traced");
  EXPECT_EQ(index["implementations"][0]["jobs"], 2);
  EXPECT_EQ(index["implementations"][0]["summary"]["seconds"], 42.25);
}

TEST(ReportFormats, DesignIsShownWhenTheDocumentNamesOneAndEscaped) {
  json with = CaseDoc("bind/port-zero", "OK");
  with["design"] = "dual-stack <one socket>";
  const json run = RunDoc("r", {with, CaseDoc("bind/plain", "OK")});
  const std::string h = ToHtml({run});
  // The chip's title says which design the strict profile prefers (DesignNote).
  EXPECT_EQ(Count(h, "\">dual-stack &lt;one socket&gt;</span>"), 1u);
  EXPECT_EQ(h.find("<one socket>"), std::string::npos);
  // The legend's sample and the one case's: the case without a design has none.
  EXPECT_EQ(Count(h, "<span class=\"chip design\""), 2u);
  const json index = MergeIndex({run});
  EXPECT_EQ(index["cases"][0]["results"]["r 1.0 (tornado)"]["design"], "dual-stack <one socket>");
  EXPECT_FALSE(index["cases"][1]["results"]["r 1.0 (tornado)"].contains("design"));
}

TEST(ReportFormats, RunWithNoResultsKeepsAColumnThatSaysWhy) {
  json broken = {{"impl", "adapter-1"},
                 {"profile", "strict"},
                 {"implementation", nullptr},
                 {"error", "no results: netconform did not finish within 900 s; killed"},
                 {"cases", json::array()}};
  ASSERT_FALSE(CheckRunDocument(broken).has_value());
  const std::string h = ToHtml({Mixed("tornado"), broken});
  EXPECT_EQ(Count(h, "<th class=\"impl\""), 1u);
  EXPECT_EQ(Count(h, "<th class=\"impl error\""), 1u);
  EXPECT_NE(h.find("<div class=\"error\">no results: netconform did not finish within 900 s; "
                   "killed</div>"),
            std::string::npos);
  // Every case of the other run shows "not run" in this column.
  EXPECT_EQ(Count(h, "<td class=\"v none\">"), 4u);
  const json index = MergeIndex({broken});
  EXPECT_EQ(index["implementations"][0]["impl"], "adapter-1 (strict)");
  EXPECT_EQ(index["implementations"][0]["error"],
            "no results: netconform did not finish within 900 s; killed");
}

TEST(ReportFormats, CheckRunDocument) {
  EXPECT_TRUE(CheckRunDocument(json::array()).has_value());
  EXPECT_TRUE(CheckRunDocument({{"summary", 1}}).has_value());
  EXPECT_TRUE(CheckRunDocument({{"cases", {{{"verdict", "OK"}}}}}).has_value());
  EXPECT_TRUE(CheckRunDocument({{"cases", {{{"id", ""}}}}}).has_value());
  EXPECT_FALSE(CheckRunDocument({{"cases", json::array()}}).has_value());
  EXPECT_FALSE(CheckRunDocument(Mixed("x")).has_value());
}

TEST(ReportFormats, FileStem) {
  EXPECT_EQ(FileStem("tornado"), "tornado");
  EXPECT_EQ(FileStem("python3 tools/adapters/x_adapter.py"), "python3_tools_adapters_x_adapter.py");
  EXPECT_EQ(FileStem(".."), "_");
  EXPECT_EQ(FileStem(""), "_");
  EXPECT_EQ(FileStem("/"), "_");
  EXPECT_LE(FileStem(std::string(500, 'a')).size(), 96u);
}

// The catalog's version (tests/conformance/cases/VERSION, CHANGELOG.md) is in
// every format: a JUnit property, the TAP header line, the HTML footer.
TEST(ReportFormats, EveryFormatCarriesTheCatalogVersion) {
  json run = Mixed("tornado");
  run["catalog_version"] = "7.3.1";
  const auto xml = ParseXml(ToJunit(run));
  EXPECT_STREQ(Suite(*xml)
                   .child("properties")
                   .find_child_by_attribute("property", "name", "catalog_version")
                   .attribute("value")
                   .value(),
               "7.3.1");
  const std::string tap = ToTap(run);
  EXPECT_NE(tap.find("# netconform: tornado 1.0, profile tornado, target adapter: tornado, "
                     "catalog 7.3.1\n"),
            std::string::npos)
      << tap;
  EXPECT_NE(
      ToHtml(std::vector<json>(1, run)).find("<footer><p>Case catalog version 7.3.1.</p></footer>"),
      std::string::npos);
  // A document of an older netconform, without the member, says so.
  EXPECT_NE(
      ToHtml(std::vector<json>(1, Mixed("tornado"))).find("Case catalog version not recorded."),
      std::string::npos);
}

}  // namespace
}  // namespace netutil::conform
