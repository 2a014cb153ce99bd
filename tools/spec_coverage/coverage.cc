#include "coverage.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

namespace netutil::spec_coverage {
namespace fs = std::filesystem;

namespace {

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLetter(char c) { return IsUpper(c) || (c >= 'a' && c <= 'z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return IsLetter(c) || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The spelling of a rule's definition line: "**" AREA "-" NNN "**".
std::optional<std::string> DefinedId(std::string_view line) {
  if (line.substr(0, 2) != "**") return std::nullopt;
  size_t i = 2;
  while (i < line.size() && IsUpper(line[i])) ++i;
  if (i == 2 || i + 6 > line.size() || line[i] != '-') return std::nullopt;
  for (size_t d = 1; d <= 3; ++d) {
    if (!IsDigit(line[i + d])) return std::nullopt;
  }
  if (line.substr(i + 4, 2) != "**") return std::nullopt;
  return std::string(line.substr(2, i + 2));
}

// --- C++ tokens ----------------------------------------------------------------

// Views into the scanned source, so a token costs no allocation.
struct Token {
  enum Kind { kIdent, kString, kPunct } kind;
  std::string_view text;  // identifier, string body (escapes kept), or one punctuation char
};

class CppLexer {
 public:
  explicit CppLexer(std::string_view s) : s_(s) {}

  // Calls `emit` with each token in order: nothing is kept, so memory stays
  // flat however many tokens the source has.
  template <typename Emit>
  void Run(Emit&& emit, std::vector<std::string>* comments) {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (IsSpace(c)) {
        ++i_;
      } else if (c == '/' && Peek(1) == '/') {
        const size_t end = std::min(s_.find('\n', i_), s_.size());
        comments->emplace_back(s_.substr(i_ + 2, end - i_ - 2));
        i_ = end;
      } else if (c == '/' && Peek(1) == '*') {
        size_t end = s_.find("*/", i_ + 2);
        const size_t body_end = end == std::string_view::npos ? s_.size() : end;
        comments->emplace_back(s_.substr(i_ + 2, body_end - i_ - 2));
        i_ = end == std::string_view::npos ? s_.size() : end + 2;
      } else if (c == '"') {
        emit(Token{Token::kString, QuotedBody('"')});
      } else if (c == '\'') {
        QuotedBody('\'');
      } else if (IsDigit(c)) {
        // A number with its suffix and digit separators (1'000): never a char literal.
        while (i_ < s_.size() && (IsIdentChar(s_[i_]) || s_[i_] == '\'' || s_[i_] == '.')) ++i_;
      } else if (IsIdentStart(c)) {
        const size_t start = i_;
        while (i_ < s_.size() && IsIdentChar(s_[i_])) ++i_;
        std::string_view word = s_.substr(start, i_ - start);
        if (i_ < s_.size() && s_[i_] == '"' && !word.empty() && word.back() == 'R' &&
            (word == "R" || word == "u8R" || word == "uR" || word == "UR" || word == "LR")) {
          emit(Token{Token::kString, RawBody()});
        } else {
          emit(Token{Token::kIdent, word});
        }
      } else {
        emit(Token{Token::kPunct, s_.substr(i_, 1)});
        ++i_;
      }
    }
  }

 private:
  char Peek(size_t k) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }

  // From an opening quote to its match (or the end of the line: an unterminated literal).
  std::string_view QuotedBody(char quote) {
    const size_t start = ++i_;
    while (i_ < s_.size() && s_[i_] != quote && s_[i_] != '\n') {
      i_ += (s_[i_] == '\\' && i_ + 1 < s_.size()) ? 2 : 1;
    }
    std::string_view body = s_.substr(start, std::min(i_, s_.size()) - start);
    if (i_ < s_.size() && s_[i_] == quote) ++i_;
    return body;
  }

  // At the '"' of R"delim( ... )delim". An over-long or broken delimiter ends
  // the literal at the end of the line, like an unterminated one.
  std::string_view RawBody() {
    const size_t open = i_ + 1;
    size_t paren = open;
    while (paren < s_.size() && paren - open <= 16 && s_[paren] != '(' && s_[paren] != '\n') {
      ++paren;
    }
    if (paren >= s_.size() || s_[paren] != '(') return QuotedBody('"');
    const std::string close = ")" + std::string(s_.substr(open, paren - open)) + "\"";
    const size_t end = s_.find(close, paren + 1);
    const size_t body_end = end == std::string_view::npos ? s_.size() : end;
    std::string_view body = s_.substr(paren + 1, body_end - paren - 1);
    i_ = end == std::string_view::npos ? s_.size() : end + close.size();
    return body;
  }

  std::string_view s_;
  size_t i_ = 0;
};

bool IsTestMacro(std::string_view w) {
  static const std::set<std::string_view> kMacros = {"TEST",
                                                     "TEST_F",
                                                     "TEST_P",
                                                     "TYPED_TEST",
                                                     "TYPED_TEST_P",
                                                     "RC_GTEST_PROP",
                                                     "RC_GTEST_FIXTURE_PROP"};
  return kMacros.count(w) > 0;
}

// The last few tokens, enough for the longest pattern below.
class Window {
 public:
  void Push(const Token& t) {
    last_[next_ % kSize] = t;
    ++next_;
  }
  // The k-th token back from the newest (0: the newest), if there is one.
  bool Is(size_t k, Token::Kind kind, std::string_view text = {}) const {
    if (k >= next_ || k >= kSize) return false;
    const Token& t = last_[(next_ - 1 - k) % kSize];
    return t.kind == kind && (text.empty() || t.text == text);
  }
  std::string_view Text(size_t k) const { return last_[(next_ - 1 - k) % kSize].text; }

 private:
  static constexpr size_t kSize = 8;
  Token last_[kSize] = {};
  size_t next_ = 0;
};

std::optional<std::string> ReadSmallFile(const fs::path& p, std::string* error) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec) {
    *error = p.string() + ": " + ec.message();
    return std::nullopt;
  }
  if (size > kMaxFileBytes) {
    *error = p.string() + ": " + std::to_string(size) + " bytes, more than the " +
             std::to_string(kMaxFileBytes) + " scanned";
    return std::nullopt;
  }
  std::ifstream in(p, std::ios::binary);
  std::string text(static_cast<size_t>(size), '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size))) {
    *error = p.string() + ": cannot read";
    return std::nullopt;
  }
  return text;
}

bool HasExt(const fs::path& p, std::initializer_list<const char*> exts) {
  const std::string e = p.extension().string();
  return std::any_of(exts.begin(), exts.end(), [&](const char* x) { return e == x; });
}

// Regular files under root/dir, skipping directories named "testdata" (fixtures).
std::vector<fs::path> FilesUnder(const fs::path& root, const char* dir,
                                 std::vector<std::string>* errors) {
  std::vector<fs::path> out;
  std::error_code ec;
  const fs::path base = root / dir;
  if (!fs::is_directory(base, ec)) return out;
  fs::recursive_directory_iterator it(base, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && it->path().filename() == "testdata") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) out.push_back(it->path());
  }
  if (ec) errors->push_back(base.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<Rule> ParseSpecRules(std::string_view spec) {
  std::vector<Rule> rules;
  size_t pos = 0;
  while (pos < spec.size()) {
    const size_t nl = std::min(spec.find('\n', pos), spec.size());
    const std::string_view line = spec.substr(pos, nl - pos);
    if (std::optional<std::string> id = DefinedId(line)) {
      rules.push_back({*id, line.find("withdrawn") != std::string_view::npos});
    }
    pos = nl + 1;
  }
  return rules;
}

std::vector<std::string> FindIds(std::string_view text, const std::set<std::string>& areas,
                                 bool dash_only) {
  std::vector<std::string> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsUpper(text[i]) || (i > 0 && IsLetter(text[i - 1]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && IsUpper(text[j])) ++j;
    const std::string area(text.substr(i, j - i));
    const bool sep = j < text.size() && (text[j] == '-' || (!dash_only && text[j] == '_'));
    if (sep && areas.count(area) && j + 3 < text.size() && IsDigit(text[j + 1]) &&
        IsDigit(text[j + 2]) && IsDigit(text[j + 3]) &&
        (j + 4 == text.size() || !IsDigit(text[j + 4]))) {
      ids.push_back(area + "-" + std::string(text.substr(j + 1, 3)));
    }
    i = j;  // the run of capitals is done with: each character is looked at a bounded number of
            // times
  }
  return ids;
}

CppScan ScanCpp(std::string_view source) {
  CppScan out;
  Window w;
  auto on_token = [&](const Token& t) {
    w.Push(t);
    // TEST(Suite, Name) and friends, seen at Name: the macro is 4 tokens back.
    if (w.Is(0, Token::kIdent) && w.Is(1, Token::kPunct, ",") && w.Is(2, Token::kIdent) &&
        w.Is(3, Token::kPunct, "(") && w.Is(4, Token::kIdent) && IsTestMacro(w.Text(4))) {
      out.test_names.push_back(std::string(w.Text(2)) + "." + std::string(w.Text(0)));
    }
    // rc::check("name", ...): a RapidCheck property's name.
    if (w.Is(0, Token::kString) && w.Is(1, Token::kPunct, "(") && w.Is(2, Token::kIdent, "check") &&
        w.Is(3, Token::kPunct, ":") && w.Is(4, Token::kPunct, ":") &&
        w.Is(5, Token::kIdent, "rc")) {
      out.test_names.emplace_back(w.Text(0));
    }
  };
  CppLexer(source).Run(on_token, &out.comments);
  return out;
}

std::vector<std::string> CmakeTestNames(std::string_view cmake) {
  std::vector<std::string> names;
  auto skip_space = [&](size_t i) {
    while (i < cmake.size() && IsSpace(cmake[i])) ++i;
    return i;
  };
  auto word_end = [&](size_t i) {
    while (i < cmake.size() && !IsSpace(cmake[i]) && cmake[i] != ')') ++i;
    return i;
  };
  size_t i = 0;
  while (i < cmake.size()) {
    if (cmake[i] == '#') {  // a comment to the end of the line
      i = std::min(cmake.find('\n', i), cmake.size());
      continue;
    }
    const bool at_word = i == 0 || !IsIdentChar(cmake[i - 1]);
    if (!at_word || cmake.compare(i, 8, "add_test") != 0) {
      ++i;
      continue;
    }
    size_t k = skip_space(i + 8);
    if (k >= cmake.size() || cmake[k] != '(') {
      i += 8;
      continue;
    }
    k = skip_space(k + 1);
    size_t e = word_end(k);
    if (cmake.substr(k, e - k) == "NAME") {
      k = skip_space(e);
      e = word_end(k);
    }
    if (e > k) names.emplace_back(cmake.substr(k, e - k));
    i = e;
  }
  return names;
}

std::optional<std::vector<std::string>> CaseRules(std::string_view json_text, std::string* error) {
  const nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false,
                                                 /*ignore_comments=*/true);
  if (j.is_discarded()) {
    *error = "not JSON";
    return std::nullopt;
  }
  if (!j.is_object() || !j.contains("rules") || !j["rules"].is_array()) {
    *error = "no \"rules\" array";
    return std::nullopt;
  }
  std::vector<std::string> rules;
  for (const auto& r : j["rules"]) {
    if (!r.is_string()) {
      *error = "a rule that is not a string: " + r.dump();
      return std::nullopt;
    }
    rules.push_back(r.get<std::string>());
  }
  return rules;
}

std::vector<Link> Coverage::Missing(const std::string& id) const {
  std::vector<Link> missing;
  if (!test_names.count(id) && !cases.count(id)) missing.push_back(Link::kTest);
  if (!impl.count(id)) missing.push_back(Link::kImpl);
  return missing;
}

int Coverage::Gaps() const {
  int gaps = 0;
  for (const Rule& r : rules) {
    if (!r.withdrawn && !Missing(r.id).empty()) ++gaps;
  }
  return gaps;
}

Coverage Check(const std::string& spec_path, const std::string& root_dir) {
  Coverage cov;
  std::string error;
  std::optional<std::string> spec = ReadSmallFile(spec_path, &error);
  if (!spec) {
    cov.errors.push_back(error);
    return cov;
  }
  cov.rules = ParseSpecRules(*spec);
  std::set<std::string> defined, areas;
  for (const Rule& r : cov.rules) {
    defined.insert(r.id);
    areas.insert(r.id.substr(0, r.id.find('-')));
  }
  const fs::path root(root_dir);
  auto note = [&](std::map<std::string, std::set<std::string>>& into, const std::string& id,
                  const std::string& where) {
    (defined.count(id) ? into : cov.unknown)[id].insert(where);
  };
  auto rel = [&](const fs::path& p) { return fs::relative(p, root).string(); };

  // Test names, in C++ sources and CMake files.
  for (const char* dir : {"tests", "fuzz", "tools"}) {
    for (const fs::path& p : FilesUnder(root, dir, &cov.errors)) {
      const bool cpp = HasExt(p, {".cc", ".cpp", ".h", ".hpp"});
      const bool cmake = p.filename() == "CMakeLists.txt" || HasExt(p, {".cmake"});
      if (!cpp && !cmake) continue;
      std::optional<std::string> text = ReadSmallFile(p, &error);
      if (!text) {
        cov.errors.push_back(error);
        continue;
      }
      const std::vector<std::string> names =
          cpp ? ScanCpp(*text).test_names : CmakeTestNames(*text);
      for (const std::string& name : names) {
        for (const std::string& id : FindIds(name, areas, /*dash_only=*/false)) {
          note(cov.test_names, id, rel(p) + ": " + name);
        }
      }
    }
  }
  // Conformance cases.
  for (const fs::path& p : FilesUnder(root, "tests/conformance/cases", &cov.errors)) {
    if (!HasExt(p, {".json"})) continue;
    std::optional<std::string> text = ReadSmallFile(p, &error);
    std::optional<std::vector<std::string>> rules;
    if (text) rules = CaseRules(*text, &error);
    if (!rules) {
      cov.errors.push_back(rel(p) + ": " + error);
      continue;
    }
    for (const std::string& id : *rules) note(cov.cases, id, rel(p));
  }
  // The reference's comments.
  for (const fs::path& p : FilesUnder(root, "impl", &cov.errors)) {
    if (!HasExt(p, {".cc", ".cpp", ".h", ".hpp"})) continue;
    std::optional<std::string> text = ReadSmallFile(p, &error);
    if (!text) {
      cov.errors.push_back(error);
      continue;
    }
    for (const std::string& comment : ScanCpp(*text).comments) {
      for (const std::string& id : FindIds(comment, areas, /*dash_only=*/true)) {
        note(cov.impl, id, rel(p));
      }
    }
  }
  return cov;
}

}  // namespace netutil::spec_coverage
