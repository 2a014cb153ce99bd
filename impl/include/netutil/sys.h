// The syscall seam. Every system call the reference makes goes through a Sys,
// so tests can script it (fakes::MockSys), model it (the fake kernel) or run it
// for real (PosixSys).
//
// Methods are named after the syscall and take the man page's arguments, as
// values where the kernel would take pointers. Each returns its value and its
// errno together (SysResult); none touches the global errno. Comments only say
// where a method departs from its man page.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netutil/sock_addr.h"
#include "netutil/sys_result.h"

namespace netutil {

// One getaddrinfo result, as a value.
struct AddrInfo {
  int family = 0;
  int socktype = 0;
  int protocol = 0;
  std::string canonname;
  SockAddr addr;

  friend bool operator==(const AddrInfo& a, const AddrInfo& b) {
    return a.family == b.family && a.socktype == b.socktype && a.protocol == b.protocol &&
           a.canonname == b.canonname && a.addr == b.addr;
  }
};

struct AddrInfoHints {
  int family = 0;  // AF_UNSPEC
  int socktype = 0;
  int protocol = 0;
  int flags = 0;
};

// getaddrinfo speaks EAI_* codes, not errno; sys_err carries errno only for
// EAI_SYSTEM. Kept apart from SysResult so the two error domains never mix.
struct [[nodiscard]] GaiResult {
  int gai_err = 0;
  int sys_err = 0;
  std::vector<AddrInfo> addrs;

  bool ok() const { return gai_err == 0; }
};

// The part of struct stat the reference needs.
struct FileStat {
  uint32_t mode = 0;  // type and permission bits (S_IFSOCK | 0600, ...)
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t uid = 0;
};

// One ready fd from epoll_wait. The reference registers fds with data.fd = fd,
// so the seam passes the fd instead of the epoll_data union.
struct EpollEvent {
  uint32_t events = 0;
  int fd = -1;
};

class Sys {
 public:
  virtual ~Sys() = default;

  // @see man 3 getaddrinfo. host nullopt = NULL node. Returns the list as
  // values (no freeaddrinfo needed).
  virtual GaiResult getaddrinfo(const std::optional<std::string>& host,
                                const std::string& service, const AddrInfoHints& hints) = 0;

  // @see man 2 socket
  virtual SysInt socket(int domain, int type, int protocol) = 0;
  // @see man 2 setsockopt. Integer-valued options only.
  virtual SysInt setsockopt(int fd, int level, int optname, int value) = 0;
  // @see man 2 getsockopt. Integer-valued options only; the value is returned.
  virtual SysInt getsockopt(int fd, int level, int optname) = 0;
  // @see man 2 bind
  virtual SysInt bind(int fd, const SockAddr& addr) = 0;
  // @see man 2 listen
  virtual SysInt listen(int fd, int backlog) = 0;
  // @see man 2 getsockname
  virtual SysResult<SockAddr> getsockname(int fd) = 0;
  // @see man 2 accept4. `peer` may be null.
  virtual SysInt accept4(int fd, SockAddr* peer, int flags) = 0;
  // @see man 2 connect
  virtual SysInt connect(int fd, const SockAddr& addr) = 0;
  // @see man 2 close
  virtual SysInt close(int fd) = 0;
  // @see man 2 fcntl. Integer-argument commands only (F_GETFL, F_SETFL, F_GETFD, F_SETFD).
  virtual SysInt fcntl(int fd, int cmd, int arg) = 0;

  // @see man 2 unlink
  virtual SysInt unlink(const std::string& path) = 0;
  // @see man 2 lstat
  virtual SysResult<FileStat> lstat(const std::string& path) = 0;
  // @see man 2 stat
  virtual SysResult<FileStat> stat(const std::string& path) = 0;
  // @see man 2 chmod
  virtual SysInt chmod(const std::string& path, mode_t mode) = 0;
  // @see man 2 fchmod
  virtual SysInt fchmod(int fd, mode_t mode) = 0;
  // @see man 2 umask. Returns the previous mask; cannot fail.
  virtual mode_t umask(mode_t mask) = 0;

  // The *at calls bind_unix_socket walks and changes its directory with
  // (UNIX-017, UNIX-018, UNIX-019 in docs/SPEC.md). dirfd may be AT_FDCWD.
  // @see man 2 openat. Returns the new fd.
  virtual SysInt openat(int dirfd, const std::string& path, int flags, mode_t mode) = 0;
  // @see man 2 mkdirat
  virtual SysInt mkdirat(int dirfd, const std::string& path, mode_t mode) = 0;
  // @see man 2 fstatat (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH)
  virtual SysResult<FileStat> fstatat(int dirfd, const std::string& path, int flags) = 0;
  // @see man 2 renameat2 (RENAME_NOREPLACE)
  virtual SysInt renameat2(int olddirfd, const std::string& oldpath, int newdirfd,
                           const std::string& newpath, unsigned int flags) = 0;
  // @see man 2 unlinkat (AT_REMOVEDIR)
  virtual SysInt unlinkat(int dirfd, const std::string& path, int flags) = 0;
  // @see man 2 fchmodat
  virtual SysInt fchmodat(int dirfd, const std::string& path, mode_t mode, int flags) = 0;
  // @see man 2 readlinkat. Returns the link's target.
  virtual SysResult<std::string> readlinkat(int dirfd, const std::string& path) = 0;

  // @see man 2 epoll_create1
  virtual SysInt epoll_create1(int flags) = 0;
  // @see man 2 epoll_ctl. The registration's data is the fd itself; events are
  // ignored for EPOLL_CTL_DEL.
  virtual SysInt epoll_ctl(int epfd, int op, int fd, uint32_t events) = 0;
  // @see man 2 epoll_wait. Fills at most `max_events` of `events`; returns the count.
  virtual SysInt epoll_wait(int epfd, EpollEvent* events, int max_events, int timeout_ms) = 0;

  // @see man 2 clock_gettime, CLOCK_MONOTONIC. The clock timers run on.
  virtual std::chrono::nanoseconds monotonic_now() = 0;
};

}  // namespace netutil
