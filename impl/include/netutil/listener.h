// A listening socket owned by the caller: its fd and the address it is bound to.
#pragma once

#include "netutil/fd.h"
#include "netutil/sock_addr.h"

namespace netutil {

struct Listener {
  Fd fd;
  SockAddr addr;  // from getsockname after bind: the real port when 0 was asked

  int family() const { return addr.family(); }
};

}  // namespace netutil
