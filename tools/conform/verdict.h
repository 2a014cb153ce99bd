// A case's verdict, shared by the runner (what it decides), the expectations
// file (what a run must decide) and the report formats (what a run document
// says). The words are the one name <-> text mapping, used everywhere a
// verdict is written or read.
#pragma once

#include <optional>
#include <string_view>

namespace netutil::conform {

// Verdicts follow h2spec: OK, FAILED with expected against actual, SKIPPED
// with the reason. NON-STRICT: the case checks a strict rule, the
// implementation failed it, and the run's profile is "tornado" (it claims
// Tornado's behaviour, not the strict rules); under the strict profile the
// same result is FAILED.
enum class Verdict { kOk, kNonStrict, kFailed, kSkipped };

inline constexpr Verdict kAllVerdicts[] = {Verdict::kOk, Verdict::kNonStrict, Verdict::kFailed,
                                           Verdict::kSkipped};

// "OK", "NON-STRICT", "FAILED", "SKIPPED".
const char* VerdictName(Verdict v);

// The verdict a word names (exactly as VerdictName writes it), or nullopt.
std::optional<Verdict> ParseVerdict(std::string_view word);

}  // namespace netutil::conform
