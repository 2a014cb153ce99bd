// The HTML page's assets (tools/report/assets/), embedded into the binary at
// build time by cmake/EmbedAssets.cmake: no file is looked up at run time.
#pragma once

#include <string_view>

namespace netutil::conform::report::assets {

// page.html: the page around the matrix, with the placeholders {{style}},
// {{script}} and {{body}}.
extern const std::string_view kPage;
extern const std::string_view kStyle;   // report.css
extern const std::string_view kScript;  // report.js

}  // namespace netutil::conform::report::assets
