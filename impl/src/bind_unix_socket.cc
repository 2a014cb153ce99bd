#include "netutil/bind_unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <string>

#include "retry.h"

namespace netutil {
namespace {

using internal::RetryEintr;

constexpr int kUnixStream = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;

// UNIX-012, UNIX-013: refused before any syscall.
std::optional<Error> CheckArguments(const UnixOptions& o) {
  if (o.path.empty()) return Error::Argument("path", "path is empty");
  if (o.path[0] != '\0') {
    if (auto nul = o.path.find('\0'); nul != std::string::npos) {
      return Error::Argument("path", "path contains a NUL byte at offset " + std::to_string(nul));
    }
  }
  if (o.path.size() > sizeof(sockaddr_un::sun_path)) {
    return Error::Argument("path", "path is " + std::to_string(o.path.size()) +
                                       " bytes long; a unix socket path holds at most " +
                                       std::to_string(sizeof(sockaddr_un::sun_path)));
  }
  if (o.mode > 07777) {
    return Error::Argument("mode", "mode " + std::to_string(o.mode) + " is outside 0..07777");
  }
  if (o.backlog < 0) {
    return Error::Argument("backlog", "backlog " + std::to_string(o.backlog) + " is negative");
  }
  return std::nullopt;
}

// UNIX-008: does a process still listen at `addr`? A refused (or vanished)
// connection means the file is stale; a connection, or a full backlog, means
// it is alive. Any other answer is an error: we cannot tell, so we touch nothing.
Result<bool> IsLive(Sys& sys, const SockAddr& addr) {
  SysInt c = RetryEintr([&]() -> SysInt {
    SysInt s = RetryEintr([&] { return sys.socket(AF_UNIX, kUnixStream, 0); });
    if (!s.ok()) return {-1, s.err == EINTR ? EIO : s.err};  // socket() errors end the retry
    Fd probe(sys, s.value);
    return sys.connect(probe.get(), addr);
  });
  if (c.ok() || c.err == EAGAIN) return true;
  if (c.err == ECONNREFUSED || c.err == ENOENT) return false;
  return Error::Os(c.err, "connect probe", addr.ToString());
}

}  // namespace

Result<Listener> bind_unix_socket(Sys& sys, const UnixOptions& o) {
  if (auto e = CheckArguments(o)) return *e;
  const SockAddr addr = *SockAddr::Unix(o.path);
  const std::string where = addr.ToString();
  const bool abstract = o.path[0] == '\0';

  // UNIX-001
  SysInt s = RetryEintr([&] { return sys.socket(AF_UNIX, kUnixStream, 0); });
  if (!s.ok()) return Error::Os(s.err, "socket", where);
  Fd fd(sys, s.value);  // closes on every early return (UNIX-011)

  // UNIX-002
  SysInt r = RetryEintr([&] { return sys.setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1); });
  if (!r.ok() && r.err != ENOPROTOOPT) return Error::Os(r.err, "setsockopt(SO_REUSEADDR)", where);

  if (abstract) {  // UNIX-007: no file, so nothing to check, remove or chmod.
    SysInt b = RetryEintr([&] { return sys.bind(fd.get(), addr); });
    if (!b.ok()) return Error::Os(b.err, "bind", where);
    SysInt l = RetryEintr([&] { return sys.listen(fd.get(), o.backlog); });
    if (!l.ok()) return Error::Os(l.err, "listen", where);
    return Listener{std::move(fd), addr};
  }

  // lstat, never stat: a symlink is reported, not followed (UNIX-009).
  SysResult<FileStat> st = RetryEintr([&] { return sys.lstat(o.path); });
  if (st.ok()) {
    const uint32_t type = st.value.mode & S_IFMT;
    if (type == S_IFLNK) {
      Error e = Error::Os(ELOOP, "lstat", where);
      e.message = o.path + " is a symbolic link; bind_unix_socket neither follows nor removes it";
      return e;
    }
    if (type != S_IFSOCK) {  // UNIX-004
      return Error::Argument("path", o.path + " exists and is not a socket; it is left untouched");
    }
    Result<bool> live = IsLive(sys, addr);
    if (!live.ok()) return live.error();
    if (live.value()) {  // UNIX-008
      Error e = Error::Os(EADDRINUSE, "connect probe", where);
      e.message = o.path + ": another process listens on this socket; it is left in place";
      return e;
    }
    SysInt u = RetryEintr([&] { return sys.unlink(o.path); });  // UNIX-003
    if (!u.ok() && u.err != ENOENT) return Error::Os(u.err, "unlink", where);
  } else if (st.err != ENOENT) {
    return Error::Os(st.err, "lstat", where);
  }

  // UNIX-010, UNIX-015: bind() creates the file under a umask that leaves only
  // the requested bits, and the caller's umask comes back whatever bind says.
  const mode_t old_mask = sys.umask(static_cast<mode_t>(~o.mode & 0777));
  SysInt b = RetryEintr([&] { return sys.bind(fd.get(), addr); });
  sys.umask(old_mask);
  if (!b.ok()) return Error::Os(b.err, "bind", where);

  // The file is ours from here: a failure removes it too (UNIX-011).
  auto fail_after_bind = [&](int err, const char* step) {
    (void)sys.unlink(o.path);
    return Error::Os(err, step, where);
  };
  // UNIX-005: chmod also sets what the umask cannot (setuid, sticky bits).
  SysInt c = RetryEintr([&] { return sys.chmod(o.path, o.mode); });
  if (!c.ok()) return fail_after_bind(c.err, "chmod");
  SysInt l = RetryEintr([&] { return sys.listen(fd.get(), o.backlog); });  // UNIX-006
  if (!l.ok()) return fail_after_bind(l.err, "listen");
  return Listener{std::move(fd), addr};
}

}  // namespace netutil
