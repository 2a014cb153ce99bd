// Small real-socket helpers shared by the integration tests: raw fds with RAII,
// connecting and accepting with a deadline, fd counting, temp directories, and
// running an EpollLoop until a condition holds.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "netutil/epoll_loop.h"
#include "netutil/fakes/forwarding_sys.h"
#include "netutil/posix_sys.h"
#include "netutil/result.h"
#include "netutil/sock_addr.h"

// Asserts that a netutil::Result is ok, printing its Error when it is not.
#define IT_ASSERT_OK(result) ASSERT_TRUE((result).ok()) << "error: " << (result).error().ToString()
#define IT_EXPECT_OK(result) EXPECT_TRUE((result).ok()) << "error: " << (result).error().ToString()

namespace netutil::integration {

using std::chrono::milliseconds;

// A raw fd owned without a Sys (test-side sockets: clients, probes).
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() { reset(); }
  ScopedFd(ScopedFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

// Entries of /proc/self/fd (the directory's own fd included, consistently).
int CountOpenFds();

// "ENAME (text)".
std::string Errno(int err);

// A TCP socket connected (or connecting, when `nonblocking`) to `addr`.
// Blocking connects use the kernel's timeout; on loopback they are immediate.
// Returns an invalid fd and sets *err on failure.
ScopedFd ConnectTcp(const SockAddr& addr, bool nonblocking, int* err = nullptr);

// Waits for `fd` to become readable (POLLIN) at most `timeout`.
bool WaitReadable(int fd, milliseconds timeout);

// accept4 on a listening fd after waiting at most `timeout`; invalid if none.
ScopedFd AcceptWithin(int listen_fd, milliseconds timeout, SockAddr* peer = nullptr);

// getsockname as a SockAddr (empty on failure).
SockAddr LocalAddr(int fd);

// getsockopt of an int option; nullopt on failure.
std::optional<int> GetIntOption(int fd, int level, int name);

// Runs loop.RunOnce in short steps until `done()` or `timeout` elapsed; returns done().
bool RunLoopUntil(EpollLoop& loop, const std::function<bool()>& done, milliseconds timeout);

// The loopback address of a family with a port: "127.0.0.1:port" or "[::1]:port".
SockAddr Loopback(int family, uint16_t port);

namespace detail {
// Constructed before the ForwardingSys that refers to it (base-from-member).
struct PosixSysHolder {
  PosixSys real_;
};
}  // namespace detail

// The real kernel through PosixSys, except that accept4 can be told to fail
// with an errno instead of being called. For warming code paths (see the
// EMFILE test) before the real fault; every other call goes to the kernel.
class AcceptFaultSys final : private detail::PosixSysHolder, public fakes::ForwardingSys {
 public:
  int accept4_fails_with = 0;  // 0: call the kernel

  AcceptFaultSys() : ForwardingSys(real_) {}

  SysInt accept4(int fd, SockAddr* peer, int flags) override {
    if (accept4_fails_with != 0) return SysErr(accept4_fails_with);
    return ForwardingSys::accept4(fd, peer, flags);
  }
};

// A fresh directory under $TMPDIR (or /tmp), removed with its content.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Sets the process umask for a scope and restores it after.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask);
  ~ScopedUmask();
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

// The current umask, read without changing it for longer than two calls.
mode_t CurrentUmask();

// User + system CPU time of this process so far.
std::chrono::microseconds ProcessCpuTime();

}  // namespace netutil::integration
