#include "netutil/bind_sockets.h"

#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "retry.h"

namespace netutil {
namespace {

using internal::RetryEintr;

constexpr size_t kMaxHostLen = 253;  // the longest DNS name (RFC 1035, without the root dot)

// BIND-001, BIND-019, BIND-020, BIND-021, BIND-022: refused before any syscall.
std::optional<Error> CheckArguments(const BindOptions& o) {
  if (o.reuse_port && !o.platform.has_reuseport) {
    return Error::Argument("reuse_port", std::string("reuse_port: the platform (") +
                                             o.platform.name() + ") has no SO_REUSEPORT");
  }
  if (o.port < 0 || o.port > 65535) {
    return Error::Argument("port", "port " + std::to_string(o.port) + " is outside 0..65535");
  }
  if (o.address) {
    if (auto nul = o.address->find('\0'); nul != std::string::npos) {
      return Error::Argument("address",
                             "address contains a NUL byte at offset " + std::to_string(nul));
    }
    if (o.address->size() > kMaxHostLen) {
      return Error::Argument("address", "address is " + std::to_string(o.address->size()) +
                                            " bytes long; a host name has at most 253");
    }
  }
  if (o.family != AF_UNSPEC && o.family != AF_INET && o.family != AF_INET6) {
    return Error::Argument(
        "family", "family " + std::to_string(o.family) + " is not AF_UNSPEC, AF_INET or AF_INET6");
  }
  if (o.backlog < 0) {
    return Error::Argument("backlog", "backlog " + std::to_string(o.backlog) + " is negative");
  }
  if (o.port_retries < 0) {
    return Error::Argument("port_retries",
                           "port_retries " + std::to_string(o.port_retries) + " is negative");
  }
  return std::nullopt;
}

int FamilyRank(int family) {
  switch (family) {
    case AF_INET:
      return 0;
    case AF_INET6:
      return 1;
    default:
      return 2;
  }
}

bool SameEntry(const AddrInfo& a, const AddrInfo& b) {
  return a.family == b.family && a.socktype == b.socktype && a.protocol == b.protocol &&
         a.addr == b.addr;
}

bool ByFamilyRank(const AddrInfo& a, const AddrInfo& b) {
  return FamilyRank(a.family) < FamilyRank(b.family);
}

// BIND-006: drop repeated addresses (keeping the first), then IPv4 before IPv6,
// stable within a family. Unlike Tornado's set(), the resolver's order within a
// family is kept, so the result does not depend on hashing. In place: each
// entry is compared with the kept ones where they lie, and the sort (which
// takes a buffer) runs only when the order is not already right.
void DedupAndOrder(std::vector<AddrInfo>& addrs) {
  auto kept = addrs.begin();
  for (auto it = addrs.begin(); it != addrs.end(); ++it) {
    const bool seen =
        std::any_of(addrs.begin(), kept, [&](const AddrInfo& k) { return SameEntry(k, *it); });
    if (seen) continue;
    if (kept != it) *kept = std::move(*it);
    ++kept;
  }
  addrs.erase(kept, addrs.end());
  if (!std::is_sorted(addrs.begin(), addrs.end(), ByFamilyRank)) {
    std::stable_sort(addrs.begin(), addrs.end(), ByFamilyRank);
  }
}

// What one pass over the addresses ended with.
enum class Pass { kDone, kError, kRestart };

class Binder {
 public:
  // BIND-002: nullopt or "" = all interfaces. The caller's string is used in
  // place, not copied.
  Binder(Sys& sys, const BindOptions& o)
      : sys_(sys), options_(o), host_(o.address && !o.address->empty() ? o.address : kAnyHost) {}

  Result<std::vector<Listener>> Run() {
    int family = options_.family;
    if (!options_.platform.has_ipv6 && family == AF_UNSPEC) family = AF_INET;          // BIND-003
    AddrInfoHints hints{family, SOCK_STREAM, 0, options_.flags.value_or(AI_PASSIVE)};  // BIND-004
    // BIND-005
    GaiResult gai = sys_.getaddrinfo(host_, std::to_string(options_.port), hints);
    if (!gai.ok()) {
      return Error::Resolve(gai.gai_err, gai.sys_err,
                            host_.value_or("*") + ":" + std::to_string(options_.port));
    }
    addrs_ = std::move(gai.addrs);
    DedupAndOrder(addrs_);

    // BIND-023: each restart keeps the socket holding the port that failed,
    // until we return, so the kernel cannot pick that port again.
    std::vector<Fd> held;
    for (int restarts = 0;; ++restarts) {
      std::vector<Listener> out;
      out.reserve(addrs_.size());
      Pass p = BindAll(out, /*may_restart=*/restarts < options_.port_retries);
      if (p == Pass::kDone) return out;
      if (p == Pass::kError) {
        // After restarts the ports held may be all the kernel had: say why.
        if (restarts > 0 && error_->code == EADDRINUSE) {
          error_->message += "; port 0: no port was free on every address after " +
                             std::to_string(restarts) + " new ports";
        }
        return std::move(*error_);
      }
      held.push_back(std::move(out.front().fd));
    }  // `out` closes every other socket of the failed pass (BIND-018)
  }

 private:
  Pass BindAll(std::vector<Listener>& out, bool may_restart) {
    std::optional<uint16_t> bound_port;
    for (const AddrInfo& ai : addrs_) {
      // BIND-007
      if (options_.platform.os == Platform::Os::kDarwin && host_ == "localhost" &&
          ai.family == AF_INET6 && ai.addr.scope_id() != 0) {
        continue;
      }
      // The address in error texts is formatted only when a step fails.
      const SockAddr& where = ai.addr;
      // BIND-008, BIND-009, BIND-014, BIND-028: close-on-exec and non-blocking atomically.
      SysInt s = RetryEintr([&] {
        return sys_.socket(ai.family, ai.socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.protocol);
      });
      if (!s.ok()) {
        if (s.err == EAFNOSUPPORT) continue;
        return Fail(s.err, "socket", where);
      }
      Fd fd(sys_, s.value);

      // BIND-010, BIND-011, BIND-012, BIND-026
      if (options_.platform.os != Platform::Os::kWindows &&
          !SetOption(fd, SOL_SOCKET, SO_REUSEADDR, "setsockopt(SO_REUSEADDR)", where)) {
        return Pass::kError;
      }
      if (options_.reuse_port &&
          !SetOption(fd, SOL_SOCKET, SO_REUSEPORT, "setsockopt(SO_REUSEPORT)", where)) {
        return Pass::kError;
      }
      if (ai.family == AF_INET6 &&
          !SetOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, "setsockopt(IPV6_V6ONLY)", where)) {
        return Pass::kError;
      }

      // BIND-013: a later address of a port-0 request takes the first bound port.
      const bool inherited = ai.addr.port() == 0 && bound_port.has_value();
      SockAddr with_port;
      if (inherited) with_port = ai.addr.WithPort(*bound_port);
      const SockAddr& target = inherited ? with_port : ai.addr;

      SysInt b = RetryEintr([&] { return sys_.bind(fd.get(), target); });
      if (!b.ok()) {
        // BIND-015
        if (b.err == EADDRNOTAVAIL && host_ == "localhost" && ai.family == AF_INET6) continue;
        // BIND-023
        if (b.err == EADDRINUSE && inherited && may_restart) return Pass::kRestart;
        return Fail(b.err, "bind", target);
      }

      SysResult<SockAddr> name = RetryEintr([&] { return sys_.getsockname(fd.get()); });
      if (!name.ok()) return Fail(name.err, "getsockname", target);
      bound_port = name.value.port();

      // BIND-016
      SysInt l = RetryEintr([&] { return sys_.listen(fd.get(), options_.backlog); });
      if (!l.ok()) return Fail(l.err, "listen", name.value);
      out.push_back(Listener{std::move(fd), std::move(name.value)});  // BIND-027
    }
    return Pass::kDone;  // possibly empty (BIND-017)
  }

  bool SetOption(const Fd& fd, int level, int name, const char* step, const SockAddr& where) {
    SysInt r = RetryEintr([&] { return sys_.setsockopt(fd.get(), level, name, 1); });
    if (r.ok()) return true;
    Fail(r.err, step, where);
    return false;
  }

  // BIND-025: the failed step, the address it was applied to, the errno.
  Pass Fail(int err, const char* step, const SockAddr& where) {
    error_ = Error::Os(err, step, where.ToString());
    return Pass::kError;
  }

  Sys& sys_;
  const BindOptions& options_;
  static inline const std::optional<std::string> kAnyHost;  // every interface
  const std::optional<std::string>& host_;
  std::vector<AddrInfo> addrs_;
  std::optional<Error> error_;
};

}  // namespace

Result<std::vector<Listener>> bind_sockets(Sys& sys, const BindOptions& options) {
  if (auto e = CheckArguments(options)) return std::move(*e);
  return Binder(sys, options).Run();
}

}  // namespace netutil
