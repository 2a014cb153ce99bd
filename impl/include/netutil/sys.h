// The syscall seam. Every system call the reference makes goes through a Sys,
// so tests can script it (fakes::MockSys), model it (the fake kernel) or run it
// for real (PosixSys).
//
// Methods are named after the syscall and take the man page's arguments, as
// values where the kernel would take pointers. Each returns its value and its
// errno together (SysResult); none touches the global errno. The methods are
// listed once, in sys_calls.def; every implementation of the seam declares
// its overrides from that list (NETUTIL_SYS_OVERRIDE below).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netutil/sock_addr.h"
#include "netutil/sys_result.h"

namespace netutil {

// One getaddrinfo result, as a value.
struct AddrInfo {
  int family = 0;
  int socktype = 0;
  int protocol = 0;
  std::string canonname;
  SockAddr addr;

  friend bool operator==(const AddrInfo& a, const AddrInfo& b) {
    return a.family == b.family && a.socktype == b.socktype && a.protocol == b.protocol &&
           a.canonname == b.canonname && a.addr == b.addr;
  }
};

struct AddrInfoHints {
  int family = 0;  // AF_UNSPEC
  int socktype = 0;
  int protocol = 0;
  int flags = 0;
};

// getaddrinfo speaks EAI_* codes, not errno; sys_err carries errno only for
// EAI_SYSTEM. Kept apart from SysResult so the two error domains never mix.
struct [[nodiscard]] GaiResult {
  int gai_err = 0;
  int sys_err = 0;
  std::vector<AddrInfo> addrs;

  bool ok() const { return gai_err == 0; }
};

// The part of struct stat the reference needs.
struct FileStat {
  uint32_t mode = 0;  // type and permission bits (S_IFSOCK | 0600, ...)
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t uid = 0;
};

// One ready fd from epoll_wait. The reference registers fds with data.fd = fd,
// so the seam passes the fd instead of the epoll_data union.
struct EpollEvent {
  uint32_t events = 0;
  int fd = -1;
};

class Sys {
 public:
  virtual ~Sys() = default;

  // One pure virtual per line of sys_calls.def, which says where a method
  // departs from its man page.
#define NETUTIL_SYS_METHOD(Ret, name, Camel, params, args) virtual Ret name params = 0;
#include "netutil/sys_calls.def"
};

}  // namespace netutil

// Declares a Sys method as an override, for a class that implements every
// call of the list:
//
//   class MySys final : public Sys {
//    public:
//   #define NETUTIL_SYS_METHOD NETUTIL_SYS_OVERRIDE
//   #include "netutil/sys_calls.def"
//   };
#define NETUTIL_SYS_OVERRIDE(Ret, name, Camel, params, args) Ret name params override;
