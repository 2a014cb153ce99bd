#include "fuzzed_sys.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <utility>

#include "fdp_writer.h"

namespace netutil::fuzz {
namespace {

using fakes::kAllCalls;

size_t Index(Call call) { return static_cast<size_t>(call); }

// Errnos of the table this model never returns, because they contradict what
// it models itself (see fuzzed_sys.h).
bool RuledOut(Call call, int err) {
  if (err == EFAULT || err == EBADF || err == ENOTSOCK) return true;
  switch (call) {
    case Call::kEpollCtl:
      // EEXIST/ENOENT follow from the registrations FuzzedSys keeps; EINVAL,
      // ELOOP and EPERM need an fd that is the epoll set itself, another epoll
      // set or a regular file, and only sockets are ever registered.
      return err == EEXIST || err == ENOENT || err == EINVAL || err == ELOOP || err == EPERM;
    case Call::kEpollWait:     // EINVAL: not an epoll fd, or max_events <= 0
    case Call::kEpollCreate1:  // EINVAL: unknown flags
      return err == EINVAL;
    default:
      return false;
  }
}

// The table's lists, filtered once: Outcome() indexes into a flat array
// instead of walking spans and filters on every call.
struct ErrnoList {
  std::array<int, 32> errs{};
  size_t n = 0;
};
using ErrnoTable = std::array<ErrnoList, kAllCalls.size()>;

ErrnoTable BuildTable() {
  ErrnoTable t{};
  for (Call c : kAllCalls) {
    ErrnoList& l = t[Index(c)];
    const std::span<const int> legal =
        c == Call::kGetaddrinfo ? fakes::LegalGaiErrors() : fakes::LegalErrnos(c);
    for (int e : legal) {
      if (c != Call::kGetaddrinfo && RuledOut(c, e)) continue;
      if (l.n == l.errs.size()) {
        std::fprintf(stderr, "FuzzedSys: more than %zu errnos for %s\n", l.errs.size(),
                     fakes::CallName(c));
        std::abort();
      }
      l.errs[l.n++] = e;
    }
  }
  return t;
}

const ErrnoTable& Table() {
  static const ErrnoTable table = BuildTable();
  return table;
}

// Addresses a resolver might hand back, duplicates and link-local included;
// parsed once, not on every getaddrinfo.
constexpr size_t kPoolSize = 8;
const std::array<SockAddr, kPoolSize>& Pool() {
  static const std::array<SockAddr, kPoolSize> pool = [] {
    const char* const kLiterals[kPoolSize] = {"0.0.0.0",   "::",          "127.0.0.1", "::1",
                                              "192.0.2.7", "2001:db8::7", "fe80::1%2", "127.0.0.1"};
    std::array<SockAddr, kPoolSize> p;
    for (size_t i = 0; i < kPoolSize; ++i) p[i] = *SockAddr::FromIp(kLiterals[i], 0);
    return p;
  }();
  return pool;
}

const SockAddr& Peer() {
  static const SockAddr peer = *SockAddr::FromIp("127.0.0.1", 50000);
  return peer;
}

}  // namespace

// The outcome byte: below kFirstFailure succeeds (mostly success, so deep
// paths are reached); from it up, byte % n picks one of the call's n errnos.
constexpr unsigned kFirstFailure = 176;

int FuzzedSys::Outcome(Call call, int exhausted_err) {
  if (setup_) return 0;
  if (Spent()) return exhausted_err;
  const ErrnoList& legal = Table()[Index(call)];
  int err = 0;
  if (script_ == nullptr) [[likely]] {
    const uint8_t choice = in_->ConsumeIntegral<uint8_t>();
    if (choice >= kFirstFailure && legal.n != 0) err = legal.errs[choice % legal.n];
  } else {
    err = script_->Outcome(call);
    unsigned choice = 0;
    if (err != 0) {
      choice = kFirstFailure;
      while (choice <= 255 && (legal.n == 0 || legal.errs[choice % legal.n] != err)) ++choice;
      if (choice > 255) {
        Problem(std::string(fakes::CallName(call)) + " cannot answer " + std::to_string(err));
        choice = 0;
        err = 0;
      }
    }
    out_->Integral<uint8_t>(static_cast<uint8_t>(choice));
  }
  if (log_ != nullptr) log_->push_back(err);
  return err;
}

bool FuzzedSys::InPool(const SockAddr& a) {
  const SockAddr bare = a.WithPort(0);
  return std::find(Pool().begin(), Pool().end(), bare) != Pool().end();
}

bool FuzzedSys::CanAnswer(Call call, int err) {
  const ErrnoList& legal = Table()[Index(call)];
  return std::find(legal.errs.begin(), legal.errs.begin() + legal.n, err) !=
         legal.errs.begin() + legal.n;
}

bool FuzzedSys::Spent() {
  if (script_ == nullptr) [[likely]]
    return in_->remaining_bytes() == 0;
  if (!spent_) spent_ = script_->Spent();
  return spent_;
}

template <typename T, typename Wanted>
T FuzzedSys::Take(T lo, T hi, Wanted&& wanted) {
  T v = lo;
  if (script_ == nullptr) [[likely]] {
    v = in_->ConsumeIntegralInRange<T>(lo, hi);
  } else if (!spent_) {  // a spent input reads as `lo`, and so writes nothing
    const long long w = static_cast<long long>(std::forward<Wanted>(wanted)());
    if (w < static_cast<long long>(lo) || w > static_cast<long long>(hi)) {
      Problem("answer " + std::to_string(w) + " outside " + std::to_string(lo) + ".." +
              std::to_string(hi));
    } else {
      v = static_cast<T>(w);
    }
    out_->IntInRange<T>(v, lo, hi);
  }
  if (log_ != nullptr) log_->push_back(static_cast<long long>(v));
  return v;
}

void FuzzedSys::Problem(std::string what) {
  if (problem_.empty()) problem_ = std::move(what);
}

bool FuzzedSys::Known(int fd, const char* call) {
  if (is_open(fd)) return true;
  violations_.push_back(std::string(call) + " on fd " + std::to_string(fd) + ", which is not open");
  return false;
}

int FuzzedSys::NewFd() {
  for (int fd = 3; fd < kFdLimit; ++fd) {  // lowest free, as the kernel does
    Slot& s = fds_[fd];
    if (s.open) continue;
    s.open = true;
    s.listening = false;
    s.registered = false;
    s.epoll_mask = 0;
    s.local.reset();
    ++open_count_;
    return fd;
  }
  return -1;
}

bool FuzzedSys::file_exists(std::string_view path) const {
  return std::find(files_.begin(), files_.end(), path) != files_.end();
}

int FuzzedSys::unlink_calls(std::string_view path) const {
  return static_cast<int>(std::count(unlinked_.begin(), unlinked_.end(), path));
}

GaiResult FuzzedSys::getaddrinfo(const std::optional<std::string>& host, const std::string& service,
                                 const AddrInfoHints& hints) {
  Count(Call::kGetaddrinfo);
  int err = Outcome(Call::kGetaddrinfo, EAI_NONAME);
  if (err != 0) return GaiResult{err, err == EAI_SYSTEM ? EAGAIN : 0, {}};
  const uint16_t port = static_cast<uint16_t>(std::strtoul(service.c_str(), nullptr, 10));
  std::vector<SockAddr> wanted;  // recording: the addresses to encode as pool picks
  if (script_ != nullptr && !setup_ && !spent_) wanted = script_->Addresses(host, hints.family);
  GaiResult r;
  const int n = setup_ ? 1 : Take<int>(0, 6, [&] { return static_cast<long long>(wanted.size()); });
  r.addrs.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const size_t pick = setup_ ? 0 : Take<size_t>(0, kPoolSize - 1, [&]() -> long long {
      const SockAddr& w = wanted[static_cast<size_t>(i)];
      for (size_t k = 0; k < kPoolSize; ++k) {
        if (Pool()[k] == w.WithPort(0)) return static_cast<long long>(k);
      }
      return -1;  // not in the pool: a problem
    });
    const SockAddr& a = Pool()[pick];
    if (hints.family != AF_UNSPEC && a.family() != hints.family) continue;
    r.addrs.push_back(AddrInfo{a.family(), SOCK_STREAM, IPPROTO_TCP, {}, a.WithPort(port)});
  }
  return r;
}

SysInt FuzzedSys::socket(int, int, int) {
  Count(Call::kSocket);
  if (int err = Outcome(Call::kSocket, EMFILE)) return SysErr(err);
  const int fd = NewFd();
  return fd < 0 ? SysErr(EMFILE) : SysOk(fd);
}

SysInt FuzzedSys::setsockopt(int fd, int, int, int) {
  Count(Call::kSetsockopt);
  if (!Known(fd, "setsockopt")) return SysErr(EBADF);
  if (int err = Outcome(Call::kSetsockopt, 0)) return SysErr(err);
  return SysOk();
}

SysInt FuzzedSys::getsockopt(int fd, int, int) {
  Count(Call::kGetsockopt);
  if (!Known(fd, "getsockopt")) return SysErr(EBADF);
  if (int err = Outcome(Call::kGetsockopt, 0)) return SysErr(err);
  return SysOk(1);
}

SysInt FuzzedSys::bind(int fd, const SockAddr& addr) {
  Count(Call::kBind);
  if (!Known(fd, "bind")) return SysErr(EBADF);
  if (int err = Outcome(Call::kBind, EADDRINUSE)) return SysErr(err);
  fds_[fd].local = addr;
  if (addr.family() == AF_UNIX && !addr.is_abstract_unix()) {
    std::string path = addr.unix_path();
    if (!file_exists(path)) files_.push_back(std::move(path));
  }
  return SysOk();
}

SysInt FuzzedSys::listen(int fd, int) {
  Count(Call::kListen);
  if (!Known(fd, "listen")) return SysErr(EBADF);
  if (int err = Outcome(Call::kListen, 0)) return SysErr(err);
  fds_[fd].listening = true;
  return SysOk();
}

SysResult<SockAddr> FuzzedSys::getsockname(int fd) {
  Count(Call::kGetsockname);
  if (!Known(fd, "getsockname")) return SysErr<SockAddr>(EBADF);
  if (int err = Outcome(Call::kGetsockname, 0)) return SysErr<SockAddr>(err);
  Slot& s = fds_[fd];
  if (!s.local) return {SockAddr{}, 0};
  const int family = s.local->family();
  if ((family == AF_INET || family == AF_INET6) && s.local->port() == 0) {
    // The kernel's choice of port, remembered: the socket keeps it.
    const uint16_t port =
        setup_ ? 40000 : Take<uint16_t>(1024, 65535, [&] { return script_->Port(); });
    s.local = s.local->WithPort(port);
  }
  return {*s.local, 0};
}

SysInt FuzzedSys::accept4(int fd, SockAddr* peer, int) {
  Count(Call::kAccept4);
  if (!Known(fd, "accept4")) return SysErr(EBADF);
  if (int err = Outcome(Call::kAccept4, EAGAIN)) return SysErr(err);
  const int conn = NewFd();
  if (conn < 0) return SysErr(EMFILE);
  if (peer != nullptr) *peer = Peer();
  return SysOk(conn);
}

SysInt FuzzedSys::connect(int fd, const SockAddr&) {
  Count(Call::kConnect);
  if (!Known(fd, "connect")) return SysErr(EBADF);
  if (int err = Outcome(Call::kConnect, ECONNREFUSED)) return SysErr(err);
  return SysOk();
}

SysInt FuzzedSys::close(int fd) {
  Count(Call::kClose);
  if (!Known(fd, "close")) return SysErr(EBADF);
  // On Linux the fd is released whatever close() returns (and leaves any
  // epoll set with it).
  fds_[fd].open = false;
  --open_count_;
  if (int err = Outcome(Call::kClose, 0)) return SysErr(err);
  return SysOk();
}

SysInt FuzzedSys::fcntl(int fd, int, int) {
  Count(Call::kFcntl);
  if (!Known(fd, "fcntl")) return SysErr(EBADF);
  if (int err = Outcome(Call::kFcntl, 0)) return SysErr(err);
  return SysOk();
}

SysInt FuzzedSys::ioctl(int fd, unsigned long, int) {
  Count(Call::kIoctl);
  if (!Known(fd, "ioctl")) return SysErr(EBADF);
  if (int err = Outcome(Call::kIoctl, 0)) return SysErr(err);
  return SysOk();
}

// The reference never closes by range; modelled for completeness: the open
// fds in [first, last] are released, as close() releases one.
SysInt FuzzedSys::close_range(unsigned int first, unsigned int last, unsigned int) {
  Count(Call::kCloseRange);
  if (int err = Outcome(Call::kCloseRange, 0)) return SysErr(err);
  for (size_t fd = 0; fd < fds_.size(); ++fd) {
    if (fds_[fd].open && fd >= first && fd <= last) {
      fds_[fd].open = false;
      --open_count_;
    }
  }
  return SysOk();
}

SysInt FuzzedSys::unlink(const std::string& path) {
  Count(Call::kUnlink);
  unlinked_.push_back(path);
  if (int err = Outcome(Call::kUnlink, 0)) return SysErr(err);
  files_.erase(std::remove(files_.begin(), files_.end(), path), files_.end());
  return SysOk();
}

SysResult<FileStat> FuzzedSys::lstat(const std::string& path) {
  Count(Call::kLstat);
  return StatOf(Call::kLstat, path);
}

SysResult<FileStat> FuzzedSys::stat(const std::string& path) {
  Count(Call::kStat);
  return StatOf(Call::kStat, path);
}

SysResult<FileStat> FuzzedSys::StatOf(Call call, const std::string& path) {
  if (int err = Outcome(call, ENOENT)) return SysErr<FileStat>(err);
  static constexpr uint32_t kTypes[] = {S_IFSOCK, S_IFREG, S_IFLNK, S_IFDIR, S_IFIFO};
  const uint32_t type = file_exists(path) ? S_IFSOCK : kTypes[Take<int>(0, 4, [&] {
    const auto it = std::find(std::begin(kTypes), std::end(kTypes), script_->FileType(path));
    return it == std::end(kTypes) ? -1 : it - std::begin(kTypes);
  })];
  return {FileStat{type | 0644, 1, 1, 0}, 0};
}

SysInt FuzzedSys::chmod(const std::string&, mode_t) {
  Count(Call::kChmod);
  if (int err = Outcome(Call::kChmod, 0)) return SysErr(err);
  return SysOk();
}

SysInt FuzzedSys::fchmod(int fd, mode_t) {
  Count(Call::kFchmod);
  if (!Known(fd, "fchmod")) return SysErr(EBADF);
  if (int err = Outcome(Call::kFchmod, 0)) return SysErr(err);
  return SysOk();
}

mode_t FuzzedSys::umask(mode_t mask) {
  Count(Call::kUmask);
  const mode_t old = umask_;
  umask_ = mask & 0777;
  return old;
}

std::string FuzzedSys::AtKey(int dirfd, const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  return "/proc/self/fd/" + std::to_string(dirfd) + "/" + path;
}

SysInt FuzzedSys::openat(int dirfd, const std::string&, int, mode_t) {
  Count(Call::kOpenat);
  if (dirfd != AT_FDCWD && !Known(dirfd, "openat")) return SysErr(EBADF);
  if (int err = Outcome(Call::kOpenat, ENOENT)) return SysErr(err);
  const int fd = NewFd();
  return fd < 0 ? SysErr(EMFILE) : SysOk(fd);
}

SysInt FuzzedSys::mkdirat(int dirfd, const std::string&, mode_t) {
  Count(Call::kMkdirat);
  if (dirfd != AT_FDCWD && !Known(dirfd, "mkdirat")) return SysErr(EBADF);
  if (int err = Outcome(Call::kMkdirat, EEXIST)) return SysErr(err);
  return SysOk();
}

SysResult<FileStat> FuzzedSys::fstatat(int dirfd, const std::string& path, int flags) {
  Count(Call::kFstatat);
  if (dirfd != AT_FDCWD && !Known(dirfd, "fstatat")) return SysErr<FileStat>(EBADF);
  if (path.empty() && (flags & AT_EMPTY_PATH) != 0) {
    // The fd itself: a directory of ours nobody else can write (a socket's
    // owner is all bind_unix_socket reads from a socket fd).
    if (int err = Outcome(Call::kFstatat, 0)) return SysErr<FileStat>(err);
    return {FileStat{S_IFDIR | 0700, 1, 1, 0}, 0};
  }
  return StatOf(Call::kFstatat, AtKey(dirfd, path));
}

SysInt FuzzedSys::renameat2(int olddirfd, const std::string& oldpath, int newdirfd,
                            const std::string& newpath, unsigned int) {
  Count(Call::kRenameat2);
  if (olddirfd != AT_FDCWD && !Known(olddirfd, "renameat2")) return SysErr(EBADF);
  if (newdirfd != AT_FDCWD && !Known(newdirfd, "renameat2")) return SysErr(EBADF);
  if (int err = Outcome(Call::kRenameat2, 0)) return SysErr(err);
  const std::string from = AtKey(olddirfd, oldpath);
  if (auto it = std::find(files_.begin(), files_.end(), from); it != files_.end()) {
    *it = AtKey(newdirfd, newpath);
  }
  return SysOk();
}

SysInt FuzzedSys::unlinkat(int dirfd, const std::string& path, int) {
  Count(Call::kUnlinkat);
  if (dirfd != AT_FDCWD && !Known(dirfd, "unlinkat")) return SysErr(EBADF);
  const std::string key = AtKey(dirfd, path);
  unlinked_.push_back(key);
  if (int err = Outcome(Call::kUnlinkat, 0)) return SysErr(err);
  files_.erase(std::remove(files_.begin(), files_.end(), key), files_.end());
  return SysOk();
}

SysInt FuzzedSys::fchmodat(int dirfd, const std::string&, mode_t, int) {
  Count(Call::kFchmodat);
  if (dirfd != AT_FDCWD && !Known(dirfd, "fchmodat")) return SysErr(EBADF);
  if (int err = Outcome(Call::kFchmodat, 0)) return SysErr(err);
  return SysOk();
}

SysResult<std::string> FuzzedSys::readlinkat(int dirfd, const std::string&) {
  Count(Call::kReadlinkat);
  if (dirfd != AT_FDCWD && !Known(dirfd, "readlinkat")) return SysErr<std::string>(EBADF);
  if (int err = Outcome(Call::kReadlinkat, ENOENT)) return SysErr<std::string>(err);
  return {"/run", 0};
}

SysInt FuzzedSys::epoll_create1(int) {
  Count(Call::kEpollCreate1);
  if (int err = Outcome(Call::kEpollCreate1, EMFILE)) return SysErr(err);
  const int fd = NewFd();
  return fd < 0 ? SysErr(EMFILE) : SysOk(fd);
}

SysInt FuzzedSys::epoll_ctl(int epfd, int op, int fd, uint32_t events) {
  Count(Call::kEpollCtl);
  if (!Known(epfd, "epoll_ctl(epfd)")) return SysErr(EBADF);
  if (op != EPOLL_CTL_DEL && !Known(fd, "epoll_ctl(fd)")) return SysErr(EBADF);
  const bool registered = is_open(fd) && fds_[fd].registered;
  if (op == EPOLL_CTL_ADD && registered) return SysErr(EEXIST);
  if (op != EPOLL_CTL_ADD && !registered) return SysErr(ENOENT);
  if (op == EPOLL_CTL_DEL) {
    fds_[fd].registered = false;
    fds_[fd].epoll_mask = 0;
    return SysOk();
  }
  if (int err = Outcome(Call::kEpollCtl, 0)) return SysErr(err);
  fds_[fd].registered = true;
  fds_[fd].epoll_mask = events;
  return SysOk();
}

SysInt FuzzedSys::epoll_wait(int epfd, EpollEvent* events, int max_events, int timeout_ms) {
  Count(Call::kEpollWait);
  if (!Known(epfd, "epoll_wait")) return SysErr(EBADF);
  const int wait_ms = timeout_ms < 0 ? 5000 : timeout_ms;
  if (Spent()) {  // nothing more happens: time passes, nothing is ready
    now_ += std::chrono::milliseconds(wait_ms);
    return SysOk(0);
  }
  if (int err = Outcome(Call::kEpollWait, 0)) return SysErr(err);
  int n = 0;
  for (int fd = 0; fd < kFdLimit && n < max_events; ++fd) {  // in fd order
    const Slot& s = fds_[fd];
    if (!s.open || !s.registered || (s.epoll_mask & EPOLLIN) == 0) continue;
    // As ConsumeBool(): the low bit of one byte.
    if ((Take<uint8_t>(0, 255, [&] { return script_->Ready(fd) ? 1 : 0; }) & 1) != 0) {
      events[n++] = EpollEvent{EPOLLIN, fd};
    }
  }
  // Time passes: up to the timeout when nothing is ready, a little otherwise.
  now_ += std::chrono::milliseconds(n == 0 ? wait_ms : Take<int>(0, std::max(wait_ms, 0), [&] {
    return script_->ElapsedMs(wait_ms);
  }));
  return SysOk(n);
}

std::chrono::nanoseconds FuzzedSys::monotonic_now() { return now_; }

void AbortOnViolations(const FuzzedSys& sys, const char* where) {
  if (sys.violations().empty()) return;
  std::fprintf(stderr, "%s: the code under test misused the seam:\n", where);
  for (const auto& v : sys.violations()) std::fprintf(stderr, "  %s\n", v.c_str());
  std::abort();
}

void FailOracle(std::string_view what) {
  std::fprintf(stderr, "oracle failed: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace netutil::fuzz
