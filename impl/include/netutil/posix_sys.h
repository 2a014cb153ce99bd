// The real Sys: a thin pass-through to the kernel. Each method makes its call
// and reads errno straight after it.
#pragma once

#include "netutil/sys.h"

namespace netutil {

class PosixSys final : public Sys {
 public:
  GaiResult getaddrinfo(const std::optional<std::string>& host, const std::string& service,
                        const AddrInfoHints& hints) override;
  SysInt socket(int domain, int type, int protocol) override;
  SysInt setsockopt(int fd, int level, int optname, int value) override;
  SysInt getsockopt(int fd, int level, int optname) override;
  SysInt bind(int fd, const SockAddr& addr) override;
  SysInt listen(int fd, int backlog) override;
  SysResult<SockAddr> getsockname(int fd) override;
  SysInt accept4(int fd, SockAddr* peer, int flags) override;
  SysInt connect(int fd, const SockAddr& addr) override;
  SysInt close(int fd) override;
  SysInt fcntl(int fd, int cmd, int arg) override;
  SysInt unlink(const std::string& path) override;
  SysResult<FileStat> lstat(const std::string& path) override;
  SysResult<FileStat> stat(const std::string& path) override;
  SysInt chmod(const std::string& path, mode_t mode) override;
  SysInt fchmod(int fd, mode_t mode) override;
  SysInt openat(int dirfd, const std::string& path, int flags, mode_t mode) override;
  SysInt mkdirat(int dirfd, const std::string& path, mode_t mode) override;
  SysResult<FileStat> fstatat(int dirfd, const std::string& path, int flags) override;
  SysInt renameat2(int olddirfd, const std::string& oldpath, int newdirfd,
                   const std::string& newpath, unsigned int flags) override;
  SysInt unlinkat(int dirfd, const std::string& path, int flags) override;
  SysInt fchmodat(int dirfd, const std::string& path, mode_t mode, int flags) override;
  SysResult<std::string> readlinkat(int dirfd, const std::string& path) override;
  mode_t umask(mode_t mask) override;
  SysInt epoll_create1(int flags) override;
  SysInt epoll_ctl(int epfd, int op, int fd, uint32_t events) override;
  SysInt epoll_wait(int epfd, EpollEvent* events, int max_events, int timeout_ms) override;
  std::chrono::nanoseconds monotonic_now() override;
};

}  // namespace netutil
