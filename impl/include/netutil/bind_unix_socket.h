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
  int backlog = kDefaultBacklog;  // UNIX-023
};

// The socket is non-blocking and close-on-exec from socket() on (UNIX-016).
// Race-free against a process that can write in the socket's directory or a
// parent (UNIX-017 to UNIX-021): the parent is opened without following a
// symlink another user could have placed, the socket is bound, chmod-ed and
// set listening in a private 0700 directory made there, then moved to the
// path with renameat2(RENAME_NOREPLACE). Linux only: it needs /proc (the bind
// goes through /proc/self/fd/N/s) and renameat2; without them it fails with
// an error naming the missing piece, never by-path.
//
// The Listener's addr is `options.path` (UNIX-022): getsockname() on the fd
// reports the /proc/self/fd/N/s path the socket was bound through.
//
// Note: the mode is applied through umask around bind(), which is process-wide:
// do not create files from other threads during this call.
Result<Listener> bind_unix_socket(Sys& sys, const UnixOptions& options);

}  // namespace netutil
