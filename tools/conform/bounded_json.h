// Parsing JSON that comes from outside (case files, an adapter's replies and
// hello, run documents given to netreport) within stated bounds, before any
// nlohmann::json tree exists. nlohmann's parser is iterative, but much of what
// is done with a parsed value is recursive (dump, copy, comparison, pattern
// matching, substitution): a document nested 100000 deep would overflow the
// stack later. So the text is first checked by a SAX pass that builds nothing
// (size, nesting depth, string length), and only then parsed into a tree.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace netutil::conform {

struct JsonLimits {
  size_t max_bytes = 1 << 20;   // the whole text
  size_t max_depth = 64;        // objects and arrays: the root one is level 1
  size_t max_string = 1 << 16;  // bytes of one string or key (decoded)
  bool comments = false;        // allow // and /* */ (case files)
};

// The limits of docs/CONFORMANCE.md "Limits".
inline constexpr size_t kMaxJsonDepth = 64;
// A case file: 1 MiB, strings of 64 KiB at most, comments allowed.
inline constexpr JsonLimits kCaseFileLimits{1 << 20, kMaxJsonDepth, 1 << 16, true};
// One reply line of an adapter (hello included): 16 MiB, strings of 1 MiB.
inline constexpr JsonLimits kReplyLimits{16 << 20, kMaxJsonDepth, 1 << 20, false};
// A run document read by netreport: 256 MiB, strings of 4 MiB.
inline constexpr JsonLimits kRunDocumentLimits{256u << 20, kMaxJsonDepth, 4 << 20, false};

struct JsonProblem {
  size_t offset = 0;    // byte of `text` where it was found
  std::string message;  // "nested deeper than 64 levels", "not JSON: ..."
};

// The value, or nullopt with `problem` filled. Never throws; memory is
// bounded by a small multiple of `limits.max_bytes`, and nothing recursive runs
// before the depth is known to be within `limits.max_depth`.
std::optional<nlohmann::json> ParseJsonBounded(std::string_view text, const JsonLimits& limits,
                                               JsonProblem* problem);

// An adapter's reply line (docs/ADAPTER.md) as a JSON object, or why it is
// none: not JSON, not an object, or over kReplyLimits. The line is quoted in
// `failure` only in part.
std::optional<nlohmann::json> ParseReplyLine(std::string_view line, std::string* failure);

// The nesting depth of `j` (a scalar is 0, [] and {} are 1), computed without
// recursion, so it can be asked of any value.
size_t JsonDepth(const nlohmann::json& j);

}  // namespace netutil::conform

namespace netutil::conform {

// How much of an untrusted value a report keeps (BoundedCopy).
struct CopyLimits {
  size_t max_depth = 8;      // deeper values become a note string
  size_t max_string = 1024;  // bytes of a string or key kept
  size_t max_items = 64;     // members of one object or array kept
  size_t max_total = 65536;  // bytes of strings and keys kept in all
};

// A copy of `j` within `limits`, for a report (an adapter's hello reply goes
// into every report). What is cut is marked where it was: a long string ends
// in "... [N bytes cut]", a long array gets a last element "... [N more
// cut]", an object a key "..." saying how many keys were cut, a value too
// deep or past the total budget becomes "[cut: ...]". Iterative: any depth.
nlohmann::json BoundedCopy(const nlohmann::json& j, const CopyLimits& limits);

// `s` cut to `max` bytes (on a UTF-8 boundary), marked "... [N bytes cut]".
std::string BoundedString(const std::string& s, size_t max);

}  // namespace netutil::conform
