#include "catalog.h"

#include <regex>
#include <set>

#include "environment.h"
#include "json_match.h"
#include "runner.h"
#include "spec_rules.h"

namespace netutil::conform {
namespace {

// Adapter features a case may need (what the reference's hello lists).
constexpr const char* kKnownFeatures[] = {"platform_override", "port_retries", "listener_props",
                                          "serve_hooks",       "serve_stats",  "umask"};
// What only the in-process mode gives.
constexpr const char* kRunnerNeeds[] = {"injection", "trace"};

bool KnownNeed(const std::string& need) {
  for (const char* n : kHostNeeds) {
    if (need == n) return true;
  }
  for (const char* n : kKnownFeatures) {
    if (need == n) return true;
  }
  for (const char* n : kRunnerNeeds) {
    if (need == n) return true;
  }
  return false;
}

std::optional<std::string> CheckCase(const json& j, Case* c) {
  if (!j.is_object()) return "a case must be a JSON object";
  for (const auto& [key, value] : j.items()) {
    if (key != "id" && key != "rules" && key != "title" && key != "env" && key != "steps") {
      return "unknown key \"" + key + "\"";
    }
  }
  static const std::regex kId("[a-z0-9]+/[a-z0-9]+(-[a-z0-9]+)*");
  if (!j.contains("id") || !j["id"].is_string() ||
      !std::regex_match(j["id"].get<std::string>(), kId)) {
    return "id must look like area/kebab-slug";
  }
  c->id = j["id"].get<std::string>();
  if (!j.contains("rules") || !j["rules"].is_array() || j["rules"].empty()) {
    return "rules must name at least one rule of docs/SPEC.md";
  }
  for (const json& r : j["rules"]) {
    const spec::Rule* rule = r.is_string() ? spec::FindRule(r.get<std::string>()) : nullptr;
    if (rule == nullptr) return "rule " + r.dump() + " is not in docs/SPEC.md";
    if (rule->withdrawn) return "rule " + r.dump() + " is withdrawn";
    c->rules.push_back(r.get<std::string>());
  }
  if (!j.contains("title") || !j["title"].is_string() || j["title"].get<std::string>().empty()) {
    return "title must be a non-empty string";
  }
  c->title = j["title"].get<std::string>();
  c->env = j.value("env", json::object());
  std::string error;
  std::optional<Environment> env = ParseEnvironment(c->env, &error);
  if (!env) return error;
  for (const std::string& need : env->needs) {
    if (!KnownNeed(need)) return "env.needs: unknown need \"" + need + "\"";
  }
  if (!j.contains("steps") || !j["steps"].is_array() || j["steps"].empty()) {
    return "steps must be a non-empty array";
  }
  c->steps = j["steps"];
  for (size_t i = 0; i < c->steps.size(); ++i) {
    if (auto e = CheckStep(c->steps[i])) return "step " + std::to_string(i + 1) + ": " + *e;
  }
  return std::nullopt;
}

}  // namespace

std::vector<Case> LoadCatalog(const std::vector<CaseSource>& sources,
                              std::vector<std::string>* problems) {
  std::vector<Case> out;
  std::set<std::string> ids;
  for (const CaseSource& src : sources) {
    json j;
    try {
      j = json::parse(src.text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    } catch (const json::exception& e) {
      problems->push_back(src.origin + ": not JSON: " + e.what());
      continue;
    }
    Case c;
    c.origin = src.origin;
    if (auto e = CheckCase(j, &c)) {
      problems->push_back(src.origin + (c.id.empty() ? "" : " [" + c.id + "]") + ": " + *e);
      continue;
    }
    if (!ids.insert(c.id).second) {
      problems->push_back(src.origin + ": duplicate id " + c.id);
      continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<CaseSource> BuiltinCases() {
  std::vector<CaseSource> out;
  AddBindCases(out);
  AddUnixCases(out);
  AddAcceptCases(out);
  return out;
}

}  // namespace netutil::conform
