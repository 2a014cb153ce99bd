// JUnit XML of one run, for CI (GitLab, Jenkins, GitHub test reporters).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace netutil::conform {

// One <testsuites> holding one <testsuite> named after the implementation;
// a <testcase> per case (classname: the area before the ID's '/', name:
// "ID [RULE ...]"). FAILED -> <failure message=reason> with the details and
// trace as text; SKIPPED -> <skipped message=reason/>; NON-STRICT passes (CI
// must not go red on a Tornado-level pass) with a <system-out> naming the
// strict rule(s) it misses. Written with pugixml, which escapes the markup;
// text is first made what XML 1.0 allows (report_text.h: controls as \u00XX,
// invalid UTF-8 as U+FFFD), and a CR in element text is written \u000d, since
// a reader would take a raw one for LF (in attributes it is kept, as &#13;).
std::string ToJunit(const nlohmann::json& run);

}  // namespace netutil::conform
