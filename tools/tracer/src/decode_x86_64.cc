#include "decode_x86_64.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/stat.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "seccomp_filter.h"  // kSysFchmodat2

namespace netutil::tracer {

#if defined(__x86_64__)

namespace {

using fakes::Call;
using fakes::CallRecord;
using fakes::TraceEntry;

template <Call C>
using Kept = typename CallRecord<C>::Args;
template <Call C>
using Result = typename CallRecord<C>::Result;

template <Call C>
TraceEntry MakeEntry(Kept<C> args, Result<C> result) {
  CallRecord<C> record{std::move(args), std::move(result)};
  return TraceEntry{
      fakes::CallValues(std::in_place_index<static_cast<size_t>(C)>, std::move(record)), false};
}

// rax in -4095..-1 is an errno. The kernel's restart codes (ERESTARTSYS and
// kin, 512..516) never reach the program: it sees EINTR or a restarted call,
// which stops here again.
bool IsError(long ret) { return ret < 0 && ret >= -4095; }
int ErrnoOf(long ret) {
  const int e = static_cast<int>(-ret);
  return e >= 512 && e <= 516 ? EINTR : e;
}
SysInt IntResult(long ret) {
  return IsError(ret) ? SysErr(ErrnoOf(ret)) : SysOk(static_cast<int>(ret));
}

int Int(const SyscallRegs& r, int i) { return static_cast<int>(r.arg[i]); }
uint64_t Ptr(const SyscallRegs& r, int i) { return r.arg[i]; }

// An int-returning call whose record needs nothing from memory at exit.
template <Call C>
DecodedCall IntCall(fakes::CallArgs args, Kept<C> kept) {
  DecodedCall d;
  d.args = std::move(args);
  d.finish = [kept = std::move(kept)](long ret, bool) {
    return MakeEntry<C>(kept, IntResult(ret));
  };
  return d;
}

// A call that returns a T read from the tracee at exit (getsockname, stat...).
template <Call C, typename ReadValue>
DecodedCall ValueCall(fakes::CallArgs args, Kept<C> kept, ReadValue read) {
  DecodedCall d;
  d.args = std::move(args);
  d.finish = [kept = std::move(kept), read](long ret, bool outs_written) {
    using T = decltype(Result<C>::value);
    if (IsError(ret)) return MakeEntry<C>(kept, SysErr<T>(ErrnoOf(ret)));
    return MakeEntry<C>(kept, Result<C>{outs_written ? read(ret) : T{}, 0});
  };
  return d;
}

// A sockaddr of `len` bytes; empty when unreadable (odd tracee memory).
SockAddr ReadAddr(const TraceeMemory& mem, uint64_t addr, uint64_t len) {
  const std::string b = mem.Bytes(addr, std::min<uint64_t>(len, sizeof(sockaddr_storage)));
  if (b.empty()) return {};
  return SockAddr::FromRaw(b.data(), static_cast<socklen_t>(b.size()));
}
// A sockaddr the kernel wrote, its length in *len_ptr.
SockAddr ReadAddrOut(const TraceeMemory& mem, uint64_t addr, uint64_t len_ptr) {
  const std::optional<socklen_t> len = mem.Read<socklen_t>(len_ptr);
  return len ? ReadAddr(mem, addr, *len) : SockAddr{};
}

FileStat FromStat(const struct stat& st) {
  return FileStat{static_cast<uint32_t>(st.st_mode), static_cast<uint64_t>(st.st_dev),
                  static_cast<uint64_t>(st.st_ino), static_cast<uint32_t>(st.st_uid)};
}
FileStat FromStatx(const struct statx& st) {
  return FileStat{st.stx_mode, static_cast<uint64_t>(makedev(st.stx_dev_major, st.stx_dev_minor)),
                  st.stx_ino, st.stx_uid};
}

DecodedCall Socket(const SyscallRegs& r) {
  const int d = Int(r, 0), t = Int(r, 1), p = Int(r, 2);
  DecodedCall c = IntCall<Call::kSocket>(fakes::SocketArgs(d, t, p), {d, t, p});
  c.effect = DecodedCall::FdEffect::kOpens;
  return c;
}

// Int-sized values only, as the seam: other sizes run untraced.
std::optional<DecodedCall> Setsockopt(const SyscallRegs& r, const TraceeMemory& mem) {
  if (r.arg[4] != sizeof(int)) return std::nullopt;
  const std::optional<int> value = mem.Read<int>(Ptr(r, 3));
  if (!value) return std::nullopt;
  const int fd = Int(r, 0), level = Int(r, 1), opt = Int(r, 2);
  return IntCall<Call::kSetsockopt>(fakes::SetsockoptArgs(fd, level, opt, *value),
                                    {fd, level, opt, *value});
}

// The seam's getsockopt returns the value; a value fault writes it where the
// program reads it and returns 0.
std::optional<DecodedCall> Getsockopt(const SyscallRegs& r, const TraceeMemory& mem) {
  const std::optional<socklen_t> len = mem.Read<socklen_t>(Ptr(r, 4));
  if (!len || *len != sizeof(int)) return std::nullopt;
  const int fd = Int(r, 0), level = Int(r, 1), opt = Int(r, 2);
  const uint64_t out = Ptr(r, 3);
  DecodedCall d;
  d.args = fakes::GetsockoptArgs(fd, level, opt);
  d.finish = [=](long ret, bool) {
    if (IsError(ret)) return MakeEntry<Call::kGetsockopt>({fd, level, opt}, SysErr(ErrnoOf(ret)));
    return MakeEntry<Call::kGetsockopt>({fd, level, opt}, SysOk(mem.Read<int>(out).value_or(0)));
  };
  d.apply_value = [=](int value) { return mem.Write(out, &value, sizeof value) ? 0L : -EFAULT; };
  return d;
}

DecodedCall AddrCall(const SyscallRegs& r, const TraceeMemory& mem, bool connect) {
  const int fd = Int(r, 0);
  const SockAddr addr = ReadAddr(mem, Ptr(r, 1), r.arg[2]);
  if (connect) return IntCall<Call::kConnect>(fakes::ConnectArgs(fd, addr), {fd, addr});
  return IntCall<Call::kBind>(fakes::BindArgs(fd, addr), {fd, addr});
}

DecodedCall Getsockname(const SyscallRegs& r, const TraceeMemory& mem) {
  const int fd = Int(r, 0);
  const uint64_t addr = Ptr(r, 1), len = Ptr(r, 2);
  return ValueCall<Call::kGetsockname>(fakes::GetsocknameArgs(fd), {fd},
                                       [=](long) { return ReadAddrOut(mem, addr, len); });
}

// accept is accept4 with no flags, as the LD_PRELOAD interposer traces it.
DecodedCall Accept4(const SyscallRegs& r, const TraceeMemory& mem, int flags) {
  const int fd = Int(r, 0);
  const uint64_t addr = Ptr(r, 1), len = Ptr(r, 2);
  DecodedCall d;
  d.args = fakes::Accept4Args(fd, nullptr, flags);
  d.finish = [=](long ret, bool outs_written) {
    const bool peer = outs_written && !IsError(ret) && addr != 0;
    return MakeEntry<Call::kAccept4>({fd, peer ? ReadAddrOut(mem, addr, len) : SockAddr{}, flags},
                                     IntResult(ret));
  };
  d.effect = DecodedCall::FdEffect::kOpens;
  return d;
}

std::optional<DecodedCall> Close(const SyscallRegs& r, const FdSet& fds) {
  const int fd = Int(r, 0);
  if (fds.count(fd) == 0) return std::nullopt;
  DecodedCall d = IntCall<Call::kClose>(fakes::CloseArgs(fd), {fd});
  d.effect = DecodedCall::FdEffect::kCloses;
  d.fd = fd;
  return d;
}

// The seam's fcntl: the four int commands, on the seam's fds.
std::optional<DecodedCall> Fcntl(const SyscallRegs& r, const FdSet& fds) {
  const int fd = Int(r, 0), cmd = Int(r, 1), arg = Int(r, 2);
  const bool seam_cmd = cmd == F_GETFL || cmd == F_SETFL || cmd == F_GETFD || cmd == F_SETFD;
  if (!seam_cmd || fds.count(fd) == 0) return std::nullopt;
  return IntCall<Call::kFcntl>(fakes::FcntlArgs(fd, cmd, arg), {fd, cmd, arg});
}

// The seam's ioctl: FIONBIO on the seam's fds (CPython's and libuv's way to
// set O_NONBLOCK); any other request, or fd, runs untraced.
std::optional<DecodedCall> Ioctl(const SyscallRegs& r, const TraceeMemory& mem, const FdSet& fds) {
  const int fd = Int(r, 0);
  const unsigned long request = r.arg[1];
  if (request != FIONBIO || fds.count(fd) == 0) return std::nullopt;
  const std::optional<int> value = mem.Read<int>(Ptr(r, 2));
  if (!value) return std::nullopt;  // the kernel's EFAULT, untraced
  return IntCall<Call::kIoctl>(fakes::IoctlArgs(fd, request, *value), {fd, request, *value});
}

// Any range: it may close the seam's fds with the program's others.
DecodedCall CloseRange(const SyscallRegs& r) {
  const auto first = static_cast<unsigned>(r.arg[0]), last = static_cast<unsigned>(r.arg[1]),
             flags = static_cast<unsigned>(r.arg[2]);
  DecodedCall d =
      IntCall<Call::kCloseRange>(fakes::CloseRangeArgs(first, last, flags), {first, last, flags});
  // CLOSE_RANGE_CLOEXEC closes nothing; an invalid range closes nothing either.
  if ((flags & CLOSE_RANGE_CLOEXEC) == 0 && first <= last) {
    d.effect = DecodedCall::FdEffect::kClosesRange;
    d.fd = static_cast<int>(std::min<unsigned>(first, INT32_MAX));
    d.last_fd = static_cast<int>(std::min<unsigned>(last, INT32_MAX));
  }
  return d;
}

DecodedCall EpollCreate1(int flags) {
  DecodedCall d = IntCall<Call::kEpollCreate1>(fakes::EpollCreate1Args(flags), {flags});
  d.effect = DecodedCall::FdEffect::kOpens;
  return d;
}

DecodedCall EpollCtl(const SyscallRegs& r, const TraceeMemory& mem) {
  const int epfd = Int(r, 0), op = Int(r, 1), fd = Int(r, 2);
  uint32_t events = 0;
  if (op != EPOLL_CTL_DEL) {
    if (auto ev = mem.Read<epoll_event>(Ptr(r, 3))) events = ev->events;
  }
  return IntCall<Call::kEpollCtl>(fakes::EpollCtlArgs(epfd, op, fd, events),
                                  {epfd, op, fd, events});
}

// The ready list the kernel wrote: the seam registers data.fd = fd.
std::vector<EpollEvent> ReadEvents(const TraceeMemory& mem, uint64_t at, long n) {
  constexpr long kMaxKept = 1024;
  const size_t want = static_cast<size_t>(std::clamp(n, 0L, kMaxKept)) * sizeof(epoll_event);
  const std::string b = mem.Bytes(at, want);
  std::vector<EpollEvent> out;
  for (size_t off = 0; off + sizeof(epoll_event) <= b.size(); off += sizeof(epoll_event)) {
    epoll_event ev;
    std::memcpy(&ev, b.data() + off, sizeof ev);
    out.push_back(EpollEvent{ev.events, ev.data.fd});
  }
  return out;
}

// epoll_pwait2 takes a timespec; the seam's milliseconds, -1 for none.
int Pwait2TimeoutMs(const TraceeMemory& mem, uint64_t ts_ptr) {
  if (ts_ptr == 0) return -1;
  const std::optional<timespec> ts = mem.Read<timespec>(ts_ptr);
  if (!ts) return -1;
  return static_cast<int>(
      std::min<long long>(ts->tv_sec * 1000LL + ts->tv_nsec / 1000000, 1 << 30));
}

DecodedCall EpollWait(const SyscallRegs& r, const TraceeMemory& mem, int timeout_ms) {
  const int epfd = Int(r, 0), max = Int(r, 2);
  const uint64_t events = Ptr(r, 1);
  DecodedCall d;
  d.args = fakes::EpollWaitArgs(epfd, nullptr, max, timeout_ms);
  d.finish = [=](long ret, bool outs_written) {
    std::vector<EpollEvent> ready;
    if (outs_written && !IsError(ret)) ready = ReadEvents(mem, events, std::min<long>(ret, max));
    return MakeEntry<Call::kEpollWait>({epfd, std::move(ready), max, timeout_ms}, IntResult(ret));
  };
  return d;
}

DecodedCall Openat(int dirfd, std::string path, int flags, mode_t mode) {
  auto args = fakes::OpenatArgs(dirfd, path, flags, mode);
  return IntCall<Call::kOpenat>(std::move(args), {dirfd, std::move(path), flags, mode});
}

DecodedCall Renameat2(int od, std::string o, int nd, std::string n, unsigned flags) {
  auto args = fakes::Renameat2Args(od, o, nd, n, flags);
  return IntCall<Call::kRenameat2>(std::move(args), {od, std::move(o), nd, std::move(n), flags});
}

DecodedCall Readlinkat(int dirfd, std::string path, const TraceeMemory& mem, uint64_t buf) {
  auto args = fakes::ReadlinkatArgs(dirfd, path);
  return ValueCall<Call::kReadlinkat>(std::move(args), {dirfd, std::move(path)},
                                      [=](long ret) { return mem.Bytes(buf, ret); });
}

// glibc's stat and lstat are newfstatat(AT_FDCWD, path, 0 or
// AT_SYMLINK_NOFOLLOW): traced as the seam's stat and lstat, so a rule on
// lstat hits whichever C library made the call; every other form is fstatat.
DecodedCall StatAt(int dirfd, std::string path, int flags, const TraceeMemory& mem, uint64_t buf,
                   bool statx) {
  auto read = [=](long) {
    using Statx = struct statx;
    using Stat = struct stat;
    if (statx) return FromStatx(mem.Read<Statx>(buf).value_or(Statx{}));
    return FromStat(mem.Read<Stat>(buf).value_or(Stat{}));
  };
  flags &= AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH;
  if (dirfd == AT_FDCWD && flags == AT_SYMLINK_NOFOLLOW) {
    return ValueCall<Call::kLstat>(fakes::LstatArgs(path), {path}, read);
  }
  if (dirfd == AT_FDCWD && flags == 0)
    return ValueCall<Call::kStat>(fakes::StatArgs(path), {path}, read);
  auto args = fakes::FstatatArgs(dirfd, path, flags);
  return ValueCall<Call::kFstatat>(std::move(args), {dirfd, std::move(path), flags}, read);
}

DecodedCall Umask(mode_t mask) {
  DecodedCall d;
  d.args = fakes::UmaskArgs(mask);
  d.finish = [=](long ret, bool) {
    return MakeEntry<Call::kUmask>({mask}, static_cast<mode_t>(ret));
  };
  return d;
}

// The socket calls and the fd-only calls.
std::optional<DecodedCall> DecodeNet(const SyscallRegs& r, const TraceeMemory& mem,
                                     const FdSet& fds) {
  switch (r.nr) {
    case SYS_socket:
      return Socket(r);
    case SYS_setsockopt:
      return Setsockopt(r, mem);
    case SYS_getsockopt:
      return Getsockopt(r, mem);
    case SYS_bind:
      return AddrCall(r, mem, false);
    case SYS_connect:
      return AddrCall(r, mem, true);
    case SYS_listen:
      return IntCall<Call::kListen>(fakes::ListenArgs(Int(r, 0), Int(r, 1)),
                                    {Int(r, 0), Int(r, 1)});
    case SYS_getsockname:
      return Getsockname(r, mem);
    case SYS_accept:
      return Accept4(r, mem, 0);
    case SYS_accept4:
      return Accept4(r, mem, Int(r, 3));
    case SYS_close:
      return Close(r, fds);
    case SYS_fcntl:
      return Fcntl(r, fds);
    case SYS_ioctl:
      return Ioctl(r, mem, fds);
    case SYS_close_range:
      return CloseRange(r);
    case SYS_epoll_create:
      return EpollCreate1(0);
    case SYS_epoll_create1:
      return EpollCreate1(Int(r, 0));
    case SYS_epoll_ctl:
      return EpollCtl(r, mem);
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
      return EpollWait(r, mem, Int(r, 3));
    case SYS_epoll_pwait2:
      return EpollWait(r, mem, Pwait2TimeoutMs(mem, Ptr(r, 3)));
    case SYS_fchmod: {
      const int fd = Int(r, 0);
      const auto mode = static_cast<mode_t>(r.arg[1]);
      return IntCall<Call::kFchmod>(fakes::FchmodArgs(fd, mode), {fd, mode});
    }
    case SYS_umask:
      return Umask(static_cast<mode_t>(r.arg[0]));
    default:
      return std::nullopt;
  }
}

// The path calls; the old forms are their *at form with AT_FDCWD.
std::optional<DecodedCall> DecodePath(const SyscallRegs& r, const TraceeMemory& mem) {
  auto path = [&](int i) { return mem.String(Ptr(r, i)); };
  auto mode = [&](int i) { return static_cast<mode_t>(r.arg[i]); };
  switch (r.nr) {
    case SYS_unlink:
      return IntCall<Call::kUnlink>(fakes::UnlinkArgs(path(0)), {path(0)});
    case SYS_unlinkat:
      return IntCall<Call::kUnlinkat>(fakes::UnlinkatArgs(Int(r, 0), path(1), Int(r, 2)),
                                      {Int(r, 0), path(1), Int(r, 2)});
    case SYS_chmod:
      return IntCall<Call::kChmod>(fakes::ChmodArgs(path(0), mode(1)), {path(0), mode(1)});
    case SYS_fchmodat:
      return IntCall<Call::kFchmodat>(fakes::FchmodatArgs(Int(r, 0), path(1), mode(2), 0),
                                      {Int(r, 0), path(1), mode(2), 0});
    case kSysFchmodat2:
      return IntCall<Call::kFchmodat>(fakes::FchmodatArgs(Int(r, 0), path(1), mode(2), Int(r, 3)),
                                      {Int(r, 0), path(1), mode(2), Int(r, 3)});
    case SYS_open:
      return Openat(AT_FDCWD, path(0), Int(r, 1), mode(2));
    case SYS_openat:
      return Openat(Int(r, 0), path(1), Int(r, 2), mode(3));
    case SYS_mkdir:
      return IntCall<Call::kMkdirat>(fakes::MkdiratArgs(AT_FDCWD, path(0), mode(1)),
                                     {AT_FDCWD, path(0), mode(1)});
    case SYS_mkdirat:
      return IntCall<Call::kMkdirat>(fakes::MkdiratArgs(Int(r, 0), path(1), mode(2)),
                                     {Int(r, 0), path(1), mode(2)});
    case SYS_rename:
      return Renameat2(AT_FDCWD, path(0), AT_FDCWD, path(1), 0);
    case SYS_renameat:
      return Renameat2(Int(r, 0), path(1), Int(r, 2), path(3), 0);
    case SYS_renameat2:
      return Renameat2(Int(r, 0), path(1), Int(r, 2), path(3), static_cast<unsigned>(r.arg[4]));
    case SYS_readlink:
      return Readlinkat(AT_FDCWD, path(0), mem, Ptr(r, 1));
    case SYS_readlinkat:
      return Readlinkat(Int(r, 0), path(1), mem, Ptr(r, 2));
    case SYS_stat:
      return StatAt(AT_FDCWD, path(0), 0, mem, Ptr(r, 1), false);
    case SYS_lstat:
      return StatAt(AT_FDCWD, path(0), AT_SYMLINK_NOFOLLOW, mem, Ptr(r, 1), false);
    case SYS_newfstatat:
      return StatAt(Int(r, 0), path(1), Int(r, 3), mem, Ptr(r, 2), false);
    case SYS_statx:
      return StatAt(Int(r, 0), path(1), Int(r, 2), mem, Ptr(r, 4), true);
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<DecodedCall> DecodeSyscall(const SyscallRegs& regs, const TraceeMemory& mem,
                                         const FdSet& fds) {
  if (auto d = DecodeNet(regs, mem, fds)) return d;
  return DecodePath(regs, mem);
}

#else

std::optional<DecodedCall> DecodeSyscall(const SyscallRegs&, const TraceeMemory&, const FdSet&) {
  return std::nullopt;
}

#endif

}  // namespace netutil::tracer
