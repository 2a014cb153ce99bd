// Expectations on adapter replies, written as JSON patterns, so a case is data
// (the scenario files of tests/conformance/cases).
//
// A pattern matches a value when:
//   - object:  every key of the pattern is in the value and matches (extra keys
//              are allowed); {"key": {"$absent": true}} requires the key absent.
//   - array:   same length, element by element.
//   - scalar:  equal (numbers by value: 1 == 1.0).
//   - operators: keys starting with '$', on the value itself (an object may
//     mix them with plain keys: {"errno": "ELOOP", "$any": [...]}); all must hold:
//       {"$len": P}        size of an array, object or string matches P
//       {"$ge": n} {"$gt": n} {"$le": n} {"$lt": n}   numeric comparison
//       {"$ne": P}         does not match P          {"$not": P} likewise
//       {"$any": [P...]}   matches at least one P
//       {"$each": P}       every element of an array matches P
//       {"$contains": P}   a string holding P as a substring, or an array
//                          with an element matching P
//       {"$glob": "g"}     a string matching the shell pattern g (as fnmatch
//                          with no flags: * ? [...] \, no [:class:] names;
//                          at most kMaxGlobAtRun bytes once substituted)
//       {"$subseq": ["g"...]}  an array of strings with elements matching the
//                          globs in this order (others may come between)
//       {"$none": "g"}     an array of strings none of which matches g
//       {"$unordered": [P...]}  an array of the same length, each element
//                          matched by a different P
//       {"$type": "t"}     null|boolean|number|integer|string|array|object
//       {"$absent": true}  (inside an object) the key is missing
//       {"$in_turn": {"listeners": [id...], "queued": N | [N...], "turns": k}}
//                          a serve reply (its "event_listeners" and "batches",
//                          same length) in which listeners flooded with N
//                          queued connections each were served in turn
//                          (ACCEPT-002's purpose, whatever the batch): a
//                          listener is flooded before an event while it has
//                          accepted fewer than its N; while one is, no other
//                          has more than k (default 1) events since its last
//                          event (or the start). Every event must be of a
//                          listed listener; none may accept more than its N.
//       {"$designs": [{"design": "two-sockets", "expect": P},
//                     {"design": "dual-stack", "expect": P2}, ...]}
//                          the value meets a rule's purpose by one of several
//                          designs (docs/SPEC.md, "*Designs:*"); the first
//                          listed is the one the strict profile prefers. It
//                          matches when one design's pattern matches, and the
//                          first that does is the design matched (reports show
//                          it: "OK (design: dual-stack)"). When none does, the
//                          mismatch gives each design's own. Checked at load:
//                          2 to kMaxDesigns designs, each an object of exactly
//                          "design" (a name of [a-z0-9-], at most 40 bytes,
//                          unique) and "expect" (a pattern with no $designs);
//                          allowed only where its outcome is final: at the
//                          top, under plain keys, array elements and "$each",
//                          never inside another operator ($any, $not, $len,
//                          ...), which may try a pattern and drop it.
//
// Designs across steps: Match() with a DesignChoices remembers the design
// each set of names matched; a later "$designs" with the same names (a later
// step of the case, or its trace) is matched against that design only, so a
// case cannot pass with half of one design and half of another.
//
// Variables: "${name}" inside any string is replaced by the variable's value;
// a string that is exactly "${name}" becomes the variable's JSON value (so
// "${port}" stays a number), except inside "$glob", whose operand is text
// ({"$glob": "${port}"} matches the string "40001").
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace netutil::conform {

using json = nlohmann::json;
using Vars = std::map<std::string, json>;

// A glob longer than this (after "${var}" substitution) matches nothing: the
// matcher takes O(pattern x string) time at worst, and strings come from
// replies of up to 16 MiB. Case files hold globs of up to 1024 bytes
// (catalog.h kMaxGlobBytes).
inline constexpr size_t kMaxGlobAtRun = 4096;

// "$in_turn" names at most this many listeners (a serve's limit, ADAPTER.md).
inline constexpr size_t kMaxInTurnListeners = 16;

struct Mismatch {
  std::string where;     // JSON pointer into the actual value: "/listeners/1/port"
  std::string expected;  // the pattern, as text
  std::string actual;    // the value there, as text ("absent" when missing)
};

// nullopt when `actual` matches `pattern`.
std::optional<Mismatch> Match(const json& pattern, const json& actual);

// "$designs": the most designs one operator may name.
inline constexpr size_t kMaxDesigns = 8;

// What one "$designs" matched: its designs, the strict profile's preference
// first, and the one that matched.
struct DesignChoice {
  std::vector<std::string> designs;
  std::string chosen;
  bool preferred() const { return !designs.empty() && chosen == designs.front(); }
  bool operator==(const DesignChoice&) const = default;
};
using DesignChoices = std::vector<DesignChoice>;

// As Match(), and each "$designs" met is matched against the design
// `choices` already holds for its names, if any; the designs newly matched
// are added to `choices`, only when the whole pattern matches.
std::optional<Mismatch> Match(const json& pattern, const json& actual, DesignChoices* choices);

// Whether `pattern` is well formed (known operators, right operand types);
// an error message otherwise. For the catalog's load-time check.
std::optional<std::string> CheckPattern(const json& pattern);

// `j` with every "${name}" replaced. An unknown variable is an error: the
// message names it, and the result is nullopt.
std::optional<json> Substitute(const json& j, const Vars& vars, std::string* error);

// Compact JSON text for messages, cut after `max` characters; takes time in
// proportion to `max`, not to the size of `j`.
std::string Brief(const json& j, size_t max = 300);

}  // namespace netutil::conform
