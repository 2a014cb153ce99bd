#include "netutil/result.h"

#include <netdb.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "netutil/errno_name.h"

namespace netutil {

// BIND-025: the step, the address it was applied to, and the errno by name.
Error Error::Os(int err, std::string step, std::string address) {
  Error e;
  e.kind = Kind::kOs;
  e.code = err;
  e.step = std::move(step);
  e.address = std::move(address);
  // Appended into one buffer: a failing call under a fuzzer or a fault plan
  // builds this on every run.
  const std::string_view name = ErrnoName(err);
  const std::string_view text = std::strerror(err);
  std::string& m = e.message;
  m.reserve(e.step.size() + 1 + e.address.size() + 2 + name.size() + 2 + text.size() + 1);
  m.append(e.step);
  if (!e.address.empty()) m.append(1, ' ').append(e.address);
  m.append(": ").append(name).append(" (").append(text).append(1, ')');
  return e;
}

Error Error::Argument(std::string step, std::string message) {
  Error e;
  e.kind = Kind::kArgument;
  e.code = EINVAL;
  e.step = std::move(step);
  e.message = std::move(message);
  return e;
}

// BIND-029: EAI_SYSTEM stays a resolve error, carrying the errno behind it.
Error Error::Resolve(int gai_err, int sys_errno, std::string address) {
  Error e;
  e.kind = Kind::kResolve;
  e.code = gai_err;
  e.sys_errno = sys_errno;
  e.step = "getaddrinfo";
  e.address = std::move(address);
  e.message = "getaddrinfo " + e.address + ": " + GaiErrorName(gai_err) + " (" +
              gai_strerror(gai_err) + ")";
  if (gai_err == EAI_SYSTEM) {
    e.message += std::string(": ") + ErrnoName(sys_errno);
  }
  return e;
}

std::string Error::ToString() const { return message; }

const char* Error::KindName() const {
  switch (kind) {
    case Kind::kOs:
      return "os";
    case Kind::kArgument:
      return "argument";
    case Kind::kResolve:
      return "resolve";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, const Error& e) {
  return os << "Error{" << e.KindName() << ", " << e.message << "}";
}

}  // namespace netutil
