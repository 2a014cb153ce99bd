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
  }
  return "FAILED";  // not reached: an out-of-range value never reads as a pass
}

std::optional<Verdict> ParseVerdict(std::string_view word) {
  for (Verdict v : kAllVerdicts) {
    if (word == VerdictName(v)) return v;
  }
  return std::nullopt;
}

}  // namespace netutil::conform
