// A fault plan: rules that make calls of the seam fail with an errno, or
// return a chosen value, as data. The same text drives the FakeKernel, an
// InjectingSys over the real kernel, the exhaustive sweep and the LD_PRELOAD
// injector of the conformance suite, so this file knows nothing of any of them.
//
// The text format, one rule per line:
//
//   # Tornado issue 1860, and a reset connection
//   bind family=inet6 port=0 = EADDRINUSE     # the first IPv6 bind to port 0
//   accept4 #3 = ECONNABORTED                 # the third accept4
//   accept4 #5 x2 = EAGAIN                    # accept4 calls 5 and 6
//   socket family=inet6 always = EAFNOSUPPORT # a kernel without IPv6
//   getaddrinfo host=localhost = EAI_NONAME
//   getaddrinfo = EAI_SYSTEM EMFILE           # EAI_SYSTEM carries an errno
//   epoll_wait = 0                            # a value instead of a failure
//
//   rule      = call { selector } "=" outcome [ comment ]
//   call      = a name of syscall_table.h ("accept4", "bind", ...)
//   selector  = "#" N      the first call the rule applies to (default #1)
//             | "x" N      how many calls from there (default x1)
//             | "always"   every call from there on
//             | key "=" value   an argument predicate (CallTakes(call, key));
//                              several are and-ed, each key at most once
//   outcome   = ERRNO      legal for the call (LegalErrnos)
//             | EAI_CODE [ ERRNO ]   getaddrinfo only; the errno with EAI_SYSTEM only
//             | N          a value, for calls that return an int (ReturnsInt)
//   comment   = "#" then anything, at the start of a line or after a blank,
//               when "#" is not followed by a digit ("#3" is a selector)
//
// Counting: a rule counts the calls of its syscall whose arguments satisfy its
// predicates, from 1, since the rule was added; it fires on calls first ..
// first+count-1 of them. Every rule counts every call; when several would
// fire, the earliest in the plan wins.
//
// Another process at work (UNIX-017 to UNIX-020): a rule that starts with
// "after" does not fail the call; once the call it matches has returned,
// another process swaps a filesystem entry, so the next call finds it changed:
//
//   after fstatat #1 swap /tmp/d/s.sock with file     # a regular file takes the name
//   after bind swap /tmp/d with symlink:/tmp/other     # the parent becomes a symlink
//   after connect swap /tmp/d/s.sock with rename:/tmp/d/v   # v renamed over it
//
//   swap-rule = "after" call { selector } "swap" PATH "with" WHAT
//   WHAT      = "symlink:" TARGET   a symlink to TARGET
//             | "file" | "dir"      an empty regular file (0644), directory (0755)
//             | "socket"            a socket file nobody listens on
//             | "rename:" OTHER     OTHER renamed to PATH
//             | "exchange:" OTHER   OTHER and PATH exchanged (both must exist)
// What was at PATH (if anything) is first renamed to PATH + ".orig", so a
// test can check it was kept; for exchange it ends up at OTHER. A swap that
// cannot be done (a missing parent, ...) is recorded in the trace and
// otherwise ignored, as another process's failure would be.
//
// Tokens are separated by blanks (spaces or tabs); the "=" before the outcome
// stands alone, the "=" of a predicate does not. Values cannot hold blanks or
// start with "#". Errors give the line and column (both from 1) of the token
// at fault. Print() writes the canonical form, and Parse(Print(p)) == p for
// every plan Parse accepts or the builders below make.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netutil/fakes/syscall_table.h"

namespace netutil::fakes {

// Whether a rule's errno must be one LegalErrnos lists for its call.
enum class ErrnoCheck { kLegal, kAny };

struct FaultOutcome {
  enum class Kind { kErrno, kValue, kGai };
  Kind kind = Kind::kErrno;
  int code = 0;       // the errno, the value, or the EAI_* code
  int sys_errno = 0;  // kGai with EAI_SYSTEM: the errno it carries

  static FaultOutcome Errno(int err) { return {Kind::kErrno, err, 0}; }
  static FaultOutcome Value(int v) { return {Kind::kValue, v, 0}; }
  static FaultOutcome Gai(int gai_err, int sys_errno = 0) {
    return {Kind::kGai, gai_err, sys_errno};
  }

  friend bool operator==(const FaultOutcome&, const FaultOutcome&) = default;
};

// What another process does to the filesystem after a call ("after" rules).
struct FsSwap {
  enum class Kind { kSymlink, kFile, kDir, kSocket, kRename, kExchange };
  std::string path;
  Kind kind = Kind::kFile;
  std::string arg;  // the symlink's target, or the OTHER path

  friend bool operator==(const FsSwap&, const FsSwap&) = default;
};
std::string PrintSwapWhat(const FsSwap& swap);  // "symlink:/tmp/x", "file", ...

struct FaultRule {
  static constexpr long long kAlways = 0;  // `count` for "always"
  static constexpr long long kMaxIndex = 1'000'000'000;

  Call call = Call::kSocket;
  long long first = 1;                                // #N, from 1
  long long count = 1;                                // xN; kAlways = every call from `first` on
  std::vector<std::pair<ArgKey, std::string>> where;  // in the order written
  FaultOutcome outcome;
  // Set for an "after ... swap" rule: the call is not failed; the swap is
  // done after it (outcome is unused).
  std::optional<FsSwap> swap;

  // Builders for code (tests, the sweep); the parser makes the same values.
  static FaultRule Fail(Call call, int err, long long nth = 1) {
    FaultRule r;
    r.call = call;
    r.first = nth;
    r.outcome = FaultOutcome::Errno(err);
    return r;
  }
  FaultRule& Where(ArgKey key, std::string value) {
    where.emplace_back(key, std::move(value));
    return *this;
  }
  FaultRule& Times(long long n) {
    count = n;
    return *this;
  }
  FaultRule& Always() {
    count = kAlways;
    return *this;
  }
  static FaultRule SwapAfter(Call call, long long nth, FsSwap s) {
    FaultRule r;
    r.call = call;
    r.first = nth;
    r.swap = std::move(s);
    return r;
  }

  friend bool operator==(const FaultRule&, const FaultRule&) = default;
};

// Where and why a plan's text was refused.
struct PlanError {
  int line = 0;    // from 1
  int column = 0;  // from 1, in bytes
  std::string message;

  // "line 3, column 9: unknown syscall 'acept4'"
  std::string ToString() const;
};

class FaultPlan {
 public:
  FaultPlan() = default;
  explicit FaultPlan(std::vector<FaultRule> rules) : rules_(std::move(rules)) {}

  struct Parsed;
  // Reads the text format above. Never throws; every refusal is a PlanError.
  // ErrnoCheck::kAny admits any errno, as Validate does: the LD_PRELOAD
  // interposer reads back the plans netconform's catalog builds that way.
  static Parsed Parse(std::string_view text, ErrnoCheck errnos = ErrnoCheck::kLegal);

  // The canonical text: one rule a line, selectors in the order #, x/always,
  // predicates as given; defaults (#1, x1) left out. Ends with a newline
  // unless the plan is empty.
  std::string Print() const;

  // Checks a rule built in code against the same constraints as the parser
  // (legal errno, predicate keys, value formats); nullopt when it is valid.
  // ErrnoCheck::kAny admits any errno, for callers that script a failure the
  // man page does not list (netconform's catalog).
  static std::optional<std::string> Validate(const FaultRule& rule,
                                             ErrnoCheck errnos = ErrnoCheck::kLegal);

  FaultPlan& Add(FaultRule rule) {
    rules_.push_back(std::move(rule));
    return *this;
  }
  const std::vector<FaultRule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }

  friend bool operator==(const FaultPlan&, const FaultPlan&) = default;

 private:
  std::vector<FaultRule> rules_;
};

struct FaultPlan::Parsed {
  std::optional<FaultPlan> plan;
  std::optional<PlanError> error;
  bool ok() const { return plan.has_value(); }
};

// One rule in the text format, without a newline: "accept4 #3 = ECONNABORTED".
std::string PrintRule(const FaultRule& rule);
std::string PrintOutcome(const FaultOutcome& outcome);

std::ostream& operator<<(std::ostream& os, const FaultPlan& plan);
std::ostream& operator<<(std::ostream& os, const FaultRule& rule);

}  // namespace netutil::fakes
