// Where each value of a JSON document starts, by JSON pointer, so a problem
// found after parsing ("step 3: unknown key") can name the line it is on.
// nlohmann::json keeps no positions, and its SAX interface reports none
// outside parse errors, so this walks the text itself: strings (with escapes),
// // and /* */ comments (the catalog allows them), objects and arrays. It runs
// after nlohmann::json has accepted the text (within the limits of
// bounded_json.h, so its recursion is as deep as those allow), so it trusts
// the syntax.
#pragma once

#include <string>
#include <string_view>

namespace netutil::conform {

// The line (from 1) of the first character of the value at `pointer` ("" for
// the root, "/steps/2/send"), or of its nearest ancestor present in `text`.
// One pass; memory is the depth of the document times its longest key.
int LineOf(std::string_view text, const std::string& pointer);

// Line and column (both from 1) of a byte offset of `text`.
std::pair<int, int> LineColumn(std::string_view text, size_t offset);

}  // namespace netutil::conform
