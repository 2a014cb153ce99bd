// Working defaults for a MockSys, so a test scripts only the calls its rule is
// about. With HealthyKernel installed, a NiceMock<MockSys> behaves like a
// healthy kernel:
//
//   socket        -> 3, 4, 5, ... (a fresh fd each call)
//   setsockopt    -> 0
//   bind          -> 0, and remembers the address per fd
//   getsockname   -> the bound address; port 0 becomes 40001, 40002, ...
//   listen        -> 0
//   close         -> 0, and remembers the fd
//   lstat         -> ENOENT (nothing at the path)
//   connect       -> ECONNREFUSED (nobody listens)
//   unlink, chmod -> 0
//   umask         -> the previous mask (starts at 022), tracked
//   openat        -> a fresh fd, like socket (a directory)
//   fstatat       -> of an fd itself (AT_EMPTY_PATH): a 0700 directory of
//                    uid 0; of a name: ENOENT (nothing there)
//   mkdirat, renameat2, unlinkat, fchmodat -> 0
//   readlinkat    -> EINVAL (not a symlink)
//
// getaddrinfo has no default answer: every test says what resolves, with
// Resolve() or its own EXPECT_CALL. An EXPECT_CALL in a test overrides these
// defaults for the calls it matches (scripted failures, exact arguments).
// Declare the HealthyKernel after the mock and before anything that may still
// call the mock when destroyed (listeners, handles).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <vector>

#include "netutil/fakes/mock_sys.h"
#include "netutil/sock_addr.h"

namespace netutil::unit {

class HealthyKernel {
 public:
  explicit HealthyKernel(fakes::MockSys& sys);
  HealthyKernel(const HealthyKernel&) = delete;
  HealthyKernel& operator=(const HealthyKernel&) = delete;

  // getaddrinfo answers with `addrs`, in that order, for any query.
  void Resolve(std::initializer_list<SockAddr> addrs);

  // fds returned by socket() and not closed yet.
  std::set<int> open_fds() const;
  // Every close(), in order.
  const std::vector<int>& closed() const { return closed_; }
  // The process umask as the mock's umask() calls left it.
  mode_t umask() const { return umask_; }

 private:
  fakes::MockSys& sys_;
  int next_fd_ = 3;
  uint16_t next_port_ = 40001;
  std::set<int> opened_;
  std::vector<int> closed_;
  std::map<int, SockAddr> bound_;
  mode_t umask_ = 022;
};

}  // namespace netutil::unit
