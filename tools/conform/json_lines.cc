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

// Walks the text once, keeping only the pointer of the value it is in (no map
// of every value: a file of many values under long keys would need gigabytes),
// and remembers the line of the deepest value on the way to `want`.
class Walker {
 public:
  Walker(std::string_view text, std::string want) : t_(text), want_(std::move(want)) {}

  int Run() {
    SkipBlank();
    std::string pointer;
    Value(pointer);
    return line_of_want_;
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

  // Whether `pointer` is `want_` or one of its ancestors.
  bool OnTheWay(const std::string& pointer) const {
    return want_.compare(0, pointer.size(), pointer) == 0 &&
           (want_.size() == pointer.size() || want_[pointer.size()] == '/');
  }

  // `pointer` is the value's own; it is restored before returning. Recursion
  // is as deep as the document, which ParseJsonBounded has limited.
  void Value(std::string& pointer) {
    if (i_ >= t_.size()) return;
    const bool on_the_way = OnTheWay(pointer);
    if (on_the_way) line_of_want_ = line_;
    const size_t length = pointer.size();
    const char c = t_[i_];
    if (c == '{') {
      ++i_;
      SkipBlank();
      while (i_ < t_.size() && t_[i_] != '}') {
        const std::string key = String();
        SkipBlank();
        ++i_;  // ':'
        SkipBlank();
        // Off the way to `want_`, no pointer is needed: skip building it.
        if (on_the_way) pointer += "/" + PointerToken(key);
        Value(on_the_way ? pointer : off_the_way_);
        pointer.resize(length);
        SkipBlank();
        if (i_ < t_.size() && t_[i_] == ',') ++i_;
        SkipBlank();
      }
      ++i_;
    } else if (c == '[') {
      ++i_;
      SkipBlank();
      for (size_t k = 0; i_ < t_.size() && t_[i_] != ']'; ++k) {
        if (on_the_way) pointer += "/" + std::to_string(k);
        Value(on_the_way ? pointer : off_the_way_);
        pointer.resize(length);
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
  std::string want_;
  // The pointer of every value off the way: a value no prefix of `want_`
  // reaches, marked so (a JSON pointer never starts with '#').
  std::string off_the_way_ = "#";
  size_t i_ = 0;
  int line_ = 1;
  int line_of_want_ = 1;
};

}  // namespace

int LineOf(std::string_view text, const std::string& pointer) {
  return Walker(text, pointer).Run();
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
