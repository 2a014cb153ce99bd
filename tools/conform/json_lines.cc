#include "json_lines.h"

#include <vector>

namespace netutil::conform {
namespace {

// Escapes a key as a JSON pointer token (RFC 6901: "~" -> "~0", "/" -> "~1").
std::string PointerToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

class Walker {
 public:
  explicit Walker(std::string_view text) : t_(text) {}

  std::map<std::string, int> Run() {
    SkipBlank();
    Value("");
    return std::move(lines_);
  }

 private:
  void SkipBlank() {
    while (i_ < t_.size()) {
      const char c = t_[i_];
      if (c == '\n') {
        ++line_;
        ++i_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++i_;
      } else if (c == '/' && i_ + 1 < t_.size() && t_[i_ + 1] == '/') {
        while (i_ < t_.size() && t_[i_] != '\n') ++i_;
      } else if (c == '/' && i_ + 1 < t_.size() && t_[i_ + 1] == '*') {
        i_ += 2;
        while (i_ + 1 < t_.size() && !(t_[i_] == '*' && t_[i_ + 1] == '/')) {
          if (t_[i_] == '\n') ++line_;
          ++i_;
        }
        i_ += 2;
      } else {
        return;
      }
    }
  }

  // A string starting at t_[i_] == '"'; returns its raw text (escapes kept,
  // except the two that matter to keys: \" and \\).
  std::string String() {
    std::string out;
    ++i_;
    while (i_ < t_.size() && t_[i_] != '"') {
      if (t_[i_] == '\\' && i_ + 1 < t_.size()) {
        out += t_[i_ + 1];
        i_ += 2;
        continue;
      }
      out += t_[i_++];
    }
    ++i_;  // the closing quote
    return out;
  }

  void Value(const std::string& pointer) {
    if (i_ >= t_.size()) return;
    lines_.emplace(pointer, line_);
    const char c = t_[i_];
    if (c == '{') {
      ++i_;
      SkipBlank();
      while (i_ < t_.size() && t_[i_] != '}') {
        const std::string key = String();
        SkipBlank();
        ++i_;  // ':'
        SkipBlank();
        Value(pointer + "/" + PointerToken(key));
        SkipBlank();
        if (i_ < t_.size() && t_[i_] == ',') ++i_;
        SkipBlank();
      }
      ++i_;
    } else if (c == '[') {
      ++i_;
      SkipBlank();
      for (size_t k = 0; i_ < t_.size() && t_[i_] != ']'; ++k) {
        Value(pointer + "/" + std::to_string(k));
        SkipBlank();
        if (i_ < t_.size() && t_[i_] == ',') ++i_;
        SkipBlank();
      }
      ++i_;
    } else if (c == '"') {
      String();
    } else {
      // A number, true, false or null: up to the next delimiter.
      while (i_ < t_.size() && t_[i_] != ',' && t_[i_] != '}' && t_[i_] != ']' && t_[i_] != ' ' &&
             t_[i_] != '\n' && t_[i_] != '\t' && t_[i_] != '\r' && t_[i_] != '/') {
        ++i_;
      }
    }
  }

  std::string_view t_;
  size_t i_ = 0;
  int line_ = 1;
  std::map<std::string, int> lines_;
};

}  // namespace

std::map<std::string, int> ValueLines(std::string_view text) { return Walker(text).Run(); }

int LineOf(const std::map<std::string, int>& lines, std::string pointer) {
  while (true) {
    if (auto it = lines.find(pointer); it != lines.end()) return it->second;
    if (pointer.empty()) return 1;
    pointer.erase(pointer.rfind('/'));
  }
}

std::pair<int, int> LineColumn(std::string_view text, size_t offset) {
  int line = 1;
  int column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace netutil::conform
