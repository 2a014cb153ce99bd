// A Sys that passes every call to another one, unchanged. The base of
// decorators: derive, override only the calls you change, and call
// ForwardingSys::<call> (or inner()) to reach the wrapped Sys.
//
//   class NoIpv6 final : public ForwardingSys {
//    public:
//     using ForwardingSys::ForwardingSys;
//     SysInt socket(int d, int t, int p) override {
//       return d == AF_INET6 ? SysErr(EAFNOSUPPORT) : ForwardingSys::socket(d, t, p);
//     }
//   };
//
// Header-only on purpose: targets that must not link the rest of fakes (and
// gmock), such as the libFuzzer builds, include it through the fakes include
// directory alone.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "netutil/sys.h"

namespace netutil::fakes {

class ForwardingSys : public Sys {
 public:
  explicit ForwardingSys(Sys& inner) : inner_(inner) {}
  ForwardingSys(const ForwardingSys&) = delete;
  ForwardingSys& operator=(const ForwardingSys&) = delete;

  Sys& inner() { return inner_; }

  // netutil::Sys, each method passed to inner() unchanged.
#define NETUTIL_SYS_METHOD(Ret, name, Camel, params, args) \
  Ret name params override { return inner_.name args; }
#include "netutil/sys_calls.def"

 private:
  Sys& inner_;
};

}  // namespace netutil::fakes
