// Applies a FaultPlan to a stream of calls: for each call, says whether a rule
// fires and with what outcome. Holds the per-rule counters the plan itself
// (a value) does not, so one plan can be replayed from the start any number
// of times. Knows nothing of what answers the call when no rule fires.
//
//   FaultInjector faults(plan);
//   if (auto o = faults.Decide(BindArgs(fd, addr))) { ... answer *o instead ... }
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "netutil/fakes/call_args.h"
#include "netutil/fakes/fault_plan.h"

namespace netutil::fakes {

class FaultInjector {
 public:
  FaultInjector() = default;
  explicit FaultInjector(FaultPlan plan);  // as Reset(plan)

  // Replaces the plan and restarts every count. Throws std::invalid_argument
  // for a rule FaultPlan::Validate(rule, errnos) refuses (a bug in the code
  // that built it); `errnos` also applies to the rules Add()s later.
  void Reset(FaultPlan plan, ErrnoCheck errnos = ErrnoCheck::kLegal);
  // Appends a rule (validated likewise); its count starts with the next call.
  void Add(FaultRule rule);

  // Counts the call against every rule whose call and predicates it matches,
  // then returns the outcome of the first of them whose window holds it.
  // "after" rules are counted likewise but never answer: their swaps are
  // queued for TakeSwaps().
  std::optional<FaultOutcome> Decide(const CallArgs& call);
  // The swaps due after the call Decide() last saw, in plan order; cleared.
  std::vector<FsSwap> TakeSwaps() { return std::exchange(swaps_, {}); }

  const FaultPlan& plan() const { return plan_; }
  // How many calls a rule fired on so far, by index in the plan.
  long long fired(size_t rule) const { return rule < fired_.size() ? fired_[rule] : 0; }
  long long fired_total() const;

 private:
  static bool Matches(const FaultRule& rule, const CallArgs& call);

  FaultPlan plan_;
  ErrnoCheck errnos_ = ErrnoCheck::kLegal;
  std::vector<long long> seen_;   // matching calls so far, per rule
  std::vector<long long> fired_;  // calls the rule fired on, per rule
  std::vector<FsSwap> swaps_;
};

}  // namespace netutil::fakes
