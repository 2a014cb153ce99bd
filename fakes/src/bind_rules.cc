#include "netutil/fakes/bind_rules.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace netutil::fakes {
namespace {

enum class V6Type { kAny, kMapped, kOther };

const in6_addr& V6(const SockAddr& a) {
  return reinterpret_cast<const sockaddr_in6*>(a.data())->sin6_addr;
}

uint32_t V4(const SockAddr& a) {
  return ntohl(reinterpret_cast<const sockaddr_in*>(a.data())->sin_addr.s_addr);
}

V6Type TypeOf(const SockAddr& a) {
  const in6_addr& x = V6(a);
  if (IN6_IS_ADDR_UNSPECIFIED(&x)) return V6Type::kAny;
  if (IN6_IS_ADDR_V4MAPPED(&x)) return V6Type::kMapped;
  return V6Type::kOther;
}

// The IPv4 address the kernel keeps for a socket (inet_rcv_saddr): its own for
// AF_INET; for AF_INET6, 0 when bound to "::", the embedded address when bound
// to a v4-mapped one, and LOOPBACK4_IPV6 (127.0.0.6) for any other IPv6
// address, so that it never equals a real IPv4 wildcard.
uint32_t RcvSaddr4(const SockAddr& a) {
  if (a.family() == AF_INET) return V4(a);
  switch (TypeOf(a)) {
    case V6Type::kAny:
      return 0;
    case V6Type::kMapped: {
      uint32_t v;
      std::memcpy(&v, &V6(a).s6_addr[12], 4);
      return ntohl(v);
    }
    case V6Type::kOther:
      return 0x7f000006;
  }
  return 0;
}

// ipv4_rcv_saddr_equal(sk1, sk2, sk2_ipv6only, true, true)
bool Ipv4Equal(uint32_t a, uint32_t b, bool b_v6only) {
  if (b_v6only) return false;
  return a == b || a == 0 || b == 0;
}

// ipv6_rcv_saddr_equal, candidate AF_INET6.
bool Ipv6Equal(const Binding& c, const Binding& e) {
  const V6Type t1 = TypeOf(c.addr);
  const bool e_is_v6 = e.addr.family() == AF_INET6;
  const V6Type t2 = e_is_v6 ? TypeOf(e.addr) : V6Type::kMapped;
  const bool e_v6only = e_is_v6 && e.v6only;
  if (t1 == V6Type::kMapped && t2 == V6Type::kMapped) {
    return Ipv4Equal(RcvSaddr4(c.addr), RcvSaddr4(e.addr), e_v6only);
  }
  if (t1 == V6Type::kAny && t2 == V6Type::kAny) return true;
  if (t2 == V6Type::kAny && !(e_v6only && t1 == V6Type::kMapped)) return true;
  if (t1 == V6Type::kAny && !(c.v6only && t2 == V6Type::kMapped)) return true;
  return e_is_v6 && std::memcmp(&V6(c.addr), &V6(e.addr), sizeof(in6_addr)) == 0;
}

// The same address exactly (both wildcards of one family, or one address):
// what BSD's rules need SO_REUSEPORT for.
bool SameAddress(const Binding& a, const Binding& b) {
  if (a.addr.family() != b.addr.family()) return false;
  if (a.addr.family() == AF_INET) return V4(a.addr) == V4(b.addr);
  return std::memcmp(&V6(a.addr), &V6(b.addr), sizeof(in6_addr)) == 0;
}

}  // namespace

bool AddressesOverlap(const Binding& c, const Binding& e) {
  // inet_bind_conflict's device check: sockets bound to different interfaces
  // (link-local addresses with different scope ids) never meet.
  const uint32_t c_dev = c.addr.scope_id(), e_dev = e.addr.scope_id();
  if (c_dev != 0 && e_dev != 0 && c_dev != e_dev) return false;
  if (c.addr.family() == AF_INET6) return Ipv6Equal(c, e);
  if (e.addr.family() == AF_INET6) {
    // An IPv4 candidate meets an IPv6 socket only through the IPv4 addresses
    // that socket can receive on: all of them for a dual-stack "::", one for
    // a v4-mapped address, none for any other IPv6 address. (Older kernels
    // compared LOOPBACK4_IPV6, 127.0.0.6, here, so 0.0.0.0 and 127.0.0.6
    // collided with a dual-stack "::1"; Linux 6.x does not, as the fidelity
    // table shows.)
    if (e.v6only || TypeOf(e.addr) == V6Type::kOther) return false;
  }
  return Ipv4Equal(RcvSaddr4(c.addr), RcvSaddr4(e.addr), /*b_v6only=*/false);
}

bool Conflicts(BindRules rules, const Binding& c, const Binding& e, bool relax, bool reuseport_ok) {
  if (!AddressesOverlap(c, e)) return false;
  switch (rules) {
    case BindRules::kLinux:
      if (c.reuseaddr && e.reuseaddr && !e.listening) {
        return !relax || (!reuseport_ok && c.reuseport && e.reuseport);
      }
      return !reuseport_ok || !c.reuseport || !e.reuseport;
    case BindRules::kBsd:
      if (!relax) return true;  // the kernel's own choice takes a free port
      if (c.reuseport && e.reuseport) return false;
      if (SameAddress(c, e)) return true;
      return !c.reuseaddr;
    case BindRules::kWindows:
      if (!relax) return true;
      return !c.reuseaddr;
  }
  return true;
}

}  // namespace netutil::fakes
