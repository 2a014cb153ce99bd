#include "fault_reach.h"

#include <algorithm>

#include "json_match.h"
#include "netutil/fakes/syscall_table.h"

namespace netutil::conform {

using nlohmann::json;

void FaultReach::Arm(const fakes::FaultPlan& plan) {
  for (Armed& a : rules_) a.active = false;
  for (const fakes::FaultRule& rule : plan.rules()) {
    const std::string text = fakes::PrintRule(rule);
    bool known = false;
    for (Armed& a : rules_) {
      if (a.text == text) {
        a.active = true;
        a.seen = 0;  // armed again: the instrument counts from 1 again
        known = true;
      }
    }
    if (!known) rules_.push_back({rule, text, true, false, 0});
  }
}

bool FaultReach::Matches(const fakes::FaultRule& rule, const json& entry) {
  if (!entry.is_object() || entry.value("call", json()) != fakes::CallName(rule.call)) return false;
  for (const auto& [key, want] : rule.where) {
    auto it = entry.find(fakes::ArgKeyName(key));
    if (it == entry.end()) return false;
    std::string got;
    if (it->is_string()) {
      got = it->get<std::string>();
    } else if (it->is_null()) {
      got = "(null)";  // getaddrinfo's NULL node, as a rule spells it
    } else if (it->is_number_integer()) {
      got = std::to_string(it->get<long long>());
    } else {
      return false;
    }
    if (got != want) return false;
  }
  return true;
}

void FaultReach::See(const json& trace) {
  if (!trace.is_object()) return;
  const json calls = trace.value("calls", json::object());
  const json entries = trace.value("entries", json::array());
  const long long total = trace.value("total", 0LL);
  const bool cut =
      static_cast<long long>(entries.size()) < total || trace.value("dropped", 0LL) > 0;
  if (situation_ && !situation_met_) {
    const json call = situation_->value("call", json());
    long long injected = 0;
    for (const json& e : entries) {
      // Only the situation's call: a resolver override is traced as
      // injected too, and is no fault.
      if (!e.is_object() || e.value("injected", false) != true || e.value("call", json()) != call) {
        continue;
      }
      ++injected;
      if (!Match(*situation_, e)) {
        situation_met_ = true;
        break;
      }
      if (first_missed_.empty()) first_missed_ = Brief(e, 200);
    }
    injected_seen_ += injected;
    // The entries left out may hold an injected call that matched.
    if (cut) situation_unknown_ = true;
  }
  for (Armed& a : rules_) {
    if (!a.active || a.met) continue;
    const std::string name = fakes::CallName(a.rule.call);
    const long long made = calls.is_object() ? calls.value(name, 0LL) : 0;
    long long matching = made;  // exact even when the log was cut
    if (!a.rule.where.empty() && !cut) {
      matching = 0;
      for (const json& e : entries) {
        if (Matches(a.rule, e)) ++matching;
      }
    }
    // Bounded: a trace's count is at most the instrument's, far below this.
    a.seen = std::min(a.seen + std::max(matching, 0LL), fakes::FaultRule::kMaxIndex);
    if (a.seen >= a.rule.first) a.met = true;  // the Nth matching call was made
  }
}

std::optional<std::string> FaultReach::SituationMissed() const {
  if (!situation_ || situation_met_ || situation_unknown_ || injected_seen_ == 0) {
    return std::nullopt;
  }
  const std::string call = situation_->value("call", std::string());
  return "the fault never met the case's situation " + Brief(*situation_, 200) + ": it met " +
         (injected_seen_ > 1
              ? std::to_string(injected_seen_) + " other " + call + " calls, the first "
              : "another " + call + " call, ") +
         first_missed_ + "; the situation the case is about never arose";
}

std::vector<std::string> FaultReach::Unmet() const {
  std::vector<std::string> out;
  for (const Armed& a : rules_) {
    if (!a.met) out.push_back(a.text);
  }
  return out;
}

}  // namespace netutil::conform
