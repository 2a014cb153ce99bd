// MockSys's defaults: every call fails with ENOSYS unless a test scripts it
// (mock_sys.h says why). Compiled only into netutil_fakes_gmock, the one
// fakes library that links gMock.
#include "netutil/fakes/mock_sys.h"

#include <netdb.h>

#include <chrono>
#include <string>

#include "netutil/fakes/addr_builders.h"

namespace netutil::fakes {

MockSys::MockSys() {
  using ::testing::Return;
  ON_CALL(*this, getaddrinfo).WillByDefault(Return(ResolveFails(EAI_SYSTEM, ENOSYS)));
  ON_CALL(*this, socket).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, setsockopt).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, getsockopt).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, bind).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, listen).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, getsockname).WillByDefault(Return(SysErr<SockAddr>(ENOSYS)));
  ON_CALL(*this, accept4).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, connect).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, close).WillByDefault(Return(SysOk()));
  ON_CALL(*this, fcntl).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, unlink).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, lstat).WillByDefault(Return(SysErr<FileStat>(ENOSYS)));
  ON_CALL(*this, stat).WillByDefault(Return(SysErr<FileStat>(ENOSYS)));
  ON_CALL(*this, chmod).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, fchmod).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, umask).WillByDefault(Return(static_cast<mode_t>(022)));
  ON_CALL(*this, openat).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, mkdirat).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, fstatat).WillByDefault(Return(SysErr<FileStat>(ENOSYS)));
  ON_CALL(*this, renameat2).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, unlinkat).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, fchmodat).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, readlinkat).WillByDefault(Return(SysErr<std::string>(ENOSYS)));
  ON_CALL(*this, epoll_create1).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, epoll_ctl).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, epoll_wait).WillByDefault(Return(SysErr(ENOSYS)));
  ON_CALL(*this, monotonic_now).WillByDefault(Return(std::chrono::nanoseconds(0)));
}

}  // namespace netutil::fakes
