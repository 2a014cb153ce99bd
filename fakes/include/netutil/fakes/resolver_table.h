// A resolver for the FakeKernel: host names to ordered address lists (or an
// EAI_* failure), answered the way glibc's getaddrinfo answers: numeric
// literals resolve to themselves, a NULL node to the wildcard (AI_PASSIVE) or
// loopback addresses, the service is a port number (wrapping past 65535 as
// glibc does, which is how Tornado listens on 4464 for 70000), one result per
// socket type when the hints give none.
//
//   ResolverTable r;
//   r.Set("localhost", {Ip("127.0.0.1", 0), Ip("::1", 0)});
//   r.Set("dup.test", {Ip("10.0.0.1", 0), Ip("10.0.0.1", 0)});  // duplicates kept
//   r.Fail("flaky.test", EAI_AGAIN);
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "netutil/sys.h"

namespace netutil::fakes {

class ResolverTable {
 public:
  struct Entry {
    std::vector<SockAddr> addrs;  // in the order returned; ports are replaced
    int gai_err = 0;              // non-zero: the lookup fails with this code
    int sys_err = 0;              // with EAI_SYSTEM
  };

  void Set(const std::string& host, std::vector<SockAddr> addrs);
  void Fail(const std::string& host, int gai_err, int sys_err = 0);
  void Remove(const std::string& host) { hosts_.erase(host); }
  const std::map<std::string, Entry>& hosts() const { return hosts_; }

  // getaddrinfo(host, service, hints) against the table. `has_v4`/`has_v6`
  // say whether the host has a non-loopback address of each family (for
  // AI_ADDRCONFIG, as glibc decides it).
  GaiResult Resolve(const std::optional<std::string>& host, const std::string& service,
                    const AddrInfoHints& hints, bool has_v4, bool has_v6) const;

 private:
  std::map<std::string, Entry> hosts_;
};

}  // namespace netutil::fakes
