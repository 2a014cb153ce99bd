// The calls of the Sys seam as data: their names, the errnos each may return,
// the arguments a fault rule may select on, and how an injected failure
// behaves. The fault-plan parser, the injecting Sys, the FakeKernel, the
// exhaustive sweep and the LD_PRELOAD injector of the conformance suite all
// read this one table, so a fault that one of them accepts is legal for all.
//
// The errno lists come from the Linux man pages (man 2 <call>, man 7 socket,
// man 7 unix, man 7 ip for the address errors). EINTR is added where the man
// page omits it but docs/SPEC.md asks the implementation to survive it
// (BIND-024, UNIX-014): an implementation is checked against the EINTR a
// signal could bring, whichever call a C library or a seccomp filter lets it
// reach.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace netutil::fakes {

// One per system call of the seam (NETUTIL_SYS_CALL in sys_calls.def), in the
// list's order: fuzz corpora encode these values, so the list only grows at
// its end. monotonic_now is a clock read, not a call a fault can hit.
enum class Call : uint8_t {
#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args) k##Camel,
#include "netutil/sys_calls.def"
};

inline constexpr std::array kAllCalls = {
#define NETUTIL_SYS_CALL(Ret, name, Camel, params, args) Call::k##Camel,
#include "netutil/sys_calls.def"
};

// "accept4", "epoll_create1": the syscall's own name, as fault plans spell it.
const char* CallName(Call call);
std::optional<Call> CallFromName(std::string_view name);

// The arguments a fault rule can select calls by (`bind family=inet6 port=0`).
enum class ArgKey : uint8_t {
  kFamily,   // socket, bind, connect, getaddrinfo: inet, inet6, unix, unspec
  kPort,     // bind, connect: the port of the address (0..65535)
  kFd,       // every call on an fd
  kHost,     // getaddrinfo: the node, "(null)" for NULL
  kAddr,     // bind, connect: the address without port ("0.0.0.0", "::1", "@name", a path)
  kPath,     // unlink, lstat, stat, chmod, the *at calls; bind and connect on AF_UNIX
  kOpt,      // setsockopt, getsockopt: SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY, ...
  kBacklog,  // listen
  kOp,       // epoll_ctl: ADD, MOD, DEL
  kCmd,      // fcntl: F_GETFL, F_SETFL, F_GETFD, F_SETFD; ioctl: FIONBIO
};

inline constexpr std::array<ArgKey, 10> kAllArgKeys = {
    ArgKey::kFamily, ArgKey::kPort, ArgKey::kFd,      ArgKey::kHost, ArgKey::kAddr,
    ArgKey::kPath,   ArgKey::kOpt,  ArgKey::kBacklog, ArgKey::kOp,   ArgKey::kCmd,
};

const char* ArgKeyName(ArgKey key);  // "family", "port", ...
std::optional<ArgKey> ArgKeyFromName(std::string_view name);

// Whether `call` has the argument `key`, so a rule may select on it.
bool CallTakes(Call call, ArgKey key);

// The errnos `call` may fail with, in the order the man page lists them (plus
// EINTR where the spec adds it, see above). Empty for getaddrinfo (it speaks
// EAI_* codes, see LegalGaiErrors) and for umask (it cannot fail).
std::span<const int> LegalErrnos(Call call);
bool IsLegalErrno(Call call, int err);

// getaddrinfo's EAI_* codes (man 3 getaddrinfo). EAI_SYSTEM carries an errno.
std::span<const int> LegalGaiErrors();
bool IsLegalGaiError(int gai_err);

// Whether a rule may make `call` return a chosen value instead of failing:
// the calls whose result is an int (an fd, a count, an option value, 0).
bool ReturnsInt(Call call);

// Whether the call's effect happens even though it reports `err`. close(2):
// the fd is released whatever close returns; an EBADF for an fd the process
// holds can only mean another thread closed it first, and either way it is
// gone. An injected close failure must therefore still close the fd, or the
// harness would report a leak the kernel never has.
bool TakesEffectDespite(Call call, int err);

}  // namespace netutil::fakes
