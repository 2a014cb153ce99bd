// FdpWriter: the inverse of FuzzedDataProvider, for the corpus recorder. Each
// call writes the bytes that make the same FuzzedDataProvider call, made in
// the same order, return the given value. FuzzedDataProvider reads integers
// from the end of the input and strings from the front, so the writer keeps
// the two ends apart and joins them in Finish().
//
// Only the calls the targets make are mirrored: ConsumeIntegralInRange,
// ConsumeIntegral, ConsumeBool and ConsumeRandomLengthString(max). The
// recorder checks every seed by decoding it with the real FuzzedDataProvider,
// so a change in clang's header that this file misses fails loudly.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

namespace netutil::fuzz {

class FdpWriter {
 public:
  // ConsumeIntegralInRange<T>(lo, hi) == value. The value must lie in [lo, hi].
  template <typename T>
  void IntInRange(T value, T lo, T hi) {
    static_assert(std::is_integral_v<T> && sizeof(T) <= sizeof(uint64_t));
    if (lo > hi || value < lo || value > hi) std::abort();  // a recorder bug
    const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    const uint64_t offset = static_cast<uint64_t>(value) - static_cast<uint64_t>(lo);
    // The reader takes one byte per 8 bits of `range` (at most sizeof(T)),
    // most significant first, and reduces modulo range + 1; offset <= range,
    // so it comes back unchanged.
    size_t n = 0;
    while (n < sizeof(T) && (range >> (n * CHAR_BIT)) > 0) ++n;
    for (size_t i = 0; i < n; ++i) {
      back_.push_back(static_cast<uint8_t>(offset >> ((n - 1 - i) * CHAR_BIT)));
    }
  }

  // ConsumeIntegral<T>() == value.
  template <typename T>
  void Integral(T value) {
    IntInRange<T>(value, std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  }

  // ConsumeBool() == value (it keeps the low bit of one byte).
  void Bool(bool value) { IntInRange<uint8_t>(value ? 1 : 0, 0, 255); }

  // ConsumeRandomLengthString(max_length) == s. Returns false (writing
  // nothing) when s is longer than max_length.
  bool String(std::string_view s, size_t max_length) {
    if (s.size() > max_length) return false;
    for (char c : s) {
      front_.push_back(static_cast<uint8_t>(c));
      if (c == '\\') front_.push_back('\\');  // "\\" reads as one backslash
    }
    // A backslash followed by anything else ends the string early; a string
    // of max_length ends by itself.
    if (s.size() < max_length) {
      front_.push_back('\\');
      front_.push_back('.');
    }
    return true;
  }

  size_t size() const { return front_.size() + back_.size(); }

  // The input: the front bytes, then the back bytes in reverse (the reader
  // takes the last byte first).
  std::vector<uint8_t> Finish() const {
    std::vector<uint8_t> out(front_);
    out.insert(out.end(), back_.rbegin(), back_.rend());
    return out;
  }

 private:
  std::vector<uint8_t> front_;
  std::vector<uint8_t> back_;  // in the order the reader takes them
};

}  // namespace netutil::fuzz
