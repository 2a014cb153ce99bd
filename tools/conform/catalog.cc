#include "catalog.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "environment.h"
#include "json_lines.h"
#include "json_match.h"
#include "runner.h"
#include "spec_rules.h"

namespace netutil::conform {
namespace {

// Adapter features a case may need (what the reference's hello lists).
constexpr const char* kKnownFeatures[] = {"fds_delta", "platform_override", "port_retries", "listener_props",
                                          "serve_hooks",       "serve_stats",  "umask"};
// What a target with an instrument gives (in-process, fake kernel, interposer).
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

// A problem with a case: what, and the JSON pointer of the part at fault.
struct Problem {
  std::string pointer;
  std::string message;
};

// "bind/port-zero" for ".../bind/port-zero.json"; empty when the origin is not
// a file of that shape (a case given as text).
std::string IdFromPath(const std::string& origin) {
  const std::filesystem::path p(origin);
  if (p.extension() != ".json" || !p.has_parent_path()) return {};
  return p.parent_path().filename().string() + "/" + p.stem().string();
}

std::optional<Problem> CheckCase(const json& j, Case* c) {
  if (!j.is_object()) return Problem{"", "a case must be a JSON object"};
  for (const auto& [key, value] : j.items()) {
    if (key != "id" && key != "rules" && key != "title" && key != "env" && key != "steps") {
      return Problem{"/" + key, "unknown key \"" + key + "\""};
    }
  }
  static const std::regex kId("[a-z0-9]+/[a-z0-9]+(-[a-z0-9]+)*");
  if (!j.contains("id") || !j["id"].is_string() ||
      !std::regex_match(j["id"].get<std::string>(), kId)) {
    return Problem{"/id", "id must look like area/kebab-slug"};
  }
  c->id = j["id"].get<std::string>();
  if (const std::string want = IdFromPath(c->origin); !want.empty() && want != c->id) {
    return Problem{"/id", "id \"" + c->id + "\" does not match the file's path (" + want + ")"};
  }
  if (!j.contains("rules") || !j["rules"].is_array() || j["rules"].empty()) {
    return Problem{"/rules", "rules must name at least one rule of docs/SPEC.md"};
  }
  c->level = "tornado";
  for (size_t k = 0; k < j["rules"].size(); ++k) {
    const json& r = j["rules"][k];
    const std::string where = "/rules/" + std::to_string(k);
    const spec::Rule* rule = r.is_string() ? spec::FindRule(r.get<std::string>()) : nullptr;
    if (rule == nullptr) return Problem{where, "rule " + r.dump() + " is not in docs/SPEC.md"};
    if (rule->withdrawn) return Problem{where, "rule " + r.dump() + " is withdrawn"};
    if (std::string_view(rule->mark) == "strict") c->level = "strict";
    c->rules.push_back(r.get<std::string>());
  }
  if (!j.contains("title") || !j["title"].is_string() || j["title"].get<std::string>().empty()) {
    return Problem{"/title", "title must be a non-empty string"};
  }
  c->title = j["title"].get<std::string>();
  c->env = j.value("env", json::object());
  std::string error;
  std::optional<Environment> env = ParseEnvironment(c->env, &error);
  if (!env) return Problem{"/env", error};
  for (const std::string& need : env->needs) {
    if (!KnownNeed(need)) return Problem{"/env/needs", "env.needs: unknown need \"" + need + "\""};
  }
  if (!j.contains("steps") || !j["steps"].is_array() || j["steps"].empty()) {
    return Problem{"/steps", "steps must be a non-empty array"};
  }
  c->steps = j["steps"];
  for (size_t i = 0; i < c->steps.size(); ++i) {
    if (auto e = CheckStep(c->steps[i])) {
      return Problem{"/steps/" + std::to_string(i), "step " + std::to_string(i + 1) + ": " + *e};
    }
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
    } catch (const json::parse_error& e) {
      // e.byte is one past the offending character, from 1.
      const auto [line, column] = LineColumn(src.text, e.byte == 0 ? 0 : e.byte - 1);
      std::string what = e.what();
      // nlohmann's message repeats the position in its own words; keep the rest.
      if (size_t at = what.find(": syntax error"); at != std::string::npos) {
        what = what.substr(at + 2);
      }
      problems->push_back(src.origin + ":" + std::to_string(line) + ":" + std::to_string(column) +
                          ": not JSON: " + what);
      continue;
    } catch (const json::exception& e) {
      problems->push_back(src.origin + ":1: not JSON: " + e.what());
      continue;
    }
    Case c;
    c.origin = src.origin;
    if (std::optional<Problem> p = CheckCase(j, &c)) {
      const int line = LineOf(ValueLines(src.text), p->pointer);
      problems->push_back(src.origin + ":" + std::to_string(line) + ": " +
                          (c.id.empty() ? "" : "[" + c.id + "] ") + p->message);
      continue;
    }
    if (!ids.insert(c.id).second) {
      problems->push_back(src.origin + ":" + std::to_string(LineOf(ValueLines(src.text), "/id")) +
                          ": duplicate id " + c.id);
      continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<CaseSource> ReadCaseDir(const std::string& dir, std::vector<std::string>* problems) {
  namespace fs = std::filesystem;
  constexpr std::uintmax_t kMaxBytes = 1 << 20;
  std::vector<CaseSource> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    problems->push_back(dir + ": not a directory of cases");
    return out;
  }
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json") files.push_back(it->path());
  }
  if (ec) problems->push_back(dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    const std::string name = f.string();
    if (!fs::is_regular_file(f, ec)) {
      problems->push_back(name + ": not a regular file");
      continue;
    }
    if (fs::file_size(f, ec) > kMaxBytes) {
      problems->push_back(name + ": over 1 MiB; a case is small");
      continue;
    }
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) {
      problems->push_back(name + ": cannot read it");
      continue;
    }
    out.push_back({name, ss.str()});
  }
  if (out.empty() && problems->empty()) problems->push_back(dir + ": no *.json case files");
  return out;
}

std::string DefaultCaseDir() {
  if (const char* env = std::getenv("NETCONFORM_CASES"); env != nullptr && *env != '\0') {
    return env;
  }
  return NETCONFORM_CASES_DIR;
}

}  // namespace netutil::conform
