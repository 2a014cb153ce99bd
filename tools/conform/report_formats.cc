#include "report_formats.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>

#include "spec_rules.h"

namespace netutil::conform {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------
// Reading documents tolerantly: a key that is absent or of another type reads
// as empty, because documents come from older and newer netconforms alike.

std::string Str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, json::error_handler_t::replace);
}

// An array of strings (other elements dumped as JSON); a lone string is one line.
std::vector<std::string> Strs(const json& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.is_object()) return out;
  auto it = obj.find(key);
  if (it == obj.end()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const json& e : *it) {
      out.push_back(e.is_string() ? e.get<std::string>()
                                  : e.dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }
  return out;
}

double Num(const json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<double>() : 0;
}

const json& Cases(const json& run) {
  static const json kEmpty = json::array();
  if (!run.is_object()) return kEmpty;
  auto it = run.find("cases");
  return it != run.end() && it->is_array() ? *it : kEmpty;
}

enum class V { kOk, kNonStrict, kFailed, kSkipped };

const char* VName(V v) {
  switch (v) {
    case V::kOk:
      return "OK";
    case V::kNonStrict:
      return "NON-STRICT";
    case V::kFailed:
      return "FAILED";
    case V::kSkipped:
      return "SKIPPED";
  }
  return "FAILED";
}

const char* VClass(V v) {
  switch (v) {
    case V::kOk:
      return "ok";
    case V::kNonStrict:
      return "ns";
    case V::kFailed:
      return "failed";
    case V::kSkipped:
      return "skipped";
  }
  return "failed";
}

struct CaseView {
  std::string id;
  std::vector<std::string> rules;
  std::string title;
  std::string level;
  V verdict = V::kFailed;
  std::string reason;
  std::vector<std::string> details;
  std::vector<std::string> trace;
  std::vector<std::string> notes;
  double seconds = 0;
  bool has_seconds = false;
};

CaseView View(const json& c) {
  CaseView v;
  v.id = Str(c, "id");
  v.rules = Strs(c, "rules");
  v.title = Str(c, "title");
  v.level = Str(c, "level");
  if (v.level.empty()) {
    // Older documents carry no level: derive it from this build's spec when
    // every rule is known there, as netconform does.
    bool all_known = !v.rules.empty();
    bool strict = false;
    for (const std::string& r : v.rules) {
      const spec::Rule* rule = spec::FindRule(r);
      if (rule == nullptr) all_known = false;
      if (rule != nullptr && std::string_view(rule->mark) == "strict") strict = true;
    }
    if (strict) {
      v.level = "strict";
    } else if (all_known) {
      v.level = "tornado";
    }
  }
  v.reason = Str(c, "reason");
  v.details = Strs(c, "details");
  v.trace = Strs(c, "trace");
  v.notes = Strs(c, "notes");
  v.has_seconds = c.is_object() && c.contains("seconds") && c["seconds"].is_number();
  v.seconds = std::max(0.0, Num(c, "seconds"));
  const std::string word = Str(c, "verdict");
  if (word == "OK") {
    v.verdict = V::kOk;
  } else if (word == "NON-STRICT") {
    v.verdict = V::kNonStrict;
  } else if (word == "SKIPPED") {
    v.verdict = V::kSkipped;
  } else {
    v.verdict = V::kFailed;
    if (word != "FAILED") {
      const std::string what = "unknown verdict \"" + word + "\"";
      v.reason = v.reason.empty() ? what : what + ": " + v.reason;
    }
  }
  return v;
}

struct Counts {
  int passed = 0;
  int non_strict = 0;
  int failed = 0;
  int skipped = 0;
  double seconds = 0;
  int total() const { return passed + non_strict + failed + skipped; }
  void Add(V v) {
    switch (v) {
      case V::kOk:
        ++passed;
        break;
      case V::kNonStrict:
        ++non_strict;
        break;
      case V::kFailed:
        ++failed;
        break;
      case V::kSkipped:
        ++skipped;
        break;
    }
  }
};

// Counted from the cases, so a summary always matches the rows shown with it;
// only the wall time comes from the run's own summary (the sum of the cases'
// times leaves out the runner's set-up).
Counts CountRun(const json& run) {
  Counts n;
  double case_seconds = 0;
  for (const json& c : Cases(run)) {
    const CaseView v = View(c);
    n.Add(v.verdict);
    case_seconds += v.seconds;
  }
  const json summary = run.is_object() && run.contains("summary") ? run["summary"] : json();
  n.seconds = summary.is_object() && summary.contains("seconds") && summary["seconds"].is_number()
                  ? Num(summary, "seconds")
                  : case_seconds;
  return n;
}

std::string Version(const json& run) {
  return run.is_object() && run.contains("implementation") ? Str(run["implementation"], "version")
                                                           : "";
}

std::string Area(const std::string& id) {
  const size_t slash = id.find('/');
  return slash == std::string::npos || slash == 0 ? "netconform" : id.substr(0, slash);
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string CaseName(const CaseView& c) {
  return c.rules.empty() ? c.id : c.id + " [" + Join(c.rules, " ") + "]";
}

// The rules of a case that docs/SPEC.md marks strict; all of its rules when
// none is known here but the document says the case is strict (a run made
// against a newer spec than this build's).
std::vector<std::string> StrictRules(const CaseView& c) {
  std::vector<std::string> out;
  for (const std::string& r : c.rules) {
    const spec::Rule* rule = spec::FindRule(r);
    if (rule != nullptr && std::string_view(rule->mark) == "strict") out.push_back(r);
  }
  if (out.empty()) out = c.rules;
  return out;
}

std::string Seconds(double s) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6f", s);
  return buf;
}

// ---------------------------------------------------------------------------
// Text every format can carry. XML 1.0 forbids the C0 controls but tab, LF and
// CR, and any byte sequence that is not UTF-8; HTML, TAP's YAML and terminals
// choke on the same. Reasons do hold such bytes (an abstract unix path starts
// with NUL), so they are written visibly as \u00XX, as docs/ADAPTER.md writes
// them in JSON, and broken UTF-8 becomes U+FFFD.

//
// A line starting with "::" (after blanks) would be a GitHub Actions workflow
// command ("::error::", "::add-mask::", "::stop-commands::") when the report
// is printed in a CI log: its first ':' is written \u003a (\x3a in terminal
// text) in every format.

// kJoin: tab, LF and CR become spaces. kEscape (terminal text): they are
// escaped as every other control, \xNN, so one text is one line.
enum class Lines { kKeep, kJoin, kEscape };

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

void AppendEscapedControl(std::string& out, uint32_t cp, Lines lines) {
  char buf[8];
  if (lines == Lines::kEscape && cp < 0x80) {
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
  } else {
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
  }
  out += buf;
}

std::string Clean(std::string_view in, Lines lines) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  bool line_start = true;  // only blanks since the start of a line
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      const bool blank = c == ' ' || (c == '\t' && lines != Lines::kEscape);
      if (line_start && c == ':' && i + 1 < in.size() && in[i + 1] == ':') {
        AppendEscapedControl(out, c, lines);  // not a workflow command
      } else if ((c == '\t' || c == '\n' || c == '\r') && lines != Lines::kEscape) {
        out += lines == Lines::kKeep ? static_cast<char>(c) : ' ';
      } else if (c < 0x20 || c == 0x7f) {
        AppendEscapedControl(out, c, lines);
      } else {
        out += static_cast<char>(c);
      }
      if (c == '\n' || c == '\r') {
        // Kept, a new line starts; joined, it is a blank; escaped, it shows.
        line_start = lines == Lines::kKeep || (lines == Lines::kJoin && line_start);
      } else {
        line_start = line_start && blank;
      }
      ++i;
      continue;
    }
    line_start = false;
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len != 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(in[i + k]);
      if ((b & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (b & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if (ok && ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
               (cp >= 0xd800 && cp <= 0xdfff))) {
      ok = false;
    }
    if (!ok) {
      out += kReplacement;
      ++i;  // resynchronise on the next byte
      continue;
    }
    if (cp <= 0x9f) {
      AppendEscapedControl(out, cp, lines);  // C1 controls: legal XML, but invisible everywhere
    } else if (cp == 0xfffe || cp == 0xffff) {
      out += kReplacement;  // noncharacters XML 1.0 excludes
    } else {
      out.append(in.substr(i, len));
    }
    i += len;
  }
  return out;
}

// XML and HTML share the markup escapes. In an attribute, tab, LF and CR are
// written as references so that attribute-value normalisation keeps them.
std::string Escape(std::string_view raw, bool attribute) {
  const std::string text = Clean(raw, Lines::kKeep);
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
        out += "&#13;";  // a raw CR in text would be read back as LF
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string Text(std::string_view s) { return Escape(s, false); }
std::string Attr(std::string_view s) { return Escape(s, true); }

// ---------------------------------------------------------------------------
// JUnit

std::string FailureText(const CaseView& c) {
  std::string out;
  if (!c.title.empty()) out += c.title + "\n";
  if (!c.reason.empty()) out += c.reason + "\n";
  if (!c.details.empty()) out += "\n" + Join(c.details, "\n") + "\n";
  if (!c.trace.empty()) out += "\nsyscall trace:\n" + Join(c.trace, "\n") + "\n";
  return out;
}

// ---------------------------------------------------------------------------
// TAP

// A test line's description: one line, and '#' would start a directive.
std::string TapDescription(std::string_view s) {
  std::string out;
  for (char ch : Clean(s, Lines::kJoin)) {
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
      json(Clean(s, Lines::kKeep)).dump(-1, ' ', true, json::error_handler_t::replace);
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

// ---------------------------------------------------------------------------
// HTML

// One row of the matrix: a case, and what each run said about it.
struct Row {
  CaseView c;                               // from the first run that has the case
  std::vector<std::optional<CaseView>> at;  // per run; nullopt: not in that run
};

// Rules in docs/SPEC.md's order (the order its sections read in); rules this
// build does not know follow in order of first appearance.
// Linear in the rows (a set, not a search of `order`, per row): a run
// document may hold many cases with rules unknown here.
std::vector<std::string> RuleOrder(const std::vector<Row>& rows) {
  std::set<std::string> used;
  for (const Row& r : rows) used.insert(r.c.rules.empty() ? "" : r.c.rules.front());
  std::vector<std::string> order;
  std::set<std::string> placed;
  for (const spec::Rule& rule : spec::kRules) {
    if (used.count(rule.id) != 0 && placed.insert(rule.id).second) order.push_back(rule.id);
  }
  for (const Row& r : rows) {
    const std::string first = r.c.rules.empty() ? "" : r.c.rules.front();
    if (placed.insert(first).second) order.push_back(first);
  }
  return order;
}

std::vector<Row> Rows(const std::vector<json>& runs) {
  std::vector<Row> rows;
  std::map<std::string, size_t> index;
  for (size_t k = 0; k < runs.size(); ++k) {
    for (const json& raw : Cases(runs[k])) {
      CaseView v = View(raw);
      auto [it, fresh] = index.emplace(v.id, rows.size());
      if (fresh) rows.push_back(Row{v, std::vector<std::optional<CaseView>>(runs.size())});
      Row& row = rows[it->second];
      if (row.c.level.empty()) row.c.level = v.level;
      if (!row.at[k]) row.at[k] = std::move(v);  // a repeated ID: the first result stands
    }
  }
  return rows;
}

constexpr const char* kCss = R"css(
:root { --ok: #b9e4b0; --ns: #ffd57e; --failed: #f5a3a0; --skipped: #cdd3dc;
        --marker: #4b2991; --ink: #1d2430; --muted: #5b6575; --line: #d9dee6; }
* { box-sizing: border-box; }
body { margin: 16px 20px; font: 14px/1.35 system-ui, "DejaVu Sans", sans-serif; color: var(--ink);
       background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
p.meta { margin: 0 0 10px; color: var(--muted); }
.legend { display: flex; gap: 14px; align-items: center; margin: 0 0 10px; flex-wrap: wrap; }
.legend .sw { display: inline-block; width: 14px; height: 14px; border-radius: 3px;
              vertical-align: -2px; margin-right: 4px; border: 1px solid rgba(0,0,0,.25); }
.legend label { margin-left: 12px; color: var(--muted); cursor: pointer; }
table.matrix { border-collapse: separate; border-spacing: 4px 2px; }
table.matrix th, table.matrix td { padding: 4px 8px; text-align: left; vertical-align: top; }
thead th.corner { vertical-align: bottom; color: var(--muted); font-weight: normal; }
thead th.impl { width: 150px; min-width: 150px; max-width: 150px; background: #f3f4f7;
                padding: 0 0 6px; border-radius: 4px 4px 0 0; overflow: hidden; }
/* The implementation names stay in view while a long matrix scrolls. */
thead tr:first-child th { position: sticky; top: 0; z-index: 1; }
thead th.corner { background: #fff; }
th.impl .marker { height: 8px; background: var(--marker); margin-bottom: 6px; }
th.impl .name { font-size: 15px; padding: 0 8px; overflow-wrap: anywhere; }
th.impl .sub { font-weight: normal; font-size: 12px; color: var(--muted); padding: 0 8px;
               overflow-wrap: anywhere; }
tr.summary th { font-weight: normal; color: var(--muted); }
tr.summary td { background: #f3f4f7; font-size: 12px; }
tr.summary td .bar { display: flex; height: 6px; margin: 0 0 4px; border-radius: 3px;
                     overflow: hidden; background: #fff; }
tr.summary td .n { display: block; white-space: nowrap; }
tr.summary td .n b { display: inline-block; min-width: 2.2em; text-align: right;
                      margin-right: 4px; }
tr.rule th { padding-top: 12px; border-bottom: 2px solid var(--line); font-size: 13px; }
tr.rule th .lvl { font-weight: normal; color: var(--muted); margin-left: 6px; }
tr.rule td { padding-top: 12px; border-bottom: 2px solid var(--line); font-size: 12px;
             color: var(--muted); max-width: 150px; }
tr.rule td.bad { color: #a3231d; font-weight: 600; }
tr.case th { font-weight: normal; max-width: 560px; }
tr.case th code { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; }
tr.case th .title { color: var(--muted); font-size: 12px; }
.chip { display: inline-block; font-size: 11px; padding: 0 5px; border-radius: 8px;
        border: 1px solid var(--line); color: var(--muted); margin-left: 4px; }
.chip.strict { border-color: #b98a2f; color: #7a5512; }
table.matrix td.v { font-size: 12px; font-weight: 600; white-space: nowrap; border-radius: 3px;
                    vertical-align: middle; }
td.v.ok { background: var(--ok); }
td.v.ns { background: var(--ns); }
td.v.failed { background: var(--failed); }
td.v.skipped { background: var(--skipped); }
td.v.none { color: var(--muted); font-weight: normal; border: 1px dashed var(--line); }
td.v[data-d] { cursor: pointer; }
td.v[data-d]::after { content: " \25B8"; font-weight: normal; }
td.v.open::after { content: " \25BE"; }
td.v[data-d]:focus { outline: 2px solid var(--marker); }
tr.detail td { background: #fafbfc; border: 1px solid var(--line); border-radius: 4px;
               padding: 8px 12px; }
tr.detail .who { font-weight: 600; margin-bottom: 4px; }
tr.detail pre { margin: 6px 0 0; padding: 6px 8px; background: #fff; border: 1px solid var(--line);
                white-space: pre-wrap; overflow-wrap: anywhere;
                font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
tr.detail .label { margin-top: 6px; color: var(--muted); font-size: 12px; }
table.only-bad tr.allok { display: none; }
)css";

// Clicking a coloured cell opens its detail row below the case; the filter
// hides cases every implementation passes. Without JS, <noscript> shows every
// detail row instead, so nothing is lost.
constexpr const char* kJs = R"js(
(function () {
  function toggle(cell) {
    var row = document.getElementById(cell.getAttribute('data-d'));
    if (!row) return;
    row.hidden = !row.hidden;
    cell.classList.toggle('open', !row.hidden);
    cell.setAttribute('aria-expanded', String(!row.hidden));
  }
  document.addEventListener('click', function (e) {
    var cell = e.target.closest('td[data-d]');
    if (cell) toggle(cell);
  });
  document.addEventListener('keydown', function (e) {
    var cell = e.target.closest && e.target.closest('td[data-d]');
    if (cell && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); toggle(cell); }
  });
  var only = document.getElementById('only-bad');
  if (only) only.addEventListener('change', function () {
    document.querySelector('table.matrix').classList.toggle('only-bad', only.checked);
  });
})();
)js";

void Pre(std::string& out, const char* label, const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  out += "<div class=\"label\">";
  out += label;
  out += "</div><pre>" + Text(Join(lines, "\n")) + "</pre>";
}

}  // namespace

// ---------------------------------------------------------------------------

std::string TerminalText(std::string_view s) { return Clean(s, Lines::kEscape); }

std::optional<std::string> CheckRunDocument(const json& run) {
  if (!run.is_object()) return std::string("not a JSON object");
  auto cases = run.find("cases");
  if (cases == run.end() || !cases->is_array())
    return std::string("no \"cases\" array: not a netconform run document");
  if (cases->size() > kMaxRunCases) {
    return std::to_string(cases->size()) + " cases, over the limit of " +
           std::to_string(kMaxRunCases);
  }
  for (size_t i = 0; i < cases->size(); ++i) {
    const json& c = (*cases)[i];
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string() ||
        c["id"].get<std::string>().empty()) {
      return "cases[" + std::to_string(i) + "] has no string \"id\"";
    }
  }
  return std::nullopt;
}

std::string ImplName(const json& run) {
  for (const std::string& name :
       {Str(run, "impl"),
        run.is_object() && run.contains("implementation") ? Str(run["implementation"], "impl")
                                                          : std::string(),
        Str(run, "target")}) {
    if (!name.empty()) return name;
  }
  return "unknown";
}

std::vector<std::string> ImplNames(const std::vector<json>& runs) {
  std::vector<std::string> names;
  std::set<std::string> taken;
  for (const json& run : runs) {
    const std::string base = ImplName(run);
    std::string name = base;
    for (int n = 2; taken.count(name) != 0; ++n) name = base + "-" + std::to_string(n);
    taken.insert(name);
    names.push_back(name);
  }
  return names;
}

std::string FileStem(const std::string& impl) {
  std::string out;
  for (char ch : impl) {
    const bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (keep) {
      out += ch;
    } else if (out.empty() || out.back() != '_') {
      out += '_';
    }
    if (out.size() >= 96) break;  // a long adapter command must not exceed NAME_MAX
  }
  if (out.empty() || out == "." || out == "..") out = "_";
  return out;
}

std::string ToJunit(const json& run) {
  const std::string impl = ImplName(run);
  const Counts n = CountRun(run);
  std::string body;
  for (const json& raw : Cases(run)) {
    const CaseView c = View(raw);
    body += "    <testcase classname=\"" + Attr(Area(c.id)) + "\" name=\"" + Attr(CaseName(c)) +
            "\" time=\"" + Seconds(c.seconds) + "\"";
    std::string inner;
    switch (c.verdict) {
      case V::kOk:
        break;
      case V::kFailed:
        inner += "      <failure message=\"" + Attr(c.reason) + "\" type=\"FAILED\">" +
                 Text(FailureText(c)) + "</failure>\n";
        break;
      case V::kSkipped:
        inner += "      <skipped message=\"" + Attr(c.reason) + "\"/>\n";
        break;
      case V::kNonStrict:
        inner += "      <system-out>" +
                 Text("NON-STRICT: passes at the Tornado level but misses strict rule " +
                      Join(StrictRules(c), ", ") + (c.reason.empty() ? "" : ": " + c.reason) +
                      (c.details.empty() ? "" : "\n" + Join(c.details, "\n")) +
                      (c.trace.empty() ? "" : "\nsyscall trace:\n" + Join(c.trace, "\n"))) +
                 "</system-out>\n";
        break;
    }
    if (!c.notes.empty() && c.verdict != V::kNonStrict) {
      inner += "      <system-out>" + Text("not checked here: " + Join(c.notes, "; ")) +
               "</system-out>\n";
    }
    body += inner.empty() ? "/>\n" : ">\n" + inner + "    </testcase>\n";
  }

  // errors="0": a case that could not run is FAILED or SKIPPED, never an error.
  const std::string counts = "tests=\"" + std::to_string(n.total()) + "\" failures=\"" +
                             std::to_string(n.failed) + "\" errors=\"0\" skipped=\"" +
                             std::to_string(n.skipped) + "\" time=\"" + Seconds(n.seconds) + "\"";
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"netconform\" " + counts + ">\n";
  out += "  <testsuite name=\"" + Attr(impl) + "\" " + counts + ">\n";
  out += "    <properties>\n";
  const std::pair<const char*, std::string> props[] = {
      {"impl", impl},
      {"target", Str(run, "target")},
      {"profile", Str(run, "profile")},
      {"version", Version(run)},
      {"non_strict", std::to_string(n.non_strict)},
  };
  for (const auto& [key, value] : props) {
    out += std::string("      <property name=\"") + key + "\" value=\"" + Attr(value) + "\"/>\n";
  }
  out += "    </properties>\n" + body + "  </testsuite>\n</testsuites>\n";
  return out;
}

std::string ToTap(const json& run) {
  const json& cases = Cases(run);
  std::string out = "TAP version 13\n";
  if (cases.empty()) return out + "1..0 # SKIP no cases in this run\n";
  out += "1.." + std::to_string(cases.size()) + "\n";
  std::string about = "# netconform: " + ImplName(run);
  const std::string version = Version(run);
  const std::string profile = Str(run, "profile");
  if (!version.empty()) about += " " + version;
  if (!profile.empty()) about += ", profile " + profile;
  const std::string target = Str(run, "target");
  if (!target.empty()) about += ", target " + target;
  out += Clean(about, Lines::kJoin) + "\n";

  size_t number = 0;
  for (const json& raw : cases) {
    const CaseView c = View(raw);
    const std::string num = std::to_string(++number);
    const std::string desc = TapDescription(CaseName(c));
    const std::string reason = Clean(c.reason, Lines::kJoin);
    switch (c.verdict) {
      case V::kOk:
        out += "ok " + num + " - " + desc + "\n";
        break;
      case V::kSkipped:
        out +=
            "ok " + num + " - " + desc + " # SKIP " + (reason.empty() ? "skipped" : reason) + "\n";
        break;
      case V::kNonStrict:
        out += "not ok " + num + " - " + desc + " # TODO non-strict: " +
               (reason.empty() ? "misses " + Join(StrictRules(c), ", ") : reason) + "\n";
        break;
      case V::kFailed:
        out += "not ok " + num + " - " + desc + "\n";
        break;
    }
    if (c.verdict == V::kFailed || c.verdict == V::kNonStrict) {
      out += "  ---\n";
      out += "  message: " + Yaml(c.reason) + "\n";
      out += std::string("  severity: ") + (c.verdict == V::kFailed ? "fail" : "todo") + "\n";
      out += "  verdict: " + Yaml(VName(c.verdict)) + "\n";
      if (!c.title.empty()) out += "  title: " + Yaml(c.title) + "\n";
      YamlList(out, "rules", c.rules);
      if (c.verdict == V::kNonStrict) YamlList(out, "strict_rules", StrictRules(c));
      YamlList(out, "details", c.details);
      YamlList(out, "trace", c.trace);
      out += "  ...\n";
    }
  }
  const Counts n = CountRun(run);
  out += "# " + std::to_string(n.passed) + " passed, " + std::to_string(n.non_strict) +
         " non-strict, " + std::to_string(n.failed) + " failed, " + std::to_string(n.skipped) +
         " skipped\n";
  return out;
}

std::string ToHtml(const std::vector<json>& runs) {
  const std::vector<std::string> names = ImplNames(runs);
  const std::vector<Row> rows = Rows(runs);
  const size_t columns = runs.size() + 1;

  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>netconform conformance matrix</title>\n<style>";
  out += kCss;
  out +=
      "</style>\n<noscript><style>tr.detail[hidden] { display: table-row; }</style></noscript>\n";
  out += "</head>\n<body>\n<h1>netconform conformance matrix</h1>\n";
  out += "<p class=\"meta\">" + std::to_string(runs.size()) + " implementation" +
         (runs.size() == 1 ? "" : "s") + ", " + std::to_string(rows.size()) + " case" +
         (rows.size() == 1 ? "" : "s") +
         ", grouped by the rules of docs/SPEC.md (a case with several rules is listed under "
         "its first). Click a cell marked &#9656; for the reason, details and trace.</p>\n";
  out += "<div class=\"legend\">";
  for (V v : {V::kOk, V::kNonStrict, V::kFailed, V::kSkipped}) {
    out += std::string("<span><span class=\"sw\" style=\"background:var(--") + VClass(v) +
           ")\"></span>" + VName(v) + "</span>";
  }
  out +=
      "<span><span class=\"sw\" style=\"border-style:dashed\"></span>not run</span>"
      "<label><input type=\"checkbox\" id=\"only-bad\"> only cases not OK everywhere</label>"
      "</div>\n";

  out += "<table class=\"matrix\">\n<thead>\n<tr><th class=\"corner\">case</th>";
  for (size_t k = 0; k < runs.size(); ++k) {
    std::string sub = Version(runs[k]);
    const std::string profile = Str(runs[k], "profile");
    if (!profile.empty()) sub += (sub.empty() ? "" : " \xC2\xB7 ") + profile;
    out += "<th class=\"impl\" scope=\"col\" title=\"" + Attr(Str(runs[k], "target")) +
           "\"><div class=\"marker\"></div><div class=\"name\">" + Text(names[k]) +
           "</div><div class=\"sub\">" + (sub.empty() ? "&nbsp;" : Text(sub)) + "</div></th>";
  }
  out += "</tr>\n<tr class=\"summary\"><th>summary</th>";
  for (const json& run : runs) {
    const Counts n = CountRun(run);
    out += "<td><div class=\"bar\">";
    const std::pair<V, int> parts[] = {{V::kOk, n.passed},
                                       {V::kNonStrict, n.non_strict},
                                       {V::kFailed, n.failed},
                                       {V::kSkipped, n.skipped}};
    for (const auto& [v, count] : parts) {
      if (count > 0) {
        out += std::string("<span style=\"flex:") + std::to_string(count) + ";background:var(--" +
               VClass(v) + ")\"></span>";
      }
    }
    out += "</div>";
    const std::pair<int, const char*> lines[] = {{n.passed, "passed"},
                                                 {n.non_strict, "non-strict"},
                                                 {n.failed, "failed"},
                                                 {n.skipped, "skipped"}};
    for (const auto& [count, word] : lines) {
      out += "<span class=\"n\"><b>" + std::to_string(count) + "</b>" + word + "</span>";
    }
    char secs[48];
    std::snprintf(secs, sizeof secs, "%.2f", n.seconds);
    out += std::string("<span class=\"n\"><b></b>") + secs + " s</span></td>";
  }
  out += "</tr>\n</thead>\n<tbody>\n";

  // The rows of each first rule, found once (not a pass over every row per rule).
  std::map<std::string, std::vector<const Row*>> groups;
  for (const Row& r : rows) groups[r.c.rules.empty() ? "" : r.c.rules.front()].push_back(&r);
  size_t detail_id = 0;
  for (const std::string& rule : RuleOrder(rows)) {
    const std::vector<const Row*>& group = groups[rule];
    // The rule's header: its level and mark from this build's spec, and per
    // implementation what is not OK among its cases.
    bool all_ok = true;
    std::string cells;
    for (size_t k = 0; k < runs.size(); ++k) {
      Counts n;
      int missing = 0;
      for (const Row* r : group) {
        if (r->at[k]) {
          n.Add(r->at[k]->verdict);
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
      add(missing, "not run");
      if (what.empty()) what = "all " + std::to_string(n.passed) + " OK";
      if (n.failed > 0 || n.non_strict > 0 || n.skipped > 0 || missing > 0) all_ok = false;
      cells +=
          std::string("<td") + (n.failed > 0 ? " class=\"bad\"" : "") + ">" + Text(what) + "</td>";
    }
    std::string label = rule.empty() ? "no rule" : rule;
    const spec::Rule* known = spec::FindRule(rule);
    out += std::string("<tr class=\"rule") + (all_ok ? " allok" : "") +
           "\"><th scope=\"rowgroup\">" + Text(label);
    if (known != nullptr) {
      out += std::string("<span class=\"lvl\">") + known->level + " \xC2\xB7 " + known->mark +
             "</span>";
    }
    out += "</th>" + cells + "</tr>\n";

    for (const Row* r : group) {
      bool row_ok = true;
      std::string tds;
      std::string details;
      for (size_t k = 0; k < runs.size(); ++k) {
        if (!r->at[k]) {
          row_ok = false;
          tds += "<td class=\"v none\">&mdash;</td>";
          continue;
        }
        const CaseView& c = *r->at[k];
        if (c.verdict != V::kOk) row_ok = false;
        const bool has_more =
            !c.reason.empty() || !c.details.empty() || !c.trace.empty() || !c.notes.empty();
        tds += std::string("<td class=\"v ") + VClass(c.verdict) + "\"";
        if (!c.reason.empty()) tds += " title=\"" + Attr(c.reason) + "\"";
        if (has_more) {
          const std::string id = "d" + std::to_string(++detail_id);
          tds += " data-d=\"" + id + "\" tabindex=\"0\" role=\"button\" aria-expanded=\"false\"";
          details += "<tr class=\"detail\" id=\"" + id + "\" hidden><td colspan=\"" +
                     std::to_string(columns) + "\"><div class=\"who\">" + Text(names[k]) +
                     " \xC2\xB7 " + VName(c.verdict) + " \xC2\xB7 " + Text(c.id) + "</div>";
          if (!c.reason.empty()) details += "<div>" + Text(c.reason) + "</div>";
          if (c.verdict == V::kNonStrict) {
            details +=
                "<div class=\"label\">misses strict " + Text(Join(StrictRules(c), ", ")) + "</div>";
          }
          Pre(details, "details", c.details);
          Pre(details, "syscall trace", c.trace);
          Pre(details, "not checked here", c.notes);
          details += "</td></tr>\n";
        }
        tds += std::string(">") + VName(c.verdict) + "</td>";
      }
      out += std::string("<tr class=\"case") + (row_ok ? " allok" : "") +
             "\"><th scope=\"row\"><code>" + Text(r->c.id) + "</code>";
      if (r->c.level == "strict") out += "<span class=\"chip strict\">strict</span>";
      for (size_t i = 1; i < r->c.rules.size(); ++i) {
        out += "<span class=\"chip\">also " + Text(r->c.rules[i]) + "</span>";
      }
      if (!r->c.title.empty()) out += "<div class=\"title\">" + Text(r->c.title) + "</div>";
      out += "</th>" + tds + "</tr>\n" + details;
    }
  }
  out += "</tbody>\n</table>\n<script>";
  out += kJs;
  out += "</script>\n</body>\n</html>\n";
  return out;
}

json MergeIndex(const std::vector<json>& runs) {
  const std::vector<std::string> names = ImplNames(runs);
  json impls = json::array();
  for (size_t k = 0; k < runs.size(); ++k) {
    const Counts n = CountRun(runs[k]);
    impls.push_back({{"impl", names[k]},
                     {"target", Str(runs[k], "target")},
                     {"profile", Str(runs[k], "profile")},
                     {"version", Version(runs[k])},
                     {"summary",
                      {{"passed", n.passed},
                       {"non_strict", n.non_strict},
                       {"failed", n.failed},
                       {"skipped", n.skipped},
                       {"seconds", n.seconds}}}});
  }
  json cases = json::array();
  for (const Row& r : Rows(runs)) {
    json results = json::object();
    for (size_t k = 0; k < runs.size(); ++k) {
      if (!r.at[k]) continue;
      const CaseView& c = *r.at[k];
      json res = {{"verdict", VName(c.verdict)}};
      if (!c.reason.empty()) res["reason"] = c.reason;
      if (!c.details.empty()) res["details"] = c.details;
      if (!c.trace.empty()) res["trace"] = c.trace;
      if (!c.notes.empty()) res["notes"] = c.notes;
      if (c.has_seconds) res["seconds"] = c.seconds;
      results[names[k]] = std::move(res);
    }
    cases.push_back({{"id", r.c.id},
                     {"rules", r.c.rules},
                     {"title", r.c.title},
                     {"level", r.c.level},
                     {"results", std::move(results)}});
  }
  return {{"implementations", std::move(impls)}, {"cases", std::move(cases)}};
}

}  // namespace netutil::conform
