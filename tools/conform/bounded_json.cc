#include "bounded_json.h"

#include <algorithm>
#include <iterator>
#include <vector>

namespace netutil::conform {
namespace {

using json = nlohmann::json;

// A problem's message quotes the input at most this much.
constexpr size_t kMaxMessage = 300;

// A char iterator that remembers how far the parser has read, so that a limit
// found in the SAX handler (which nlohmann tells no position) can name a byte.
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* p, const char** furthest) : p_(p), furthest_(furthest) {}
  reference operator*() const {
    if (p_ + 1 > *furthest_) *furthest_ = p_ + 1;
    return *p_;
  }
  CountingIterator& operator++() {
    ++p_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++p_;
    return old;
  }
  bool operator==(const CountingIterator& o) const { return p_ == o.p_; }
  bool operator!=(const CountingIterator& o) const { return p_ != o.p_; }

 private:
  const char* p_;
  const char** furthest_;
};

// Builds nothing: counts the nesting and measures strings, and stops the parse
// (by returning false) at the first limit passed.
class LimitChecker {
 public:
  LimitChecker(const JsonLimits& limits, const char* base, const char** furthest)
      : limits_(limits), base_(base), furthest_(furthest) {}

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const json::string_t&) { return true; }
  bool string(json::string_t& s) { return Measure(s, "a string"); }
  bool binary(json::binary_t&) { return true; }
  bool key(json::string_t& s) { return Measure(s, "a key"); }
  bool start_object(std::size_t) { return Open(); }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // position is one past the offending byte, from 1. nlohmann's message
    // quotes the last token read, which may be most of a huge line: cut.
    Stop(position == 0 ? 0 : position - 1,
         "not JSON: " + BoundedString(SyntaxMessage(e.what()), kMaxMessage));
    return false;
  }

  const std::optional<JsonProblem>& problem() const { return problem_; }

 private:
  // nlohmann's message repeats the position in its own words; keep the rest.
  static std::string SyntaxMessage(std::string what) {
    if (size_t at = what.find(": syntax error"); at != std::string::npos)
      return what.substr(at + 2);
    if (size_t at = what.find("] "); at != std::string::npos) return what.substr(at + 2);
    return what;
  }

  bool Open() {
    if (++depth_ > limits_.max_depth) {
      return Stop(Here(), "nested deeper than " + std::to_string(limits_.max_depth) +
                              " levels of objects and arrays");
    }
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }
  bool Measure(const json::string_t& s, const char* what) {
    if (s.size() > limits_.max_string) {
      return Stop(Here(), std::string(what) + " of " + std::to_string(s.size()) +
                              " bytes, over the limit of " + std::to_string(limits_.max_string));
    }
    return true;
  }
  size_t Here() const {
    const auto read = static_cast<size_t>(*furthest_ - base_);
    return read == 0 ? 0 : read - 1;
  }
  bool Stop(size_t offset, std::string message) {
    if (!problem_) problem_ = JsonProblem{offset, std::move(message)};
    return false;
  }

  const JsonLimits& limits_;
  const char* base_;
  const char** furthest_;
  size_t depth_ = 0;
  std::optional<JsonProblem> problem_;
};

}  // namespace

std::optional<json> ParseJsonBounded(std::string_view text, const JsonLimits& limits,
                                     JsonProblem* problem) {
  if (text.size() > limits.max_bytes) {
    *problem = {0, std::to_string(text.size()) + " bytes, over the limit of " +
                       std::to_string(limits.max_bytes)};
    return std::nullopt;
  }
  const char* furthest = text.data();
  LimitChecker checker(limits, text.data(), &furthest);
  bool ok = false;
  try {
    ok = json::sax_parse(CountingIterator(text.data(), &furthest),
                         CountingIterator(text.data() + text.size(), &furthest), &checker,
                         json::input_format_t::json, /*strict=*/true, limits.comments);
  } catch (const std::exception& e) {  // allocation failures; the handler throws nothing
    *problem = {0, "cannot check it: " + BoundedString(e.what(), kMaxMessage)};
    return std::nullopt;
  }
  if (!ok) {
    *problem = checker.problem().value_or(JsonProblem{0, "not JSON"});
    return std::nullopt;
  }
  // Within the limits: now the tree, which the checks above make safe to build.
  try {
    return json::parse(text, nullptr, /*allow_exceptions=*/true, limits.comments);
  } catch (const std::exception& e) {
    *problem = {0, "not JSON: " + BoundedString(e.what(), kMaxMessage)};
    return std::nullopt;
  }
}

std::optional<json> ParseReplyLine(std::string_view line, std::string* failure) {
  auto quoted = [&] {
    // What the reply began with, never the whole of a huge line.
    constexpr size_t kQuote = 300;
    std::string q(line.substr(0, kQuote));
    if (line.size() > kQuote) q += "... (" + std::to_string(line.size()) + " bytes)";
    return q;
  };
  JsonProblem problem;
  std::optional<json> j = ParseJsonBounded(line, kReplyLimits, &problem);
  if (!j) {
    *failure = "reply rejected at byte " + std::to_string(problem.offset) + ": " + problem.message +
               ": " + quoted();
    return std::nullopt;
  }
  if (!j->is_object()) {
    *failure = "reply is not a JSON object: " + quoted();
    return std::nullopt;
  }
  return j;
}

size_t JsonDepth(const json& j) {
  size_t deepest = 0;
  std::vector<std::pair<const json*, size_t>> todo = {{&j, 0}};
  while (!todo.empty()) {
    const auto [v, depth] = todo.back();
    todo.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (const json& child : *v) todo.emplace_back(&child, depth + 1);
  }
  return deepest;
}

std::string BoundedString(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  // Back off a UTF-8 continuation byte, so the kept part stays valid UTF-8.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  return s.substr(0, cut) + "... [" + std::to_string(s.size() - cut) + " bytes cut]";
}

json BoundedCopy(const json& j, const CopyLimits& limits) {
  // Each pending item copies `from` into the (already placed) `to`, at `depth`.
  struct Item {
    const json* from;
    json* to;
    size_t depth;
  };
  json root;
  size_t budget = limits.max_total;
  auto take_string = [&](const std::string& s) {
    const size_t keep = std::min({s.size(), limits.max_string, budget});
    budget -= keep;
    return BoundedString(s, keep);
  };
  std::vector<Item> todo = {{&j, &root, 1}};
  while (!todo.empty()) {
    const Item item = todo.back();
    todo.pop_back();
    const json& from = *item.from;
    json& to = *item.to;
    if (budget == 0 && (from.is_structured() || from.is_string())) {
      to = "[cut: the report keeps " + std::to_string(limits.max_total) + " bytes of it]";
      continue;
    }
    if (from.is_string()) {
      to = take_string(from.get_ref<const std::string&>());
    } else if (!from.is_structured()) {
      to = from;
    } else if (item.depth > limits.max_depth) {
      to = "[cut: nested deeper than " + std::to_string(limits.max_depth) + " levels]";
    } else if (from.is_object()) {
      to = json::object();
      size_t n = 0;
      for (auto it = from.begin(); it != from.end() && n < limits.max_items; ++it, ++n) {
        // The slot is made now, filled later: a json's address is stable
        // once it is a member (std::map nodes do not move).
        json& slot = to[take_string(it.key())];
        todo.push_back({&*it, &slot, item.depth + 1});
      }
      if (from.size() > n) to["..."] = "[" + std::to_string(from.size() - n) + " more keys cut]";
    } else {
      to = json::array();
      const size_t n = std::min(from.size(), limits.max_items);
      // All slots first, then the work: a growing vector would move them.
      for (size_t i = 0; i < n; ++i) to.push_back(nullptr);
      if (from.size() > n) to.push_back("... [" + std::to_string(from.size() - n) + " more cut]");
      for (size_t i = 0; i < n; ++i) todo.push_back({&from[i], &to[i], item.depth + 1});
    }
  }
  return root;
}

}  // namespace netutil::conform
