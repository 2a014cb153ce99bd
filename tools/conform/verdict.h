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
// same result is FAILED. BLIND: the case needs to see the implementation's
// syscalls (a trace, an injected fault) and the harness saw none of them, so
// it can say nothing of the implementation: never a pass, never a failure,
// counted apart (docs/CONFORMANCE.md, "Verdicts"). N/A (not applicable): the
// case needs an op or a field the implementation's hello says it does not
// offer (capabilities.h), or a value other than the one it has fixed; it
// says nothing of the implementation's conformance, and is counted apart
// from SKIPPED, which stays for what the environment cannot give.
enum class Verdict { kOk, kNonStrict, kFailed, kSkipped, kBlind, kNotApplicable };

inline constexpr Verdict kAllVerdicts[] = {Verdict::kOk,     Verdict::kNonStrict,
                                           Verdict::kFailed, Verdict::kSkipped,
                                           Verdict::kBlind,  Verdict::kNotApplicable};

// "OK", "NON-STRICT", "FAILED", "SKIPPED", "BLIND", "N/A".
const char* VerdictName(Verdict v);

// The verdict a word names (exactly as VerdictName writes it), or nullopt.
std::optional<Verdict> ParseVerdict(std::string_view word);

// Whether a count's `passed` takes in the NON-STRICT cases as well (they are
// counted in `non_strict` either way). The runner's summary does: under the
// run's profile a NON-STRICT case passed, and the closing line and the exit
// status say so. The report formats do not: each verdict is a column, a TAP
// directive or a JUnit attribute of its own.
enum class NonStrictCounts { kAmongPassed, kApart };

// The cases of each verdict: the one counter of the runner's summary and of
// the report formats' tallies, which differ only in `how`.
struct VerdictCounts {
  explicit VerdictCounts(NonStrictCounts how) : how(how) {}

  NonStrictCounts how;
  int passed = 0;      // OK, and NON-STRICT when `how` is kAmongPassed
  int non_strict = 0;  // NON-STRICT
  int failed = 0;
  int skipped = 0;
  int blind = 0;
  int not_applicable = 0;  // N/A

  void Count(Verdict v);
  // Every case counted, each once.
  int total() const;
};

}  // namespace netutil::conform
