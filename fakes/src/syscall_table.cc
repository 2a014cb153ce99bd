#include "netutil/fakes/syscall_table.h"

#include <netdb.h>

#include <algorithm>
#include <cerrno>
#include <type_traits>

#include "netutil/fakes/call_types.h"
#include "netutil/sys.h"

namespace netutil::fakes {
namespace {

// man 2 socket
constexpr int kSocketErrnos[] = {EACCES,  EAFNOSUPPORT, EINVAL,          EMFILE, ENFILE,
                                 ENOBUFS, ENOMEM,       EPROTONOSUPPORT, EINTR};  // EINTR: BIND-024
// man 2 setsockopt (ENOMEM/ENOBUFS: man 7 socket, options that allocate)
constexpr int kSetsockoptErrnos[] = {EBADF,  EFAULT,  EINVAL, ENOPROTOOPT, ENOTSOCK,
                                     ENOMEM, ENOBUFS, EINTR};  // EINTR: BIND-024, UNIX-014
// man 2 getsockopt
constexpr int kGetsockoptErrnos[] = {EBADF, EFAULT, EINVAL, ENOPROTOOPT, ENOTSOCK};
// man 2 bind, man 7 ip, man 7 unix (the path errors: ELOOP .. EROFS)
constexpr int kBindErrnos[] = {EACCES, EADDRINUSE,   EBADF,        EINVAL, ENOTSOCK, EADDRNOTAVAIL,
                               EFAULT, ELOOP,        ENAMETOOLONG, ENOENT, ENOMEM,   ENOTDIR,
                               EROFS,  EAFNOSUPPORT, EINTR};  // EINTR: BIND-024, UNIX-014
// man 2 listen
constexpr int kListenErrnos[] = {EADDRINUSE, EBADF, ENOTSOCK, EOPNOTSUPP,
                                 EINTR};  // EINTR: BIND-024, UNIX-014
// man 2 getsockname
constexpr int kGetsocknameErrnos[] = {EBADF,   EFAULT,   EINVAL,
                                      ENOBUFS, ENOTSOCK, EINTR};  // EINTR: BIND-024
// man 2 accept4, including the "Linux accept() passes already-pending network
// errors on the new socket as an error code" list and the Linux-only ones.
constexpr int kAccept4Errnos[] = {
    EAGAIN,       EBADF,       ECONNABORTED,    EFAULT,          EINTR,     EINVAL,
    EMFILE,       ENFILE,      ENOBUFS,         ENOMEM,          ENOTSOCK,  EOPNOTSUPP,
    EPERM,        EPROTO,      ENETDOWN,        ENOPROTOOPT,     EHOSTDOWN, ENONET,
    EHOSTUNREACH, ENETUNREACH, ESOCKTNOSUPPORT, EPROTONOSUPPORT, ETIMEDOUT,
};
// man 2 connect, man 7 unix (ENOENT: no socket at the path)
constexpr int kConnectErrnos[] = {
    EACCES,   EPERM,       EADDRINUSE,   EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN,
    EALREADY, EBADF,       ECONNREFUSED, EFAULT,        EINPROGRESS,  EINTR,
    EISCONN,  ENETUNREACH, ENOTSOCK,     EPROTOTYPE,    ETIMEDOUT,    ENOENT,
};
// man 2 close
constexpr int kCloseErrnos[] = {EBADF, EINTR, EIO, ENOSPC};
// man 2 fcntl, for the integer commands of the seam
constexpr int kFcntlErrnos[] = {EBADF, EINVAL, EINTR};
// man 2 unlink
constexpr int kUnlinkErrnos[] = {EACCES, EBUSY,  EFAULT,  EIO,   EISDIR, ELOOP, ENAMETOOLONG,
                                 ENOENT, ENOMEM, ENOTDIR, EPERM, EROFS,  EINTR};  // EINTR: UNIX-014
// man 2 lstat, man 2 stat
constexpr int kStatErrnos[] = {EACCES, EBADF,  EFAULT,  ELOOP,     ENAMETOOLONG,
                               ENOENT, ENOMEM, ENOTDIR, EOVERFLOW, EINTR};  // EINTR: UNIX-014
// man 2 chmod
constexpr int kChmodErrnos[] = {EACCES, EFAULT,  EIO,   ELOOP, ENAMETOOLONG, ENOENT,
                                ENOMEM, ENOTDIR, EPERM, EROFS, EINTR};  // EINTR: UNIX-014
// man 2 fchmod
constexpr int kFchmodErrnos[] = {EBADF, EIO, EPERM, EROFS, EINVAL, EINTR};
// man 2 openat (the errors O_PATH | O_DIRECTORY | O_NOFOLLOW can bring)
constexpr int kOpenatErrnos[] = {EACCES, EBADF,  EINVAL,  ELOOP, EMFILE, ENAMETOOLONG, ENFILE,
                                 ENOENT, ENOMEM, ENOTDIR, EPERM, EINTR};  // EINTR: UNIX-014
// man 2 mkdirat
constexpr int kMkdiratErrnos[] = {EACCES,  EBADF,        EDQUOT, EEXIST, ELOOP,
                                  EMLINK,  ENAMETOOLONG, ENOENT, ENOMEM, ENOSPC,
                                  ENOTDIR, EPERM,        EROFS,  EINTR};  // EINTR: UNIX-014
// man 2 fstatat
constexpr int kFstatatErrnos[] = {EACCES, EBADF,  EFAULT,  EINVAL,    ELOOP, ENAMETOOLONG,
                                  ENOENT, ENOMEM, ENOTDIR, EOVERFLOW, EINTR};  // EINTR: UNIX-014
// man 2 renameat2 (ENOSYS: a kernel before 3.15; EINVAL: a filesystem
// without RENAME_NOREPLACE; both UNIX-021)
constexpr int kRenameat2Errnos[] = {EACCES, EBADF,  EBUSY,  EDQUOT,  EEXIST,
                                    EINVAL, EISDIR, ELOOP,  EMLINK,  ENAMETOOLONG,
                                    ENOENT, ENOMEM, ENOSPC, ENOTDIR, ENOTEMPTY,
                                    EPERM,  EROFS,  EXDEV,  ENOSYS,  EINTR};  // EINTR: UNIX-014
// man 2 unlinkat
constexpr int kUnlinkatErrnos[] = {EACCES, EBADF,        EBUSY,  EINVAL, EIO,     EISDIR,
                                   ELOOP,  ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR, ENOTEMPTY,
                                   EPERM,  EROFS,        EINTR};  // EINTR: UNIX-014
// man 2 fchmodat
constexpr int kFchmodatErrnos[] = {
    EACCES, EBADF,   EINVAL,  EIO,   ELOOP, ENAMETOOLONG, ENOENT,
    ENOMEM, ENOTDIR, ENOTSUP, EPERM, EROFS, EINTR};  // EINTR: UNIX-014
// man 2 readlinkat
constexpr int kReadlinkatErrnos[] = {EACCES,       EBADF,  EINVAL, EIO,     ELOOP,
                                     ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR, EINTR};
// man 2 ioctl, for FIONBIO: a closed fd, a request the fd does not take
constexpr int kIoctlErrnos[] = {EBADF, EFAULT, EINVAL, ENOTTY};
// man 2 close_range
constexpr int kCloseRangeErrnos[] = {EINVAL, ENOMEM, EMFILE};  // EINTR: UNIX-014
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
    EAI_AGAIN,      EAI_BADFLAGS, EAI_FAIL,     EAI_FAMILY, EAI_MEMORY,
#ifdef EAI_NODATA
    EAI_NODATA,
#endif
    EAI_NONAME,     EAI_SERVICE,  EAI_SOCKTYPE, EAI_SYSTEM,
};

// "accept4": the call's name, from sys_calls.def.
constexpr const char* kCallNames[] = {
#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args) #name,
#include "netutil/sys_calls.def"
};
static_assert(std::size(kCallNames) == kAllCalls.size());

// The typed view of the list (call_types.h) keeps arguments as owned values.
static_assert(std::is_same_v<CallTypes<Call::kBind>::Args, std::tuple<int, SockAddr>>);
static_assert(std::is_same_v<CallTypes<Call::kReadlinkat>::Result, SysResult<std::string>>);

// Whether the call's result is an int (SysInt), from its signature.
constexpr bool kReturnsInt[] = {
#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args) std::is_same_v<Ret, SysInt>,
#include "netutil/sys_calls.def"
};

// What the fault vocabulary knows of each call, in Call's order (checked below).
struct CallInfo {
  Call call;
  std::span<const int> errnos;
  // Bits of ArgKey the call has.
  uint32_t keys;
};

constexpr uint32_t Bit(ArgKey k) { return 1u << static_cast<unsigned>(k); }

constexpr uint32_t kAddrKeys = Bit(ArgKey::kFd) | Bit(ArgKey::kFamily) | Bit(ArgKey::kPort) |
                               Bit(ArgKey::kAddr) | Bit(ArgKey::kPath);

// The *at calls: the directory fd and the path under it (renameat2: the old one).
constexpr uint32_t kAtKeys = Bit(ArgKey::kFd) | Bit(ArgKey::kPath);

constexpr CallInfo kCalls[] = {
    {Call::kGetaddrinfo, {}, Bit(ArgKey::kHost) | Bit(ArgKey::kFamily)},
    {Call::kSocket, kSocketErrnos, Bit(ArgKey::kFamily)},
    {Call::kSetsockopt, kSetsockoptErrnos, Bit(ArgKey::kFd) | Bit(ArgKey::kOpt)},
    {Call::kGetsockopt, kGetsockoptErrnos, Bit(ArgKey::kFd) | Bit(ArgKey::kOpt)},
    {Call::kBind, kBindErrnos, kAddrKeys},
    {Call::kListen, kListenErrnos, Bit(ArgKey::kFd) | Bit(ArgKey::kBacklog)},
    {Call::kGetsockname, kGetsocknameErrnos, Bit(ArgKey::kFd)},
    {Call::kAccept4, kAccept4Errnos, Bit(ArgKey::kFd)},
    {Call::kConnect, kConnectErrnos, kAddrKeys},
    {Call::kClose, kCloseErrnos, Bit(ArgKey::kFd)},
    {Call::kFcntl, kFcntlErrnos, Bit(ArgKey::kFd) | Bit(ArgKey::kCmd)},
    {Call::kUnlink, kUnlinkErrnos, Bit(ArgKey::kPath)},
    {Call::kLstat, kStatErrnos, Bit(ArgKey::kPath)},
    {Call::kStat, kStatErrnos, Bit(ArgKey::kPath)},
    {Call::kChmod, kChmodErrnos, Bit(ArgKey::kPath)},
    {Call::kFchmod, kFchmodErrnos, Bit(ArgKey::kFd)},
    {Call::kUmask, {}, 0},
    {Call::kEpollCreate1, kEpollCreate1Errnos, 0},
    {Call::kEpollCtl, kEpollCtlErrnos, Bit(ArgKey::kFd) | Bit(ArgKey::kOp)},
    {Call::kEpollWait, kEpollWaitErrnos, 0},
    {Call::kOpenat, kOpenatErrnos, kAtKeys},
    {Call::kMkdirat, kMkdiratErrnos, kAtKeys},
    {Call::kFstatat, kFstatatErrnos, kAtKeys},
    {Call::kRenameat2, kRenameat2Errnos, kAtKeys},
    {Call::kUnlinkat, kUnlinkatErrnos, kAtKeys},
    {Call::kFchmodat, kFchmodatErrnos, kAtKeys},
    {Call::kReadlinkat, kReadlinkatErrnos, kAtKeys},
    {Call::kIoctl, kIoctlErrnos, Bit(ArgKey::kFd) | Bit(ArgKey::kCmd)},
    {Call::kCloseRange, kCloseRangeErrnos, 0},
};
static_assert(std::size(kCalls) == kAllCalls.size());
constexpr bool InCallOrder() {
  for (size_t i = 0; i < std::size(kCalls); ++i) {
    if (kCalls[i].call != kAllCalls[i]) return false;
  }
  return true;
}
static_assert(InCallOrder(), "kCalls must list the calls in sys_calls.def's order");

const CallInfo& Info(Call call) { return kCalls[static_cast<size_t>(call)]; }

constexpr const char* kKeyNames[] = {"family", "port", "fd",      "host", "addr",
                                     "path",   "opt",  "backlog", "op",   "cmd"};
static_assert(std::size(kKeyNames) == kAllArgKeys.size());

}  // namespace

const char* CallName(Call call) { return kCallNames[static_cast<size_t>(call)]; }

std::optional<Call> CallFromName(std::string_view name) {
  for (Call c : kAllCalls) {
    if (name == CallName(c)) return c;
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
  return std::find(std::begin(kGaiErrors), std::end(kGaiErrors), gai_err) != std::end(kGaiErrors);
}

bool ReturnsInt(Call call) { return kReturnsInt[static_cast<size_t>(call)]; }

bool TakesEffectDespite(Call call, int /*err*/) { return call == Call::kClose; }

}  // namespace netutil::fakes
