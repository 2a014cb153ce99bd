#include "junit.h"

#include <cstdio>
#include <pugixml.hpp>
#include <sstream>
#include <utility>

#include "report_text.h"
#include "run_document.h"

namespace netutil::conform {
namespace {

using report::CaseEntry;
using report::Join;

// Text XML 1.0 allows; in element text a CR becomes visible (see junit.h).
std::string XmlText(std::string_view raw, bool element_text) {
  std::string text = CleanText(raw, LineBreaks::kKeep);
  if (!element_text) return text;
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    if (ch == '\r') {
      out += "\\u000d";
    } else {
      out += ch;
    }
  }
  return out;
}

void SetAttr(pugi::xml_node node, const char* name, std::string_view value) {
  node.append_attribute(name).set_value(XmlText(value, false).c_str());
}

void AddTextChild(pugi::xml_node parent, const char* name, std::string_view text) {
  parent.append_child(name).text().set(XmlText(text, true).c_str());
}

std::string Seconds(double s) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6f", s);
  return buf;
}

std::string FailureText(const CaseEntry& c) {
  std::string out;
  if (!c.title.empty()) out += c.title + "\n";
  if (!c.reason.empty()) out += c.reason + "\n";
  if (!c.details.empty()) out += "\n" + Join(c.details, "\n") + "\n";
  if (!c.trace.empty()) out += "\nsyscall trace:\n" + Join(c.trace, "\n") + "\n";
  return out;
}

std::string NonStrictText(const CaseEntry& c) {
  return "NON-STRICT: passes at the Tornado level but misses strict rule " +
         Join(report::StrictRules(c), ", ") + (c.reason.empty() ? "" : ": " + c.reason) +
         (c.details.empty() ? "" : "\n" + Join(c.details, "\n")) +
         (c.trace.empty() ? "" : "\nsyscall trace:\n" + Join(c.trace, "\n"));
}

void AddTestcase(pugi::xml_node suite, const CaseEntry& c) {
  pugi::xml_node tc = suite.append_child("testcase");
  SetAttr(tc, "classname", report::AreaOf(c.id));
  SetAttr(tc, "name", report::CaseName(c));
  SetAttr(tc, "time", Seconds(c.seconds));
  pugi::xml_node properties;  // made at the first property
  auto add_property = [&](const char* name, const std::string& value) {
    if (!properties) properties = tc.append_child("properties");
    pugi::xml_node property = properties.append_child("property");
    SetAttr(property, "name", name);
    SetAttr(property, "value", value);
  };
  if (!c.design.empty()) {
    // The way the implementation met the case's rules (docs/CONFORMANCE.md "Designs").
    add_property("design", report::DesignNote(c).substr(std::string_view("design: ").size()));
  }
  if (!c.synthetic.empty() && c.verdict != Verdict::kNotApplicable) {
    // A state no kernel gives: the verdict checks defensive code only
    // (docs/CONFORMANCE.md "Synthetic cases"); an N/A says so in its message.
    add_property("synthetic", c.synthetic);
  }
  switch (c.verdict) {
    case Verdict::kOk:
      break;
    case Verdict::kFailed: {
      pugi::xml_node failure = tc.append_child("failure");
      SetAttr(failure, "message", c.reason);
      SetAttr(failure, "type", VerdictName(c.verdict));
      failure.text().set(XmlText(FailureText(c), true).c_str());
      break;
    }
    case Verdict::kSkipped:
      SetAttr(tc.append_child("skipped"), "message", c.reason);
      break;
    case Verdict::kNotApplicable: {
      // JUnit has no such verdict: a skip, marked as N/A (not the environment's).
      pugi::xml_node skipped = tc.append_child("skipped");
      SetAttr(skipped, "message", "N/A: " + c.reason);
      SetAttr(skipped, "type", VerdictName(c.verdict));
      break;
    }
    case Verdict::kBlind: {
      // JUnit's error: the test could not be judged, which is no failure.
      pugi::xml_node error = tc.append_child("error");
      SetAttr(error, "message", c.reason);
      SetAttr(error, "type", VerdictName(c.verdict));
      break;
    }
    case Verdict::kNonStrict:
      AddTextChild(tc, "system-out", NonStrictText(c));
      break;
  }
  if (!c.notes.empty() && c.verdict != Verdict::kNonStrict) {
    AddTextChild(tc, "system-out", "not checked here: " + Join(c.notes, "; "));
  }
}

// errors: the BLIND cases, which the harness could not judge; a case that
// could not run for the implementation's fault is FAILED.
void SetCounts(pugi::xml_node node, const report::Tally& n) {
  SetAttr(node, "tests", std::to_string(n.total()));
  SetAttr(node, "failures", std::to_string(n.failed));
  SetAttr(node, "errors", std::to_string(n.blind));
  SetAttr(node, "skipped", std::to_string(n.skipped + n.not_applicable));
  SetAttr(node, "time", Seconds(n.seconds));
}

}  // namespace

std::string ToJunit(const nlohmann::json& run) {
  const std::string impl = ImplName(run);
  const report::Tally n = report::CountRun(run);

  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version").set_value("1.0");
  decl.append_attribute("encoding").set_value("UTF-8");
  pugi::xml_node suites = doc.append_child("testsuites");
  SetAttr(suites, "name", "netconform");
  SetCounts(suites, n);
  pugi::xml_node suite = suites.append_child("testsuite");
  SetAttr(suite, "name", impl);
  SetCounts(suite, n);

  pugi::xml_node props = suite.append_child("properties");
  const std::pair<const char*, std::string> properties[] = {
      {"impl", impl},
      {"target", report::TextAt(run, "target")},
      {"profile", report::TextAt(run, "profile")},
      {"version", report::VersionOf(run)},
      {"catalog_version", report::TextAt(run, "catalog_version")},
      {"non_strict", std::to_string(n.non_strict)},
      {"not_applicable", std::to_string(n.not_applicable)},
  };
  for (const auto& [key, value] : properties) {
    pugi::xml_node p = props.append_child("property");
    SetAttr(p, "name", key);
    SetAttr(p, "value", value);
  }
  for (const nlohmann::json& c : report::CasesOf(run)) AddTestcase(suite, report::ReadCase(c));

  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace netutil::conform
