#include "test_helpers.h"

#include <cstdio>
#include <cstdlib>

#include "netutil/fakes/addr_builders.h"

namespace netutil::unit {

GaiResult ResolvedFrom(const std::vector<SockAddr>& addrs) {
  GaiResult r;
  for (const auto& a : addrs) r.addrs.push_back(fakes::Tcp(a));
  return r;
}

std::vector<SockAddr> AddressesOf(const std::vector<Listener>& listeners) {
  std::vector<SockAddr> out;
  for (const auto& l : listeners) out.push_back(l.addr);
  return out;
}

SockAddr UnixAt(const std::string& path) {
  auto a = SockAddr::Unix(path);
  if (!a) {
    std::fprintf(stderr, "UnixAt: path does not fit sun_path (%zu bytes)\n", path.size());
    std::abort();
  }
  return *a;
}

}  // namespace netutil::unit
