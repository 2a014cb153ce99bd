// The report formats (tools/conform/report_formats.h) on small run documents:
// well-formed JUnit whatever the reasons hold, TAP plans that match, HTML that
// escapes, an index of every implementation x case, and documents with keys
// missing still rendering. Check_outputs.py reads netreport's files back with
// real XML and JSON parsers; here a small well-formedness check keeps the
// unit test free of dependencies.
#include "report_formats.h"

#include <gtest/gtest.h>

#include <cctype>
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

// XML 1.0 well-formedness, as far as these documents need it: one root, tags
// that nest and close, quoted attributes, known or numeric entity references,
// no '<' or '&' loose in text, and only characters XML allows (valid UTF-8, no
// C0 control but tab, LF, CR).
std::string XmlProblem(std::string_view x) {
  size_t i = 0;
  // Characters first.
  while (i < x.size()) {
    const auto c = static_cast<unsigned char>(x[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
      return "control char at " + std::to_string(i);
    size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (len == 0 || i + len > x.size()) return "bad UTF-8 at " + std::to_string(i);
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(x[i + k]) & 0xc0) != 0x80)
        return "bad UTF-8 at " + std::to_string(i);
    }
    i += len;
  }
  auto entity_ok = [&](size_t at) {  // x[at] == '&'
    const size_t semi = x.find(';', at);
    if (semi == std::string_view::npos) return false;
    const std::string_view name = x.substr(at + 1, semi - at - 1);
    if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos")
      return true;
    if (name.size() >= 2 && name[0] == '#') {
      for (size_t k = 1; k < name.size(); ++k) {
        if (name[k] < '0' || name[k] > '9') return false;
      }
      return true;
    }
    return false;
  };
  std::vector<std::string> open;
  bool had_root = false;
  i = 0;
  if (x.substr(0, 5) == "<?xml") i = x.find("?>") + 2;
  while (i < x.size()) {
    if (x[i] == '&') {
      if (!entity_ok(i)) return "bad entity at " + std::to_string(i);
      ++i;
      continue;
    }
    if (x[i] != '<') {
      if (open.empty() && x[i] != '\n' && x[i] != ' ') return "text outside the root";
      ++i;
      continue;
    }
    const bool closing = i + 1 < x.size() && x[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < x.size() &&
           (std::isalnum(static_cast<unsigned char>(x[j])) || x[j] == '-' || x[j] == '_'))
      ++j;
    const std::string name(x.substr(name_start, j - name_start));
    if (name.empty()) return "empty tag name at " + std::to_string(i);
    // Attributes: name="value" with no '<' inside and valid entities.
    while (j < x.size() && x[j] != '>' && !(x[j] == '/' && j + 1 < x.size() && x[j + 1] == '>')) {
      if (x[j] == '"') {
        const size_t end = x.find('"', j + 1);
        if (end == std::string_view::npos) return "unterminated attribute";
        for (size_t k = j + 1; k < end; ++k) {
          if (x[k] == '<') return "'<' in attribute at " + std::to_string(k);
          if (x[k] == '&' && !entity_ok(k))
            return "bad entity in attribute at " + std::to_string(k);
        }
        j = end + 1;
        continue;
      }
      if (x[j] == '<' || x[j] == '\'') return "stray character in tag at " + std::to_string(j);
      ++j;
    }
    if (j >= x.size()) return "unterminated tag";
    const bool empty = x[j] == '/';
    if (closing) {
      if (open.empty() || open.back() != name) return "mismatched </" + name + ">";
      open.pop_back();
    } else if (!empty) {
      if (open.empty() && had_root) return "second root element";
      open.push_back(name);
      had_root = true;
    }
    i = j + (empty ? 2 : 1);
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return had_root ? "" : "no root element";
}

size_t Count(std::string_view hay, std::string_view needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + 1))
    ++n;
  return n;
}

TEST(ReportFormats, JunitIsWellFormedWithCounts) {
  const std::string x = ToJunit(Mixed("tornado"));
  EXPECT_EQ(XmlProblem(x), "") << x;
  EXPECT_NE(
      x.find("<testsuite name=\"tornado\" tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\""),
      std::string::npos)
      << x;
  EXPECT_EQ(Count(x, "<testcase "), 4u);
  EXPECT_NE(x.find("classname=\"bind\" name=\"bind/b [BIND-019]\""), std::string::npos);
  EXPECT_NE(x.find("<failure message=\"boom\""), std::string::npos);
  EXPECT_NE(x.find("Actual:   2\nsecond line"), std::string::npos);
  EXPECT_NE(x.find("bind(5, 127.0.0.1:0) = -1 EADDRINUSE"), std::string::npos);
  EXPECT_NE(x.find("<skipped message=\"needs faults\"/>"), std::string::npos);
  // NON-STRICT passes, and says which strict rule it misses.
  EXPECT_NE(x.find("misses strict rule BIND-019: listened on 4464</system-out>"),
            std::string::npos);
}

TEST(ReportFormats, JunitReplacesWhatXmlForbids) {
  // NUL (an abstract unix path), other C0 controls, a lone continuation byte,
  // a truncated sequence, markup and quotes, in an attribute and in text.
  static constexpr char kNasty[] =
      "a\0b\x01\x1b[0m <x> & \"q\" 'a' \x80 \xe2\x82 \xef\xbf\xbe \xc2\x85";
  const std::string nasty(kNasty, sizeof kNasty - 1);
  json run = RunDoc("x", {CaseDoc("bind/n", "FAILED", nasty)});
  run["cases"][0]["details"] = {nasty};
  const std::string x = ToJunit(run);
  EXPECT_EQ(XmlProblem(x), "") << x;
  EXPECT_NE(
      x.find("a\\u0000b\\u0001\\u001b[0m &lt;x&gt; &amp; &quot;q&quot; &#39;a&#39; \xEF\xBF\xBD"),
      std::string::npos)
      << x;
  EXPECT_NE(x.find("\\u0085"), std::string::npos);       // a C1 control, shown
  EXPECT_EQ(x.find("\xef\xbf\xbe"), std::string::npos);  // U+FFFE is not XML
}

TEST(ReportFormats, JunitKeepsLineBreaksInAttributes) {
  const std::string x =
      ToJunit(RunDoc("x", {CaseDoc("bind/n", "FAILED", "one\ntwo\rthree\tfour")}));
  EXPECT_EQ(XmlProblem(x), "");
  EXPECT_NE(x.find("message=\"one&#10;two&#13;three&#9;four\""), std::string::npos) << x;
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
  EXPECT_EQ(index["implementations"][0]["impl"], "tornado");
  EXPECT_EQ(index["implementations"][1]["impl"], "tornado-2");  // one name, one column
  EXPECT_EQ(
      index["implementations"][0]["summary"],
      json({{"passed", 1}, {"non_strict", 1}, {"failed", 1}, {"skipped", 1}, {"seconds", 2.0}}));
  EXPECT_EQ(index["implementations"][0]["version"], "1.0");
  EXPECT_EQ(index["implementations"][0]["profile"], "tornado");
  ASSERT_EQ(index["cases"].size(), 5u);
  const json& a = index["cases"][0];
  EXPECT_EQ(a["id"], "bind/a");
  EXPECT_EQ(a["level"], "strict");
  EXPECT_EQ(a["results"].size(), 3u);
  EXPECT_EQ(a["results"]["pysocket"]["verdict"], "FAILED");
  EXPECT_EQ(a["results"]["pysocket"]["reason"], "x");
  const json& b = index["cases"][1];
  EXPECT_EQ(b["results"]["tornado"]["trace"][0], "bind(5, 127.0.0.1:0) = -1 EADDRINUSE");
  EXPECT_FALSE(b["results"].contains("pysocket"));  // not in that run
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
  const std::string x = ToJunit(old);
  EXPECT_EQ(XmlProblem(x), "");
  EXPECT_NE(x.find("failures=\"1\""), std::string::npos);
  EXPECT_NE(x.find("unknown verdict &quot;PASSED?&quot;"), std::string::npos);
  EXPECT_NE(ToTap(old).find("not ok 2 - bind/b\n"), std::string::npos);
  const json index = MergeIndex({old});
  EXPECT_EQ(index["cases"][0]["level"], "strict");  // from this build's spec
  EXPECT_EQ(index["cases"][1]["results"]["in-process reference"]["verdict"], "FAILED");
  EXPECT_NO_THROW(ToHtml({old, json::object()}));
  EXPECT_NO_THROW(ToHtml({}));
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

}  // namespace
}  // namespace netutil::conform
