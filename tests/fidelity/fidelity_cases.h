// The fidelity table: scenarios run both on the FakeKernel and on the real
// kernel (PosixSys in a fresh network namespace), whose outcomes must agree
// word for word. Bind conflicts, V6ONLY, REUSEPORT, the kernel's port choice,
// listen backlogs and unix paths: where the fake models Linux, and where a
// disagreement is a bug in the fake, to be fixed there.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "fidelity_env.h"
#include "netns_child.h"

namespace netutil::fidelity {

struct FidelityCase {
  const char* name;  // a gtest name: rule IDs first where a rule is at stake
  EnvSpec spec;
  // Runs the scenario and spells its outcome with Env's helpers (ports as
  // E1.., paths under $DIR), so the two runs compare as strings.
  std::function<std::string(Env&)> run;
};

const std::vector<FidelityCase>& FidelityTable();

}  // namespace netutil::fidelity
