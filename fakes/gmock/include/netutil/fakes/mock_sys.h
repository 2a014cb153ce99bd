// A gMock of the Sys seam. It derives from the pure interface, never from
// PosixSys, so no test that uses it can reach the real kernel.
#pragma once

#include <cerrno>

#include <gmock/gmock.h>

#include "netutil/sys.h"

namespace netutil::fakes {

class MockSys : public Sys {
 public:
  // Un-stubbed calls fail loudly (ENOSYS) instead of returning {0, 0}, which
  // would read as "fd 0, success". close() succeeds by default so RAII cleanup
  // needs no stubbing; tests that check closes use EXPECT_CALL(close).
  MockSys();

  // netutil::Sys
  MOCK_METHOD(GaiResult, getaddrinfo,
              (const std::optional<std::string>& host, const std::string& service,
               const AddrInfoHints& hints),
              (override));
  MOCK_METHOD(SysInt, socket, (int domain, int type, int protocol), (override));
  MOCK_METHOD(SysInt, setsockopt, (int fd, int level, int optname, int value), (override));
  MOCK_METHOD(SysInt, getsockopt, (int fd, int level, int optname), (override));
  MOCK_METHOD(SysInt, bind, (int fd, const SockAddr& addr), (override));
  MOCK_METHOD(SysInt, listen, (int fd, int backlog), (override));
  MOCK_METHOD(SysResult<SockAddr>, getsockname, (int fd), (override));
  MOCK_METHOD(SysInt, accept4, (int fd, SockAddr* peer, int flags), (override));
  MOCK_METHOD(SysInt, connect, (int fd, const SockAddr& addr), (override));
  MOCK_METHOD(SysInt, close, (int fd), (override));
  MOCK_METHOD(SysInt, fcntl, (int fd, int cmd, int arg), (override));
  MOCK_METHOD(SysInt, unlink, (const std::string& path), (override));
  MOCK_METHOD(SysResult<FileStat>, lstat, (const std::string& path), (override));
  MOCK_METHOD(SysResult<FileStat>, stat, (const std::string& path), (override));
  MOCK_METHOD(SysInt, chmod, (const std::string& path, mode_t mode), (override));
  MOCK_METHOD(SysInt, fchmod, (int fd, mode_t mode), (override));
  MOCK_METHOD(mode_t, umask, (mode_t mask), (override));
  MOCK_METHOD(SysInt, openat, (int dirfd, const std::string& path, int flags, mode_t mode),
              (override));
  MOCK_METHOD(SysInt, mkdirat, (int dirfd, const std::string& path, mode_t mode), (override));
  MOCK_METHOD(SysResult<FileStat>, fstatat, (int dirfd, const std::string& path, int flags),
              (override));
  MOCK_METHOD(SysInt, renameat2,
              (int olddirfd, const std::string& oldpath, int newdirfd,
               const std::string& newpath, unsigned int flags),
              (override));
  MOCK_METHOD(SysInt, unlinkat, (int dirfd, const std::string& path, int flags), (override));
  MOCK_METHOD(SysInt, fchmodat, (int dirfd, const std::string& path, mode_t mode, int flags),
              (override));
  MOCK_METHOD(SysResult<std::string>, readlinkat, (int dirfd, const std::string& path),
              (override));
  MOCK_METHOD(SysInt, epoll_create1, (int flags), (override));
  MOCK_METHOD(SysInt, epoll_ctl, (int epfd, int op, int fd, uint32_t events), (override));
  MOCK_METHOD(SysInt, epoll_wait, (int epfd, EpollEvent* events, int max_events, int timeout_ms),
              (override));
  MOCK_METHOD(std::chrono::nanoseconds, monotonic_now, (), (override));
};

}  // namespace netutil::fakes
