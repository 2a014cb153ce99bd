#include "prop_support.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace netutil::property {

SockAddr Addr(const std::string& literal, uint16_t port) {
  auto a = SockAddr::FromIp(literal, port);
  if (!a) {
    std::fprintf(stderr, "not an IP literal: %s\n", literal.c_str());
    std::abort();
  }
  return *a;
}

std::set<int> OpenFds(const fakes::FakeKernel& kernel) {
  auto v = kernel.open_fds();
  return {v.begin(), v.end()};
}

std::string Context(const fakes::FakeKernel& kernel) {
  std::ostringstream os;
  os << "kernel: " << kernel.config().Describe() << "\n"
     << "trace:\n"
     << kernel.trace() << "fds:\n"
     << kernel.DescribeFds();
  return os.str();
}

void LogContext(const fakes::FakeKernel& kernel) { RC_LOG() << Context(kernel); }

std::string Describe(const std::vector<Listener>& listeners) {
  std::string s;
  for (const auto& l : listeners) s += (s.empty() ? "" : ", ") + l.addr.ToString();
  return s;
}

bool IsWildcard(const SockAddr& a) {
  if (a.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(a.data())->sin_addr.s_addr == 0;
  }
  if (a.family() == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(a.data());
    return IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr);
  }
  return false;
}

std::vector<SockAddr> Distinct(const std::vector<SockAddr>& in) {
  std::vector<SockAddr> out;
  for (const auto& a : in) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  return out;
}

}  // namespace netutil::property
