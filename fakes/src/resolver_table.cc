#include "netutil/fakes/resolver_table.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace netutil::fakes {
namespace {

constexpr int kKnownFlags = AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_V4MAPPED | AI_ALL |
                            AI_ADDRCONFIG | AI_NUMERICSERV;

// glibc reads the service with strtoul and keeps the low 16 bits.
std::optional<uint16_t> ParseService(const std::string& service) {
  if (service.empty() || service.size() > 9) return std::nullopt;
  if (!std::all_of(service.begin(), service.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(std::stoul(service) & 0xffff);
}

bool FamilyWanted(int wanted, int family) { return wanted == AF_UNSPEC || wanted == family; }

}  // namespace

void ResolverTable::Set(const std::string& host, std::vector<SockAddr> addrs) {
  hosts_[host] = Entry{std::move(addrs), 0, 0};
}

void ResolverTable::Fail(const std::string& host, int gai_err, int sys_err) {
  hosts_[host] = Entry{{}, gai_err, sys_err};
}

GaiResult ResolverTable::Resolve(const std::optional<std::string>& host, const std::string& service,
                                 const AddrInfoHints& hints, bool has_v4, bool has_v6) const {
  GaiResult out;
  auto fail = [&](int code) {
    out.gai_err = code;
    return out;
  };
  if ((hints.flags & ~kKnownFlags) != 0) return fail(EAI_BADFLAGS);
  if (hints.family != AF_UNSPEC && hints.family != AF_INET && hints.family != AF_INET6) {
    return fail(EAI_FAMILY);
  }
  if (hints.socktype != 0 && hints.socktype != SOCK_STREAM && hints.socktype != SOCK_DGRAM &&
      hints.socktype != SOCK_RAW) {
    return fail(EAI_SOCKTYPE);
  }
  if (!host && service.empty()) return fail(EAI_NONAME);
  const auto port = ParseService(service);
  if (!port) return fail(EAI_SERVICE);  // service names (/etc/services) are not modelled

  int family = hints.family;
  // AI_ADDRCONFIG: glibc narrows AF_UNSPEC to the one family the host has a
  // (non-loopback) address of, and refuses a family it has none of.
  if (hints.flags & AI_ADDRCONFIG) {
    if (family == AF_UNSPEC && has_v4 != has_v6) {
      family = has_v4 ? AF_INET : AF_INET6;
    } else if ((family == AF_INET && !has_v4) || (family == AF_INET6 && !has_v6)) {
      return fail(EAI_NONAME);
    }
  }

  std::vector<SockAddr> addrs;
  if (!host) {
    // glibc: the wildcard for AI_PASSIVE, loopback otherwise; the order after
    // its RFC 3484 sort on Linux (measured here: 0.0.0.0 then ::, ::1 then 127.0.0.1).
    const bool passive = (hints.flags & AI_PASSIVE) != 0;
    const SockAddr v4 = *SockAddr::FromIp(passive ? "0.0.0.0" : "127.0.0.1", 0);
    const SockAddr v6 = *SockAddr::FromIp(passive ? "::" : "::1", 0);
    addrs = passive ? std::vector<SockAddr>{v4, v6} : std::vector<SockAddr>{v6, v4};
  } else if (auto literal = SockAddr::FromIp(*host, 0)) {
    // A numeric literal of the other family: EAI_ADDRFAMILY (glibc, measured).
    if (!FamilyWanted(family, literal->family())) {
#ifdef EAI_ADDRFAMILY
      return fail(EAI_ADDRFAMILY);
#else
      return fail(EAI_NONAME);
#endif
    }
    addrs = {*literal};
  } else {
    if (hints.flags & AI_NUMERICHOST) return fail(EAI_NONAME);
    auto it = hosts_.find(*host);
    if (it == hosts_.end()) return fail(EAI_NONAME);
    if (it->second.gai_err != 0) {
      out.gai_err = it->second.gai_err;
      out.sys_err = it->second.sys_err;
      return out;
    }
    addrs = it->second.addrs;
  }

  const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW};
  for (const SockAddr& a : addrs) {
    if (!FamilyWanted(family, a.family())) continue;
    for (int type : types) {
      if (hints.socktype != 0 && hints.socktype != type) continue;
      const int proto = type == SOCK_STREAM ? IPPROTO_TCP : type == SOCK_DGRAM ? IPPROTO_UDP : 0;
      if (hints.protocol != 0 && hints.protocol != proto) continue;
      out.addrs.push_back(AddrInfo{a.family(), type, proto, "", a.WithPort(*port)});
    }
  }
  // A name with no address of the wanted family: glibc says EAI_NONAME for
  // /etc/hosts names (measured: localhost with AF_INET6 and only 127.0.0.1).
  if (out.addrs.empty()) return fail(EAI_NONAME);
  if ((hints.flags & AI_CANONNAME) && host) out.addrs.front().canonname = *host;
  return out;
}

bool ResolverTable::NeedsNameService(const std::optional<std::string>& host,
                                     const AddrInfoHints& hints) {
  if (!host || SockAddr::FromIp(*host, 0)) return false;
  return (hints.flags & AI_NUMERICHOST) == 0;
}

GaiResult ResolverTable::WithoutFreeFd(const GaiResult& answer, bool nss_ready, int fd_err) {
  switch (answer.gai_err) {
    case EAI_BADFLAGS:
    case EAI_FAMILY:
    case EAI_SOCKTYPE:
    case EAI_SERVICE:
      return answer;
    default:
      break;
  }
  GaiResult out;
  out.gai_err = nss_ready ? EAI_SYSTEM : EAI_NONAME;
  out.sys_err = nss_ready ? fd_err : 0;
  return out;
}

}  // namespace netutil::fakes
