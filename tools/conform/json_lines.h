// Where each value of a JSON document starts, by JSON pointer, so a problem
// found after parsing ("step 3: unknown key") can name the line it is on.
// nlohmann::json keeps no positions, and its SAX interface reports none
// outside parse errors, so this walks the text itself: strings (with escapes),
// // and /* */ comments (the catalog allows them), objects and arrays. It runs
// after nlohmann::json has accepted the text, so it trusts the syntax.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace netutil::conform {

// JSON pointer ("" for the root, "/steps/2/send") -> line of the value's
// first character, from 1.
std::map<std::string, int> ValueLines(std::string_view text);

// The line of `pointer`, or of its nearest ancestor that has one (1 when none).
int LineOf(const std::map<std::string, int>& lines, std::string pointer);

// Line and column (both from 1) of a byte offset of `text`.
std::pair<int, int> LineColumn(std::string_view text, size_t offset);

}  // namespace netutil::conform
