// The real seam: each method makes its call and reads errno straight after it.
// Nothing here retries, sleeps or interprets; policy lives above the seam.
#include "netutil/posix_sys.h"

#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>  // renameat2 (glibc 2.28)
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace netutil {
namespace {

FileStat ToFileStat(const struct stat& st) {
  return FileStat{static_cast<uint32_t>(st.st_mode), static_cast<uint64_t>(st.st_dev),
                  static_cast<uint64_t>(st.st_ino), static_cast<uint32_t>(st.st_uid)};
}

SysInt FromRc(int rc) { return {rc, rc == -1 ? errno : 0}; }

}  // namespace

// Returns the list as values and frees it here, so no caller ever sees an addrinfo*.
GaiResult PosixSys::getaddrinfo(const std::optional<std::string>& host, const std::string& service,
                                const AddrInfoHints& hints) {
  addrinfo h{};
  h.ai_family = hints.family;
  h.ai_socktype = hints.socktype;
  h.ai_protocol = hints.protocol;
  h.ai_flags = hints.flags;
  addrinfo* res = nullptr;
  errno = 0;
  int rc = ::getaddrinfo(host ? host->c_str() : nullptr, service.c_str(), &h, &res);
  GaiResult out;
  if (rc != 0) {
    out.gai_err = rc;
    out.sys_err = rc == EAI_SYSTEM ? errno : 0;
    return out;
  }
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    out.addrs.push_back(AddrInfo{ai->ai_family, ai->ai_socktype, ai->ai_protocol,
                                 ai->ai_canonname ? ai->ai_canonname : "",
                                 SockAddr::FromRaw(ai->ai_addr, ai->ai_addrlen)});
  }
  ::freeaddrinfo(res);
  return out;
}

SysInt PosixSys::socket(int domain, int type, int protocol) {
  return FromRc(::socket(domain, type, protocol));
}

SysInt PosixSys::setsockopt(int fd, int level, int optname, int value) {
  return FromRc(::setsockopt(fd, level, optname, &value, sizeof value));
}

SysInt PosixSys::getsockopt(int fd, int level, int optname) {
  int value = 0;
  socklen_t len = sizeof value;
  int rc = ::getsockopt(fd, level, optname, &value, &len);
  if (rc == -1) return {-1, errno};
  return {value, 0};
}

SysInt PosixSys::bind(int fd, const SockAddr& addr) {
  return FromRc(::bind(fd, addr.data(), addr.len()));
}

SysInt PosixSys::listen(int fd, int backlog) { return FromRc(::listen(fd, backlog)); }

SysResult<SockAddr> PosixSys::getsockname(int fd) {
  SockAddr a;
  socklen_t len = sizeof(sockaddr_storage);
  int rc = ::getsockname(fd, a.mutable_data(), &len);
  if (rc == -1) return {SockAddr{}, errno};
  a.set_len(len);
  return {a, 0};
}

SysInt PosixSys::accept4(int fd, SockAddr* peer, int flags) {
  if (peer == nullptr) return FromRc(::accept4(fd, nullptr, nullptr, flags));
  socklen_t len = sizeof(sockaddr_storage);
  int rc = ::accept4(fd, peer->mutable_data(), &len, flags);
  if (rc == -1) return {-1, errno};
  peer->set_len(len);
  return {rc, 0};
}

SysInt PosixSys::connect(int fd, const SockAddr& addr) {
  return FromRc(::connect(fd, addr.data(), addr.len()));
}

SysInt PosixSys::close(int fd) { return FromRc(::close(fd)); }

SysInt PosixSys::fcntl(int fd, int cmd, int arg) { return FromRc(::fcntl(fd, cmd, arg)); }

SysInt PosixSys::ioctl(int fd, unsigned long request, int value) {
  return FromRc(::ioctl(fd, request, &value));
}

// By number: glibc has close_range only from 2.34.
SysInt PosixSys::close_range(unsigned int first, unsigned int last, unsigned int flags) {
  return FromRc(static_cast<int>(::syscall(SYS_close_range, first, last, flags)));
}

SysInt PosixSys::unlink(const std::string& path) { return FromRc(::unlink(path.c_str())); }

SysResult<FileStat> PosixSys::lstat(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == -1) return {FileStat{}, errno};
  return {ToFileStat(st), 0};
}

SysResult<FileStat> PosixSys::stat(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == -1) return {FileStat{}, errno};
  return {ToFileStat(st), 0};
}

SysInt PosixSys::chmod(const std::string& path, mode_t mode) {
  return FromRc(::chmod(path.c_str(), mode));
}

SysInt PosixSys::fchmod(int fd, mode_t mode) { return FromRc(::fchmod(fd, mode)); }

mode_t PosixSys::umask(mode_t mask) { return ::umask(mask); }

SysInt PosixSys::openat(int dirfd, const std::string& path, int flags, mode_t mode) {
  return FromRc(::openat(dirfd, path.c_str(), flags, mode));
}

SysInt PosixSys::mkdirat(int dirfd, const std::string& path, mode_t mode) {
  return FromRc(::mkdirat(dirfd, path.c_str(), mode));
}

SysResult<FileStat> PosixSys::fstatat(int dirfd, const std::string& path, int flags) {
  struct stat st {};
  if (::fstatat(dirfd, path.c_str(), &st, flags) == -1) return {FileStat{}, errno};
  return {ToFileStat(st), 0};
}

SysInt PosixSys::renameat2(int olddirfd, const std::string& oldpath, int newdirfd,
                           const std::string& newpath, unsigned int flags) {
  return FromRc(::renameat2(olddirfd, oldpath.c_str(), newdirfd, newpath.c_str(), flags));
}

SysInt PosixSys::unlinkat(int dirfd, const std::string& path, int flags) {
  return FromRc(::unlinkat(dirfd, path.c_str(), flags));
}

SysInt PosixSys::fchmodat(int dirfd, const std::string& path, mode_t mode, int flags) {
  return FromRc(::fchmodat(dirfd, path.c_str(), mode, flags));
}

SysResult<std::string> PosixSys::readlinkat(int dirfd, const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlinkat(dirfd, path.c_str(), buf, sizeof buf);
  if (n == -1) return {std::string(), errno};
  if (static_cast<size_t>(n) == sizeof buf) return {std::string(), ENAMETOOLONG};
  return {std::string(buf, static_cast<size_t>(n)), 0};
}

SysInt PosixSys::epoll_create1(int flags) { return FromRc(::epoll_create1(flags)); }

SysInt PosixSys::epoll_ctl(int epfd, int op, int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  return FromRc(::epoll_ctl(epfd, op, fd, &ev));
}

SysInt PosixSys::epoll_wait(int epfd, EpollEvent* events, int max_events, int timeout_ms) {
  constexpr int kChunk = 256;
  epoll_event buf[kChunk];
  int n = ::epoll_wait(epfd, buf, std::clamp(max_events, 1, kChunk), timeout_ms);
  if (n == -1) return {-1, errno};
  for (int i = 0; i < n; ++i) events[i] = EpollEvent{buf[i].events, buf[i].data.fd};
  return {n, 0};
}

std::chrono::nanoseconds PosixSys::monotonic_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace netutil
