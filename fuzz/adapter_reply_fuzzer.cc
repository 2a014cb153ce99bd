// What netconform does with an adapter's reply stream, on any bytes: the
// first line is an expectation as a case would write it (a JSON pattern), the
// others are reply lines. Each reply line becomes an Exchange exactly as the
// process target makes it (target.h ReplyOrFailure: the bounds of
// bounded_json.h kReplyLimits); a reply is matched against the pattern, shown
// (Brief), and kept as a report keeps a hello (HelloForReport). Oracle: no
// crash, no hang, memory in proportion; an Exchange is a JSON object or a
// failure, never both; a refused line is quoted in part only; what the report
// keeps is within its limits.
#include <cstdint>
#include <string>
#include <string_view>

#include "bounded_json.h"
#include "fuzzed_sys.h"
#include "json_match.h"
#include "report.h"
#include "target.h"

using netutil::fuzz::Check;
namespace conform = netutil::conform;
using json = nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t first_nl = text.find('\n');
  conform::JsonProblem problem;
  const std::optional<json> pattern =
      conform::ParseJsonBounded(text.substr(0, first_nl), conform::kCaseFileLimits, &problem);
  const bool usable_pattern = pattern && !conform::CheckPattern(*pattern);
  if (first_nl == std::string_view::npos) return 0;

  size_t start = first_nl + 1;
  int request = 0;
  while (start <= text.size()) {
    const size_t nl = text.find('\n', start);
    const std::string line(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
    ++request;
    const conform::Exchange ex = conform::ReplyOrFailure(line);
    Check(ex.reply.has_value() != !ex.failure.empty(), "reply and failure both or neither");
    if (!ex.reply) {
      Check(ex.failure.size() < 1200, "a refused reply is quoted whole");
    } else {
      Check(ex.reply->is_object(), "a reply that is not an object");
      Check(conform::JsonDepth(*ex.reply) <= conform::kMaxJsonDepth, "reply nested too deep");
      Check(conform::Brief(*ex.reply, 300).size() <= 303, "Brief over its limit");
      if (usable_pattern) {
        if (std::optional<conform::Mismatch> m = conform::Match(*pattern, *ex.reply)) {
          Check(!m->where.empty(), "a mismatch without a place");
        }
      }
      if (request == 1) {  // the hello, as every report keeps it
        const json kept = conform::HelloForReport(*ex.reply);
        Check(conform::JsonDepth(kept) <= 8, "report's hello too deep");
        Check(kept.dump(-1, ' ', false, json::error_handler_t::replace).size() < 2u << 20,
              "report's hello too big");
      }
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return 0;
}
