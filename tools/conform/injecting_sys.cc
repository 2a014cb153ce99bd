#include "injecting_sys.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <utility>

#include "netutil/errno_name.h"

namespace netutil::conform {
namespace {

constexpr const char* kCallNames[kCallCount] = {
    "getaddrinfo", "socket",      "setsockopt",    "getsockopt", "bind",
    "listen",      "getsockname", "accept4",       "connect",    "close",
    "fcntl",       "unlink",      "lstat",         "stat",       "chmod",
    "fchmod",      "umask",       "epoll_create1", "epoll_ctl",  "epoll_wait",
};

struct NamedInt {
  int value;
  const char* name;
};

constexpr NamedInt kSockOpts[] = {
    {SO_REUSEADDR, "SO_REUSEADDR"}, {SO_REUSEPORT, "SO_REUSEPORT"},
    {IPV6_V6ONLY, "IPV6_V6ONLY"},   {SO_KEEPALIVE, "SO_KEEPALIVE"},
    {SO_TYPE, "SO_TYPE"},           {SO_ERROR, "SO_ERROR"},
    {TCP_NODELAY, "TCP_NODELAY"},   {SO_ACCEPTCONN, "SO_ACCEPTCONN"},
};

std::string Num(long long v) { return std::to_string(v); }

std::string Octal(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", v);
  return buf;
}

std::string Hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

// A C string literal, with bytes that are not printable escaped.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string Family(int family) { return FamilyName(family); }

std::string SocketType(int type) {
  std::string out;
  const int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  switch (base) {
    case SOCK_STREAM:
      out = "SOCK_STREAM";
      break;
    case SOCK_DGRAM:
      out = "SOCK_DGRAM";
      break;
    case 0:
      out = "0";
      break;
    default:
      out = Num(base);
  }
  if (type & SOCK_NONBLOCK) out += "|SOCK_NONBLOCK";
  if (type & SOCK_CLOEXEC) out += "|SOCK_CLOEXEC";
  return out;
}

std::string AcceptFlags(int flags) {
  std::string out;
  if (flags & SOCK_NONBLOCK) out = "SOCK_NONBLOCK";
  if (flags & SOCK_CLOEXEC) out += out.empty() ? "SOCK_CLOEXEC" : "|SOCK_CLOEXEC";
  const int rest = flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (rest != 0 || out.empty()) out += (out.empty() ? "" : "|") + Num(rest);
  return out;
}

std::string Level(int level) {
  switch (level) {
    case SOL_SOCKET:
      return "SOL_SOCKET";
    case IPPROTO_IPV6:
      return "IPPROTO_IPV6";
    case IPPROTO_TCP:
      return "IPPROTO_TCP";
    default:
      return Num(level);
  }
}

std::string SockOpt(int level, int opt) {
  // SO_* and IPV6_* values overlap; the level tells them apart.
  if (level == IPPROTO_IPV6) return opt == IPV6_V6ONLY ? "IPV6_V6ONLY" : Num(opt);
  if (level == IPPROTO_TCP) return opt == TCP_NODELAY ? "TCP_NODELAY" : Num(opt);
  for (const auto& n : kSockOpts) {
    if (n.value == opt && std::string_view(n.name).substr(0, 3) == "SO_") return n.name;
  }
  return Num(opt);
}

std::string GaiFlags(int flags) {
  static constexpr NamedInt kFlags[] = {
      {AI_PASSIVE, "AI_PASSIVE"},
      {AI_CANONNAME, "AI_CANONNAME"},
      {AI_NUMERICHOST, "AI_NUMERICHOST"},
      {AI_V4MAPPED, "AI_V4MAPPED"},
      {AI_ALL, "AI_ALL"},
      {AI_ADDRCONFIG, "AI_ADDRCONFIG"},
      {AI_NUMERICSERV, "AI_NUMERICSERV"},
  };
  if (flags == 0) return "0";
  std::string out;
  int rest = flags;
  for (const auto& f : kFlags) {
    if (flags & f.value) {
      out += (out.empty() ? "" : "|") + std::string(f.name);
      rest &= ~f.value;
    }
  }
  if (rest != 0) out += (out.empty() ? "" : "|") + Hex(static_cast<unsigned>(rest));
  return out;
}

std::string FileType(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFSOCK:
      return "S_IFSOCK";
    case S_IFREG:
      return "S_IFREG";
    case S_IFLNK:
      return "S_IFLNK";
    case S_IFDIR:
      return "S_IFDIR";
    default:
      return Octal(mode & S_IFMT);
  }
}

std::string EpollOp(int op) {
  switch (op) {
    case EPOLL_CTL_ADD:
      return "EPOLL_CTL_ADD";
    case EPOLL_CTL_MOD:
      return "EPOLL_CTL_MOD";
    case EPOLL_CTL_DEL:
      return "EPOLL_CTL_DEL";
    default:
      return Num(op);
  }
}

std::string Outcome(int err, bool injected) {
  return std::string("-1 ") + ErrnoName(err) + (injected ? " (injected)" : "");
}

std::string IntOutcome(const SysInt& r, bool injected) {
  return r.ok() ? Num(r.value) : Outcome(r.err, injected);
}

}  // namespace

const char* CallName(Call call) {
  const auto i = static_cast<size_t>(call);
  return i < kCallCount ? kCallNames[i] : "?";
}

std::optional<Call> CallFromName(std::string_view name) {
  for (size_t i = 0; i < kCallCount; ++i) {
    if (name == kCallNames[i]) return static_cast<Call>(i);
  }
  return std::nullopt;
}

std::optional<int> SockOptFromName(std::string_view name) {
  for (const auto& n : kSockOpts) {
    if (name == n.name) return n.value;
  }
  return std::nullopt;
}

long long SysTrace::total() const {
  long long n = 0;
  for (long long c : counts) n += c;
  return n;
}

SysTrace InjectingSys::TakeTrace() { return std::exchange(trace_, SysTrace{}); }

const FaultRule* InjectingSys::Fault(Call call, std::optional<int> family,
                                     std::optional<int> optname) {
  ++trace_.counts[static_cast<size_t>(call)];
  const FaultRule* fired = nullptr;
  // Every matching rule counts the call; the first one due fires.
  for (FaultRule& r : faults_) {
    if (r.call != call) continue;
    if (r.family && family != r.family) continue;
    if (r.optname && optname != r.optname) continue;
    ++r.seen;
    const bool due = r.seen >= r.nth && (r.times == 0 || r.seen < r.nth + r.times);
    if (due && fired == nullptr) fired = &r;
  }
  return fired;
}

std::optional<int> InjectingSys::FamilyOf(int fd) const {
  auto it = fd_family_.find(fd);
  if (it == fd_family_.end()) return std::nullopt;
  return it->second;
}

void InjectingSys::Log(std::string line) {
  if (trace_.log.size() < kMaxLogLines) {
    trace_.log.push_back(std::move(line));
  } else {
    ++trace_.dropped;
  }
}

template <typename Real>
SysInt InjectingSys::Int(Call call, std::optional<int> family, std::optional<int> optname,
                         const std::string& text, Real&& real) {
  const FaultRule* f = Fault(call, family, optname);
  SysInt r = f ? SysErr(f->err) : real();
  Log(text + " = " + IntOutcome(r, f != nullptr));
  return r;
}

GaiResult InjectingSys::getaddrinfo(const std::optional<std::string>& host,
                                    const std::string& service, const AddrInfoHints& hints) {
  const std::string text = "getaddrinfo(" + (host ? Quote(*host) : std::string("NULL")) + ", " +
                           Quote(service) + ", " + Family(hints.family) + ", " +
                           SocketType(hints.socktype) + ", " + Num(hints.protocol) + ", " +
                           GaiFlags(hints.flags) + ")";
  GaiResult r;
  bool injected = false;
  if (const FaultRule* f = Fault(Call::kGetaddrinfo, hints.family)) {
    r = f->gai ? GaiResult{f->err, 0, {}} : GaiResult{EAI_SYSTEM, f->err, {}};
    injected = true;
  } else if (auto it = std::find_if(resolver_.begin(), resolver_.end(),
                                    [&](const ResolverOverride& o) { return o.host == host; });
             it != resolver_.end()) {
    injected = true;
    r.gai_err = it->gai_err;
    r.sys_err = it->sys_err;
    if (r.gai_err == 0) {
      unsigned port = 0;
      const auto [end, ec] = std::from_chars(service.data(), service.data() + service.size(), port);
      if (ec != std::errc() || end != service.data() + service.size() || port > 65535) {
        r.gai_err = EAI_SERVICE;  // an override answers numeric services only
      } else {
        for (const SockAddr& a : it->addrs) {
          if (hints.family != AF_UNSPEC && a.family() != hints.family) continue;
          r.addrs.push_back(AddrInfo{a.family(), hints.socktype ? hints.socktype : SOCK_STREAM,
                                     IPPROTO_TCP, "", a.WithPort(static_cast<uint16_t>(port))});
        }
        if (r.addrs.empty()) r.gai_err = EAI_ADDRFAMILY;
      }
    }
  } else {
    r = inner_.getaddrinfo(host, service, hints);
  }
  std::string out;
  if (r.ok()) {
    out = "[";
    for (const AddrInfo& ai : r.addrs) {
      out += (out.size() > 1 ? ", " : "") + ai.addr.ToString();
    }
    out += "]";
  } else {
    out = GaiErrorName(r.gai_err);
    if (r.gai_err == EAI_SYSTEM) out += std::string(" ") + ErrnoName(r.sys_err);
  }
  Log(text + " = " + out + (injected ? " (injected)" : ""));
  return r;
}

SysInt InjectingSys::socket(int domain, int type, int protocol) {
  const std::string text =
      "socket(" + Family(domain) + ", " + SocketType(type) + ", " + Num(protocol) + ")";
  if (ipv6_missing_ && domain == AF_INET6) {
    ++trace_.counts[static_cast<size_t>(Call::kSocket)];
    Log(text + " = " + Outcome(EAFNOSUPPORT, true) + " [no IPv6]");
    return SysErr(EAFNOSUPPORT);
  }
  SysInt r = Int(Call::kSocket, domain, std::nullopt, text,
                 [&] { return inner_.socket(domain, type, protocol); });
  if (r.ok()) fd_family_[r.value] = domain;
  return r;
}

SysInt InjectingSys::setsockopt(int fd, int level, int optname, int value) {
  return Int(Call::kSetsockopt, FamilyOf(fd), optname,
             "setsockopt(" + Num(fd) + ", " + Level(level) + ", " + SockOpt(level, optname) + ", " +
                 Num(value) + ")",
             [&] { return inner_.setsockopt(fd, level, optname, value); });
}

SysInt InjectingSys::getsockopt(int fd, int level, int optname) {
  return Int(Call::kGetsockopt, FamilyOf(fd), optname,
             "getsockopt(" + Num(fd) + ", " + Level(level) + ", " + SockOpt(level, optname) + ")",
             [&] { return inner_.getsockopt(fd, level, optname); });
}

SysInt InjectingSys::bind(int fd, const SockAddr& addr) {
  return Int(Call::kBind, addr.family(), std::nullopt,
             "bind(" + Num(fd) + ", " + addr.ToString() + ")",
             [&] { return inner_.bind(fd, addr); });
}

SysInt InjectingSys::listen(int fd, int backlog) {
  return Int(Call::kListen, FamilyOf(fd), std::nullopt,
             "listen(" + Num(fd) + ", " + Num(backlog) + ")",
             [&] { return inner_.listen(fd, backlog); });
}

SysResult<SockAddr> InjectingSys::getsockname(int fd) {
  const FaultRule* f = Fault(Call::kGetsockname, FamilyOf(fd));
  SysResult<SockAddr> r = f ? SysErr<SockAddr>(f->err) : inner_.getsockname(fd);
  Log("getsockname(" + Num(fd) +
      ") = " + (r.ok() ? r.value.ToString() : Outcome(r.err, f != nullptr)));
  return r;
}

SysInt InjectingSys::accept4(int fd, SockAddr* peer, int flags) {
  const std::optional<int> family = FamilyOf(fd);
  SysInt r = Int(Call::kAccept4, family, std::nullopt,
                 "accept4(" + Num(fd) + ", " + AcceptFlags(flags) + ")",
                 [&] { return inner_.accept4(fd, peer, flags); });
  if (r.ok() && family) fd_family_[r.value] = *family;
  return r;
}

SysInt InjectingSys::connect(int fd, const SockAddr& addr) {
  return Int(Call::kConnect, addr.family(), std::nullopt,
             "connect(" + Num(fd) + ", " + addr.ToString() + ")",
             [&] { return inner_.connect(fd, addr); });
}

SysInt InjectingSys::close(int fd) {
  const FaultRule* f = Fault(Call::kClose, FamilyOf(fd));
  fd_family_.erase(fd);
  // Linux releases the fd whatever close() returns, so an injected failure
  // still closes it for real: a fault must not turn into a leak of our making.
  SysInt real = inner_.close(fd);
  SysInt r = f ? SysErr(f->err) : real;
  Log("close(" + Num(fd) + ") = " + IntOutcome(r, f != nullptr));
  return r;
}

SysInt InjectingSys::fcntl(int fd, int cmd, int arg) {
  return Int(Call::kFcntl, FamilyOf(fd), std::nullopt,
             "fcntl(" + Num(fd) + ", " + Num(cmd) + ", " + Hex(static_cast<unsigned>(arg)) + ")",
             [&] { return inner_.fcntl(fd, cmd, arg); });
}

SysInt InjectingSys::unlink(const std::string& path) {
  return Int(Call::kUnlink, AF_UNIX, std::nullopt, "unlink(" + Quote(path) + ")",
             [&] { return inner_.unlink(path); });
}

SysResult<FileStat> InjectingSys::lstat(const std::string& path) {
  const FaultRule* f = Fault(Call::kLstat, AF_UNIX);
  SysResult<FileStat> r = f ? SysErr<FileStat>(f->err) : inner_.lstat(path);
  Log("lstat(" + Quote(path) + ") = " +
      (r.ok() ? FileType(r.value.mode) + "|" + Octal(r.value.mode & 07777)
              : Outcome(r.err, f != nullptr)));
  return r;
}

SysResult<FileStat> InjectingSys::stat(const std::string& path) {
  const FaultRule* f = Fault(Call::kStat, AF_UNIX);
  SysResult<FileStat> r = f ? SysErr<FileStat>(f->err) : inner_.stat(path);
  Log("stat(" + Quote(path) + ") = " +
      (r.ok() ? FileType(r.value.mode) + "|" + Octal(r.value.mode & 07777)
              : Outcome(r.err, f != nullptr)));
  return r;
}

SysInt InjectingSys::chmod(const std::string& path, mode_t mode) {
  return Int(Call::kChmod, AF_UNIX, std::nullopt, "chmod(" + Quote(path) + ", " + Octal(mode) + ")",
             [&] { return inner_.chmod(path, mode); });
}

SysInt InjectingSys::fchmod(int fd, mode_t mode) {
  return Int(Call::kFchmod, FamilyOf(fd), std::nullopt,
             "fchmod(" + Num(fd) + ", " + Octal(mode) + ")",
             [&] { return inner_.fchmod(fd, mode); });
}

mode_t InjectingSys::umask(mode_t mask) {
  ++trace_.counts[static_cast<size_t>(Call::kUmask)];  // cannot fail, so no rule applies
  const mode_t old = inner_.umask(mask);
  Log("umask(" + Octal(mask) + ") = " + Octal(old));
  return old;
}

SysInt InjectingSys::epoll_create1(int flags) {
  return Int(
      Call::kEpollCreate1, std::nullopt, std::nullopt,
      std::string("epoll_create1(") + (flags == EPOLL_CLOEXEC ? "EPOLL_CLOEXEC" : Num(flags)) + ")",
      [&] { return inner_.epoll_create1(flags); });
}

SysInt InjectingSys::epoll_ctl(int epfd, int op, int fd, uint32_t events) {
  return Int(
      Call::kEpollCtl, FamilyOf(fd), std::nullopt,
      "epoll_ctl(" + Num(epfd) + ", " + EpollOp(op) + ", " + Num(fd) + ", " + Hex(events) + ")",
      [&] { return inner_.epoll_ctl(epfd, op, fd, events); });
}

SysInt InjectingSys::epoll_wait(int epfd, EpollEvent* events, int max_events, int timeout_ms) {
  return Int(Call::kEpollWait, std::nullopt, std::nullopt,
             "epoll_wait(" + Num(epfd) + ", " + Num(max_events) + ", " + Num(timeout_ms) + ")",
             [&] { return inner_.epoll_wait(epfd, events, max_events, timeout_ms); });
}

std::chrono::nanoseconds InjectingSys::monotonic_now() {
  return inner_.monotonic_now();  // the clock: neither counted nor logged
}

}  // namespace netutil::conform
