#include "fuzzed_sys.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "netutil/errno_name.h"

namespace netutil::fuzz {
namespace {

// The errnos each call can return, from its man page (Linux).
const std::vector<int> kSocketErrs = {EACCES, EAFNOSUPPORT, EINVAL, EMFILE, ENFILE,
                                      ENOBUFS, ENOMEM, EPROTONOSUPPORT};
const std::vector<int> kSetsockoptErrs = {EBADF, EINVAL, ENOPROTOOPT, ENOTSOCK};
const std::vector<int> kBindErrs = {EACCES, EADDRINUSE, EINVAL, EADDRNOTAVAIL, ELOOP,
                                    ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR, EROFS};
const std::vector<int> kListenErrs = {EADDRINUSE, EOPNOTSUPP};
const std::vector<int> kGetsocknameErrs = {EINVAL, ENOBUFS};
const std::vector<int> kAcceptErrs = {EAGAIN, ECONNABORTED, EINTR, EINVAL, EMFILE, ENFILE,
                                      ENOBUFS, ENOMEM, EOPNOTSUPP, EPERM, EPROTO, ENETDOWN,
                                      ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
                                      ENETUNREACH, EBADF, ENOTSOCK};
const std::vector<int> kConnectErrs = {EACCES, EPERM, EAGAIN, ECONNREFUSED, EINTR,
                                       ENOENT, ETIMEDOUT, EPROTOTYPE};
const std::vector<int> kCloseErrs = {EINTR, EIO};
const std::vector<int> kLstatErrs = {EACCES, ELOOP, ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR};
const std::vector<int> kUnlinkErrs = {EACCES, EBUSY, EIO, EISDIR, ENOENT, EPERM, EROFS};
const std::vector<int> kChmodErrs = {EACCES, EIO, ENOENT, ENOMEM, EPERM, EROFS};
const std::vector<int> kEpollCreateErrs = {EMFILE, ENFILE, ENOMEM};
const std::vector<int> kEpollCtlErrs = {ENOMEM, ENOSPC};
const std::vector<int> kEpollWaitErrs = {EINTR};
const std::vector<int> kGaiErrs = {EAI_AGAIN, EAI_FAIL, EAI_FAMILY, EAI_MEMORY,
                                   EAI_NONAME, EAI_SERVICE, EAI_SYSTEM};

// Addresses a resolver might hand back, duplicates and link-local included.
const char* const kPool[] = {"0.0.0.0", "::",          "127.0.0.1",  "::1",
                             "192.0.2.7", "2001:db8::7", "fe80::1%2", "127.0.0.1"};

}  // namespace

int FuzzedSys::Outcome(const std::vector<int>& legal, int exhausted_err) {
  if (setup_) return 0;
  if (in_.remaining_bytes() == 0) return exhausted_err;
  const uint8_t choice = in_.ConsumeIntegral<uint8_t>();
  if (choice < 176) return 0;  // mostly success, so deep paths are reached
  return legal[choice % legal.size()];
}

bool FuzzedSys::Known(int fd, const char* call) {
  if (open_.count(fd) != 0) return true;
  violations_.push_back(std::string(call) + " on fd " + std::to_string(fd) +
                        ", which is not open");
  return false;
}

int FuzzedSys::NewFd(int family, bool epoll) {
  int fd = 3;
  while (open_.count(fd) != 0) ++fd;  // lowest free, as the kernel does
  open_.insert(fd);
  socks_[fd] = Sock{family, false, false, epoll, {}};
  return fd;
}

bool FuzzedSys::is_listening(int fd) const {
  auto it = socks_.find(fd);
  return open_.count(fd) != 0 && it != socks_.end() && it->second.listening;
}

int FuzzedSys::calls_of(const std::string& name) const {
  auto it = per_call_.find(name);
  return it == per_call_.end() ? 0 : it->second;
}

uint32_t FuzzedSys::epoll_mask(int fd) const {
  auto it = epoll_masks_.find(fd);
  return it == epoll_masks_.end() ? 0 : it->second;
}

GaiResult FuzzedSys::getaddrinfo(const std::optional<std::string>&, const std::string& service,
                                 const AddrInfoHints& hints) {
  ++calls_, ++per_call_["getaddrinfo"];
  int err = Outcome(kGaiErrs, EAI_NONAME);
  if (err != 0) return GaiResult{err, err == EAI_SYSTEM ? EAGAIN : 0, {}};
  const uint16_t port = static_cast<uint16_t>(std::strtoul(service.c_str(), nullptr, 10));
  GaiResult r;
  const int n = setup_ ? 1 : in_.ConsumeIntegralInRange<int>(0, 6);
  for (int i = 0; i < n; ++i) {
    const char* lit = setup_ ? "0.0.0.0" : kPool[in_.ConsumeIntegralInRange<size_t>(0, 7)];
    SockAddr a = *SockAddr::FromIp(lit, port);
    if (hints.family != AF_UNSPEC && a.family() != hints.family) continue;
    r.addrs.push_back(AddrInfo{a.family(), SOCK_STREAM, IPPROTO_TCP, "", a});
  }
  return r;
}

SysInt FuzzedSys::socket(int domain, int, int) {
  ++calls_, ++per_call_["socket"];
  if (int err = Outcome(kSocketErrs, EMFILE)) return SysErr(err);
  return SysOk(NewFd(domain, false));
}

SysInt FuzzedSys::setsockopt(int fd, int, int, int) {
  ++calls_, ++per_call_["setsockopt"];
  if (!Known(fd, "setsockopt")) return SysErr(EBADF);
  if (int err = Outcome(kSetsockoptErrs, 0)) return SysErr(err);
  return SysOk();
}

SysInt FuzzedSys::getsockopt(int fd, int, int) {
  ++calls_, ++per_call_["getsockopt"];
  if (!Known(fd, "getsockopt")) return SysErr(EBADF);
  return SysOk(1);
}

SysInt FuzzedSys::bind(int fd, const SockAddr& addr) {
  ++calls_, ++per_call_["bind"];
  if (!Known(fd, "bind")) return SysErr(EBADF);
  if (int err = Outcome(kBindErrs, EADDRINUSE)) return SysErr(err);
  Sock& s = socks_[fd];
  s.bound = true;
  s.local = addr;
  if (addr.family() == AF_UNIX && !addr.is_abstract_unix()) files_.insert(addr.unix_path());
  return SysOk();
}

SysInt FuzzedSys::listen(int fd, int) {
  ++calls_, ++per_call_["listen"];
  if (!Known(fd, "listen")) return SysErr(EBADF);
  if (int err = Outcome(kListenErrs, 0)) return SysErr(err);
  socks_[fd].listening = true;
  return SysOk();
}

SysResult<SockAddr> FuzzedSys::getsockname(int fd) {
  ++calls_, ++per_call_["getsockname"];
  if (!Known(fd, "getsockname")) return SysErr<SockAddr>(EBADF);
  if (int err = Outcome(kGetsocknameErrs, 0)) return SysErr<SockAddr>(err);
  Sock& s = socks_[fd];
  if ((s.local.family() == AF_INET || s.local.family() == AF_INET6) && s.local.port() == 0) {
    // The kernel's choice of port, remembered: the socket keeps it.
    uint16_t port = setup_ ? 40000 : in_.ConsumeIntegralInRange<uint16_t>(1024, 65535);
    s.local = s.local.WithPort(port);
  }
  return {s.local, 0};
}

SysInt FuzzedSys::accept4(int fd, SockAddr* peer, int) {
  ++calls_, ++per_call_["accept4"];
  if (!Known(fd, "accept4")) return SysErr(EBADF);
  if (int err = Outcome(kAcceptErrs, EAGAIN)) return SysErr(err);
  if (peer != nullptr) *peer = *SockAddr::FromIp("127.0.0.1", 50000);
  return SysOk(NewFd(AF_INET, false));
}

SysInt FuzzedSys::connect(int fd, const SockAddr&) {
  ++calls_, ++per_call_["connect"];
  if (!Known(fd, "connect")) return SysErr(EBADF);
  if (int err = Outcome(kConnectErrs, ECONNREFUSED)) return SysErr(err);
  return SysOk();
}

SysInt FuzzedSys::close(int fd) {
  ++calls_, ++per_call_["close"];
  if (!Known(fd, "close")) return SysErr(EBADF);
  // On Linux the fd is released whatever close() returns.
  open_.erase(fd);
  socks_.erase(fd);
  epoll_masks_.erase(fd);
  if (int err = Outcome(kCloseErrs, 0)) return SysErr(err);
  return SysOk();
}

SysInt FuzzedSys::fcntl(int fd, int, int) {
  ++calls_, ++per_call_["fcntl"];
  if (!Known(fd, "fcntl")) return SysErr(EBADF);
  return SysOk();
}

SysInt FuzzedSys::unlink(const std::string& path) {
  ++calls_, ++per_call_["unlink"];
  unlinked_.push_back(path);
  if (int err = Outcome(kUnlinkErrs, 0)) return SysErr(err);
  files_.erase(path);
  return SysOk();
}

SysResult<FileStat> FuzzedSys::lstat(const std::string& path) {
  ++calls_, ++per_call_["lstat"];
  if (int err = Outcome(kLstatErrs, ENOENT)) return SysErr<FileStat>(err);
  static const uint32_t kTypes[] = {S_IFSOCK, S_IFREG, S_IFLNK, S_IFDIR, S_IFIFO};
  uint32_t type = files_.count(path) != 0 ? S_IFSOCK : kTypes[in_.ConsumeIntegralInRange(0, 4)];
  return {FileStat{type | 0644, 1, 1, 0}, 0};
}

SysResult<FileStat> FuzzedSys::stat(const std::string& path) {
  ++calls_, ++per_call_["stat"];
  return lstat(path);
}

SysInt FuzzedSys::chmod(const std::string&, mode_t) {
  ++calls_, ++per_call_["chmod"];
  if (int err = Outcome(kChmodErrs, 0)) return SysErr(err);
  return SysOk();
}

SysInt FuzzedSys::fchmod(int fd, mode_t) {
  ++calls_, ++per_call_["fchmod"];
  if (!Known(fd, "fchmod")) return SysErr(EBADF);
  return SysOk();
}

mode_t FuzzedSys::umask(mode_t mask) {
  ++calls_, ++per_call_["umask"];
  mode_t old = umask_;
  umask_ = mask & 0777;
  return old;
}

SysInt FuzzedSys::epoll_create1(int) {
  ++calls_, ++per_call_["epoll_create1"];
  if (int err = Outcome(kEpollCreateErrs, EMFILE)) return SysErr(err);
  return SysOk(NewFd(0, true));
}

SysInt FuzzedSys::epoll_ctl(int epfd, int op, int fd, uint32_t events) {
  ++calls_, ++per_call_["epoll_ctl"];
  if (!Known(epfd, "epoll_ctl(epfd)")) return SysErr(EBADF);
  if (op != EPOLL_CTL_DEL && !Known(fd, "epoll_ctl(fd)")) return SysErr(EBADF);
  const bool registered = epoll_masks_.count(fd) != 0;
  if (op == EPOLL_CTL_ADD && registered) return SysErr(EEXIST);
  if (op != EPOLL_CTL_ADD && !registered) return SysErr(ENOENT);
  if (op == EPOLL_CTL_DEL) {
    epoll_masks_.erase(fd);
    return SysOk();
  }
  if (int err = Outcome(kEpollCtlErrs, 0)) return SysErr(err);
  epoll_masks_[fd] = events;
  return SysOk();
}

SysInt FuzzedSys::epoll_wait(int epfd, EpollEvent* events, int max_events, int timeout_ms) {
  ++calls_, ++per_call_["epoll_wait"];
  if (!Known(epfd, "epoll_wait")) return SysErr(EBADF);
  const int wait_ms = timeout_ms < 0 ? 5000 : timeout_ms;
  if (in_.remaining_bytes() == 0) {  // nothing more happens: time passes, nothing is ready
    now_ += std::chrono::milliseconds(wait_ms);
    return SysOk(0);
  }
  if (int err = Outcome(kEpollWaitErrs, 0)) return SysErr(err);
  int n = 0;
  for (const auto& [fd, mask] : epoll_masks_) {
    if (n < max_events && (mask & EPOLLIN) != 0 && in_.ConsumeBool()) {
      events[n++] = EpollEvent{EPOLLIN, fd};
    }
  }
  // Time passes: up to the timeout when nothing is ready, a little otherwise.
  now_ += std::chrono::milliseconds(
      n == 0 ? wait_ms : in_.ConsumeIntegralInRange<int>(0, std::max(wait_ms, 0)));
  return SysOk(n);
}

std::chrono::nanoseconds FuzzedSys::monotonic_now() { return now_; }

void AbortOnViolations(const FuzzedSys& sys, const char* where) {
  if (sys.violations().empty()) return;
  std::fprintf(stderr, "%s: the code under test misused the seam:\n", where);
  for (const auto& v : sys.violations()) std::fprintf(stderr, "  %s\n", v.c_str());
  std::abort();
}

void Check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "oracle failed: %s\n", what.c_str());
  std::abort();
}

}  // namespace netutil::fuzz
