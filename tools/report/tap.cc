#include "tap.h"

#include <string_view>
#include <vector>

#include "report_text.h"
#include "run_document.h"

namespace netutil::conform {
namespace {

using json = nlohmann::json;
using report::CaseEntry;
using report::Join;
using report::StrictRules;

// A test line's description: one line, and '#' would start a directive.
std::string TapDescription(std::string_view s) {
  std::string out;
  for (char ch : CleanText(s, LineBreaks::kJoin)) {
    if (ch == '#' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

// A YAML scalar that any YAML 1.1 or 1.2 reader takes: a JSON string, ASCII
// only, with every ':' written \x3a. Perl's TAP::Parser (prove) reads a list
// item "- \"Word: ...\"" as a mapping whose key starts with a quote, and
// stops with "does not support multi-line quoted scalars"; with no ':' left
// it reads the string, and \x3a is a YAML escape its reader and YAML's agree on.
std::string Yaml(std::string_view s) {
  const std::string quoted =
      json(CleanText(s, LineBreaks::kKeep)).dump(-1, ' ', true, json::error_handler_t::replace);
  std::string out;
  out.reserve(quoted.size());
  for (char ch : quoted) {
    if (ch == ':') {
      out += "\\x3a";
    } else {
      out += ch;
    }
  }
  return out;
}

void YamlList(std::string& out, const char* key, const std::vector<std::string>& items) {
  if (items.empty()) return;
  out += std::string("  ") + key + ":\n";
  for (const std::string& item : items) {
    size_t start = 0;
    while (true) {  // one list item per line of a multi-line detail
      const size_t nl = item.find('\n', start);
      out += "    - " + Yaml(std::string_view(item).substr(start, nl - start)) + "\n";
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
}

// "# netconform: IMPL VERSION, profile P, target T, catalog C"
std::string AboutLine(const json& run) {
  std::string about = "# netconform: " + ImplName(run);
  const std::string version = report::VersionOf(run);
  const std::string profile = report::TextAt(run, "profile");
  const std::string target = report::TextAt(run, "target");
  if (!version.empty()) about += " " + version;
  if (!profile.empty()) about += ", profile " + profile;
  if (!target.empty()) about += ", target " + target;
  const std::string catalog = report::TextAt(run, "catalog_version");
  if (!catalog.empty()) about += ", catalog " + catalog;
  return CleanText(about, LineBreaks::kJoin) + "\n";
}

std::string TestLine(size_t number, const CaseEntry& c) {
  const std::string design = report::DesignNote(c);
  const std::string head =
      std::to_string(number) + " - " +
      TapDescription(report::CaseName(c) + (design.empty() ? "" : " (" + design + ")") +
                     // docs/CONFORMANCE.md "Synthetic cases"; an N/A says so in its reason.
                     (c.synthetic.empty() || c.verdict == Verdict::kNotApplicable
                          ? ""
                          : " (synthetic fault)"));
  const std::string reason = CleanText(c.reason, LineBreaks::kJoin);
  switch (c.verdict) {
    case Verdict::kOk:
      return "ok " + head + "\n";
    case Verdict::kSkipped:
      return "ok " + head + " # SKIP " + (reason.empty() ? "skipped" : reason) + "\n";
    case Verdict::kNotApplicable:
      // TAP's SKIP, its reason marked: not the environment's, the implementation's offer.
      return "ok " + head + " # SKIP N/A: " + reason + "\n";
    case Verdict::kBlind:
      // Neither a pass nor a failure: TAP's TODO, which no harness counts as failing.
      return "not ok " + head + " # TODO harness blind: " + reason + "\n";
    case Verdict::kNonStrict:
      return "not ok " + head + " # TODO non-strict: " +
             (reason.empty() ? "misses " + Join(StrictRules(c), ", ") : reason) + "\n";
    case Verdict::kFailed:
      break;
  }
  return "not ok " + head + "\n";
}

// The YAML block after a FAILED or NON-STRICT line.
std::string Diagnostics(const CaseEntry& c) {
  std::string out = "  ---\n";
  out += "  message: " + Yaml(c.reason) + "\n";
  out += std::string("  severity: ") + (c.verdict == Verdict::kFailed ? "fail" : "todo") + "\n";
  out += "  verdict: " + Yaml(VerdictName(c.verdict)) + "\n";
  if (!c.title.empty()) out += "  title: " + Yaml(c.title) + "\n";
  YamlList(out, "rules", c.rules);
  if (c.verdict == Verdict::kNonStrict) YamlList(out, "strict_rules", StrictRules(c));
  YamlList(out, "details", c.details);
  YamlList(out, "trace", c.trace);
  out += "  ...\n";
  return out;
}

}  // namespace

std::string ToTap(const json& run) {
  const json& cases = report::CasesOf(run);
  std::string out = "TAP version 13\n";
  if (cases.empty()) return out + "1..0 # SKIP no cases in this run\n";
  out += "1.." + std::to_string(cases.size()) + "\n";
  out += AboutLine(run);
  size_t number = 0;
  for (const json& raw : cases) {
    const CaseEntry c = report::ReadCase(raw);
    out += TestLine(++number, c);
    if (c.verdict == Verdict::kFailed || c.verdict == Verdict::kNonStrict) out += Diagnostics(c);
  }
  const report::Tally n = report::CountRun(run);
  out += "# " + std::to_string(n.passed) + " passed, " + std::to_string(n.non_strict) +
         " non-strict, " + std::to_string(n.failed) + " failed, " + std::to_string(n.skipped) +
         " skipped, " + std::to_string(n.blind) + " blind, " + std::to_string(n.not_applicable) +
         " n/a\n";
  return out;
}

}  // namespace netutil::conform
