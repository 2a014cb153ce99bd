// The public API's result: a value or an Error (gVisor's PosixErrorOr shape).
// libstdc++ 12 has no std::expected, so this is the project's own.
#pragma once

#include <cassert>
#include <ostream>
#include <string>
#include <utility>
#include <variant>

namespace netutil {

struct Error {
  enum class Kind {
    kOs,        // a syscall failed; code is its errno
    kArgument,  // the caller's arguments were refused before any syscall; code is EINVAL
    kResolve,   // getaddrinfo failed; code is the EAI_* value (errno in sys_errno for EAI_SYSTEM)
  };

  Kind kind = Kind::kOs;
  int code = 0;
  std::string step;     // the call or check that failed: "bind", "port", "getaddrinfo"
  std::string address;  // what it was applied to: "[::]:8888", "/run/x.sock"; may be empty
  std::string message;  // one human sentence naming the problem
  int sys_errno = 0;    // for kResolve with EAI_SYSTEM

  static Error Os(int err, std::string step, std::string address = {});
  static Error Argument(std::string step, std::string message);
  static Error Resolve(int gai_err, int sys_errno, std::string address);

  // "bind [::]:8888: EADDRINUSE (Address already in use)"
  std::string ToString() const;
  // "os", "argument", "resolve": the adapter protocol's names.
  const char* KindName() const;
};

std::ostream& operator<<(std::ostream& os, const Error& e);

// Marker value for Result<Ok> (a result with nothing to return).
struct Ok {};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

using Status = Result<Ok>;

inline Status OkStatus() { return Ok{}; }

}  // namespace netutil
