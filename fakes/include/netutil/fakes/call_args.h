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

// One builder per call of sys_calls.def, `<Camel>Args`, with the Sys
// method's parameters (out-parameters are not printed: "accept4(3, ..., 0)").
// The *at calls: fd= is the directory fd ("AT_FDCWD" for it, which a rule
// cannot select: select those calls by path=), path= the path as given
// (relative to that directory; renameat2: the old one).
#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args) CallArgs Camel##Args params;
#include "netutil/sys_calls.def"
std::string DirFdText(int dirfd);  // "AT_FDCWD" or the number

// The spellings shared by traces, plans and error messages.
// FamilyShortName (sock_addr.h), and "af42" for a family it does not name.
std::string FamilyToken(int family);
std::string SockTypeText(int type);                   // "SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC"
std::string SockOptName(int level, int optname);      // "SO_REUSEADDR", "IPV6_V6ONLY", "41:99"
std::string SockLevelName(int level);                 // "SOL_SOCKET", "IPPROTO_IPV6"
std::string AiFlagsText(int flags);                   // "AI_PASSIVE|AI_NUMERICHOST", "0"
std::string ModeText(mode_t mode);                    // "0600"
std::string FcntlCmdName(int cmd);                    // "F_SETFL", "F_42"
std::string IoctlRequestName(unsigned long request);  // "FIONBIO", "0x5401"
std::string CloseRangeFlagsText(unsigned int flags);  // "CLOSE_RANGE_CLOEXEC", "0"
std::string EpollOpName(int op);                      // "ADD", "MOD", "DEL", "OP42"
std::string EpollEventsText(uint32_t events);         // "EPOLLIN|EPOLLOUT", "0"
// The address part a rule's addr= compares with: "0.0.0.0", "::", "fe80::1%3",
// a unix path, "@name" for an abstract name.
std::string AddrToken(const SockAddr& addr);
// A call's `flags` argument by its call: accept4's SOCK_*, openat's O_*, the
// *at calls' AT_*, getaddrinfo's AI_*; a number where the call has no names.
std::string CallFlagsText(Call call, int flags);

}  // namespace netutil::fakes
