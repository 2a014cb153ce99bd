#include "netutil/fakes/addr_builders.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>

namespace netutil::fakes {

SockAddr Ip(const std::string& literal, uint16_t port, uint32_t scope_id) {
  auto a = SockAddr::FromIp(literal, port, scope_id);
  if (!a) {
    std::fprintf(stderr, "fakes::Ip: not an IP literal: %s\n", literal.c_str());
    std::abort();
  }
  return *a;
}

AddrInfo Tcp(const SockAddr& addr) {
  return AddrInfo{addr.family(), SOCK_STREAM, IPPROTO_TCP, "", addr};
}

GaiResult Resolved(std::initializer_list<SockAddr> addrs) {
  GaiResult r;
  for (const auto& a : addrs) r.addrs.push_back(Tcp(a));
  return r;
}

GaiResult ResolveFails(int gai_err, int sys_err) { return GaiResult{gai_err, sys_err, {}}; }

FileStat StatOf(uint32_t type, uint32_t perm) { return FileStat{type | perm, 1, 1, 0}; }

}  // namespace netutil::fakes
