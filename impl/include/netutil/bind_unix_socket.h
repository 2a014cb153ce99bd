// bind_unix_socket: a listening AF_UNIX stream socket at a path, as Tornado's
// netutil.bind_unix_socket does, made safe: a live listener is never replaced,
// symlinks are never followed, and the socket is never reachable with a mode
// wider than asked. Rules UNIX-xxx of docs/SPEC.md.
#pragma once

#include <sys/types.h>

#include <string>

#include "netutil/bind_sockets.h"
#include "netutil/listener.h"
#include "netutil/result.h"
#include "netutil/sys.h"

namespace netutil {

struct UnixOptions {
  std::string path;  // a filesystem path, or "\0name" for a Linux abstract name
  mode_t mode = 0600;
  int backlog = kDefaultBacklog;
};

// The socket is non-blocking and close-on-exec from socket() on (UNIX-016).
// Note: the mode is applied through umask around bind(), which is process-wide:
// do not create files from other threads during this call.
Result<Listener> bind_unix_socket(Sys& sys, const UnixOptions& options);

}  // namespace netutil
