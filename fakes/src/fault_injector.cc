#include "netutil/fakes/fault_injector.h"

#include <numeric>
#include <stdexcept>

namespace netutil::fakes {

FaultInjector::FaultInjector(FaultPlan plan) { Reset(std::move(plan)); }

namespace {

// A rule built in code that the parser would refuse is a bug in the test that
// built it; say so at once rather than inject something no kernel returns.
void CheckRule(const FaultRule& rule, ErrnoCheck errnos) {
  if (auto why = FaultPlan::Validate(rule, errnos)) {
    throw std::invalid_argument("fault rule '" + PrintRule(rule) + "': " + *why);
  }
}

}  // namespace

void FaultInjector::Reset(FaultPlan plan, ErrnoCheck errnos) {
  for (const auto& r : plan.rules()) CheckRule(r, errnos);
  plan_ = std::move(plan);
  errnos_ = errnos;
  seen_.assign(plan_.rules().size(), 0);
  fired_.assign(plan_.rules().size(), 0);
}

void FaultInjector::Add(FaultRule rule) {
  CheckRule(rule, errnos_);
  plan_.Add(std::move(rule));
  seen_.push_back(0);
  fired_.push_back(0);
}

bool FaultInjector::Matches(const FaultRule& rule, const CallArgs& call) {
  if (rule.call != call.call) return false;
  for (const auto& [key, value] : rule.where) {
    const auto& actual = call.Get(key);
    if (!actual || *actual != value) return false;
  }
  return true;
}

std::optional<FaultOutcome> FaultInjector::Decide(const CallArgs& call) {
  std::optional<FaultOutcome> out;
  const auto& rules = plan_.rules();
  for (size_t i = 0; i < rules.size(); ++i) {
    if (!Matches(rules[i], call)) continue;
    const long long n = ++seen_[i];
    const FaultRule& r = rules[i];
    const bool in_window = n >= r.first && (r.count == FaultRule::kAlways || n < r.first + r.count);
    // Every matching rule counts the call, so a rule's #N does not depend on
    // whether an earlier rule fired; only the first in the window answers.
    if (in_window && r.swap) {  // another process acts; the call itself is untouched
      swaps_.push_back(*r.swap);
      ++fired_[i];
    } else if (in_window && !out) {
      out = r.outcome;
      ++fired_[i];
    }
  }
  return out;
}

long long FaultInjector::fired_total() const {
  return std::accumulate(fired_.begin(), fired_.end(), 0LL);
}

}  // namespace netutil::fakes
