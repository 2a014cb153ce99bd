// The bad-input table: inputs a caller, a conformance runner or a test author
// can get wrong, across the API (ports, addresses, families, backlog, flags,
// unix paths and modes, accept options), the adapter line protocol
// (tools/adapter) and fault-plan text (fakes/fault_plan.h), each with the
// exact error it gets. bad_input_test checks every row; bad_input_table
// prints the rows with what they got, for docs/RESULTS.md.
//
// The API rows run on fakes::FakeKernel, so they are deterministic and can
// count the syscalls made before the error (an argument error makes none).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace netutil::bench {

struct BadInputOutcome {
  // API: "<kind> <step>: <message>" of the Error (or of the error callback's
  // report for accept); adapter: the reply line; fault plan: PlanError::ToString().
  // "OK ..." when the input was accepted (which a row never expects).
  std::string error;
  // API rows: syscalls the fake kernel saw before the error; -1 elsewhere.
  long syscalls = -1;
};

struct BadInput {
  std::string
      area;  // "bind_sockets", "bind_unix_socket", "add_accept_handler", "adapter", "fault plan"
  std::string input;            // what was passed, as shown in the table
  std::string rule;             // the spec rule it checks, or "" (adapter / fault plan)
  std::string expected;         // the exact error
  long expected_syscalls = -1;  // -1: not checked
  std::function<BadInputOutcome()> run;
};

const std::vector<BadInput>& BadInputTable();

}  // namespace netutil::bench
