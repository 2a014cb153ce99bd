#include "verdict.h"

namespace netutil::conform {

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "OK";
    case Verdict::kNonStrict:
      return "NON-STRICT";
    case Verdict::kFailed:
      return "FAILED";
    case Verdict::kSkipped:
      return "SKIPPED";
    case Verdict::kBlind:
      return "BLIND";
    case Verdict::kNotApplicable:
      return "N/A";
  }
  return "FAILED";  // not reached: an out-of-range value never reads as a pass
}

std::optional<Verdict> ParseVerdict(std::string_view word) {
  for (Verdict v : kAllVerdicts) {
    if (word == VerdictName(v)) return v;
  }
  return std::nullopt;
}

void VerdictCounts::Count(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      ++passed;
      break;
    case Verdict::kNonStrict:
      if (how == NonStrictCounts::kAmongPassed) ++passed;
      ++non_strict;
      break;
    case Verdict::kFailed:
      ++failed;
      break;
    case Verdict::kSkipped:
      ++skipped;
      break;
    case Verdict::kBlind:
      ++blind;
      break;
    case Verdict::kNotApplicable:
      ++not_applicable;
      break;
  }
}

int VerdictCounts::total() const {
  return passed + failed + skipped + blind + not_applicable +
         (how == NonStrictCounts::kApart ? non_strict : 0);
}

}  // namespace netutil::conform
