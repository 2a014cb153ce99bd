// TAP of one run, for `prove` and TAP-reading CI.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace netutil::conform {

// TAP version 13 (a TAP 14 consumer reads it too): the plan "1..N" first, then
// "ok N - ID [RULES]" or "not ok N - ID [RULES]". SKIPPED: "ok N - ID # SKIP
// reason". NON-STRICT: "not ok N - ID # TODO non-strict: reason": TAP's TODO
// is a failure the harness expects and does not count, which is what a missed
// strict rule is under the Tornado profile ("ok ... # TODO" would be read as a
// TODO that unexpectedly passed). FAILED and NON-STRICT carry a YAML block
// (message, rules, title, details, trace) after their line.
std::string ToTap(const nlohmann::json& run);

}  // namespace netutil::conform
