#include "healthy_kernel.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "netutil/fakes/addr_builders.h"

namespace netutil::unit {

using ::testing::Invoke;
using ::testing::Return;

HealthyKernel::HealthyKernel(fakes::MockSys& sys) : sys_(sys) {
  ON_CALL(sys, socket).WillByDefault(Invoke([this](int, int, int) {
    opened_.insert(next_fd_);
    return SysOk(next_fd_++);
  }));
  ON_CALL(sys, setsockopt).WillByDefault(Return(SysOk()));
  ON_CALL(sys, bind).WillByDefault(Invoke([this](int fd, const SockAddr& addr) {
    bound_[fd] = addr;
    return SysOk();
  }));
  ON_CALL(sys, getsockname).WillByDefault(Invoke([this](int fd) -> SysResult<SockAddr> {
    auto it = bound_.find(fd);
    if (it == bound_.end()) return SysErr<SockAddr>(EINVAL);
    SockAddr a = it->second;
    if ((a.family() == AF_INET || a.family() == AF_INET6) && a.port() == 0) {
      a = a.WithPort(next_port_++);
      it->second = a;
    }
    return {a, 0};
  }));
  ON_CALL(sys, listen).WillByDefault(Return(SysOk()));
  ON_CALL(sys, close).WillByDefault(Invoke([this](int fd) {
    closed_.push_back(fd);
    opened_.erase(fd);
    return SysOk();
  }));
  ON_CALL(sys, lstat).WillByDefault(Return(SysErr<FileStat>(ENOENT)));
  ON_CALL(sys, connect).WillByDefault(Return(SysErr(ECONNREFUSED)));
  ON_CALL(sys, unlink).WillByDefault(Return(SysOk()));
  ON_CALL(sys, chmod).WillByDefault(Return(SysOk()));
  ON_CALL(sys, openat).WillByDefault(Invoke([this](int, const std::string&, int, mode_t) {
    opened_.insert(next_fd_);
    return SysOk(next_fd_++);
  }));
  ON_CALL(sys, fstatat)
      .WillByDefault(Invoke([](int, const std::string& path, int flags) -> SysResult<FileStat> {
        if (path.empty() && (flags & AT_EMPTY_PATH) != 0) {
          return {FileStat{S_IFDIR | 0700, 1, 2, 0}, 0};
        }
        return SysErr<FileStat>(ENOENT);
      }));
  ON_CALL(sys, mkdirat).WillByDefault(Return(SysOk()));
  ON_CALL(sys, renameat2).WillByDefault(Return(SysOk()));
  ON_CALL(sys, unlinkat).WillByDefault(Return(SysOk()));
  ON_CALL(sys, fchmodat).WillByDefault(Return(SysOk()));
  ON_CALL(sys, readlinkat).WillByDefault(Return(SysErr<std::string>(EINVAL)));
  // bind_unix_socket makes several calls of each of these with different
  // arguments: a test's EXPECT_CALL on one of them must not turn the others
  // into unexpected calls. (A later EXPECT_CALL, Times(0) included, still
  // takes precedence.)
  using ::testing::AnyNumber;
  EXPECT_CALL(sys, openat).Times(AnyNumber());
  EXPECT_CALL(sys, fstatat).Times(AnyNumber());
  EXPECT_CALL(sys, mkdirat).Times(AnyNumber());
  EXPECT_CALL(sys, renameat2).Times(AnyNumber());
  EXPECT_CALL(sys, unlinkat).Times(AnyNumber());
  EXPECT_CALL(sys, fchmodat).Times(AnyNumber());
  EXPECT_CALL(sys, readlinkat).Times(AnyNumber());
  EXPECT_CALL(sys, bind).Times(AnyNumber());
  EXPECT_CALL(sys, connect).Times(AnyNumber());
  ON_CALL(sys, umask).WillByDefault(Invoke([this](mode_t mask) {
    mode_t old = umask_;
    umask_ = mask;
    return old;
  }));
}

void HealthyKernel::Resolve(std::initializer_list<SockAddr> addrs) {
  ON_CALL(sys_, getaddrinfo).WillByDefault(Return(fakes::Resolved(addrs)));
}

std::set<int> HealthyKernel::open_fds() const { return opened_; }

}  // namespace netutil::unit
