#include "report_text.h"

#include <cstdint>
#include <cstdio>
#include <optional>

namespace netutil::conform {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

void AppendEscapedControl(std::string& out, uint32_t cp, LineBreaks line_breaks) {
  char buf[8];
  if (line_breaks == LineBreaks::kEscape && cp < 0x80) {
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
  } else {
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
  }
  out += buf;
}

// The UTF-8 sequence starting at in[at] (a byte >= 0x80): its length and code
// point, or nullopt when it is not UTF-8 (a stray continuation byte, a
// truncated sequence, an overlong form, a surrogate, past U+10FFFF).
struct Decoded {
  size_t length;
  uint32_t code_point;
};
std::optional<Decoded> DecodeUtf8(std::string_view in, size_t at) {
  const auto lead = static_cast<unsigned char>(in[at]);
  size_t len = 0;
  uint32_t cp = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    len = 2;
    cp = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    len = 3;
    cp = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    len = 4;
    cp = lead & 0x07;
  }
  if (len == 0 || at + len > in.size()) return std::nullopt;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(in[at + k]);
    if ((b & 0xc0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return std::nullopt;
  }
  return Decoded{len, cp};
}

}  // namespace

std::string CleanText(std::string_view in, LineBreaks line_breaks) {
  const bool escape_breaks = line_breaks == LineBreaks::kEscape;
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  bool line_start = true;  // only blanks since the start of a line
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      const bool blank = c == ' ' || (c == '\t' && !escape_breaks);
      if (line_start && c == ':' && i + 1 < in.size() && in[i + 1] == ':') {
        AppendEscapedControl(out, c, line_breaks);  // not a workflow command
      } else if ((c == '\t' || c == '\n' || c == '\r') && !escape_breaks) {
        out += line_breaks == LineBreaks::kKeep ? static_cast<char>(c) : ' ';
      } else if (c < 0x20 || c == 0x7f) {
        AppendEscapedControl(out, c, line_breaks);
      } else {
        out += static_cast<char>(c);
      }
      if (c == '\n' || c == '\r') {
        // Kept, a new line starts; joined, it is a blank; escaped, it shows.
        line_start =
            line_breaks == LineBreaks::kKeep || (line_breaks == LineBreaks::kJoin && line_start);
      } else {
        line_start = line_start && blank;
      }
      ++i;
      continue;
    }
    line_start = false;
    const std::optional<Decoded> d = DecodeUtf8(in, i);
    if (!d) {
      out += kReplacement;
      ++i;  // resynchronise on the next byte
      continue;
    }
    if (d->code_point <= 0x9f) {
      AppendEscapedControl(out, d->code_point, line_breaks);  // a C1 control
    } else if (d->code_point == 0xfffe || d->code_point == 0xffff) {
      out += kReplacement;  // noncharacters XML 1.0 excludes
    } else {
      out.append(in.substr(i, d->length));
    }
    i += d->length;
  }
  return out;
}

std::string TerminalText(std::string_view s) { return CleanText(s, LineBreaks::kEscape); }

}  // namespace netutil::conform
