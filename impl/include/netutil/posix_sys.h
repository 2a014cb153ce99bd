// The real Sys: a thin pass-through to the kernel. Each method makes its call
// and reads errno straight after it.
#pragma once

#include "netutil/sys.h"

namespace netutil {

class PosixSys final : public Sys {
 public:
#define NETUTIL_SYS_METHOD NETUTIL_SYS_OVERRIDE
#include "netutil/sys_calls.def"
};

}  // namespace netutil
