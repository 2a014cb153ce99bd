// A Sys that passes every call to another one, unchanged. The base of
// decorators: derive, override only the calls you change, and call
// ForwardingSys::<call> (or inner()) to reach the wrapped Sys.
//
//   class NoIpv6 final : public ForwardingSys {
//    public:
//     using ForwardingSys::ForwardingSys;
//     SysInt socket(int d, int t, int p) override {
//       return d == AF_INET6 ? SysErr(EAFNOSUPPORT) : ForwardingSys::socket(d, t, p);
//     }
//   };
//
// Header-only on purpose: targets that must not link the rest of fakes (and
// gmock), such as the libFuzzer builds, include it through the fakes include
// directory alone.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "netutil/sys.h"

namespace netutil::fakes {

class ForwardingSys : public Sys {
 public:
  explicit ForwardingSys(Sys& inner) : inner_(inner) {}
  ForwardingSys(const ForwardingSys&) = delete;
  ForwardingSys& operator=(const ForwardingSys&) = delete;

  Sys& inner() { return inner_; }

  // netutil::Sys
  GaiResult getaddrinfo(const std::optional<std::string>& host, const std::string& service,
                        const AddrInfoHints& hints) override {
    return inner_.getaddrinfo(host, service, hints);
  }
  SysInt socket(int domain, int type, int protocol) override {
    return inner_.socket(domain, type, protocol);
  }
  SysInt setsockopt(int fd, int level, int optname, int value) override {
    return inner_.setsockopt(fd, level, optname, value);
  }
  SysInt getsockopt(int fd, int level, int optname) override {
    return inner_.getsockopt(fd, level, optname);
  }
  SysInt bind(int fd, const SockAddr& addr) override { return inner_.bind(fd, addr); }
  SysInt listen(int fd, int backlog) override { return inner_.listen(fd, backlog); }
  SysResult<SockAddr> getsockname(int fd) override { return inner_.getsockname(fd); }
  SysInt accept4(int fd, SockAddr* peer, int flags) override {
    return inner_.accept4(fd, peer, flags);
  }
  SysInt connect(int fd, const SockAddr& addr) override { return inner_.connect(fd, addr); }
  SysInt close(int fd) override { return inner_.close(fd); }
  SysInt fcntl(int fd, int cmd, int arg) override { return inner_.fcntl(fd, cmd, arg); }
  SysInt unlink(const std::string& path) override { return inner_.unlink(path); }
  SysResult<FileStat> lstat(const std::string& path) override { return inner_.lstat(path); }
  SysResult<FileStat> stat(const std::string& path) override { return inner_.stat(path); }
  SysInt chmod(const std::string& path, mode_t mode) override { return inner_.chmod(path, mode); }
  SysInt fchmod(int fd, mode_t mode) override { return inner_.fchmod(fd, mode); }
  mode_t umask(mode_t mask) override { return inner_.umask(mask); }
  SysInt openat(int dirfd, const std::string& path, int flags, mode_t mode) override {
    return inner_.openat(dirfd, path, flags, mode);
  }
  SysInt mkdirat(int dirfd, const std::string& path, mode_t mode) override {
    return inner_.mkdirat(dirfd, path, mode);
  }
  SysResult<FileStat> fstatat(int dirfd, const std::string& path, int flags) override {
    return inner_.fstatat(dirfd, path, flags);
  }
  SysInt renameat2(int olddirfd, const std::string& oldpath, int newdirfd,
                   const std::string& newpath, unsigned int flags) override {
    return inner_.renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
  }
  SysInt unlinkat(int dirfd, const std::string& path, int flags) override {
    return inner_.unlinkat(dirfd, path, flags);
  }
  SysInt fchmodat(int dirfd, const std::string& path, mode_t mode, int flags) override {
    return inner_.fchmodat(dirfd, path, mode, flags);
  }
  SysResult<std::string> readlinkat(int dirfd, const std::string& path) override {
    return inner_.readlinkat(dirfd, path);
  }
  SysInt epoll_create1(int flags) override { return inner_.epoll_create1(flags); }
  SysInt epoll_ctl(int epfd, int op, int fd, uint32_t events) override {
    return inner_.epoll_ctl(epfd, op, fd, events);
  }
  SysInt epoll_wait(int epfd, EpollEvent* events, int max_events, int timeout_ms) override {
    return inner_.epoll_wait(epfd, events, max_events, timeout_ms);
  }
  std::chrono::nanoseconds monotonic_now() override { return inner_.monotonic_now(); }

 private:
  Sys& inner_;
};

}  // namespace netutil::fakes
