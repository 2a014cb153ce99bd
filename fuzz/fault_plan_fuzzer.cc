// FaultPlan's text format on any bytes: parsing never crashes; a refusal names
// a line and column inside the text; whatever parses prints back to text that
// parses to the same plan, and printing is a fixed point.
#include <string>
#include <string_view>

#include "fuzzed_sys.h"
#include "netutil/fakes/fault_plan.h"

using netutil::fakes::FaultPlan;
using netutil::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  FaultPlan::Parsed parsed = FaultPlan::Parse(text);
  Check(parsed.ok() != parsed.error.has_value(), "parse gave both or neither plan and error");
  if (!parsed.ok()) {
    const auto& e = *parsed.error;
    Check(e.line >= 1 && e.column >= 1, "error position below 1:1");
    Check(!e.message.empty(), "error without a message");
    return 0;
  }
  const std::string printed = parsed.plan->Print();
  FaultPlan::Parsed again = FaultPlan::Parse(printed);
  Check(again.ok(), [&] {
    return "printed plan does not parse: " +
           (again.error ? again.error->ToString() : std::string()) + "\n" + printed;
  });
  Check(*again.plan == *parsed.plan, [&] { return "parse(print(p)) != p:\n" + printed; });
  Check(again.plan->Print() == printed, [&] { return "print is not a fixed point:\n" + printed; });
  for (const auto& rule : parsed.plan->rules()) {
    Check(!FaultPlan::Validate(rule).has_value(), "parsed rule fails validation");
  }
  return 0;
}
