// A gMock of the Sys seam. It derives from the pure interface, never from
// PosixSys, so no test that uses it can reach the real kernel.
#pragma once

#include <gmock/gmock.h>

#include <cerrno>

#include "netutil/sys.h"

namespace netutil::fakes {

class MockSys : public Sys {
 public:
  // Un-stubbed calls fail loudly (ENOSYS) instead of returning {0, 0}, which
  // would read as "fd 0, success". close() succeeds by default so RAII cleanup
  // needs no stubbing; tests that check closes use EXPECT_CALL(close).
  MockSys();

  // netutil::Sys, a MOCK_METHOD per line of sys_calls.def.
#define NETUTIL_SYS_METHOD(Ret, name, Camel, params, args) \
  MOCK_METHOD(Ret, name, params, (override));
#include "netutil/sys_calls.def"
};

}  // namespace netutil::fakes
