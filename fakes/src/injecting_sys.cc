#include "netutil/fakes/injecting_sys.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace netutil::fakes {
namespace {

std::string AddrListText(const std::vector<AddrInfo>& addrs) {
  std::string s = "[";
  for (size_t i = 0; i < addrs.size(); ++i) {
    if (i != 0) s += ", ";
    s += addrs[i].addr.ToString();
  }
  return s + "]";
}

}  // namespace

std::string FileStatText(const FileStat& st) {
  std::string type;
  switch (st.mode & S_IFMT) {
    case S_IFSOCK:
      type = "S_IFSOCK";
      break;
    case S_IFREG:
      type = "S_IFREG";
      break;
    case S_IFDIR:
      type = "S_IFDIR";
      break;
    case S_IFLNK:
      type = "S_IFLNK";
      break;
    default:
      type = "S_IF?";
  }
  return "{" + type + "|" + ModeText(st.mode & 07777) + "}";
}

InjectingSys::InjectingSys(Sys& inner, FaultPlan plan)
    : ForwardingSys(inner), faults_(std::move(plan)) {}

void InjectingSys::RunSwaps() {
  for (const FsSwap& s : faults_.TakeSwaps()) {
    const int err = swapper_ ? swapper_(s) : RealFsSwap(s);
    swaps_done_.push_back("swap " + s.path + " with " + PrintSwapWhat(s) + ": " +
                          (err == 0 ? std::string("ok") : ErrnoName(err)));
  }
}

int RealFsSwap(const FsSwap& s) {
  auto rc = [](int r) { return r == 0 ? 0 : errno; };
  struct stat st {};
  if (s.kind != FsSwap::Kind::kExchange && ::lstat(s.path.c_str(), &st) == 0) {
    if (::rename(s.path.c_str(), (s.path + ".orig").c_str()) != 0) return errno;
  }
  switch (s.kind) {
    case FsSwap::Kind::kSymlink:
      return rc(::symlink(s.arg.c_str(), s.path.c_str()));
    case FsSwap::Kind::kFile: {
      const int fd = ::open(s.path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0) return errno;
      ::close(fd);
      return 0;
    }
    case FsSwap::Kind::kDir:
      return rc(::mkdir(s.path.c_str(), 0755));
    case FsSwap::Kind::kSocket: {
      auto addr = SockAddr::Unix(s.path);
      if (!addr) return ENAMETOOLONG;
      const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return errno;
      const int err = rc(::bind(fd, addr->data(), addr->len()));
      ::close(fd);  // nobody listens: a stale socket
      return err;
    }
    case FsSwap::Kind::kRename:
      return rc(::rename(s.arg.c_str(), s.path.c_str()));
    case FsSwap::Kind::kExchange:
      return rc(::renameat2(AT_FDCWD, s.arg.c_str(), AT_FDCWD, s.path.c_str(), RENAME_EXCHANGE));
  }
  return EINVAL;
}

void InjectingSys::Record(const CallArgs& args, std::string result, int err, int sys_err,
                          bool injected) {
  if (!tracing_) return;
  trace_.Add(TraceEntry{args.call, args.text, std::move(result), err, sys_err, injected});
}

template <typename Real, typename Describe>
SysInt InjectingSys::IntCall(const CallArgs& args, Real&& real, Describe&& describe) {
  SysInt r;
  const std::optional<FaultOutcome> o = faults_.Decide(args);
  if (!o) {
    r = real();
  } else if (o->kind == FaultOutcome::Kind::kValue) {
    r = SysOk(o->code);
  } else {
    if (TakesEffectDespite(args.call, o->code)) (void)real();
    r = SysErr(o->code);
  }
  // A chosen value left the out-parameters as they were: print the value only.
  std::string text;
  if (r.ok()) text = o ? std::to_string(r.value) : describe(r);
  Record(args, std::move(text), r.err, 0, o.has_value());
  RunSwaps();
  return r;
}

template <typename T, typename Real, typename Describe>
SysResult<T> InjectingSys::ValueCall(const CallArgs& args, Real&& real, Describe&& describe) {
  SysResult<T> r;
  // Validate() admits only errno outcomes for calls that do not return an int.
  const std::optional<FaultOutcome> o = faults_.Decide(args);
  if (!o) {
    r = real();
  } else {
    r = SysErr<T>(o->code);
  }
  Record(args, r.ok() ? describe(r.value) : std::string(), r.err, 0, o.has_value());
  RunSwaps();
  return r;
}

namespace {
auto Plain = [](const SysInt& r) { return std::to_string(r.value); };
}  // namespace

GaiResult InjectingSys::getaddrinfo(const std::optional<std::string>& host,
                                    const std::string& service, const AddrInfoHints& hints) {
  const CallArgs args = GetaddrinfoArgs(host, service, hints);
  GaiResult r;
  const std::optional<FaultOutcome> o = faults_.Decide(args);
  const bool in_table = host && resolver_.hosts().count(*host) != 0;
  if (o) {
    r.gai_err = o->code;
    r.sys_err = o->sys_errno;
  } else if (in_table) {
    // Both families count as configured: AI_ADDRCONFIG narrows nothing.
    r = resolver_.Resolve(host, service, hints, /*has_v4=*/true, /*has_v6=*/true);
  } else {
    r = inner().getaddrinfo(host, service, hints);
  }
  Record(args, r.ok() ? AddrListText(r.addrs) : std::string(), r.gai_err, r.sys_err,
         o.has_value() || in_table);
  return r;
}

SysInt InjectingSys::socket(int domain, int type, int protocol) {
  if (ipv6_missing_ && domain == AF_INET6) {
    Record(SocketArgs(domain, type, protocol), std::string(), EAFNOSUPPORT, 0, true);
    return SysErr(EAFNOSUPPORT);
  }
  return IntCall(SocketArgs(domain, type, protocol),
                 [&] { return inner().socket(domain, type, protocol); }, Plain);
}

SysInt InjectingSys::setsockopt(int fd, int level, int optname, int value) {
  return IntCall(SetsockoptArgs(fd, level, optname, value),
                 [&] { return inner().setsockopt(fd, level, optname, value); }, Plain);
}

SysInt InjectingSys::getsockopt(int fd, int level, int optname) {
  return IntCall(GetsockoptArgs(fd, level, optname),
                 [&] { return inner().getsockopt(fd, level, optname); }, Plain);
}

SysInt InjectingSys::bind(int fd, const SockAddr& addr) {
  return IntCall(BindArgs(fd, addr), [&] { return inner().bind(fd, addr); }, Plain);
}

SysInt InjectingSys::listen(int fd, int backlog) {
  return IntCall(ListenArgs(fd, backlog), [&] { return inner().listen(fd, backlog); }, Plain);
}

SysResult<SockAddr> InjectingSys::getsockname(int fd) {
  return ValueCall<SockAddr>(
      GetsocknameArgs(fd), [&] { return inner().getsockname(fd); },
      [](const SockAddr& a) { return a.ToString(); });
}

SysInt InjectingSys::accept4(int fd, SockAddr* peer, int flags) {
  return IntCall(Accept4Args(fd, flags), [&] { return inner().accept4(fd, peer, flags); },
                 [&](const SysInt& r) {
                   std::string s = std::to_string(r.value);
                   if (peer != nullptr && !peer->empty()) s += " (peer " + peer->ToString() + ")";
                   return s;
                 });
}

SysInt InjectingSys::connect(int fd, const SockAddr& addr) {
  return IntCall(ConnectArgs(fd, addr), [&] { return inner().connect(fd, addr); }, Plain);
}

SysInt InjectingSys::close(int fd) {
  return IntCall(CloseArgs(fd), [&] { return inner().close(fd); }, Plain);
}

SysInt InjectingSys::fcntl(int fd, int cmd, int arg) {
  return IntCall(FcntlArgs(fd, cmd, arg), [&] { return inner().fcntl(fd, cmd, arg); }, Plain);
}

SysInt InjectingSys::unlink(const std::string& path) {
  return IntCall(UnlinkArgs(path), [&] { return inner().unlink(path); }, Plain);
}

SysResult<FileStat> InjectingSys::lstat(const std::string& path) {
  return ValueCall<FileStat>(LstatArgs(path), [&] { return inner().lstat(path); }, FileStatText);
}

SysResult<FileStat> InjectingSys::stat(const std::string& path) {
  return ValueCall<FileStat>(StatArgs(path), [&] { return inner().stat(path); }, FileStatText);
}

SysInt InjectingSys::chmod(const std::string& path, mode_t mode) {
  return IntCall(ChmodArgs(path, mode), [&] { return inner().chmod(path, mode); }, Plain);
}

SysInt InjectingSys::fchmod(int fd, mode_t mode) {
  return IntCall(FchmodArgs(fd, mode), [&] { return inner().fchmod(fd, mode); }, Plain);
}

mode_t InjectingSys::umask(mode_t mask) {
  // umask cannot fail and no rule may name it (fault_plan.h); traced only.
  const mode_t old = inner().umask(mask);
  Record(UmaskArgs(mask), ModeText(old), 0, 0, false);
  return old;
}

SysInt InjectingSys::openat(int dirfd, const std::string& path, int flags, mode_t mode) {
  return IntCall(OpenatArgs(dirfd, path, flags, mode),
                 [&] { return inner().openat(dirfd, path, flags, mode); }, Plain);
}

SysInt InjectingSys::mkdirat(int dirfd, const std::string& path, mode_t mode) {
  return IntCall(MkdiratArgs(dirfd, path, mode),
                 [&] { return inner().mkdirat(dirfd, path, mode); }, Plain);
}

SysResult<FileStat> InjectingSys::fstatat(int dirfd, const std::string& path, int flags) {
  return ValueCall<FileStat>(FstatatArgs(dirfd, path, flags),
                             [&] { return inner().fstatat(dirfd, path, flags); }, FileStatText);
}

SysInt InjectingSys::renameat2(int olddirfd, const std::string& oldpath, int newdirfd,
                               const std::string& newpath, unsigned int flags) {
  return IntCall(Renameat2Args(olddirfd, oldpath, newdirfd, newpath, flags),
                 [&] { return inner().renameat2(olddirfd, oldpath, newdirfd, newpath, flags); },
                 Plain);
}

SysInt InjectingSys::unlinkat(int dirfd, const std::string& path, int flags) {
  return IntCall(UnlinkatArgs(dirfd, path, flags),
                 [&] { return inner().unlinkat(dirfd, path, flags); }, Plain);
}

SysInt InjectingSys::fchmodat(int dirfd, const std::string& path, mode_t mode, int flags) {
  return IntCall(FchmodatArgs(dirfd, path, mode, flags),
                 [&] { return inner().fchmodat(dirfd, path, mode, flags); }, Plain);
}

SysResult<std::string> InjectingSys::readlinkat(int dirfd, const std::string& path) {
  return ValueCall<std::string>(ReadlinkatArgs(dirfd, path),
                                [&] { return inner().readlinkat(dirfd, path); },
                                [](const std::string& target) { return "\"" + target + "\""; });
}

SysInt InjectingSys::epoll_create1(int flags) {
  return IntCall(EpollCreate1Args(flags), [&] { return inner().epoll_create1(flags); }, Plain);
}

SysInt InjectingSys::epoll_ctl(int epfd, int op, int fd, uint32_t events) {
  return IntCall(EpollCtlArgs(epfd, op, fd, events),
                 [&] { return inner().epoll_ctl(epfd, op, fd, events); }, Plain);
}

SysInt InjectingSys::epoll_wait(int epfd, EpollEvent* events, int max_events, int timeout_ms) {
  return IntCall(EpollWaitArgs(epfd, max_events, timeout_ms),
                 [&] { return inner().epoll_wait(epfd, events, max_events, timeout_ms); },
                 [&](const SysInt& r) {
                   std::string s = std::to_string(r.value);
                   if (r.value > 0 && events != nullptr) {
                     s += " [";
                     for (int i = 0; i < r.value && i < max_events; ++i) {
                       if (i != 0) s += ", ";
                       s += "{" + std::to_string(events[i].fd) + ", " +
                            EpollEventsText(events[i].events) + "}";
                     }
                     s += "]";
                   }
                   return s;
                 });
}

}  // namespace netutil::fakes
