#include "fault_reach.h"

#include <algorithm>

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

std::vector<std::string> FaultReach::Unmet() const {
  std::vector<std::string> out;
  for (const Armed& a : rules_) {
    if (!a.met) out.push_back(a.text);
  }
  return out;
}

}  // namespace netutil::conform
