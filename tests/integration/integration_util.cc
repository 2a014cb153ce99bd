#include "integration_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "netutil/errno_name.h"

namespace netutil::integration {

void ScopedFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int CountOpenFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

std::string Errno(int err) { return std::string(ErrnoName(err)) + " (" + std::strerror(err) + ")"; }

ScopedFd ConnectTcp(const SockAddr& addr, bool nonblocking, int* err) {
  int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  ScopedFd fd(::socket(addr.family(), type, 0));
  if (!fd.valid()) {
    if (err) *err = errno;
    return fd;
  }
  int rc;
  do {
    rc = ::connect(fd.get(), addr.data(), addr.len());
  } while (rc != 0 && errno == EINTR && !nonblocking);
  if (rc != 0 && !(nonblocking && errno == EINPROGRESS)) {
    if (err) *err = errno;
    return ScopedFd();
  }
  if (err) *err = 0;
  return fd;
}

bool WaitReadable(int fd, milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  return rc == 1 && (p.revents & POLLIN) != 0;
}

ScopedFd AcceptWithin(int listen_fd, milliseconds timeout, SockAddr* peer) {
  if (!WaitReadable(listen_fd, timeout)) return ScopedFd();
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ScopedFd fd(::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC));
  if (fd.valid() && peer != nullptr) *peer = SockAddr::FromRaw(&ss, len);
  return fd;
}

SockAddr LocalAddr(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return SockAddr();
  return SockAddr::FromRaw(&ss, len);
}

std::optional<int> GetIntOption(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, level, name, &v, &len) != 0) return std::nullopt;
  return v;
}

bool RunLoopUntil(EpollLoop& loop, const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    Result<int> r = loop.RunOnce(milliseconds(10));
    if (!r.ok()) {
      ADD_FAILURE() << "EpollLoop::RunOnce: " << r.error().ToString();
      return false;
    }
  }
  return true;
}

SockAddr Loopback(int family, uint16_t port) {
  return *SockAddr::FromIp(family == AF_INET6 ? "::1" : "127.0.0.1", port);
}

TempDir::TempDir() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/netutil-it-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp(" + tmpl + "): " + Errno(errno));
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ScopedUmask::ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
ScopedUmask::~ScopedUmask() { ::umask(old_); }

mode_t CurrentUmask() {
  mode_t m = ::umask(0);
  ::umask(m);
  return m;
}

std::chrono::microseconds ProcessCpuTime() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto us = [](const timeval& tv) {
    return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  };
  return us(ru.ru_utime) + us(ru.ru_stime);
}

}  // namespace netutil::integration
