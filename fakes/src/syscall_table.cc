#include "netutil/fakes/syscall_table.h"

#include <netdb.h>

#include <algorithm>
#include <cerrno>

namespace netutil::fakes {
namespace {

// man 2 socket
constexpr int kSocketErrnos[] = {EACCES, EAFNOSUPPORT, EINVAL, EMFILE, ENFILE,
                                 ENOBUFS, ENOMEM, EPROTONOSUPPORT,
                                 EINTR};  // EINTR: BIND-024
// man 2 setsockopt (ENOMEM/ENOBUFS: man 7 socket, options that allocate)
constexpr int kSetsockoptErrnos[] = {EBADF, EFAULT, EINVAL, ENOPROTOOPT, ENOTSOCK,
                                     ENOMEM, ENOBUFS,
                                     EINTR};  // EINTR: BIND-024, UNIX-014
// man 2 getsockopt
constexpr int kGetsockoptErrnos[] = {EBADF, EFAULT, EINVAL, ENOPROTOOPT, ENOTSOCK};
// man 2 bind, man 7 ip, man 7 unix (the path errors: ELOOP .. EROFS)
constexpr int kBindErrnos[] = {EACCES, EADDRINUSE, EBADF,        EINVAL,  ENOTSOCK,
                               EADDRNOTAVAIL, EFAULT, ELOOP,     ENAMETOOLONG, ENOENT,
                               ENOMEM, ENOTDIR, EROFS, EAFNOSUPPORT,
                               EINTR};  // EINTR: BIND-024, UNIX-014
// man 2 listen
constexpr int kListenErrnos[] = {EADDRINUSE, EBADF, ENOTSOCK, EOPNOTSUPP,
                                 EINTR};  // EINTR: BIND-024, UNIX-014
// man 2 getsockname
constexpr int kGetsocknameErrnos[] = {EBADF, EFAULT, EINVAL, ENOBUFS, ENOTSOCK,
                                      EINTR};  // EINTR: BIND-024
// man 2 accept4, including the "Linux accept() passes already-pending network
// errors on the new socket as an error code" list and the Linux-only ones.
constexpr int kAccept4Errnos[] = {
    EAGAIN,  EBADF,    ECONNABORTED, EFAULT, EINTR,   EINVAL,      EMFILE,
    ENFILE,  ENOBUFS,  ENOMEM,       ENOTSOCK, EOPNOTSUPP, EPERM,  EPROTO,
    ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, ENETUNREACH,
    ESOCKTNOSUPPORT, EPROTONOSUPPORT, ETIMEDOUT,
};
// man 2 connect, man 7 unix (ENOENT: no socket at the path)
constexpr int kConnectErrnos[] = {
    EACCES,   EPERM,  EADDRINUSE,  EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, EALREADY,
    EBADF,    ECONNREFUSED, EFAULT, EINPROGRESS, EINTR, EISCONN, ENETUNREACH,
    ENOTSOCK, EPROTOTYPE, ETIMEDOUT, ENOENT,
};
// man 2 close
constexpr int kCloseErrnos[] = {EBADF, EINTR, EIO, ENOSPC};
// man 2 fcntl, for the integer commands of the seam
constexpr int kFcntlErrnos[] = {EBADF, EINVAL, EINTR};
// man 2 unlink
constexpr int kUnlinkErrnos[] = {EACCES, EBUSY, EFAULT, EIO,   EISDIR, ELOOP, ENAMETOOLONG,
                                 ENOENT, ENOMEM, ENOTDIR, EPERM, EROFS,
                                 EINTR};  // EINTR: UNIX-014
// man 2 lstat, man 2 stat
constexpr int kStatErrnos[] = {EACCES, EBADF,   EFAULT,    ELOOP, ENAMETOOLONG,
                               ENOENT, ENOMEM, ENOTDIR, EOVERFLOW,
                               EINTR};  // EINTR: UNIX-014
// man 2 chmod
constexpr int kChmodErrnos[] = {EACCES, EFAULT, EIO,   ELOOP, ENAMETOOLONG, ENOENT,
                                ENOMEM, ENOTDIR, EPERM, EROFS,
                                EINTR};  // EINTR: UNIX-014
// man 2 fchmod
constexpr int kFchmodErrnos[] = {EBADF, EIO, EPERM, EROFS, EINVAL, EINTR};
// man 2 openat (the errors O_PATH | O_DIRECTORY | O_NOFOLLOW can bring)
constexpr int kOpenatErrnos[] = {EACCES, EBADF,  EINVAL, ELOOP,   EMFILE, ENAMETOOLONG,
                                 ENFILE, ENOENT, ENOMEM, ENOTDIR, EPERM,
                                 EINTR};  // EINTR: UNIX-014
// man 2 mkdirat
constexpr int kMkdiratErrnos[] = {EACCES, EBADF,  EDQUOT, EEXIST,  ELOOP, EMLINK, ENAMETOOLONG,
                                  ENOENT, ENOMEM, ENOSPC, ENOTDIR, EPERM, EROFS,
                                  EINTR};  // EINTR: UNIX-014
// man 2 fstatat
constexpr int kFstatatErrnos[] = {EACCES, EBADF,  EFAULT,  EINVAL,    ELOOP, ENAMETOOLONG,
                                  ENOENT, ENOMEM, ENOTDIR, EOVERFLOW,
                                  EINTR};  // EINTR: UNIX-014
// man 2 renameat2 (ENOSYS: a kernel before 3.15; EINVAL: a filesystem
// without RENAME_NOREPLACE; both UNIX-021)
constexpr int kRenameat2Errnos[] = {EACCES, EBADF,  EBUSY,  EDQUOT,  EEXIST,    EINVAL,
                                    EISDIR, ELOOP,  EMLINK, ENAMETOOLONG, ENOENT, ENOMEM,
                                    ENOSPC, ENOTDIR, ENOTEMPTY, EPERM, EROFS, EXDEV, ENOSYS,
                                    EINTR};  // EINTR: UNIX-014
// man 2 unlinkat
constexpr int kUnlinkatErrnos[] = {EACCES, EBADF,  EBUSY,   EINVAL,    EIO,   EISDIR, ELOOP,
                                   ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR, ENOTEMPTY, EPERM,
                                   EROFS,  EINTR};  // EINTR: UNIX-014
// man 2 fchmodat
constexpr int kFchmodatErrnos[] = {EACCES, EBADF, EINVAL,  EIO,   ELOOP, ENAMETOOLONG, ENOENT,
                                   ENOMEM, ENOTDIR, ENOTSUP, EPERM, EROFS,
                                   EINTR};  // EINTR: UNIX-014
// man 2 readlinkat
constexpr int kReadlinkatErrnos[] = {EACCES, EBADF,  EINVAL,  EIO,  ELOOP, ENAMETOOLONG,
                                     ENOENT, ENOMEM, ENOTDIR, EINTR};  // EINTR: UNIX-014
// man 2 epoll_create1
constexpr int kEpollCreate1Errnos[] = {EINVAL, EMFILE, ENFILE, ENOMEM};
// man 2 epoll_ctl
constexpr int kEpollCtlErrnos[] = {EBADF, EEXIST, EINVAL, ELOOP, ENOENT, ENOMEM, ENOSPC, EPERM};
// man 2 epoll_wait
constexpr int kEpollWaitErrnos[] = {EBADF, EFAULT, EINTR, EINVAL};

// man 3 getaddrinfo. EAI_OVERFLOW belongs to getnameinfo and is left out.
constexpr int kGaiErrors[] = {
#ifdef EAI_ADDRFAMILY
    EAI_ADDRFAMILY,
#endif
    EAI_AGAIN,  EAI_BADFLAGS, EAI_FAIL,  EAI_FAMILY, EAI_MEMORY,
#ifdef EAI_NODATA
    EAI_NODATA,
#endif
    EAI_NONAME, EAI_SERVICE,  EAI_SOCKTYPE, EAI_SYSTEM,
};

struct CallInfo {
  Call call;
  const char* name;
  std::span<const int> errnos;
  bool returns_int;
  // Bits of ArgKey the call has.
  uint32_t keys;
};

constexpr uint32_t Bit(ArgKey k) { return 1u << static_cast<unsigned>(k); }

constexpr uint32_t kAddrKeys =
    Bit(ArgKey::kFd) | Bit(ArgKey::kFamily) | Bit(ArgKey::kPort) | Bit(ArgKey::kAddr) |
    Bit(ArgKey::kPath);

// The *at calls: the directory fd and the path under it (renameat2: the old one).
constexpr uint32_t kAtKeys = Bit(ArgKey::kFd) | Bit(ArgKey::kPath);

constexpr CallInfo kCalls[] = {
    {Call::kGetaddrinfo, "getaddrinfo", {}, false, Bit(ArgKey::kHost) | Bit(ArgKey::kFamily)},
    {Call::kSocket, "socket", kSocketErrnos, true, Bit(ArgKey::kFamily)},
    {Call::kSetsockopt, "setsockopt", kSetsockoptErrnos, true,
     Bit(ArgKey::kFd) | Bit(ArgKey::kOpt)},
    {Call::kGetsockopt, "getsockopt", kGetsockoptErrnos, true,
     Bit(ArgKey::kFd) | Bit(ArgKey::kOpt)},
    {Call::kBind, "bind", kBindErrnos, true, kAddrKeys},
    {Call::kListen, "listen", kListenErrnos, true, Bit(ArgKey::kFd) | Bit(ArgKey::kBacklog)},
    {Call::kGetsockname, "getsockname", kGetsocknameErrnos, false, Bit(ArgKey::kFd)},
    {Call::kAccept4, "accept4", kAccept4Errnos, true, Bit(ArgKey::kFd)},
    {Call::kConnect, "connect", kConnectErrnos, true, kAddrKeys},
    {Call::kClose, "close", kCloseErrnos, true, Bit(ArgKey::kFd)},
    {Call::kFcntl, "fcntl", kFcntlErrnos, true, Bit(ArgKey::kFd) | Bit(ArgKey::kCmd)},
    {Call::kUnlink, "unlink", kUnlinkErrnos, true, Bit(ArgKey::kPath)},
    {Call::kLstat, "lstat", kStatErrnos, false, Bit(ArgKey::kPath)},
    {Call::kStat, "stat", kStatErrnos, false, Bit(ArgKey::kPath)},
    {Call::kChmod, "chmod", kChmodErrnos, true, Bit(ArgKey::kPath)},
    {Call::kFchmod, "fchmod", kFchmodErrnos, true, Bit(ArgKey::kFd)},
    {Call::kUmask, "umask", {}, false, 0},
    {Call::kEpollCreate1, "epoll_create1", kEpollCreate1Errnos, true, 0},
    {Call::kEpollCtl, "epoll_ctl", kEpollCtlErrnos, true, Bit(ArgKey::kFd) | Bit(ArgKey::kOp)},
    {Call::kEpollWait, "epoll_wait", kEpollWaitErrnos, true, 0},
    {Call::kOpenat, "openat", kOpenatErrnos, true, kAtKeys},
    {Call::kMkdirat, "mkdirat", kMkdiratErrnos, true, kAtKeys},
    {Call::kFstatat, "fstatat", kFstatatErrnos, false, kAtKeys},
    {Call::kRenameat2, "renameat2", kRenameat2Errnos, true, kAtKeys},
    {Call::kUnlinkat, "unlinkat", kUnlinkatErrnos, true, kAtKeys},
    {Call::kFchmodat, "fchmodat", kFchmodatErrnos, true, kAtKeys},
    {Call::kReadlinkat, "readlinkat", kReadlinkatErrnos, false, kAtKeys},
};
static_assert(std::size(kCalls) == kAllCalls.size());

const CallInfo& Info(Call call) { return kCalls[static_cast<size_t>(call)]; }

constexpr const char* kKeyNames[] = {"family", "port", "fd",      "host", "addr",
                                     "path",   "opt",  "backlog", "op",   "cmd"};
static_assert(std::size(kKeyNames) == kAllArgKeys.size());

}  // namespace

const char* CallName(Call call) { return Info(call).name; }

std::optional<Call> CallFromName(std::string_view name) {
  for (const auto& c : kCalls) {
    if (name == c.name) return c.call;
  }
  return std::nullopt;
}

const char* ArgKeyName(ArgKey key) { return kKeyNames[static_cast<size_t>(key)]; }

std::optional<ArgKey> ArgKeyFromName(std::string_view name) {
  for (ArgKey k : kAllArgKeys) {
    if (name == ArgKeyName(k)) return k;
  }
  return std::nullopt;
}

bool CallTakes(Call call, ArgKey key) { return (Info(call).keys & Bit(key)) != 0; }

std::span<const int> LegalErrnos(Call call) { return Info(call).errnos; }

bool IsLegalErrno(Call call, int err) {
  auto e = LegalErrnos(call);
  return std::find(e.begin(), e.end(), err) != e.end();
}

std::span<const int> LegalGaiErrors() { return kGaiErrors; }

bool IsLegalGaiError(int gai_err) {
  return std::find(std::begin(kGaiErrors), std::end(kGaiErrors), gai_err) !=
         std::end(kGaiErrors);
}

bool ReturnsInt(Call call) { return Info(call).returns_int; }

bool TakesEffectDespite(Call call, int /*err*/) { return call == Call::kClose; }

}  // namespace netutil::fakes
