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

  // Whether glibc's getaddrinfo asks its name services (NSS: /etc/hosts, DNS)
  // for `host`: a name, neither a numeric literal nor refused by
  // AI_NUMERICHOST. A NULL host and literals need no NSS and no fd.
  static bool NeedsNameService(const std::optional<std::string>& host, const AddrInfoHints& hints);
  // glibc 2.36's answer to such a lookup when the process has no free fd
  // (`fd_err`: EMFILE at RLIMIT_NOFILE), measured (tools/conform/name_service.h):
  // once NSS is set up (an earlier lookup read nsswitch.conf), the files module
  // fails opening /etc/hosts and the dns module its socket(): EAI_SYSTEM with
  // that errno; before, nsswitch.conf itself cannot be read: EAI_NONAME.
  // `answer` is the lookup's answer with fds free: its argument errors
  // (EAI_BADFLAGS, EAI_FAMILY, EAI_SOCKTYPE, EAI_SERVICE) come before NSS and
  // stand.
  static GaiResult WithoutFreeFd(const GaiResult& answer, bool nss_ready, int fd_err);

 private:
  std::map<std::string, Entry> hosts_;
};

}  // namespace netutil::fakes
