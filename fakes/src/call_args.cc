#include "netutil/fakes/call_args.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstdio>
#include <string_view>

namespace netutil::fakes {
namespace {

std::string Quoted(const std::string& s) {
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

// Joins the names of the set bits of `value` found in `names`, then any bits
// left over in hex, so no flag is ever silently dropped from a trace.
template <size_t N>
std::string Flags(unsigned value, const std::pair<unsigned, const char*> (&names)[N]) {
  std::string out;
  for (const auto& [bit, name] : names) {
    if ((value & bit) == bit && bit != 0) {
      out += (out.empty() ? "" : "|") + std::string(name);
      value &= ~bit;
    }
  }
  if (value != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", value);
    out += (out.empty() ? "" : "|") + std::string(buf);
  }
  return out.empty() ? "0" : out;
}

CallArgs Base(Call call, std::string text) {
  CallArgs a;
  a.call = call;
  a.text = std::move(text);
  return a;
}

void AddAddr(CallArgs& a, const SockAddr& addr) {
  a.family = FamilyToken(addr.family());
  if (addr.family() == AF_INET || addr.family() == AF_INET6) {
    a.port = std::to_string(addr.port());
    a.addr = AddrToken(addr);
  } else if (addr.family() == AF_UNIX) {
    a.addr = AddrToken(addr);
    a.path = a.addr;
  }
}

}  // namespace

const std::optional<std::string>& CallArgs::Get(ArgKey key) const {
  switch (key) {
    case ArgKey::kFamily:
      return family;
    case ArgKey::kPort:
      return port;
    case ArgKey::kFd:
      return fd;
    case ArgKey::kHost:
      return host;
    case ArgKey::kAddr:
      return addr;
    case ArgKey::kPath:
      return path;
    case ArgKey::kOpt:
      return opt;
    case ArgKey::kBacklog:
      return backlog;
    case ArgKey::kOp:
      return op;
    case ArgKey::kCmd:
      return cmd;
  }
  return family;  // unreachable: every key is handled above
}

std::string FamilyToken(int family) {
  const char* short_name = FamilyShortName(family);
  return short_name != nullptr ? short_name : "af" + std::to_string(family);
}

std::string SockTypeText(int type) {
  const int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  std::string out;
  switch (base) {
    case SOCK_STREAM:
      out = "SOCK_STREAM";
      break;
    case SOCK_DGRAM:
      out = "SOCK_DGRAM";
      break;
    case SOCK_RAW:
      out = "SOCK_RAW";
      break;
    case SOCK_SEQPACKET:
      out = "SOCK_SEQPACKET";
      break;
    default:
      out = std::to_string(base);
  }
  if (type & SOCK_NONBLOCK) out += "|SOCK_NONBLOCK";
  if (type & SOCK_CLOEXEC) out += "|SOCK_CLOEXEC";
  return out;
}

std::string SockLevelName(int level) {
  switch (level) {
    case SOL_SOCKET:
      return "SOL_SOCKET";
    case IPPROTO_IP:
      return "IPPROTO_IP";
    case IPPROTO_IPV6:
      return "IPPROTO_IPV6";
    case IPPROTO_TCP:
      return "IPPROTO_TCP";
    default:
      return std::to_string(level);
  }
}

std::string SockOptName(int level, int optname) {
  if (level == SOL_SOCKET) {
    switch (optname) {
      case SO_REUSEADDR:
        return "SO_REUSEADDR";
      case SO_REUSEPORT:
        return "SO_REUSEPORT";
      case SO_TYPE:
        return "SO_TYPE";
      case SO_ERROR:
        return "SO_ERROR";
      case SO_ACCEPTCONN:
        return "SO_ACCEPTCONN";
      case SO_DOMAIN:
        return "SO_DOMAIN";
      case SO_RCVBUF:
        return "SO_RCVBUF";
      case SO_SNDBUF:
        return "SO_SNDBUF";
      case SO_KEEPALIVE:
        return "SO_KEEPALIVE";
      default:
        break;
    }
  }
  if (level == IPPROTO_IPV6 && optname == IPV6_V6ONLY) return "IPV6_V6ONLY";
  if (level == IPPROTO_TCP && optname == 1) return "TCP_NODELAY";
  return std::to_string(level) + ":" + std::to_string(optname);
}

std::string AiFlagsText(int flags) {
  static const std::pair<unsigned, const char*> kNames[] = {
      {AI_PASSIVE, "AI_PASSIVE"},
      {AI_CANONNAME, "AI_CANONNAME"},
      {AI_NUMERICHOST, "AI_NUMERICHOST"},
      {AI_V4MAPPED, "AI_V4MAPPED"},
      {AI_ALL, "AI_ALL"},
      {AI_ADDRCONFIG, "AI_ADDRCONFIG"},
      {AI_NUMERICSERV, "AI_NUMERICSERV"},
  };
  return Flags(static_cast<unsigned>(flags), kNames);
}

std::string ModeText(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%03o", static_cast<unsigned>(mode));
  return buf;
}

std::string IoctlRequestName(unsigned long request) {
  if (request == FIONBIO) return "FIONBIO";
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%lx", request);
  return buf;
}

std::string CloseRangeFlagsText(unsigned int flags) {
  static constexpr std::pair<unsigned, const char*> kNames[] = {
      {CLOSE_RANGE_CLOEXEC, "CLOSE_RANGE_CLOEXEC"}, {CLOSE_RANGE_UNSHARE, "CLOSE_RANGE_UNSHARE"}};
  return Flags(flags, kNames);
}

std::string FcntlCmdName(int cmd) {
  switch (cmd) {
    case F_GETFL:
      return "F_GETFL";
    case F_SETFL:
      return "F_SETFL";
    case F_GETFD:
      return "F_GETFD";
    case F_SETFD:
      return "F_SETFD";
    default:
      return "F_" + std::to_string(cmd);
  }
}

std::string EpollOpName(int op) {
  switch (op) {
    case EPOLL_CTL_ADD:
      return "ADD";
    case EPOLL_CTL_MOD:
      return "MOD";
    case EPOLL_CTL_DEL:
      return "DEL";
    default:
      return "OP" + std::to_string(op);
  }
}

std::string EpollEventsText(uint32_t events) {
  static const std::pair<unsigned, const char*> kNames[] = {
      {EPOLLIN, "EPOLLIN"},   {EPOLLOUT, "EPOLLOUT"}, {EPOLLERR, "EPOLLERR"},
      {EPOLLHUP, "EPOLLHUP"}, {EPOLLET, "EPOLLET"},   {EPOLLRDHUP, "EPOLLRDHUP"},
  };
  return Flags(events, kNames);
}

std::string AddrToken(const SockAddr& addr) { return addr.host(); }

std::string CallFlagsText(Call call, int flags) {
  static constexpr std::pair<unsigned, const char*> kSockFlags[] = {
      {SOCK_NONBLOCK, "SOCK_NONBLOCK"}, {SOCK_CLOEXEC, "SOCK_CLOEXEC"}};
  static constexpr std::pair<unsigned, const char*> kOpenFlags[] = {
      {O_PATH, "O_PATH"},         {O_DIRECTORY, "O_DIRECTORY"},
      {O_NOFOLLOW, "O_NOFOLLOW"}, {O_CLOEXEC, "O_CLOEXEC"},
      {O_CREAT, "O_CREAT"},       {O_EXCL, "O_EXCL"},
      {O_WRONLY, "O_WRONLY"},     {O_RDWR, "O_RDWR"}};
  static constexpr std::pair<unsigned, const char*> kAtFlags[] = {
      {AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"},
      {AT_EMPTY_PATH, "AT_EMPTY_PATH"},
      {AT_REMOVEDIR, "AT_REMOVEDIR"}};
  const auto bits = static_cast<unsigned>(flags);
  switch (call) {
    case Call::kAccept4:
      return Flags(bits, kSockFlags);
    case Call::kEpollCreate1:
      return flags == EPOLL_CLOEXEC ? "EPOLL_CLOEXEC" : std::to_string(flags);
    case Call::kOpenat:
      return Flags(bits, kOpenFlags);
    case Call::kFstatat:
    case Call::kUnlinkat:
    case Call::kFchmodat:
      return Flags(bits, kAtFlags);
    case Call::kGetaddrinfo:
      return AiFlagsText(flags);
    default:
      return std::to_string(flags);
  }
}

CallArgs GetaddrinfoArgs(const std::optional<std::string>& host, const std::string& service,
                         const AddrInfoHints& hints) {
  CallArgs a = Base(Call::kGetaddrinfo,
                    (host ? Quoted(*host) : "NULL") + ", " + Quoted(service) + ", " +
                        FamilyName(hints.family) + ", " + SockTypeText(hints.socktype) + ", " +
                        std::to_string(hints.protocol) + ", " + AiFlagsText(hints.flags));
  a.host = host ? *host : "(null)";
  a.family = FamilyToken(hints.family);
  return a;
}

CallArgs SocketArgs(int domain, int type, int protocol) {
  CallArgs a = Base(Call::kSocket, std::string(FamilyName(domain)) + ", " + SockTypeText(type) +
                                       ", " + std::to_string(protocol));
  a.family = FamilyToken(domain);
  return a;
}

CallArgs SetsockoptArgs(int fd, int level, int optname, int value) {
  CallArgs a =
      Base(Call::kSetsockopt, std::to_string(fd) + ", " + SockLevelName(level) + ", " +
                                  SockOptName(level, optname) + ", " + std::to_string(value));
  a.fd = std::to_string(fd);
  a.opt = SockOptName(level, optname);
  return a;
}

CallArgs GetsockoptArgs(int fd, int level, int optname) {
  CallArgs a = Base(Call::kGetsockopt, std::to_string(fd) + ", " + SockLevelName(level) + ", " +
                                           SockOptName(level, optname));
  a.fd = std::to_string(fd);
  a.opt = SockOptName(level, optname);
  return a;
}

CallArgs BindArgs(int fd, const SockAddr& addr) {
  CallArgs a = Base(Call::kBind, std::to_string(fd) + ", " + addr.ToString());
  a.fd = std::to_string(fd);
  AddAddr(a, addr);
  return a;
}

CallArgs ListenArgs(int fd, int backlog) {
  CallArgs a = Base(Call::kListen, std::to_string(fd) + ", " + std::to_string(backlog));
  a.fd = std::to_string(fd);
  a.backlog = std::to_string(backlog);
  return a;
}

CallArgs GetsocknameArgs(int fd) {
  CallArgs a = Base(Call::kGetsockname, std::to_string(fd));
  a.fd = std::to_string(fd);
  return a;
}

CallArgs Accept4Args(int fd, SockAddr* /*peer*/, int flags) {
  CallArgs a =
      Base(Call::kAccept4, std::to_string(fd) + ", ..., " + CallFlagsText(Call::kAccept4, flags));
  a.fd = std::to_string(fd);
  return a;
}

CallArgs ConnectArgs(int fd, const SockAddr& addr) {
  CallArgs a = Base(Call::kConnect, std::to_string(fd) + ", " + addr.ToString());
  a.fd = std::to_string(fd);
  AddAddr(a, addr);
  return a;
}

CallArgs CloseArgs(int fd) {
  CallArgs a = Base(Call::kClose, std::to_string(fd));
  a.fd = std::to_string(fd);
  return a;
}

CallArgs FcntlArgs(int fd, int cmd, int arg) {
  CallArgs a = Base(Call::kFcntl,
                    std::to_string(fd) + ", " + FcntlCmdName(cmd) + ", " + std::to_string(arg));
  a.fd = std::to_string(fd);
  a.cmd = FcntlCmdName(cmd);
  return a;
}

CallArgs UnlinkArgs(const std::string& path) {
  CallArgs a = Base(Call::kUnlink, Quoted(path));
  a.path = path;
  return a;
}

CallArgs LstatArgs(const std::string& path) {
  CallArgs a = Base(Call::kLstat, Quoted(path));
  a.path = path;
  return a;
}

CallArgs StatArgs(const std::string& path) {
  CallArgs a = Base(Call::kStat, Quoted(path));
  a.path = path;
  return a;
}

CallArgs ChmodArgs(const std::string& path, mode_t mode) {
  CallArgs a = Base(Call::kChmod, Quoted(path) + ", " + ModeText(mode));
  a.path = path;
  return a;
}

CallArgs FchmodArgs(int fd, mode_t mode) {
  CallArgs a = Base(Call::kFchmod, std::to_string(fd) + ", " + ModeText(mode));
  a.fd = std::to_string(fd);
  return a;
}

CallArgs UmaskArgs(mode_t mask) { return Base(Call::kUmask, ModeText(mask)); }

CallArgs EpollCreate1Args(int flags) {
  return Base(Call::kEpollCreate1, CallFlagsText(Call::kEpollCreate1, flags));
}

CallArgs EpollCtlArgs(int epfd, int op, int fd, uint32_t events) {
  // The mask in hex, as netconform's trace patterns spell it ("0x1").
  char mask[16];
  std::snprintf(mask, sizeof mask, "0x%x", static_cast<unsigned>(events));
  CallArgs a = Base(Call::kEpollCtl, std::to_string(epfd) + ", EPOLL_CTL_" + EpollOpName(op) +
                                         ", " + std::to_string(fd) + ", " + mask);
  a.fd = std::to_string(fd);
  a.op = EpollOpName(op);
  return a;
}

std::string DirFdText(int dirfd) { return dirfd == AT_FDCWD ? "AT_FDCWD" : std::to_string(dirfd); }

namespace {

CallArgs AtBase(Call call, int dirfd, const std::string& path, const std::string& rest) {
  CallArgs a =
      Base(call, DirFdText(dirfd) + ", " + Quoted(path) + (rest.empty() ? "" : ", ") + rest);
  a.fd = DirFdText(dirfd);
  a.path = path;
  return a;
}

}  // namespace

CallArgs OpenatArgs(int dirfd, const std::string& path, int flags, mode_t mode) {
  return AtBase(
      Call::kOpenat, dirfd, path,
      CallFlagsText(Call::kOpenat, flags) + ((flags & O_CREAT) != 0 ? ", " + ModeText(mode) : ""));
}

CallArgs MkdiratArgs(int dirfd, const std::string& path, mode_t mode) {
  return AtBase(Call::kMkdirat, dirfd, path, ModeText(mode));
}

CallArgs FstatatArgs(int dirfd, const std::string& path, int flags) {
  return AtBase(Call::kFstatat, dirfd, path, CallFlagsText(Call::kFstatat, flags));
}

CallArgs Renameat2Args(int olddirfd, const std::string& oldpath, int newdirfd,
                       const std::string& newpath, unsigned int flags) {
  static constexpr std::pair<unsigned, const char*> kNames[] = {
      {1u, "RENAME_NOREPLACE"}, {2u, "RENAME_EXCHANGE"}, {4u, "RENAME_WHITEOUT"}};
  return AtBase(Call::kRenameat2, olddirfd, oldpath,
                DirFdText(newdirfd) + ", " + Quoted(newpath) + ", " + Flags(flags, kNames));
}

CallArgs UnlinkatArgs(int dirfd, const std::string& path, int flags) {
  return AtBase(Call::kUnlinkat, dirfd, path, CallFlagsText(Call::kUnlinkat, flags));
}

CallArgs FchmodatArgs(int dirfd, const std::string& path, mode_t mode, int flags) {
  return AtBase(Call::kFchmodat, dirfd, path,
                ModeText(mode) + ", " + CallFlagsText(Call::kFchmodat, flags));
}

CallArgs ReadlinkatArgs(int dirfd, const std::string& path) {
  return AtBase(Call::kReadlinkat, dirfd, path, "");
}

// cmd= is the request's name, as fcntl's is the command's.
CallArgs IoctlArgs(int fd, unsigned long request, int value) {
  const std::string name = IoctlRequestName(request);
  CallArgs a = Base(Call::kIoctl, std::to_string(fd) + ", " + name + ", " + std::to_string(value));
  a.fd = std::to_string(fd);
  a.cmd = name;
  return a;
}

CallArgs CloseRangeArgs(unsigned int first, unsigned int last, unsigned int flags) {
  return Base(Call::kCloseRange, std::to_string(first) + ", " + std::to_string(last) + ", " +
                                     CloseRangeFlagsText(flags));
}

CallArgs EpollWaitArgs(int epfd, EpollEvent* /*events*/, int max_events, int timeout_ms) {
  return Base(Call::kEpollWait, std::to_string(epfd) + ", ..., " + std::to_string(max_events) +
                                    ", " + std::to_string(timeout_ms));
}

}  // namespace netutil::fakes
