// Text every report format can carry. XML 1.0 forbids the C0 controls but
// tab, LF and CR, and any byte sequence that is not UTF-8; HTML, TAP's YAML
// and terminals choke on the same. Reasons do hold such bytes (an abstract
// unix path starts with NUL), so they are written visibly as \u00XX, as
// docs/ADAPTER.md writes them in JSON, and broken UTF-8 becomes U+FFFD. C1
// controls (legal XML, invisible everywhere) are written \u00XX too, and the
// noncharacters U+FFFE and U+FFFF become U+FFFD.
//
// A line starting with "::" (after blanks) would be a GitHub Actions workflow
// command ("::error::", "::add-mask::", "::stop-commands::") when the report
// is printed in a CI log: its first ':' is written \u003a (\x3a in terminal
// text) in every format.
#pragma once

#include <string>
#include <string_view>

namespace netutil::conform {

// What becomes of tab, LF and CR.
enum class LineBreaks {
  kKeep,    // kept as they are (multi-line text: XML, HTML, YAML before quoting)
  kJoin,    // each becomes a space (one-line text: a TAP test line)
  kEscape,  // escaped as every other control, \xNN, so one text is one line
};

// `s` cleaned as above; with kEscape every ASCII control is written \xNN
// (\u00NN above ASCII).
std::string CleanText(std::string_view s, LineBreaks line_breaks);

// `s` safe to print on a terminal or in a CI log, as one line: every control
// character (C0 including tab, CR and LF, DEL) written \xNN, C1 controls
// \u00NN, bytes that are not UTF-8 U+FFFD, and a leading "::" (a GitHub
// Actions workflow command) written "\x3a:". The text reporter writes every
// text from a case or an adapter through it.
std::string TerminalText(std::string_view s);

}  // namespace netutil::conform
