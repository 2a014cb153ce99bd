// Known verdicts of an implementation, so CI can run the suite against
// implementations that are not meant to pass everything (Tornado under the
// strict profile, asyncio, socket.create_server) and still notice any change:
// a case that starts failing, or one that starts passing and should leave the
// list. One case a line:
//
//   # tornado, --profile strict
//   bind/port-above-range-refused   FAILED      # BIND-019: Tornado binds port 70000 as 4464
//   accept/emfile-backoff           NON-STRICT  # ...
//
// A case not listed is expected OK. SKIPPED is never a surprise (it depends on
// the host, and the report says why), whatever the list says. N/A (the
// implementation does not offer what the case needs) is a verdict like the
// others: it depends only on the hello, so a list says which cases are N/A.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog.h"
#include "runner.h"

namespace netutil::conform {

class Expectations {
 public:
  // Why `r` is not what the list expects, or nullopt.
  std::optional<std::string> Check(const CaseResult& r) const;

  std::map<std::string, Verdict> verdicts;  // case ID -> expected
};

// The verdict `r` has under `profile`: a profile decides only whether a
// strict case that failed is FAILED (strict) or NON-STRICT (tornado)
// (runner.cc, RunIsolated), so one run is held to the lists of both
// (`--expect-as`). Every other verdict is the same under either.
CaseResult UnderProfile(const CaseResult& r, Profile profile);

// Reads the list; every case ID must be in `cases`. Errors name file and line.
std::optional<Expectations> ReadExpectations(const std::string& path,
                                             const std::vector<Case>& cases, std::string* error);

}  // namespace netutil::conform
