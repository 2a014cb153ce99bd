#include "json_match.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <vector>

namespace netutil::conform {
namespace {

std::string Child(const std::string& where, const std::string& key) {
  std::string k;
  for (char c : key) {  // JSON pointer escaping (RFC 6901)
    if (c == '~') {
      k += "~0";
    } else if (c == '/') {
      k += "~1";
    } else {
      k += c;
    }
  }
  return where + "/" + k;
}

bool IsOperatorKey(const std::string& key) { return !key.empty() && key[0] == '$'; }

// An object pattern with only operators applies to any value; one with plain
// keys needs an object (its operators then apply to that object as a whole).
bool HasPlainKeys(const json& p) {
  for (const auto& [key, value] : p.items()) {
    if (!IsOperatorKey(key)) return true;
  }
  return false;
}

// One pattern element at p[*i] against the byte c: '?', a bracket expression
// ("[a-z]", "[!x]" or "[^x]"; a '[' with no ']' is literal), "\\x", or a
// literal byte. Advances *i past the element.
bool ElementMatches(std::string_view p, size_t* i, unsigned char c) {
  const char first = p[*i];
  if (first == '?') {
    ++*i;
    return true;
  }
  if (first == '\\' && *i + 1 < p.size()) {
    *i += 2;
    return static_cast<unsigned char>(p[*i - 1]) == c;
  }
  if (first == '[') {
    size_t j = *i + 1;
    const bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
    if (negate) ++j;
    const size_t body = j;
    // The closing ']' (one right at the start is a member).
    size_t close = j < p.size() && p[j] == ']' ? j + 1 : j;
    while (close < p.size() && p[close] != ']') ++close;
    if (close < p.size()) {
      bool in = false;
      for (size_t k = body; k < close; ++k) {
        const auto lo = static_cast<unsigned char>(p[k]);
        if (k + 2 < close && p[k + 1] == '-') {
          const auto hi = static_cast<unsigned char>(p[k + 2]);
          in = in || (c >= lo && c <= hi);
          k += 2;
        } else {
          in = in || c == lo;
        }
      }
      *i = close + 1;
      return in != negate;
    }
  }
  ++*i;
  return static_cast<unsigned char>(first) == c;
}

// Shell-style matching as fnmatch(3) with no flags ('*' also matches '/'),
// bracket expressions without [:class:] names. Not fnmatch itself: it
// backtracks on every '*' and takes time exponential in their number on
// hostile input; this keeps one backtrack point (the last '*'), which is
// exact for globs, and takes O(|pattern| x |s|) at worst.
bool Glob(std::string_view p, std::string_view s) {
  if (p.size() > kMaxGlobAtRun) return false;  // "${var}" made it long: see MatchOperator
  size_t pi = 0;
  size_t si = 0;
  size_t star = std::string_view::npos;  // the pattern just after the last '*'
  size_t star_s = 0;                     // where in s that '*' now ends
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = ++pi;
      star_s = si;
      continue;
    }
    size_t next = pi;
    if (pi < p.size() && ElementMatches(p, &next, static_cast<unsigned char>(s[si]))) {
      pi = next;
      ++si;
      continue;
    }
    if (star == std::string_view::npos) return false;
    pi = star;  // let the last '*' take one more byte
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::optional<Mismatch> MatchAt(const json& pattern, const json& actual, const std::string& where);

std::optional<Mismatch> Fail(const std::string& where, const std::string& expected,
                             const json& actual) {
  return Mismatch{where.empty() ? "/" : where, expected, Brief(actual)};
}

bool Matches(const json& pattern, const json& actual) {
  return !MatchAt(pattern, actual, "").has_value();
}

// "$absent": true fails a value that is present (only such a value gets here).
std::optional<Mismatch> MatchAbsent(const json& arg, const json& actual, const std::string& where) {
  return arg.get<bool>() ? Fail(where, "absent", actual) : std::nullopt;
}

// "$len": the length of an array, object or string matches `arg`.
std::optional<Mismatch> MatchLength(const json& arg, const json& actual, const std::string& where) {
  if (!actual.is_array() && !actual.is_object() && !actual.is_string()) {
    return Fail(where, "a value with a length " + Brief(arg), actual);
  }
  const json size =
      actual.is_string() ? actual.get_ref<const std::string&>().size() : actual.size();
  if (auto m = MatchAt(arg, size, where)) {
    return Mismatch{where.empty() ? "/" : where, "length " + m->expected,
                    "length " + Brief(size) + ": " + Brief(actual, 200)};
  }
  return std::nullopt;
}

// "$ge", "$gt", "$le", "$lt": a number compared with `arg`.
std::optional<Mismatch> MatchComparison(const std::string& op, const json& arg, const json& actual,
                                        const std::string& where) {
  if (!actual.is_number() || !arg.is_number()) {
    return Fail(where, "a number " + op.substr(1) + " " + Brief(arg), actual);
  }
  const double a = actual.get<double>();
  const double b = arg.get<double>();
  const bool ok = op == "$ge" ? a >= b : op == "$gt" ? a > b : op == "$le" ? a <= b : a < b;
  static const std::map<std::string, std::string> kText = {
      {"$ge", ">= "}, {"$gt", "> "}, {"$le", "<= "}, {"$lt", "< "}};
  return ok ? std::nullopt : Fail(where, kText.at(op) + Brief(arg), actual);
}

// "$ne" or "$not": does not match `arg`.
std::optional<Mismatch> MatchNot(const json& arg, const json& actual, const std::string& where) {
  return Matches(arg, actual) ? Fail(where, "not " + Brief(arg), actual) : std::nullopt;
}

// "$any": matches one of the patterns in `arg`.
std::optional<Mismatch> MatchAnyOf(const json& arg, const json& actual, const std::string& where) {
  for (const json& p : arg) {
    if (Matches(p, actual)) return std::nullopt;
  }
  return Fail(where, "any of " + Brief(arg), actual);
}

// "$each": an array each of whose elements matches `arg`.
std::optional<Mismatch> MatchEach(const json& arg, const json& actual, const std::string& where) {
  if (!actual.is_array())
    return Fail(where, "an array each of whose elements matches " + Brief(arg), actual);
  for (size_t i = 0; i < actual.size(); ++i) {
    if (auto m = MatchAt(arg, actual[i], Child(where, std::to_string(i)))) return m;
  }
  return std::nullopt;
}

// "$contains": a string with `arg` in it, or an array with an element matching it.
std::optional<Mismatch> MatchContains(const json& arg, const json& actual,
                                      const std::string& where) {
  if (actual.is_string() && arg.is_string()) {
    return actual.get_ref<const std::string&>().find(arg.get_ref<const std::string&>()) !=
                   std::string::npos
               ? std::nullopt
               : Fail(where, "a string containing " + Brief(arg), actual);
  }
  if (actual.is_array()) {
    for (const json& e : actual) {
      if (Matches(arg, e)) return std::nullopt;
    }
  }
  return Fail(where, "an array with an element matching " + Brief(arg), actual);
}

// "$glob": a string like the glob `arg`.
std::optional<Mismatch> MatchGlob(const json& arg, const json& actual, const std::string& where) {
  if (!arg.is_string()) return Fail(where, "a glob that is a string", arg);
  if (arg.get_ref<const std::string&>().size() > kMaxGlobAtRun) {
    return Fail(where, "a glob of at most " + std::to_string(kMaxGlobAtRun) + " bytes", arg);
  }
  return actual.is_string() &&
                 Glob(arg.get_ref<const std::string&>(), actual.get_ref<const std::string&>())
             ? std::nullopt
             : Fail(where, "a string like " + Brief(arg), actual);
}

// An element of "$subseq" or "$none": a string is a glob on a line (a
// trace's log), anything else a pattern on an element (a trace's entries).
bool ItemMatches(const json& p, const json& element) {
  if (!p.is_string()) return Matches(p, element);
  return element.is_string() &&
         Glob(p.get_ref<const std::string&>(), element.get_ref<const std::string&>());
}

// "$subseq": elements of which some match the items of `arg`, in order.
std::optional<Mismatch> MatchSubsequence(const json& arg, const json& actual,
                                         const std::string& where) {
  if (!actual.is_array()) return Fail(where, "an array", actual);
  size_t next = 0;
  for (const json& e : actual) {
    if (next < arg.size() && ItemMatches(arg[next], e)) ++next;
  }
  if (next == arg.size()) return std::nullopt;
  return Fail(where,
              "elements matching, in order, " + Brief(arg) + " (none after " +
                  (next == 0 ? std::string("the start") : Brief(arg[next - 1])) + ")",
              actual);
}

// "$none": elements none of which matches `arg` (a glob, or a pattern).
std::optional<Mismatch> MatchNoLine(const json& arg, const json& actual, const std::string& where) {
  if (!actual.is_array()) return Fail(where, "an array", actual);
  for (size_t i = 0; i < actual.size(); ++i) {
    if (ItemMatches(arg, actual[i])) {
      return Fail(Child(where, std::to_string(i)), "no element like " + Brief(arg), actual[i]);
    }
  }
  return std::nullopt;
}

// "$unordered": an array matching the patterns of `arg`, one each, in any order.
std::optional<Mismatch> MatchUnordered(const json& arg, const json& actual,
                                       const std::string& where) {
  if (!actual.is_array() || actual.size() != arg.size()) {
    return Fail(where, "in any order " + Brief(arg), actual);
  }
  std::vector<bool> used(actual.size(), false);
  for (const json& p : arg) {
    bool found = false;
    for (size_t i = 0; i < actual.size() && !found; ++i) {
      if (!used[i] && Matches(p, actual[i])) found = used[i] = true;
    }
    if (!found) return Fail(where, "in any order " + Brief(arg), actual);
  }
  return std::nullopt;
}

// "$type": a value of the JSON type `arg` ("integer" and "number" too).
std::optional<Mismatch> MatchType(const json& arg, const json& actual, const std::string& where) {
  const std::string t = arg.get<std::string>();
  const bool ok = t == "integer"  ? actual.is_number_integer()
                  : t == "number" ? actual.is_number()
                                  : t == actual.type_name();
  return ok ? std::nullopt : Fail(where, "a value of type " + t, actual);
}

// "$in_turn" (ACCEPT-002's purpose, whatever the batch design): a serve reply
// whose listeners, each flooded with `queued` connections, were served in
// turn. `arg` is {"listeners": [id...], "queued": N or [N...], "turns": k}.
// Before each event, a listener is flooded while it has accepted fewer than
// its queued; while one is flooded, no other listener may have more than `k`
// (default 1) events since its own last one (or the serve's start).
std::optional<std::string> CheckInTurn(const json& arg);

std::optional<Mismatch> MatchInTurn(const json& arg, const json& actual, const std::string& where) {
  if (std::optional<std::string> bad = CheckInTurn(arg)) return Fail(where, *bad, arg);
  const json& queued = arg["queued"];
  for (const json& q : queued.is_array() ? queued : json::array({queued})) {
    if (!q.is_number_integer()) return Fail(where, "$in_turn queued counts that are numbers", arg);
  }
  if (!actual.is_object() || !actual.contains("event_listeners") || !actual.contains("batches")) {
    return Fail(where, "a serve reply with \"event_listeners\" and \"batches\"", actual);
  }
  const json& owners = actual["event_listeners"];
  const json& batches = actual["batches"];
  if (!owners.is_array() || !batches.is_array() || owners.size() != batches.size()) {
    return Fail(Child(where, "event_listeners"),
                "an array as long as batches (" + Brief(batches, 80) + ")", owners);
  }
  const json& ids = arg["listeners"];
  const size_t n = ids.size();
  std::vector<long long> left(n);  // connections still queued, as far as the reply tells
  for (size_t k = 0; k < n; ++k) {
    left[k] = (queued.is_array() ? queued[k] : queued).get<long long>();
  }
  const long long turns = arg.contains("turns") && arg["turns"].is_number()
                              ? std::max<long long>(1, arg["turns"].get<long long>())
                              : 1;
  // waited[m][l]: events of l since m was last served.
  std::vector<std::vector<long long>> waited(n, std::vector<long long>(n, 0));
  for (size_t i = 0; i < owners.size(); ++i) {
    const std::string at = Child(Child(where, "event_listeners"), std::to_string(i));
    size_t l = 0;
    while (l < n && !(ids[l] == owners[i])) ++l;
    if (l == n) return Fail(at, "one of the listeners " + Brief(ids, 80), owners[i]);
    if (!batches[i].is_number_integer() || batches[i].get<long long>() < 0) {
      return Fail(Child(Child(where, "batches"), std::to_string(i)), "a count >= 0", batches[i]);
    }
    for (size_t m = 0; m < n; ++m) {
      if (m == l || left[m] <= 0) continue;
      if (++waited[m][l] > turns) {
        return Mismatch{at,
                        "listener " + Brief(ids[m]) + " (" + std::to_string(left[m]) +
                            " still queued) served within " + std::to_string(turns) +
                            " event(s) of listener " + Brief(ids[l]),
                        "listener " + Brief(ids[l]) + " had " + std::to_string(waited[m][l]) +
                            " events (the last: event " + std::to_string(i) + ") since listener " +
                            Brief(ids[m]) + " was last served; event_listeners " +
                            Brief(owners, 200)};
      }
    }
    std::fill(waited[l].begin(), waited[l].end(), 0);
    left[l] -= batches[i].get<long long>();
    if (left[l] < 0) {
      return Fail(Child(Child(where, "batches"), std::to_string(i)),
                  "at most the connections queued on listener " + Brief(ids[l]), batches[i]);
    }
  }
  return std::nullopt;
}

// The choices of the Match() call running on this thread, when it was given
// some (null otherwise: "$designs" then takes the first design that
// matches). A thread-local rather than a parameter of every matcher: only
// "$designs" reads it, and CheckPattern keeps "$designs" out of operators
// that try a pattern and drop it, so every "$designs" met is final.
thread_local DesignChoices* t_choices = nullptr;

std::vector<std::string> DesignNames(const json& arg) {
  std::vector<std::string> names;
  for (const json& d : arg) names.push_back(d.at("design").get<std::string>());
  return names;
}

// "$designs": the first design whose pattern matches; or the one an earlier
// "$designs" with the same names chose (DesignChoices).
std::optional<Mismatch> MatchDesigns(const json& arg, const json& actual,
                                     const std::string& where) {
  const std::vector<std::string> names = DesignNames(arg);
  if (t_choices != nullptr) {
    for (const DesignChoice& c : *t_choices) {
      if (c.designs != names) continue;
      for (const json& d : arg) {
        if (d.at("design") != c.chosen) continue;
        std::optional<Mismatch> m = MatchAt(d.at("expect"), actual, where);
        if (m)
          m->expected = "design " + c.chosen + " (matched earlier in the case): " + m->expected;
        return m;
      }
    }
  }
  std::string each;
  for (const json& d : arg) {
    const std::string& name = d.at("design").get_ref<const std::string&>();
    std::optional<Mismatch> m = MatchAt(d.at("expect"), actual, where);
    if (!m) {
      if (t_choices != nullptr) t_choices->push_back({names, name});
      return std::nullopt;
    }
    each += (each.empty() ? "" : "; ") + name + ": " + m->where + " expected " + m->expected +
            ", got " + m->actual;
  }
  return Fail(where, "one of the designs (" + each + ")", actual);
}

std::optional<Mismatch> MatchOperator(const std::string& op, const json& arg, const json& actual,
                                      const std::string& where) {
  if (op == "$designs") return MatchDesigns(arg, actual, where);
  if (op == "$absent") return MatchAbsent(arg, actual, where);
  if (op == "$len") return MatchLength(arg, actual, where);
  if (op == "$ge" || op == "$gt" || op == "$le" || op == "$lt") {
    return MatchComparison(op, arg, actual, where);
  }
  if (op == "$ne" || op == "$not") return MatchNot(arg, actual, where);
  if (op == "$any") return MatchAnyOf(arg, actual, where);
  if (op == "$each") return MatchEach(arg, actual, where);
  if (op == "$contains") return MatchContains(arg, actual, where);
  if (op == "$glob") return MatchGlob(arg, actual, where);
  if (op == "$subseq") return MatchSubsequence(arg, actual, where);
  if (op == "$none") return MatchNoLine(arg, actual, where);
  if (op == "$unordered") return MatchUnordered(arg, actual, where);
  if (op == "$type") return MatchType(arg, actual, where);
  if (op == "$in_turn") return MatchInTurn(arg, actual, where);
  return Fail(where, "a known operator, not " + op, actual);
}

std::optional<Mismatch> MatchAt(const json& pattern, const json& actual, const std::string& where) {
  if (pattern.is_object()) {
    if (HasPlainKeys(pattern) && !actual.is_object()) {
      return Fail(where, "an object like " + Brief(pattern), actual);
    }
    for (const auto& [key, sub] : pattern.items()) {
      if (IsOperatorKey(key)) {
        if (auto m = MatchOperator(key, sub, actual, where)) return m;
        continue;
      }
      const std::string at = Child(where, key);
      auto it = actual.find(key);
      const bool want_absent = sub.is_object() && sub.contains("$absent") &&
                               sub["$absent"].is_boolean() && sub["$absent"].get<bool>();
      if (it == actual.end()) {
        if (want_absent) continue;
        return Mismatch{at, Brief(sub), "absent"};
      }
      if (auto m = MatchAt(sub, *it, at)) return m;
    }
    return std::nullopt;
  }
  if (pattern.is_array()) {
    if (!actual.is_array() || actual.size() != pattern.size())
      return Fail(where, Brief(pattern), actual);
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (auto m = MatchAt(pattern[i], actual[i], Child(where, std::to_string(i)))) return m;
    }
    return std::nullopt;
  }
  if (pattern.is_number() && actual.is_number()) {
    // 1 == 1u == 1.0, whatever the parser chose.
    if (pattern.is_number_float() || actual.is_number_float()) {
      return pattern.get<double>() == actual.get<double>() ? std::nullopt
                                                           : Fail(where, Brief(pattern), actual);
    }
    return pattern == actual ? std::nullopt : Fail(where, Brief(pattern), actual);
  }
  return pattern == actual ? std::nullopt : Fail(where, Brief(pattern), actual);
}

// "$in_turn" takes {"listeners": [id...], "queued": N | [N...], "turns": k}:
// 1 to 16 listeners, a count (or "${var}") each or one for all, k >= 1.
std::optional<std::string> CheckInTurn(const json& arg) {
  auto count_like = [](const json& v) {
    return (v.is_number_integer() && v.get<long long>() >= 0) || v.is_string();
  };
  const std::string form = "$in_turn takes {\"listeners\": [id, ...], \"queued\": N or [N, ...]}";
  if (!arg.is_object() || !arg.contains("listeners") || !arg.contains("queued")) return form;
  for (const auto& [key, value] : arg.items()) {
    if (key != "listeners" && key != "queued" && key != "turns") {
      return "$in_turn: unknown key \"" + key + "\" (listeners, queued, turns)";
    }
  }
  const json& ids = arg["listeners"];
  if (!ids.is_array() || ids.empty() || ids.size() > kMaxInTurnListeners) {
    return "$in_turn: listeners must be 1 to " + std::to_string(kMaxInTurnListeners) + " ids";
  }
  const json& q = arg["queued"];
  if (q.is_array()) {
    if (q.size() != ids.size()) return "$in_turn: queued must have one count per listener";
    for (const json& v : q) {
      if (!count_like(v)) return "$in_turn: queued counts must be integers >= 0";
    }
  } else if (!count_like(q)) {
    return form;
  }
  if (arg.contains("turns") &&
      !(arg["turns"].is_number_integer() && arg["turns"].get<long long>() >= 1)) {
    return "$in_turn: turns must be an integer >= 1";
  }
  return std::nullopt;
}

// Whether `pattern` holds a "$designs" anywhere.
bool HasDesigns(const json& pattern) {
  if (!pattern.is_object() && !pattern.is_array()) return false;
  for (const auto& [key, sub] : pattern.items()) {
    if ((pattern.is_object() && key == "$designs") || HasDesigns(sub)) return true;
  }
  return false;
}

bool IsDesignName(const json& name) {
  if (!name.is_string()) return false;
  const std::string& s = name.get_ref<const std::string&>();
  if (s.empty() || s.size() > 40 || s.front() == '-') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// The operand of "$designs": 2..kMaxDesigns objects {"design": name,
// "expect": pattern}, names unique, no "$designs" inside.
std::optional<std::string> CheckDesigns(const json& arg) {
  if (!arg.is_array() || arg.size() < 2 || arg.size() > kMaxDesigns) {
    return "$designs takes an array of 2 to " + std::to_string(kMaxDesigns) + " designs, not " +
           Brief(arg);
  }
  std::set<std::string> seen;
  for (const json& d : arg) {
    if (!d.is_object() || d.size() != 2 || !d.contains("design") || !d.contains("expect")) {
      return "$designs: a design is {\"design\": name, \"expect\": pattern}, not " + Brief(d);
    }
    if (!IsDesignName(d["design"])) {
      return "$designs: a design's name is 1 to 40 bytes of [a-z0-9-] (not starting with '-'), "
             "not " +
             Brief(d["design"]);
    }
    if (!seen.insert(d["design"].get<std::string>()).second) {
      return "$designs: design " + d["design"].get<std::string>() + " named twice";
    }
    if (HasDesigns(d["expect"])) return "$designs: a design's pattern cannot hold $designs";
    if (auto e = CheckPattern(d["expect"]))
      return "$designs: design " + Brief(d["design"]) + ": " + *e;
  }
  return std::nullopt;
}

// Where "$designs" may be: where its outcome is final (json_match.h).
std::optional<std::string> CheckDesignsPlacement(const json& pattern, bool allowed) {
  if (!pattern.is_object() && !pattern.is_array()) return std::nullopt;
  for (const auto& [key, sub] : pattern.items()) {
    const bool op = pattern.is_object() && IsOperatorKey(key);
    if (op && key == "$designs") {
      if (!allowed) {
        return std::string(
            "$designs inside another operator: it may stand only at the top, under plain keys, "
            "array elements and $each");
      }
      continue;  // its own patterns hold none (CheckDesigns)
    }
    if (auto e = CheckDesignsPlacement(sub, allowed && (!op || key == "$each"))) return e;
  }
  return std::nullopt;
}

std::optional<std::string> CheckOperator(const std::string& op, const json& arg) {
  if (op == "$designs") return CheckDesigns(arg);
  auto need = [&](bool ok, const char* what) -> std::optional<std::string> {
    if (ok) return std::nullopt;
    return op + " takes " + what + ", not " + Brief(arg);
  };
  if (op == "$absent") return need(arg.is_boolean(), "a boolean");
  if (op == "$ge" || op == "$gt" || op == "$le" || op == "$lt") {
    return need(arg.is_number() || arg.is_string(), "a number");  // strings: "${var}"
  }
  if (op == "$glob" || op == "$type") return need(arg.is_string(), "a string");
  if (op == "$none") return arg.is_string() ? std::nullopt : CheckPattern(arg);
  if (op == "$any" || op == "$unordered" || op == "$subseq") {
    if (!arg.is_array()) return need(false, "an array");
    for (const json& p : arg) {
      if (auto e = CheckPattern(p)) return e;
    }
    return std::nullopt;
  }
  if (op == "$len" || op == "$ne" || op == "$not" || op == "$each" || op == "$contains") {
    return CheckPattern(arg);
  }
  if (op == "$in_turn") return CheckInTurn(arg);
  return "unknown operator " + op;
}

}  // namespace

std::optional<Mismatch> Match(const json& pattern, const json& actual) {
  return MatchAt(pattern, actual, "");
}

std::optional<Mismatch> Match(const json& pattern, const json& actual, DesignChoices* choices) {
  // Into a copy, kept only when the whole pattern matched: a design matched
  // by a part of a failing pattern was not shown.
  DesignChoices tried = choices != nullptr ? *choices : DesignChoices();
  DesignChoices* const outer = t_choices;
  t_choices = &tried;
  std::optional<Mismatch> m = MatchAt(pattern, actual, "");
  t_choices = outer;
  if (!m && choices != nullptr) *choices = std::move(tried);
  return m;
}

namespace {

std::optional<std::string> CheckShape(const json& pattern) {
  if (pattern.is_object() || pattern.is_array()) {
    for (const auto& [key, sub] : pattern.items()) {
      if (pattern.is_object() && IsOperatorKey(key)) {
        if (auto e = CheckOperator(key, sub)) return e;
      } else if (auto e = CheckShape(sub)) {
        return e;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> CheckPattern(const json& pattern) {
  if (auto e = CheckShape(pattern)) return e;
  return CheckDesignsPlacement(pattern, /*allowed=*/true);
}

namespace {

// `as_text`: inside the operand of "$glob", which is a string, "${name}"
// alone is the variable as text too ({"$glob": "${port}"} is "40001").
std::optional<json> SubstituteIn(const json& j, const Vars& vars, std::string* error,
                                 bool as_text) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    std::string out;
    size_t pos = 0;
    while (true) {
      const size_t open = s.find("${", pos);
      if (open == std::string::npos) break;
      const size_t close = s.find('}', open);
      if (close == std::string::npos) break;
      const std::string name = s.substr(open + 2, close - open - 2);
      auto it = vars.find(name);
      if (it == vars.end()) {
        *error = "unknown variable ${" + name + "}";
        return std::nullopt;
      }
      if (open == 0 && close == s.size() - 1 && !as_text) return it->second;  // keeps its type
      out += s.substr(pos, open - pos);
      out += it->second.is_string() ? it->second.get<std::string>() : it->second.dump();
      pos = close + 1;
    }
    if (pos == 0) return j;
    return json(out + s.substr(pos));
  }
  if (j.is_object()) {
    json out = json::object();
    for (const auto& [key, value] : j.items()) {
      auto v = SubstituteIn(value, vars, error, as_text || key == "$glob");
      if (!v) return std::nullopt;
      out[key] = std::move(*v);
    }
    return out;
  }
  if (j.is_array()) {
    json out = json::array();
    for (const json& value : j) {
      auto v = SubstituteIn(value, vars, error, as_text);
      if (!v) return std::nullopt;
      out.push_back(std::move(*v));
    }
    return out;
  }
  return j;
}

}  // namespace

std::optional<json> Substitute(const json& j, const Vars& vars, std::string* error) {
  return SubstituteIn(j, vars, error, /*as_text=*/false);
}

namespace {

// Compact JSON text of `j` into `out`, stopping once `out` is past `max`: a
// 16 MiB reply is not dumped whole to show its first 300 characters. Recursion
// follows the value's depth, which bounded_json.h limits.
void BriefInto(const json& j, size_t max, std::string& out) {
  if (out.size() > max) return;
  if (j.is_string()) {
    // Only the part that can show; a cut UTF-8 sequence becomes U+FFFD.
    const std::string& s = j.get_ref<const std::string&>();
    out += json(s.substr(0, max - out.size() + 1))
               .dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  if (j.is_object()) {
    out += '{';
    bool first = true;
    for (auto it = j.begin(); it != j.end() && out.size() <= max; ++it) {
      if (!first) out += ',';
      first = false;
      BriefInto(json(it.key()), max, out);
      out += ':';
      BriefInto(it.value(), max, out);
    }
    out += '}';
    return;
  }
  if (j.is_array()) {
    out += '[';
    bool first = true;
    for (auto it = j.begin(); it != j.end() && out.size() <= max; ++it) {
      if (!first) out += ',';
      first = false;
      BriefInto(*it, max, out);
    }
    out += ']';
    return;
  }
  out += j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string Brief(const json& j, size_t max) {
  std::string s;
  BriefInto(j, max, s);
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

}  // namespace netutil::conform
