// What a FakeKernel models: the platform's behaviour (traits), the host's
// addresses and limits, the ephemeral port range and the resolver. A value,
// so a property test can generate one and print it when it fails.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netutil/fakes/resolver_table.h"
#include "netutil/platform.h"
#include "netutil/sock_addr.h"

namespace netutil::fakes {

// Which bind-conflict rules the kernel applies (bind_rules.h).
enum class BindRules { kLinux, kBsd, kWindows };

// The behaviours that differ between the platforms netutil runs on. The seam's
// vocabulary (SOCK_NONBLOCK|SOCK_CLOEXEC on socket(), accept4) is accepted on
// every platform: a port of the reference to darwin would translate those
// calls below the seam, and what differs above it is what these traits hold.
struct KernelTraits {
  Platform::Os os = Platform::Os::kLinux;
  BindRules bind_rules = BindRules::kLinux;
  // IPV6_V6ONLY of a new AF_INET6 socket: net.ipv6.bindv6only on Linux (0),
  // 0 on darwin, 1 on Windows.
  bool v6only_default = false;
  // setsockopt(SO_REUSEPORT): ENOPROTOOPT when false (Windows).
  bool has_reuseport = true;
  // SO_REUSEPORT on an AF_UNIX socket: EOPNOTSUPP since Linux 6.5 (commit
  // "net: restrict SO_REUSEPORT to inet sockets").
  bool reuseport_inet_only = true;
  // Abstract unix names ("\0name"): Linux only; elsewhere bind says EINVAL.
  bool abstract_unix = true;
  // listen() clamps the backlog to this (net.core.somaxconn: 4096 since Linux
  // 5.4; SOMAXCONN 128 on darwin; 200 for Windows' SOMAXCONN).
  int somaxconn = 4096;
  // listen() on a bound socket re-checks the port against the other sockets
  // (Linux's inet_csk_get_port from inet_csk_listen_start): two SO_REUSEADDR
  // sockets may bind one address, only one may listen.
  bool listen_rechecks_port = true;

  static KernelTraits Linux() { return {}; }
  static KernelTraits Darwin() {
    return {.os = Platform::Os::kDarwin,
            .bind_rules = BindRules::kBsd,
            .v6only_default = false,
            .has_reuseport = true,
            .reuseport_inet_only = false,
            .abstract_unix = false,
            .somaxconn = 128,
            .listen_rechecks_port = false};
  }
  static KernelTraits Windows() {
    return {.os = Platform::Os::kWindows,
            .bind_rules = BindRules::kWindows,
            .v6only_default = true,
            .has_reuseport = false,
            .reuseport_inet_only = false,
            .abstract_unix = false,
            .somaxconn = 200,
            .listen_rechecks_port = false};
  }
  static KernelTraits For(Platform::Os os);
};

enum class PortOrder {
  kSequential,  // the lowest free port of the range first: exact set-ups (#1860)
  kSeeded,      // from a seeded start, wrapping: like the kernel's random offset
};

struct KernelConfig {
  KernelTraits traits;

  // false: socket(AF_INET6) fails with EAFNOSUPPORT (a kernel booted with
  // ipv6.disable=1). The resolver may still return IPv6 addresses.
  bool ipv6_supported = true;
  // The host's addresses: bind() to a specific address not listed is
  // EADDRNOTAVAIL. 127.0.0.1 stands for the whole of 127.0.0.0/8, as Linux's
  // loopback route does. Link-local IPv6 addresses carry their scope id.
  std::vector<SockAddr> ipv4_addrs;
  std::vector<SockAddr> ipv6_addrs;

  // RLIMIT_NOFILE: an fd at or above it is not handed out (EMFILE).
  int fd_limit = 1024;
  // fs.file-max, counting `system_fds_in_use` files of other processes plus
  // this process's: at the limit, a new file is ENFILE.
  int system_fd_limit = 1 << 20;
  int system_fds_in_use = 0;
  // The process may bind ports below 1024 (root); false gives EACCES there.
  bool privileged = true;

  // net.ipv4.ip_local_port_range, and how bind(port 0) walks it.
  uint16_t port_low = 32768;
  uint16_t port_high = 60999;
  PortOrder port_order = PortOrder::kSequential;
  uint64_t port_seed = 0;

  mode_t umask = 022;
  // What bind_unix_socket's race-free path needs (UNIX-021): /proc mounted
  // (else "/proc/self/fd/N/..." is ENOENT), renameat2 in the kernel (else
  // ENOSYS, as before Linux 3.15) and RENAME_NOREPLACE in the filesystem
  // (else EINVAL, as on some network filesystems).
  bool proc_mounted = true;
  bool has_renameat2 = true;
  bool rename_noreplace = true;
  // The monotonic clock's first reading.
  int64_t clock_start_ns = 1'000'000'000;

  ResolverTable resolver;

  // A dual-stack host: lo with 127.0.0.1 and ::1, "localhost" resolving to
  // both (IPv4 first, as glibc orders /etc/hosts), the platform's traits; on
  // darwin localhost also resolves to fe80::1%1 (lo0's link-local address).
  static KernelConfig For(Platform::Os os = Platform::Os::kLinux);

  // "linux, ipv6 on, 127.0.0.1 ::1, ports 32768-60999 sequential, fds 1024"
  std::string Describe() const;
};

}  // namespace netutil::fakes
