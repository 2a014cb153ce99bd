// Small builders for the values tests script a MockSys with: addresses and
// resolver results.
#pragma once

#include <initializer_list>
#include <string>

#include "netutil/sys.h"

namespace netutil::fakes {

// An IPv4 or IPv6 literal with a port; aborts the test binary on a bad literal
// (a typo in a test, not a condition under test).
SockAddr Ip(const std::string& literal, uint16_t port, uint32_t scope_id = 0);

// One SOCK_STREAM/IPPROTO_TCP getaddrinfo result for `addr`.
AddrInfo Tcp(const SockAddr& addr);

// A successful resolver answer listing `addrs` in order (duplicates kept).
GaiResult Resolved(std::initializer_list<SockAddr> addrs);

// A failed resolver answer (EAI_* code; errno for EAI_SYSTEM).
GaiResult ResolveFails(int gai_err, int sys_err = 0);

// A FileStat of the given type (S_IFSOCK, S_IFREG, S_IFLNK, ...) and permissions.
FileStat StatOf(uint32_t type, uint32_t perm = 0644);

}  // namespace netutil::fakes
