// The value-and-errno pair every Sys call returns (Envoy's SysCallResult shape).
//
// errno is captured by the Sys implementation right after the call, so nothing
// above the seam ever reads the global errno.
#pragma once

#include <ostream>
#include <type_traits>

namespace netutil {

template <typename T>
struct [[nodiscard]] SysResult {
  T value{};    // meaningful only when err == 0
  int err = 0;  // errno captured right after the call; 0 means success

  bool ok() const { return err == 0; }
};

using SysInt = SysResult<int>;

// A successful call returning `v` (an fd, a count, 0).
inline SysInt SysOk(int v = 0) { return {v, 0}; }

// A failed call: value -1 (as the syscall returns), errno `e`.
template <typename T = int>
SysResult<T> SysErr(int e) {
  if constexpr (std::is_same_v<T, int>) {
    return {-1, e};
  } else {
    return {T{}, e};
  }
}

const char* ErrnoName(int err);  // errno_name.cc; forward-declared for printing

// Prints {ok 7} or {-1, EAGAIN}, so gtest failure output is readable.
template <typename T>
std::ostream& operator<<(std::ostream& os, const SysResult<T>& r) {
  if (r.ok()) {
    if constexpr (std::is_same_v<T, int>) {
      return os << "{ok " << r.value << "}";
    } else {
      return os << "{ok}";
    }
  }
  return os << "{-1, " << ErrnoName(r.err) << "}";
}

}  // namespace netutil
