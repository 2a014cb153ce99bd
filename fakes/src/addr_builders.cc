#include "netutil/fakes/addr_builders.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>

#include "netutil/fakes/mock_sys.h"

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

SockAddr Ip(const std::string& literal, uint16_t port, uint32_t scope_id) {
  auto a = SockAddr::FromIp(literal, port, scope_id);
  if (!a) {
    std::fprintf(stderr, "fakes::Ip: not an IP literal: %s\n", literal.c_str());
    std::abort();
  }
  return *a;
}

AddrInfo Tcp(const SockAddr& addr) {
  return AddrInfo{addr.family(), SOCK_STREAM, IPPROTO_TCP, "", addr};
}

GaiResult Resolved(std::initializer_list<SockAddr> addrs) {
  GaiResult r;
  for (const auto& a : addrs) r.addrs.push_back(Tcp(a));
  return r;
}

GaiResult ResolveFails(int gai_err, int sys_err) { return GaiResult{gai_err, sys_err, {}}; }

FileStat StatOf(uint32_t type, uint32_t perm) { return FileStat{type | perm, 1, 1, 0}; }

}  // namespace netutil::fakes
