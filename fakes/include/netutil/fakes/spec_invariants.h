// The spec's invariants that can be checked after one call on the
// FakeKernel, each violation naming its rule ("BIND-018: ..."). The oracle of
// the fault sweep and of the no-leak property: written from docs/SPEC.md, not
// from the reference, so a bug in the reference shows up as a violation.
#pragma once

#include <string>
#include <vector>

#include "netutil/fakes/scenario.h"

namespace netutil::fakes {

// How the spec says the drain loop treats an accept4() errno (ACCEPT-004,
// -005, -009, -010, -011, -014), spelled out from the spec's lists.
enum class SpecAcceptClass { kRetry, kEndBatch, kSkip, kBackoff, kFatal };
SpecAcceptClass SpecClassOf(int err);

// What the checks see.
struct Observation {
  const Scenario& scenario;
  FakeKernel& kernel;
  const Before& before;
  const Outcome& outcome;
  const std::vector<TraceEntry>& calls;    // the call's trace
  const std::vector<Listener>* listeners;  // bind ops on success, still open
  const ScenarioRun* baseline;             // the run without faults, or null
  const FaultRule* fault;                  // the single fault, or null
  const TraceEntry* faulted;               // the baseline call it aimed at, or null
};

// While the call's results are still held: their options and states.
void CheckWhileHeld(const Observation& o, std::vector<std::string>& violations);
// After the results were released: nothing left behind.
void CheckAfterRelease(const Observation& o, std::vector<std::string>& violations);

}  // namespace netutil::fakes
