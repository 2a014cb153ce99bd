#include "html.h"

#include <map>
#include <set>
#include <string_view>

#include "matrix.h"
#include "report_assets.h"
#include "report_text.h"
#include "spec_rules.h"

namespace netutil::conform {
namespace {

using json = nlohmann::json;
using report::CaseEntry;
using report::Join;
using report::MatrixRow;

constexpr const char* kMiddleDot = " \xC2\xB7 ";

// The markup escapes; in an attribute tab, LF and CR are written as
// references so that attribute-value normalisation keeps them, and a CR in
// text too (a raw one would be read back as LF).
std::string Escape(std::string_view raw, bool attribute) {
  const std::string text = CleanText(raw, LineBreaks::kKeep);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string Text(std::string_view s) { return Escape(s, false); }
std::string Attr(std::string_view s) { return Escape(s, true); }

// The CSS class of a verdict's colour (report.css: --ok, --ns, ...).
const char* VerdictClass(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kNonStrict:
      return "ns";
    case Verdict::kFailed:
      return "failed";
    case Verdict::kSkipped:
      return "skipped";
    case Verdict::kBlind:
      return "blind";
    case Verdict::kNotApplicable:
      return "na";
  }
  return "failed";
}

std::string FirstRule(const CaseEntry& c) { return c.rules.empty() ? "" : c.rules.front(); }

// Rules in docs/SPEC.md's order (the order its sections read in); rules this
// build does not know follow in order of first appearance. Linear in the rows
// (a set, not a search of the order per row): a run document may hold many
// cases with rules unknown here.
std::vector<std::string> RuleOrder(const std::vector<MatrixRow>& rows) {
  std::set<std::string> used;
  for (const MatrixRow& r : rows) used.insert(FirstRule(r.c));
  std::vector<std::string> order;
  std::set<std::string> placed;
  for (const spec::Rule& rule : spec::kRules) {
    if (used.count(rule.id) != 0 && placed.insert(rule.id).second) order.push_back(rule.id);
  }
  for (const MatrixRow& r : rows) {
    if (placed.insert(FirstRule(r.c)).second) order.push_back(FirstRule(r.c));
  }
  return order;
}

// `page` with each {{name}} replaced by its value, in one pass (a value is
// never scanned for placeholders).
std::string FillTemplate(std::string_view page,
                         const std::map<std::string_view, std::string_view>& values) {
  std::string out;
  size_t at = 0;
  while (true) {
    const size_t open = page.find("{{", at);
    const size_t close = open == std::string_view::npos ? open : page.find("}}", open);
    if (close == std::string_view::npos) break;
    auto it = values.find(page.substr(open + 2, close - open - 2));
    out.append(page.substr(at, (it == values.end() ? close + 2 : open) - at));
    if (it != values.end()) out.append(it->second);
    at = close + 2;
  }
  out.append(page.substr(at));
  return out;
}

std::string Plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// "10 implementations, 20 runs": implementations counted by name and version.
std::string RunCount(const std::vector<Column>& columns) {
  std::set<std::string> impls;
  for (const Column& c : columns) impls.insert(c.name + " " + c.version);
  std::string out = Plural(impls.size(), "implementation");
  if (columns.size() != impls.size()) out += " in " + Plural(columns.size(), "run");
  return out;
}

std::string Intro(const std::vector<Column>& columns, size_t cases) {
  std::string out = "<p class=\"meta\">" + RunCount(columns) + ", " + Plural(cases, "case") +
                    ", grouped by the rules of docs/SPEC.md (a case with several rules is listed "
                    "under its first). Columns are named by each implementation's hello (name, "
                    "version) and the run's profile; the summary gives each run's wall time. "
                    "Click a cell marked &#9656; for the reason, details and trace.</p>\n";
  out += "<div class=\"legend\">";
  for (Verdict v : kAllVerdicts) {
    out += std::string("<span><span class=\"sw\" style=\"background:var(--") + VerdictClass(v) +
           ")\"></span>" + VerdictName(v) + "</span>";
  }
  out +=
      "<span><span class=\"sw\" style=\"border-style:dashed\"></span>not run</span>"
      "<span><span class=\"chip design\">design</span> the design that met the rule</span>"
      "<label><input type=\"checkbox\" id=\"only-bad\"> only cases not OK everywhere</label>"
      "</div>\n";
  return out;
}

// A column's head: the hello's name (and "#2" for a repeat of the same name,
// version and profile), then version and profile, then how the run was made.
// The command line that started the adapter is only in the tooltip.
std::string ColumnHeads(const std::vector<json>& runs, const std::vector<Column>& columns) {
  std::string out = "<tr><th class=\"corner\">case</th>";
  for (size_t k = 0; k < runs.size(); ++k) {
    const Column& c = columns[k];
    std::string sub = c.version;
    if (!c.profile.empty()) sub += (sub.empty() ? "" : kMiddleDot) + c.profile;
    std::string how = c.mode;
    if (c.jobs > 0)
      how += (how.empty() ? "" : ", ") + std::string("--jobs ") + std::to_string(c.jobs);
    out += std::string("<th class=\"impl") + (c.error.empty() ? "" : " error") +
           "\" scope=\"col\" title=\"" + Attr(report::TextAt(runs[k], "target")) +
           "\"><div class=\"marker\"></div><div class=\"name\">" + Text(c.name);
    if (c.repeat > 1) {
      out +=
          " <span class=\"repeat\" title=\"another column has the same name, version and "
          "profile\">#" +
          std::to_string(c.repeat) + "</span>";
    }
    out += "</div><div class=\"sub\">" + (sub.empty() ? "&nbsp;" : Text(sub)) + "</div>";
    if (!how.empty()) out += "<div class=\"sub how\">" + Text(how) + "</div>";
    out += "</th>";
  }
  return out + "</tr>\n";
}

// A run's counts and wall time; a run with no results (its "error") says why.
std::string SummaryCell(const json& run, const Column& column) {
  const report::Tally n = report::CountRun(run);
  std::string out = "<td><div class=\"bar\">";
  const std::pair<Verdict, int> parts[] = {
      {Verdict::kOk, n.passed},     {Verdict::kNonStrict, n.non_strict},
      {Verdict::kFailed, n.failed}, {Verdict::kSkipped, n.skipped},
      {Verdict::kBlind, n.blind},   {Verdict::kNotApplicable, n.not_applicable}};
  for (const auto& [v, count] : parts) {
    if (count > 0) {
      out += "<span style=\"flex:" + std::to_string(count) + ";background:var(--" +
             VerdictClass(v) + ")\"></span>";
    }
  }
  out += "</div>";
  if (!column.error.empty()) out += "<div class=\"error\">" + Text(column.error) + "</div>";
  const std::pair<int, const char*> lines[] = {{n.passed, "passed"}, {n.non_strict, "non-strict"},
                                               {n.failed, "failed"}, {n.skipped, "skipped"},
                                               {n.blind, "blind"},   {n.not_applicable, "N/A"}};
  for (const auto& [count, word] : lines) {
    out += "<span class=\"n\"><b>" + std::to_string(count) + "</b>" + word + "</span>";
  }
  return out + "<span class=\"n wall\"><b></b>wall " + report::WallTime(n.seconds) + "</span></td>";
}

// A rule's header row: its level and mark from this build's spec, and per
// implementation what is not OK among its cases.
std::string RuleRow(const std::string& rule, const std::vector<const MatrixRow*>& group,
                    size_t runs) {
  bool all_ok = true;
  std::string cells;
  for (size_t k = 0; k < runs; ++k) {
    report::Tally n;
    int missing = 0;
    for (const MatrixRow* r : group) {
      if (r->at[k]) {
        n.Count(r->at[k]->verdict);
      } else {
        ++missing;
      }
    }
    std::string what;
    auto add = [&](int count, const char* word) {
      if (count > 0) what += (what.empty() ? "" : ", ") + std::to_string(count) + " " + word;
    };
    add(n.failed, "failed");
    add(n.non_strict, "non-strict");
    add(n.skipped, "skipped");
    add(n.blind, "blind");
    add(n.not_applicable, "N/A");
    add(missing, "not run");
    if (what.empty()) what = "all " + std::to_string(n.passed) + " OK";
    if (n.failed > 0 || n.non_strict > 0 || n.skipped > 0 || n.blind > 0 || n.not_applicable > 0 ||
        missing > 0) {
      all_ok = false;
    }
    cells +=
        std::string("<td") + (n.failed > 0 ? " class=\"bad\"" : "") + ">" + Text(what) + "</td>";
  }
  std::string out = std::string("<tr class=\"rule") + (all_ok ? " allok" : "") +
                    "\"><th scope=\"rowgroup\">" + Text(rule.empty() ? "no rule" : rule);
  if (const spec::Rule* known = spec::FindRule(rule)) {
    out +=
        std::string("<span class=\"lvl\">") + known->level + kMiddleDot + known->mark + "</span>";
  }
  return out + "</th>" + cells + "</tr>\n";
}

void Pre(std::string& out, const char* label, const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  out += "<div class=\"label\">";
  out += label;
  out += "</div><pre>" + Text(Join(lines, "\n")) + "</pre>";
}

// The hidden row under a case that a click on its cell opens.
std::string DetailRow(const std::string& id, size_t columns, const std::string& impl,
                      const CaseEntry& c) {
  std::string out = "<tr class=\"detail\" id=\"" + id + "\" hidden><td colspan=\"" +
                    std::to_string(columns) + "\"><div class=\"who\">" + Text(impl) + kMiddleDot +
                    VerdictName(c.verdict) + kMiddleDot + Text(c.id) + "</div>";
  if (!c.reason.empty()) out += "<div>" + Text(c.reason) + "</div>";
  if (!c.design.empty()) out += "<div>" + Text(report::DesignNote(c)) + "</div>";
  if (c.verdict == Verdict::kNonStrict) {
    out +=
        "<div class=\"label\">misses strict " + Text(Join(report::StrictRules(c), ", ")) + "</div>";
  }
  Pre(out, "details", c.details);
  Pre(out, "syscall trace", c.trace);
  Pre(out, "not checked here", c.notes);
  return out + "</td></tr>\n";
}

// A case's row (its verdict cell per run) and its detail rows.
std::string CaseRows(const MatrixRow& r, const std::vector<std::string>& names, size_t* detail_id) {
  const size_t columns = names.size() + 1;
  bool row_ok = true;
  std::string cells;
  std::string details;
  for (size_t k = 0; k < names.size(); ++k) {
    if (!r.at[k]) {
      row_ok = false;
      cells += "<td class=\"v none\">&mdash;</td>";
      continue;
    }
    const CaseEntry& c = *r.at[k];
    if (c.verdict != Verdict::kOk) row_ok = false;
    cells += std::string("<td class=\"v ") + VerdictClass(c.verdict) + "\"";
    if (!c.reason.empty()) cells += " title=\"" + Attr(c.reason) + "\"";
    if (!c.reason.empty() || !c.details.empty() || !c.trace.empty() || !c.notes.empty() ||
        !c.design.empty()) {
      const std::string id = "d" + std::to_string(++*detail_id);
      cells += " data-d=\"" + id + "\" tabindex=\"0\" role=\"button\" aria-expanded=\"false\"";
      details += DetailRow(id, columns, names[k], c);
    }
    cells +=
        std::string(">") + VerdictName(c.verdict) +
        (c.injected ? "<span class=\"chip\">injected</span>" : "") +
        (c.synthetic.empty() || c.verdict == Verdict::kNotApplicable
             ? ""
             : "<span class=\"chip\" title=\"" + Attr("synthetic fault: " + c.synthetic) +
                   "\">synthetic</span>") +
        (c.design.empty() ? ""
                          : "<span class=\"chip design\" title=\"" + Attr(report::DesignNote(c)) +
                                "\">" + Text(c.design) + "</span>") +
        "</td>";
  }
  std::string out = std::string("<tr class=\"case") + (row_ok ? " allok" : "") +
                    "\"><th scope=\"row\"><code>" + Text(r.c.id) + "</code>";
  if (r.c.level == "strict") out += "<span class=\"chip strict\">strict</span>";
  for (size_t i = 1; i < r.c.rules.size(); ++i) {
    out += "<span class=\"chip\">also " + Text(r.c.rules[i]) + "</span>";
  }
  if (!r.c.title.empty()) out += "<div class=\"title\">" + Text(r.c.title) + "</div>";
  return out + "</th>" + cells + "</tr>\n" + details;
}

// Which catalog the verdicts are of: its version, from each run (normally one).
std::string CatalogFooter(const std::vector<json>& runs) {
  std::set<std::string> versions;
  for (const json& run : runs) {
    const std::string v = report::TextAt(run, "catalog_version");
    versions.insert(v.empty() ? "not recorded" : v);
  }
  std::string list;
  for (const std::string& v : versions) list += (list.empty() ? "" : ", ") + v;
  return "<footer><p>Case catalog version " + Text(list) + ".</p></footer>\n";
}

}  // namespace

std::string ToHtml(const std::vector<json>& runs) {
  const std::vector<Column> columns = Columns(runs);
  std::vector<std::string> names;
  for (const Column& c : columns) names.push_back(c.key);
  const std::vector<MatrixRow> rows = report::MatrixRows(runs);

  std::string body = Intro(columns, rows.size());
  body += "<table class=\"matrix\">\n<thead>\n" + ColumnHeads(runs, columns);
  body += "<tr class=\"summary\"><th>summary</th>";
  for (size_t k = 0; k < runs.size(); ++k) body += SummaryCell(runs[k], columns[k]);
  body += "</tr>\n</thead>\n<tbody>\n";

  // The rows of each first rule, found once (not a pass over every row per rule).
  std::map<std::string, std::vector<const MatrixRow*>> groups;
  for (const MatrixRow& r : rows) groups[FirstRule(r.c)].push_back(&r);
  size_t detail_id = 0;
  for (const std::string& rule : RuleOrder(rows)) {
    const std::vector<const MatrixRow*>& group = groups[rule];
    body += RuleRow(rule, group, runs.size());
    for (const MatrixRow* r : group) body += CaseRows(*r, names, &detail_id);
  }
  body += "</tbody>\n</table>\n" + CatalogFooter(runs);

  return FillTemplate(
      report::assets::kPage,
      {{"style", report::assets::kStyle}, {"script", report::assets::kScript}, {"body", body}});
}

}  // namespace netutil::conform
