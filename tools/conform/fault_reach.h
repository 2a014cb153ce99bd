// Whether a case's fault rules ever met a call of theirs: a plan none of whose
// calls (with their selectors) the implementation made while the rules were
// in force could not create the situation the case is about, so the runner
// judges such a case N/A instead of FAILED (docs/CONFORMANCE.md, "Faults
// never met"), unless the case says the call is required
// ("env": {"fault_calls": "required"}).
//
// A rule aimed at the Nth call ("bind #2", "accept4 #3 x2") is met only once
// the implementation made at least N calls that match it (its call and
// selectors) while it was in force: an implementation that makes one bind per
// call never meets "bind #2", and the fault the case puts on a second socket
// never comes. The count restarts when a step's inject arms the rule again,
// as the instruments' counts do.
//
// Judged from the request traces alone, so it is the same in every mode that
// has a trace; a rule is "never met" only when the trace proves it: a call
// with no selectors by the trace's exact per-call count, one with selectors by
// its entries; when the entries were cut, every call of the rule's syscall in
// that request counts as a match (an upper bound: not known, so no N/A).
//
// A case may also say which injected call makes its situation ("env":
// {"fault_situation": {"call": "bind", "port": {"$gt": 0}}}, a trace-entry
// pattern of json_match.h): a fault that met only calls outside it (an
// EADDRINUSE injected on a port-0 bind, where the case is about the port the
// first address got) made another situation. Judged from the entries of the
// pattern's call marked injected; a cut trace may have lost the one that matched, so it decides
// nothing, nor does a trace with no injected entry (nothing to judge by).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "netutil/fakes/fault_plan.h"

namespace netutil::conform {

class FaultReach {
 public:
  // The rules in force from now on (the case's env.faults; a step's inject
  // replaces them). Rules of an earlier plan stay on record as they were.
  void Arm(const fakes::FaultPlan& plan);
  // A request's trace, as Instrument::TakeTrace() gives it.
  void See(const nlohmann::json& trace);
  // The rules (as printed) that no traced call of theirs ever met.
  std::vector<std::string> Unmet() const;
  // Whether there were rules and none of them ever met a call: the plan
  // never touched the implementation. A plan with rules for several designs
  // (EINTR on the calls of each) is met when any of them is.
  bool NoneMet() const { return !rules_.empty() && Unmet().size() == rules_.size(); }

  // The case's situation (env.fault_situation), a pattern checked at load.
  void SetSituation(nlohmann::json pattern) { situation_ = std::move(pattern); }
  // Why the faults never made the case's situation: the traces showed
  // injected calls, all whole, and none matched it (what they met instead).
  // nullopt with no situation, no injected entry, a match, or a cut trace.
  std::optional<std::string> SituationMissed() const;

  // Whether `entry` (trace_fields.h) is a call of `rule`: its call, and each
  // selector's argument spelled as the rule spells it.
  static bool Matches(const fakes::FaultRule& rule, const nlohmann::json& entry);

 private:
  struct Armed {
    fakes::FaultRule rule;
    std::string text;
    bool active = false;
    bool met = false;
    long long seen = 0;  // matching calls since the rule was last armed (at most)
  };
  std::vector<Armed> rules_;
  std::optional<nlohmann::json> situation_;
  bool situation_met_ = false;
  bool situation_unknown_ = false;  // a trace with injected calls was cut
  long long injected_seen_ = 0;     // injected entries of its call, none matching
  std::string first_missed_;        // the first of them, as text
};

}  // namespace netutil::conform
