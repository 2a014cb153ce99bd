#include "netutil/fakes/kernel_config.h"

#include <sstream>

#include "netutil/errno_name.h"

namespace netutil::fakes {

KernelTraits KernelTraits::For(Platform::Os os) {
  switch (os) {
    case Platform::Os::kLinux:
      return Linux();
    case Platform::Os::kDarwin:
      return Darwin();
    case Platform::Os::kWindows:
      return Windows();
  }
  return Linux();
}

KernelConfig KernelConfig::For(Platform::Os os) {
  KernelConfig c;
  c.traits = KernelTraits::For(os);
  c.ipv4_addrs = {*SockAddr::FromIp("127.0.0.1", 0)};
  c.ipv6_addrs = {*SockAddr::FromIp("::1", 0)};
  std::vector<SockAddr> localhost = {*SockAddr::FromIp("127.0.0.1", 0),
                                     *SockAddr::FromIp("::1", 0)};
  if (os == Platform::Os::kDarwin) {
    // macOS: lo0 carries fe80::1 (scope id 1), and localhost resolves to it
    // too; BIND-007 is about skipping it.
    const SockAddr link_local = *SockAddr::FromIp("fe80::1", 0, 1);
    c.ipv6_addrs.push_back(link_local);
    localhost = {*SockAddr::FromIp("::1", 0), *SockAddr::FromIp("127.0.0.1", 0), link_local};
  }
  c.resolver.Set("localhost", localhost);
  return c;
}

std::string KernelConfig::Describe() const {
  std::ostringstream os;
  os << Platform{traits.os, true, traits.has_reuseport}.name() << ", ipv6 "
     << (ipv6_supported ? "on" : "off") << ", addrs";
  for (const auto& a : ipv4_addrs) os << " " << a.host();
  for (const auto& a : ipv6_addrs) os << " " << a.host();
  os << ", ports " << port_low << "-" << port_high << " "
     << (port_order == PortOrder::kSequential ? "sequential"
                                              : "seeded " + std::to_string(port_seed))
     << ", fds " << fd_limit << ", resolver {";
  bool first = true;
  for (const auto& [host, e] : resolver.hosts()) {
    os << (first ? "" : "; ") << host << ":";
    first = false;
    if (e.gai_err != 0) {
      os << " " << GaiErrorName(e.gai_err);
      continue;
    }
    for (const auto& a : e.addrs) os << " " << a.host();
  }
  os << "}";
  return os.str();
}

}  // namespace netutil::fakes
