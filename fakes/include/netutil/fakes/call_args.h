// What one call of the seam looked like: its arguments as text, both the way a
// trace prints them (`bind(3, [::]:0)`) and the way a fault rule selects on
// them (`bind family=inet6 port=0`). Built from the Sys method's arguments, so
// the fault injector, the trace and the LD_PRELOAD injector agree on spelling.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "netutil/fakes/syscall_table.h"
#include "netutil/sys.h"

namespace netutil::fakes {

struct CallArgs {
  Call call = Call::kSocket;
  // The printed argument list, without parentheses: `3, SOL_SOCKET, SO_REUSEADDR, 1`.
  std::string text;
  // The values a rule's `key=value` predicates compare with, in their
  // canonical spelling (see the ArgKey comments); nullopt when the call has no
  // such argument.
  std::optional<std::string> family, port, fd, host, addr, path, opt, backlog, op, cmd;

  const std::optional<std::string>& Get(ArgKey key) const;
};

// One builder per Sys method.
CallArgs GetaddrinfoArgs(const std::optional<std::string>& host, const std::string& service,
                         const AddrInfoHints& hints);
CallArgs SocketArgs(int domain, int type, int protocol);
CallArgs SetsockoptArgs(int fd, int level, int optname, int value);
CallArgs GetsockoptArgs(int fd, int level, int optname);
CallArgs BindArgs(int fd, const SockAddr& addr);
CallArgs ListenArgs(int fd, int backlog);
CallArgs GetsocknameArgs(int fd);
CallArgs Accept4Args(int fd, int flags);
CallArgs ConnectArgs(int fd, const SockAddr& addr);
CallArgs CloseArgs(int fd);
CallArgs FcntlArgs(int fd, int cmd, int arg);
CallArgs UnlinkArgs(const std::string& path);
CallArgs LstatArgs(const std::string& path);
CallArgs StatArgs(const std::string& path);
CallArgs ChmodArgs(const std::string& path, mode_t mode);
CallArgs FchmodArgs(int fd, mode_t mode);
CallArgs UmaskArgs(mode_t mask);
CallArgs EpollCreate1Args(int flags);
CallArgs EpollCtlArgs(int epfd, int op, int fd, uint32_t events);
CallArgs EpollWaitArgs(int epfd, int max_events, int timeout_ms);
// The *at calls: fd= is the directory fd ("AT_FDCWD" for it, which a rule
// cannot select: select those calls by path=), path= the path
// as given (relative to that directory; renameat2: the old one).
CallArgs OpenatArgs(int dirfd, const std::string& path, int flags, mode_t mode);
CallArgs MkdiratArgs(int dirfd, const std::string& path, mode_t mode);
CallArgs FstatatArgs(int dirfd, const std::string& path, int flags);
CallArgs Renameat2Args(int olddirfd, const std::string& oldpath, int newdirfd,
                       const std::string& newpath, unsigned int flags);
CallArgs UnlinkatArgs(int dirfd, const std::string& path, int flags);
CallArgs FchmodatArgs(int dirfd, const std::string& path, mode_t mode, int flags);
CallArgs ReadlinkatArgs(int dirfd, const std::string& path);
std::string DirFdText(int dirfd);  // "AT_FDCWD" or the number

// The spellings shared by traces, plans and error messages.
// FamilyShortName (sock_addr.h), and "af42" for a family it does not name.
std::string FamilyToken(int family);
std::string SockTypeText(int type);         // "SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC"
std::string SockOptName(int level, int optname);  // "SO_REUSEADDR", "IPV6_V6ONLY", "41:99"
std::string SockLevelName(int level);       // "SOL_SOCKET", "IPPROTO_IPV6"
std::string AiFlagsText(int flags);         // "AI_PASSIVE|AI_NUMERICHOST", "0"
std::string ModeText(mode_t mode);          // "0600"
std::string FcntlCmdName(int cmd);          // "F_SETFL", "F_42"
std::string EpollOpName(int op);            // "ADD", "MOD", "DEL", "OP42"
std::string EpollEventsText(uint32_t events);  // "EPOLLIN|EPOLLOUT", "0"
// The address part a rule's addr= compares with: "0.0.0.0", "::", "fe80::1%3",
// a unix path, "@name" for an abstract name.
std::string AddrToken(const SockAddr& addr);

}  // namespace netutil::fakes
