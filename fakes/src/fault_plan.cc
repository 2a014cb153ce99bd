#include "netutil/fakes/fault_plan.h"

#include <netdb.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <set>

#include "netutil/errno_name.h"
#include "netutil/fakes/call_args.h"
#include "netutil/sock_addr.h"

namespace netutil::fakes {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A decimal integer in canonical spelling: no sign (unless `negative_ok` and
// "-"), no leading zero except "0" itself, at most `max`. The canonical form
// matters: Print writes numbers back with std::to_string, and Parse(Print(p))
// must give p.
std::optional<long long> ParseNumber(std::string_view s, long long min, long long max) {
  bool negative = false;
  if (!s.empty() && s[0] == '-' && min < 0) {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 12) return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), IsDigit)) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  long long v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  if (negative) {
    if (v == 0) return std::nullopt;  // "-0" is not canonical
    v = -v;
  }
  if (v < min || v > max) return std::nullopt;
  return v;
}

std::string Join(std::span<const int> errnos) {
  std::string out;
  for (int e : errnos) out += (out.empty() ? "" : " ") + std::string(ErrnoName(e));
  return out;
}

std::string JoinGai() {
  std::string out;
  for (int e : LegalGaiErrors()) out += (out.empty() ? "" : " ") + std::string(GaiErrorName(e));
  return out;
}

bool IsKnownOptName(std::string_view v) {
  static const char* const kNames[] = {
      "SO_REUSEADDR", "SO_REUSEPORT", "SO_TYPE",      "SO_ERROR",    "SO_ACCEPTCONN", "SO_DOMAIN",
      "SO_RCVBUF",    "SO_SNDBUF",    "SO_KEEPALIVE", "IPV6_V6ONLY", "TCP_NODELAY",
  };
  for (const char* n : kNames) {
    if (v == n) return true;
  }
  // "level:optname" for the others, as SockOptName prints them.
  auto colon = v.find(':');
  if (colon == std::string_view::npos) return false;
  return ParseNumber(v.substr(0, colon), 0, INT_MAX) &&
         ParseNumber(v.substr(colon + 1), 0, INT_MAX);
}

// Why `value` cannot be the value of `key`; nullopt when it can.
std::optional<std::string> CheckValue(ArgKey key, const std::string& value) {
  if (value.empty()) return std::string("empty value for ") + ArgKeyName(key);
  if (value[0] == '#') return std::string("a value cannot start with '#'");
  for (unsigned char c : value) {
    if (c <= 0x20 || c == 0x7f) {
      return std::string("a value cannot hold blanks or control characters");
    }
  }
  switch (key) {
    case ArgKey::kFamily:
      if (!FamilyFromShortName(value)) {
        return "family '" + value + "' is not one of inet, inet6, unix, unspec";
      }
      return std::nullopt;
    case ArgKey::kPort:
      if (!ParseNumber(value, 0, 65535)) return "port '" + value + "' is not a number 0..65535";
      return std::nullopt;
    case ArgKey::kFd:
      if (!ParseNumber(value, 0, INT_MAX)) return "fd '" + value + "' is not a number >= 0";
      return std::nullopt;
    case ArgKey::kBacklog:
      if (!ParseNumber(value, INT_MIN, INT_MAX)) return "backlog '" + value + "' is not an integer";
      return std::nullopt;
    case ArgKey::kOpt:
      if (!IsKnownOptName(value)) {
        return "option '" + value +
               "' is not SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY, ... or level:optname";
      }
      return std::nullopt;
    case ArgKey::kOp:
      if (value != "ADD" && value != "MOD" && value != "DEL") {
        return "op '" + value + "' is not ADD, MOD or DEL";
      }
      return std::nullopt;
    case ArgKey::kCmd:
      // fcntl's commands and ioctl's one request (CallTakes keeps each to its call).
      if (value != "F_GETFL" && value != "F_SETFL" && value != "F_GETFD" && value != "F_SETFD" &&
          value != "FIONBIO") {
        return "cmd '" + value + "' is not F_GETFL, F_SETFL, F_GETFD, F_SETFD or FIONBIO";
      }
      return std::nullopt;
    case ArgKey::kHost:
    case ArgKey::kAddr:
    case ArgKey::kPath:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> CheckCallCanFault(Call call) {
  if (call == Call::kUmask) {
    return std::string("umask cannot fail and its value cannot be chosen; no rule applies to it");
  }
  return std::nullopt;
}

std::optional<std::string> CheckOutcome(Call call, const FaultOutcome& o,
                                        ErrnoCheck errnos = ErrnoCheck::kLegal) {
  switch (o.kind) {
    case FaultOutcome::Kind::kErrno:
      if (call == Call::kGetaddrinfo) {
        return std::string("getaddrinfo fails with EAI_* codes, not errno values");
      }
      if (errnos == ErrnoCheck::kAny && o.code > 0) return std::nullopt;
      if (!IsLegalErrno(call, o.code)) {
        return std::string(ErrnoName(o.code)) + " is not an errno " + CallName(call) +
               " can return; legal: " + Join(LegalErrnos(call));
      }
      return std::nullopt;
    case FaultOutcome::Kind::kGai:
      if (call != Call::kGetaddrinfo) {
        return std::string(GaiErrorName(o.code)) + " is a getaddrinfo code; " + CallName(call) +
               " fails with an errno";
      }
      if (!IsLegalGaiError(o.code)) {
        return std::string(GaiErrorName(o.code)) +
               " is not a code getaddrinfo returns; legal: " + JoinGai();
      }
      if (o.code == EAI_SYSTEM && o.sys_errno == 0) {
        return std::string("EAI_SYSTEM needs the errno it carries: EAI_SYSTEM EMFILE");
      }
      if (o.code != EAI_SYSTEM && o.sys_errno != 0) {
        return std::string("only EAI_SYSTEM carries an errno");
      }
      return std::nullopt;
    case FaultOutcome::Kind::kValue:
      if (!ReturnsInt(call)) {
        return std::string(CallName(call)) + " does not return an int; give an errno";
      }
      if (o.code < 0) return std::string("a chosen value is >= 0; a failure is an errno");
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<FsSwap> ParseSwapWhat(const std::string& path, std::string_view what) {
  FsSwap s;
  s.path = path;
  auto with_arg = [&](std::string_view prefix, FsSwap::Kind kind) {
    if (!what.starts_with(prefix) || what.size() == prefix.size()) return false;
    s.kind = kind;
    s.arg = std::string(what.substr(prefix.size()));
    return true;
  };
  if (what == "file") {
    s.kind = FsSwap::Kind::kFile;
  } else if (what == "dir") {
    s.kind = FsSwap::Kind::kDir;
  } else if (what == "socket") {
    s.kind = FsSwap::Kind::kSocket;
  } else if (!with_arg("symlink:", FsSwap::Kind::kSymlink) &&
             !with_arg("rename:", FsSwap::Kind::kRename) &&
             !with_arg("exchange:", FsSwap::Kind::kExchange)) {
    return std::nullopt;
  }
  if ((s.kind == FsSwap::Kind::kRename || s.kind == FsSwap::Kind::kExchange) && s.arg[0] != '/') {
    return std::nullopt;
  }
  return s;
}

struct Token {
  std::string_view text;
  int column;  // from 1
};

class Parser {
 public:
  Parser(std::string_view text, ErrnoCheck errnos) : text_(text), errnos_(errnos) {}

  FaultPlan::Parsed Run() {
    FaultPlan plan;
    int line_no = 0;
    size_t pos = 0;
    while (pos <= text_.size()) {
      size_t nl = text_.find('\n', pos);
      std::string_view line =
          text_.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      std::optional<FaultRule> rule;
      if (auto err = ParseLine(line, line_no, rule)) return {std::nullopt, err};
      if (rule) plan.Add(std::move(*rule));
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
    }
    return {std::move(plan), std::nullopt};
  }

 private:
  static PlanError Err(int line, int column, std::string message) {
    return PlanError{line, column, std::move(message)};
  }

  // Splits a line into blank-separated tokens, stopping at a comment. A
  // control character other than tab is refused where it stands: it would be
  // invisible in an error message and in a printed plan.
  static std::optional<PlanError> Tokenize(std::string_view line, int line_no,
                                           std::vector<Token>& out) {
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && IsBlank(line[i])) ++i;
      if (i >= line.size()) break;
      const size_t start = i;
      while (i < line.size() && !IsBlank(line[i])) {
        const unsigned char c = static_cast<unsigned char>(line[i]);
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "0x%02x", c);
          return Err(line_no, static_cast<int>(i) + 1,
                     std::string("control character ") + buf + " in a rule");
        }
        ++i;
      }
      std::string_view tok = line.substr(start, i - start);
      // A comment: '#' opening a token and not followed by a digit ("#3" is
      // a selector), or any '#' token opening the line.
      if (tok[0] == '#' && (out.empty() || tok.size() == 1 || !IsDigit(tok[1]))) break;
      out.push_back(Token{tok, static_cast<int>(start) + 1});
    }
    return std::nullopt;
  }

  // "swap PATH with WHAT" after an "after" rule's selectors.
  static std::optional<PlanError> ParseSwap(const std::vector<Token>& toks, size_t i, int n,
                                            FaultRule& rule) {
    const Token& kw = toks[i];
    if (i + 4 != toks.size()) {
      return Err(n, kw.column, "expected 'swap PATH with WHAT' after the selectors");
    }
    const Token& path = toks[i + 1];
    if (path.text.empty() || path.text[0] != '/') {
      return Err(n, path.column, "the swapped path must be absolute");
    }
    if (toks[i + 2].text != "with") return Err(n, toks[i + 2].column, "expected 'with'");
    const Token& what = toks[i + 3];
    auto swap = ParseSwapWhat(std::string(path.text), what.text);
    if (!swap) {
      return Err(n, what.column,
                 "unknown swap '" + std::string(what.text) +
                     "'; expected symlink:TARGET, file, dir, socket, rename:PATH or exchange:PATH");
    }
    rule.swap = std::move(*swap);
    return std::nullopt;
  }

  // "[after] CALL SELECTORS... = OUTCOME" or "after CALL SELECTORS... swap
  // PATH with WHAT"; `out` stays empty for a blank or comment line.
  std::optional<PlanError> ParseLine(std::string_view line, int n, std::optional<FaultRule>& out) {
    std::vector<Token> toks;
    if (auto e = Tokenize(line, n, toks)) return e;
    if (toks.empty()) return std::nullopt;

    FaultRule rule;
    const bool after = toks[0].text == "after";
    if (after) {
      toks.erase(toks.begin());
      if (toks.empty()) return Err(n, 1, "'after' needs a call");
    }
    const Token& name = toks[0];
    auto call = CallFromName(name.text);
    if (!call) {
      return Err(n, name.column, "unknown syscall '" + std::string(name.text) + "'");
    }
    rule.call = *call;
    if (auto why = CheckCallCanFault(rule.call)) return Err(n, name.column, *why);

    size_t end = 0;
    if (auto e = ParseSelectors(toks, n, after, rule, &end)) return e;
    if (after) {
      if (auto e = ParseSwap(toks, end, n, rule)) return e;
    } else {
      if (auto e = ParseOutcome(toks, end, n, rule)) return e;
    }
    out = std::move(rule);
    return std::nullopt;
  }

  // The selectors after the call (#N, xN or always, key=value), up to the
  // '=' of the outcome or, in an 'after' rule, the 'swap'; *end is its index.
  static std::optional<PlanError> ParseSelectors(const std::vector<Token>& toks, int n, bool after,
                                                 FaultRule& rule, size_t* end) {
    bool seen_first = false, seen_count = false;
    std::set<ArgKey> seen_keys;
    size_t i = 1;
    for (; i < toks.size(); ++i) {
      const Token& t = toks[i];
      const std::string s(t.text);
      if (s == "=" && !after) break;
      if (s == "swap" && after) break;
      if (s == "=" || s == "swap") {
        return Err(n, t.column,
                   after ? "an 'after' rule has 'swap', not '= outcome'"
                         : "'swap' needs a rule that starts with 'after'");
      }
      std::optional<PlanError> e;
      if (s[0] == '#') {
        if (seen_first) return Err(n, t.column, "a second call index '" + s + "'");
        seen_first = true;
        e = ParseIndex(t, n, rule);
      } else if (s == "always" || (s[0] == 'x' && s.size() > 1 && IsDigit(s[1]))) {
        if (seen_count) return Err(n, t.column, "a second repeat '" + s + "'");
        seen_count = true;
        e = ParseRepeat(t, n, rule);
      } else {
        e = ParsePredicate(t, n, rule, seen_keys);
      }
      if (e) return e;
    }
    if (i >= toks.size()) {
      const Token& last = toks.back();
      return Err(n, last.column + static_cast<int>(last.text.size()),
                 after ? "rule ends before 'swap PATH with WHAT'" : "rule ends before '= outcome'");
    }
    *end = i;
    return std::nullopt;
  }

  // "#N": the first call the rule applies to.
  static std::optional<PlanError> ParseIndex(const Token& t, int n, FaultRule& rule) {
    auto v = ParseNumber(t.text.substr(1), 1, FaultRule::kMaxIndex);
    if (!v) {
      return Err(n, t.column,
                 "call index '" + std::string(t.text) + "' is not a number 1..1000000000");
    }
    rule.first = *v;
    return std::nullopt;
  }

  // "xN" or "always": how many calls it applies to.
  static std::optional<PlanError> ParseRepeat(const Token& t, int n, FaultRule& rule) {
    if (t.text == "always") {
      rule.count = FaultRule::kAlways;
      return std::nullopt;
    }
    auto v = ParseNumber(t.text.substr(1), 1, FaultRule::kMaxIndex);
    if (!v) {
      return Err(n, t.column,
                 "repeat '" + std::string(t.text) +
                     "' is not x1..x1000000000 (use 'always' for every call)");
    }
    rule.count = *v;
    return std::nullopt;
  }

  // "key=value": a predicate on one of the call's arguments, one per key.
  static std::optional<PlanError> ParsePredicate(const Token& t, int n, FaultRule& rule,
                                                 std::set<ArgKey>& seen_keys) {
    const std::string s(t.text);
    const size_t eq = s.find('=');
    if (eq == 0) return Err(n, t.column, "'" + s + "': put blanks around the '=' of the outcome");
    if (eq == std::string::npos) {
      return Err(n, t.column, "unexpected '" + s + "': expected #N, xN, always, key=value or '='");
    }
    const std::string key_text = s.substr(0, eq);
    const std::string value = s.substr(eq + 1);
    auto key = ArgKeyFromName(key_text);
    if (!key) {
      return Err(n, t.column,
                 "unknown argument '" + key_text +
                     "'; keys: family port fd host addr path opt backlog op cmd");
    }
    if (!CallTakes(rule.call, *key)) {
      return Err(n, t.column,
                 std::string(CallName(rule.call)) + " has no argument '" + key_text + "'");
    }
    if (!seen_keys.insert(*key).second) {
      return Err(n, t.column, "a second predicate on '" + key_text + "'");
    }
    if (auto why = CheckValue(*key, value)) {
      return Err(n, t.column + static_cast<int>(eq) + 1, *why);
    }
    rule.where.emplace_back(*key, value);
    return std::nullopt;
  }

  // "= OUTCOME" at toks[i]: an errno, "EAI_x [ERRNO]" or a value, and nothing after.
  std::optional<PlanError> ParseOutcome(const std::vector<Token>& toks, size_t i, int n,
                                        FaultRule& rule) const {
    const Token& eq_tok = toks[i];
    if (i + 1 >= toks.size()) return Err(n, eq_tok.column, "no outcome after '='");
    const Token& o = toks[i + 1];
    FaultOutcome outcome;
    size_t next = i + 2;
    const std::string ot(o.text);
    if (ot.rfind("EAI_", 0) == 0) {
      auto gai = GaiErrorFromName(ot);
      if (!gai) return Err(n, o.column, "unknown getaddrinfo code '" + ot + "'");
      outcome = FaultOutcome::Gai(*gai);
      if (*gai == EAI_SYSTEM && next < toks.size()) {
        const std::string et(toks[next].text);
        auto e = ErrnoFromName(et);
        if (!e) return Err(n, toks[next].column, "unknown errno '" + et + "'");
        outcome.sys_errno = *e;
        ++next;
      }
    } else if (ot[0] == 'E') {
      auto e = ErrnoFromName(ot);
      if (!e) return Err(n, o.column, "unknown errno '" + ot + "'");
      outcome = FaultOutcome::Errno(*e);
    } else {
      auto v = ParseNumber(o.text, 0, INT_MAX);
      if (!v) {
        return Err(n, o.column, "outcome '" + ot + "' is not an errno, an EAI_ code or a number");
      }
      outcome = FaultOutcome::Value(static_cast<int>(*v));
    }
    if (auto why = CheckOutcome(rule.call, outcome, errnos_)) return Err(n, o.column, *why);
    if (next < toks.size()) {
      return Err(n, toks[next].column,
                 "unexpected '" + std::string(toks[next].text) + "' after the outcome");
    }
    rule.outcome = outcome;
    return std::nullopt;
  }

  std::string_view text_;
  ErrnoCheck errnos_;
};

}  // namespace

std::string PlanError::ToString() const {
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message;
}

FaultPlan::Parsed FaultPlan::Parse(std::string_view text, ErrnoCheck errnos) {
  return Parser(text, errnos).Run();
}

std::string PrintSwapWhat(const FsSwap& s) {
  switch (s.kind) {
    case FsSwap::Kind::kSymlink:
      return "symlink:" + s.arg;
    case FsSwap::Kind::kFile:
      return "file";
    case FsSwap::Kind::kDir:
      return "dir";
    case FsSwap::Kind::kSocket:
      return "socket";
    case FsSwap::Kind::kRename:
      return "rename:" + s.arg;
    case FsSwap::Kind::kExchange:
      return "exchange:" + s.arg;
  }
  return "?";
}

std::optional<std::string> FaultPlan::Validate(const FaultRule& rule, ErrnoCheck errnos) {
  if (auto why = CheckCallCanFault(rule.call)) return why;
  if (rule.first < 1 || rule.first > FaultRule::kMaxIndex) {
    return "call index " + std::to_string(rule.first) + " is outside 1..1000000000";
  }
  if (rule.count != FaultRule::kAlways && (rule.count < 1 || rule.count > FaultRule::kMaxIndex)) {
    return "repeat " + std::to_string(rule.count) + " is outside 1..1000000000";
  }
  std::set<ArgKey> keys;
  for (const auto& [key, value] : rule.where) {
    if (!CallTakes(rule.call, key)) {
      return std::string(CallName(rule.call)) + " has no argument '" + ArgKeyName(key) + "'";
    }
    if (!keys.insert(key).second) return std::string("a second predicate on ") + ArgKeyName(key);
    if (auto why = CheckValue(key, value)) return why;
  }
  if (rule.swap) {
    const FsSwap& s = *rule.swap;
    if (s.path.empty() || s.path[0] != '/') return std::string("the swapped path must be absolute");
    for (const std::string* v : {&s.path, &s.arg}) {
      for (char c : *v) {
        if (c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x20) {
          return std::string("a swap path holds no blank or control character");
        }
      }
    }
    if (!ParseSwapWhat(s.path, PrintSwapWhat(s)))
      return "swap '" + PrintSwapWhat(s) + "' is malformed";
    return std::nullopt;
  }
  return CheckOutcome(rule.call, rule.outcome, errnos);
}

std::string PrintOutcome(const FaultOutcome& o) {
  switch (o.kind) {
    case FaultOutcome::Kind::kErrno:
      return ErrnoName(o.code);
    case FaultOutcome::Kind::kValue:
      return std::to_string(o.code);
    case FaultOutcome::Kind::kGai: {
      std::string s = GaiErrorName(o.code);
      if (o.sys_errno != 0) s += std::string(" ") + ErrnoName(o.sys_errno);
      return s;
    }
  }
  return "?";
}

std::string PrintRule(const FaultRule& r) {
  std::string s = std::string(r.swap ? "after " : "") + CallName(r.call);
  if (r.first != 1) s += " #" + std::to_string(r.first);
  if (r.count == FaultRule::kAlways) {
    s += " always";
  } else if (r.count != 1) {
    s += " x" + std::to_string(r.count);
  }
  for (const auto& [key, value] : r.where) s += std::string(" ") + ArgKeyName(key) + "=" + value;
  if (r.swap) return s + " swap " + r.swap->path + " with " + PrintSwapWhat(*r.swap);
  return s + " = " + PrintOutcome(r.outcome);
}

std::string FaultPlan::Print() const {
  std::string s;
  for (const auto& r : rules_) s += PrintRule(r) + "\n";
  return s;
}

std::ostream& operator<<(std::ostream& os, const FaultPlan& plan) { return os << plan.Print(); }
std::ostream& operator<<(std::ostream& os, const FaultRule& rule) { return os << PrintRule(rule); }

}  // namespace netutil::fakes
