#include "run_document.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>

#include "spec_rules.h"

namespace netutil::conform {
namespace report {
namespace {

using json = nlohmann::json;

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// An array of strings (other elements dumped as JSON); a lone string is one line.
std::vector<std::string> TextsAt(const json& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.is_object()) return out;
  auto it = obj.find(key);
  if (it == obj.end()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const json& e : *it) out.push_back(e.is_string() ? e.get<std::string>() : Dump(e));
  }
  return out;
}

std::optional<double> NumberAt(const json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// "strict" when a rule is strict in this build's spec, "tornado" when every
// rule is known and none is strict, else "" (unknown rules: cannot tell).
std::string LevelFromSpec(const std::vector<std::string>& rules) {
  bool all_known = !rules.empty();
  for (const std::string& r : rules) {
    const spec::Rule* rule = spec::FindRule(r);
    if (rule == nullptr) all_known = false;
    if (rule != nullptr && std::string_view(rule->mark) == "strict") return "strict";
  }
  return all_known ? "tornado" : "";
}

}  // namespace

std::string TextAt(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return Dump(*it);
}

const json& CasesOf(const json& run) {
  static const json kEmpty = json::array();
  if (!run.is_object()) return kEmpty;
  auto it = run.find("cases");
  return it != run.end() && it->is_array() ? *it : kEmpty;
}

std::string VersionOf(const json& run) {
  return run.is_object() && run.contains("implementation")
             ? TextAt(run["implementation"], "version")
             : "";
}

CaseEntry ReadCase(const json& c) {
  CaseEntry e;
  e.id = TextAt(c, "id");
  e.rules = TextsAt(c, "rules");
  e.title = TextAt(c, "title");
  e.level = TextAt(c, "level");
  // Older documents carry no level: derived as netconform does.
  if (e.level.empty()) e.level = LevelFromSpec(e.rules);
  e.reason = TextAt(c, "reason");
  e.details = TextsAt(c, "details");
  e.trace = TextsAt(c, "trace");
  e.notes = TextsAt(c, "notes");
  e.injected = c.is_object() && c.value("injected", json()) == true;
  e.synthetic = TextAt(c, "synthetic");
  e.design = TextAt(c, "design");
  if (c.is_object() && c.contains("designs") && c["designs"].is_array()) {
    for (const json& d : c["designs"]) {
      if (!d.is_object() || d.value("preferred", json()) != false) continue;
      const std::vector<std::string> of = TextsAt(d, "of");
      if (!of.empty()) e.design_preferred = of.front();
      break;
    }
  }
  const std::optional<double> seconds = NumberAt(c, "seconds");
  e.has_seconds = seconds.has_value();
  e.seconds = std::max(0.0, seconds.value_or(0));
  const std::string word = TextAt(c, "verdict");
  if (const std::optional<Verdict> v = ParseVerdict(word)) {
    e.verdict = *v;
  } else {
    e.verdict = Verdict::kFailed;
    const std::string what = "unknown verdict \"" + word + "\"";
    e.reason = e.reason.empty() ? what : what + ": " + e.reason;
  }
  return e;
}

Tally CountRun(const json& run) {
  Tally n;
  double case_seconds = 0;
  for (const json& c : CasesOf(run)) {
    const CaseEntry e = ReadCase(c);
    n.Count(e.verdict);
    case_seconds += e.seconds;
  }
  const json summary = run.is_object() && run.contains("summary") ? run["summary"] : json();
  n.seconds = NumberAt(summary, "seconds").value_or(case_seconds);
  return n;
}

std::string WallTime(double seconds) {
  char buf[48];
  std::snprintf(buf, sizeof buf, seconds < 10 ? "%.2f s" : "%.1f s", seconds);
  return buf;
}

std::string AreaOf(const std::string& id) {
  const size_t slash = id.find('/');
  return slash == std::string::npos || slash == 0 ? "netconform" : id.substr(0, slash);
}

std::string Join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const std::string& s : parts) out += (out.empty() ? "" : separator) + s;
  return out;
}

std::string DesignNote(const CaseEntry& c) {
  if (c.design.empty()) return "";
  return "design: " + c.design +
         (c.design_preferred.empty() ? "" : "; strict prefers " + c.design_preferred);
}

std::string CaseName(const CaseEntry& c) {
  return c.rules.empty() ? c.id : c.id + " [" + Join(c.rules, " ") + "]";
}

std::vector<std::string> StrictRules(const CaseEntry& c) {
  std::vector<std::string> out;
  for (const std::string& r : c.rules) {
    const spec::Rule* rule = spec::FindRule(r);
    if (rule != nullptr && std::string_view(rule->mark) == "strict") out.push_back(r);
  }
  if (out.empty()) out = c.rules;
  return out;
}

}  // namespace report

using report::TextAt;

std::optional<std::string> CheckRunDocument(const nlohmann::json& run) {
  if (!run.is_object()) return std::string("not a JSON object");
  auto cases = run.find("cases");
  if (cases == run.end() || !cases->is_array())
    return std::string("no \"cases\" array: not a netconform run document");
  if (cases->size() > kMaxRunCases) {
    return std::to_string(cases->size()) + " cases, over the limit of " +
           std::to_string(kMaxRunCases);
  }
  for (size_t i = 0; i < cases->size(); ++i) {
    const nlohmann::json& c = (*cases)[i];
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string() ||
        c["id"].get<std::string>().empty()) {
      return "cases[" + std::to_string(i) + "] has no string \"id\"";
    }
  }
  return std::nullopt;
}

namespace {

// A plain name ("tornado", "go-net"), not a command line ("python3 x.py",
// "/path/adapter"): no blank, no slash.
bool PlainName(const std::string& s) {
  return !s.empty() && s.find_first_of(" \t\n/") == std::string::npos;
}

}  // namespace

std::string ImplName(const nlohmann::json& run) {
  const std::string hello_impl = run.is_object() && run.contains("implementation")
                                     ? TextAt(run["implementation"], "impl")
                                     : std::string();
  if (!hello_impl.empty()) return hello_impl;
  const std::string impl = TextAt(run, "impl");
  if (PlainName(impl)) return impl;
  // Target::Describe() of an adapter is "adapter: COMMAND": a command line.
  const std::string target = TextAt(run, "target");
  if (impl.empty() && !target.empty() && target.find("adapter") == std::string::npos) {
    return target;
  }
  return "unnamed";
}

std::vector<Column> Columns(const std::vector<nlohmann::json>& runs) {
  std::vector<Column> out;
  std::map<std::string, int> seen;  // "name version (profile)" -> columns so far
  std::set<std::string> taken;
  for (const nlohmann::json& run : runs) {
    Column c;
    c.name = ImplName(run);
    c.version = report::VersionOf(run);
    c.profile = TextAt(run, "profile");
    c.mode = TextAt(run, "mode");
    if (run.is_object() && run.contains("jobs") && run["jobs"].is_number_integer()) {
      c.jobs = static_cast<int>(std::clamp<int64_t>(run["jobs"].get<int64_t>(), 0, 1 << 20));
    }
    c.error = TextAt(run, "error");
    std::string base = c.name;
    if (!c.version.empty()) base += " " + c.version;
    if (!c.profile.empty()) base += " (" + c.profile + ")";
    c.repeat = ++seen[base];
    c.key = c.repeat == 1 ? base : base + " #" + std::to_string(c.repeat);
    // A name that already reads "x #2" could still collide: count on.
    for (int n = c.repeat + 1; !taken.insert(c.key).second; ++n) {
      c.repeat = n;
      c.key = base + " #" + std::to_string(n);
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> ImplNames(const std::vector<nlohmann::json>& runs) {
  std::vector<std::string> names;
  for (Column& c : Columns(runs)) names.push_back(std::move(c.key));
  return names;
}

std::string FileStem(const std::string& impl) {
  constexpr size_t kMaxStem = 96;  // a long adapter command must not exceed NAME_MAX
  std::string out;
  for (char ch : impl) {
    const bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (keep) {
      out += ch;
    } else if (out.empty() || out.back() != '_') {
      out += '_';
    }
    if (out.size() >= kMaxStem) break;
  }
  if (out.empty() || out == "." || out == "..") out = "_";
  return out;
}

}  // namespace netutil::conform
