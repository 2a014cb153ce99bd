// KernelModel: addresses, bind and its port rules, listen, connect, accept4,
// the resolver, and the sockets of other processes and remote clients.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "netutil/fakes/bind_rules.h"
#include "netutil/fakes/kernel_model.h"

namespace netutil::fakes {
namespace {

uint32_t V4Host(const SockAddr& a) {
  return ntohl(reinterpret_cast<const sockaddr_in*>(a.data())->sin_addr.s_addr);
}

const in6_addr& V6(const SockAddr& a) {
  return reinterpret_cast<const sockaddr_in6*>(a.data())->sin6_addr;
}

bool IsLoopback4(uint32_t a) { return (a >> 24) == 127; }

bool IsAny(const SockAddr& a) {
  if (a.family() == AF_INET) return V4Host(a) == 0;
  if (a.family() == AF_INET6) return IN6_IS_ADDR_UNSPECIFIED(&V6(a));
  return false;
}

// The IPv4 address inside ::ffff:a.b.c.d.
SockAddr Unmapped(const SockAddr& a) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(a.port());
  std::memcpy(&v4.sin_addr, &V6(a).s6_addr[12], 4);
  return SockAddr::FromRaw(&v4, sizeof v4);
}

SockAddr MappedPeer(const SockAddr& v4, uint16_t port) {
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(port);
  v6.sin6_addr.s6_addr[10] = 0xff;
  v6.sin6_addr.s6_addr[11] = 0xff;
  const uint32_t n = htonl(V4Host(v4));
  std::memcpy(&v6.sin6_addr.s6_addr[12], &n, 4);
  return SockAddr::FromRaw(&v6, sizeof v6);
}

SockAddr AnyOf(int family) { return *SockAddr::FromIp(family == AF_INET6 ? "::" : "0.0.0.0", 0); }

SockAddr LoopbackOf(int family, uint16_t port) {
  return *SockAddr::FromIp(family == AF_INET6 ? "::1" : "127.0.0.1", port);
}

// An unnamed unix address: just the family, as getsockname and accept report it.
SockAddr UnnamedUnix() {
  sa_family_t f = AF_UNIX;
  return SockAddr::FromRaw(&f, sizeof f);
}

bool IsInet(int family) { return family == AF_INET || family == AF_INET6; }

}  // namespace

// --- addresses ----------------------------------------------------------------

bool KernelModel::IsLocalAddress(const SockAddr& addr) const {
  if (IsAny(addr)) return true;
  if (addr.family() == AF_INET) {
    const uint32_t a = V4Host(addr);
    for (const auto& mine : config_.ipv4_addrs) {
      const uint32_t m = V4Host(mine);
      // lo's route makes the whole of 127.0.0.0/8 local.
      if (m == a || (IsLoopback4(m) && IsLoopback4(a))) return true;
    }
    return false;
  }
  if (addr.family() == AF_INET6) {
    for (const auto& mine : config_.ipv6_addrs) {
      if (std::memcmp(&V6(mine), &V6(addr), sizeof(in6_addr)) == 0 &&
          mine.scope_id() == addr.scope_id()) {
        return true;
      }
    }
  }
  return false;
}

// The checks of Linux's bind before the port is looked at, in its order:
// __inet_bind: family, address, privileged port, already bound;
// __inet6_bind: family, privileged port, already bound, address.
int KernelModel::CheckInetBind(const Socket& s, const SockAddr& addr) const {
  if (addr.family() != s.family) {
    // inet6_bind first checks the length: a sockaddr_in is too short.
    if (s.family == AF_INET6 && addr.len() < sizeof(sockaddr_in6) - sizeof(uint32_t)) {
      return EINVAL;
    }
    return EAFNOSUPPORT;
  }
  const uint16_t port = addr.port();
  const bool needs_privilege = port != 0 && port < 1024 && !config_.privileged;
  if (s.family == AF_INET) {
    if (!IsLocalAddress(addr)) return EADDRNOTAVAIL;
    if (needs_privilege) return EACCES;
    if (s.state != SocketState::kCreated) return EINVAL;
    return 0;
  }
  if (needs_privilege) return EACCES;
  if (s.state != SocketState::kCreated) return EINVAL;
  const in6_addr& a = V6(addr);
  if (IN6_IS_ADDR_V4MAPPED(&a)) {
    if (s.v6only) return EINVAL;
    if (!IsLocalAddress(Unmapped(addr))) return EADDRNOTAVAIL;
  } else if (IN6_IS_ADDR_LINKLOCAL(&a) && addr.scope_id() == 0) {
    return EINVAL;  // a link-local address needs its interface
  } else if (!IsLocalAddress(addr)) {
    return EADDRNOTAVAIL;
  }
  return 0;
}

bool KernelModel::PortConflicts(const Socket& s, const SockAddr& addr, bool relax,
                                bool reuseport_ok, bool listening) const {
  const Binding cand{addr, s.reuseaddr, s.reuseport, s.v6only, listening};
  for (const auto& [id, o] : sockets_) {
    if (id == s.id || !IsInet(o.family) || o.local.empty()) continue;
    if (o.local.port() != addr.port()) continue;
    // Accepted connections hold their listener's port too (inet_inherit_port).
    const Binding existing{o.local, o.reuseaddr, o.reuseport, o.v6only,
                           o.state == SocketState::kListening};
    if (Conflicts(config_.traits.bind_rules, cand, existing, relax, reuseport_ok)) return true;
  }
  return false;
}

// The kernel's choice for port 0: the first port of the range (from the start
// the order gives) that no socket's address overlaps, the strict test Linux's
// inet_csk_find_open_port applies (relax and reuseport_ok false).
std::optional<uint16_t> KernelModel::PickPort(const Socket& s, const SockAddr& addr) {
  const uint32_t low = config_.port_low, high = config_.port_high;
  if (high < low) return std::nullopt;
  const uint32_t n = high - low + 1;
  const uint32_t start =
      config_.port_order == PortOrder::kSequential ? 0 : static_cast<uint32_t>(port_rng_() % n);
  for (uint32_t i = 0; i < n; ++i) {
    const auto port = static_cast<uint16_t>(low + (start + i) % n);
    if (!PortConflicts(s, addr.WithPort(port), /*relax=*/false, /*reuseport_ok=*/false,
                       /*listening=*/false)) {
      ports_handed_out_.push_back(port);
      return port;
    }
  }
  return std::nullopt;
}

int KernelModel::BindModel(Socket& s, const SockAddr& addr) {
  if (s.family == AF_UNIX) return UnixBind(s, addr);
  if (int err = CheckInetBind(s, addr)) return err;
  SockAddr target = addr;
  if (addr.port() == 0) {
    auto port = PickPort(s, addr);
    if (!port) return EADDRINUSE;
    target = addr.WithPort(*port);
  } else if (PortConflicts(s, addr, /*relax=*/true, /*reuseport_ok=*/true, false)) {
    return EADDRINUSE;
  }
  s.local = target;
  s.state = SocketState::kBound;
  return 0;
}

int KernelModel::UnixBind(Socket& s, const SockAddr& addr) {
  if (addr.family() != AF_UNIX) return EINVAL;
  if (s.state != SocketState::kCreated) return EINVAL;
  const std::string path = addr.unix_path();
  if (addr.len() <= sizeof(sa_family_t)) {
    // Linux autobind: an abstract name of five hex digits.
    char name[8];
    std::snprintf(name, sizeof name, "%05llx",
                  static_cast<unsigned long long>(next_autobind_++ & 0xfffff));
    const std::string abstract = std::string(1, '\0') + name;
    abstract_names_[abstract] = s.id;
    s.local = *SockAddr::Unix(abstract);
    s.state = SocketState::kBound;
    return 0;
  }
  if (!path.empty() && path[0] == '\0') {
    if (!config_.traits.abstract_unix) return EINVAL;
    auto it = abstract_names_.find(path);
    if (it != abstract_names_.end() && sockets_.count(it->second) != 0) return EADDRINUSE;
    abstract_names_[path] = s.id;
  } else {
    // The file gets the socket inode's mode (0777 unless fchmod changed it)
    // less the umask: Linux's unix_bind, and what UNIX-010 relies on.
    const mode_t perm = s.inode_mode & ~fs_.umask() & 0777;
    if (int err = fs_.MakeSocket(path, perm, s.id)) return err;
  }
  s.local = addr;
  s.state = SocketState::kBound;
  return 0;
}

int KernelModel::ListenModel(Socket& s, int backlog) {
  if (s.type != SOCK_STREAM && s.type != SOCK_SEQPACKET) return EOPNOTSUPP;
  if (s.state == SocketState::kConnected) return EINVAL;
  if (s.family == AF_UNIX && s.state == SocketState::kCreated) return EINVAL;
  // Linux: (unsigned)backlog > somaxconn -> somaxconn, so a negative one too.
  if (backlog < 0 || backlog > config_.traits.somaxconn) backlog = config_.traits.somaxconn;
  if (s.state == SocketState::kListening) {
    s.backlog = backlog;
    return 0;
  }
  if (IsInet(s.family)) {
    if (s.state == SocketState::kCreated) {
      // listen() on an unbound socket takes a port of the kernel's choice.
      const SockAddr any = AnyOf(s.family);
      auto port = PickPort(s, any);
      if (!port) return EADDRINUSE;
      s.local = any.WithPort(*port);
    } else if (config_.traits.listen_rechecks_port &&
               PortConflicts(s, s.local, /*relax=*/true, /*reuseport_ok=*/true, true)) {
      return EADDRINUSE;
    }
  }
  s.state = SocketState::kListening;
  s.backlog = backlog;
  return 0;
}

bool KernelModel::QueueFull(const Socket& listener) {
  // sk_acceptq_is_full / unix_recvq_full: more than backlog already queued.
  return listener.queue.size() > static_cast<size_t>(listener.backlog);
}

// The listener a TCP connection to `dest` reaches: an exact address beats a
// wildcard (Linux's compute_score), an IPv4 socket beats a dual-stack IPv6 one
// for IPv4; ties go to the socket created first.
KernelModel::Socket* KernelModel::FindInetListener(const SockAddr& dest) {
  Socket* best = nullptr;
  int best_score = 0;
  for (auto& [id, s] : sockets_) {
    if (s.state != SocketState::kListening || !IsInet(s.family)) continue;
    if (s.local.port() != dest.port()) continue;
    int score = 0;
    if (dest.family() == AF_INET) {
      if (s.family == AF_INET) {
        if (V4Host(s.local) == V4Host(dest))
          score = 4;
        else if (IsAny(s.local))
          score = 3;
      } else if (!s.v6only) {
        const in6_addr& a = V6(s.local);
        if (IN6_IS_ADDR_V4MAPPED(&a) && V4Host(Unmapped(s.local)) == V4Host(dest))
          score = 2;
        else if (IN6_IS_ADDR_UNSPECIFIED(&a))
          score = 1;
      }
    } else if (s.family == AF_INET6) {
      if (std::memcmp(&V6(s.local), &V6(dest), sizeof(in6_addr)) == 0)
        score = 4;
      else if (IsAny(s.local))
        score = 3;
    }
    if (score > best_score) {
      best = &s;
      best_score = score;
    }
  }
  return best;
}

SysResult<KernelModel::Socket*> KernelModel::UnixTarget(const SockAddr& addr) {
  const std::string path = addr.unix_path();
  uint64_t id = 0;
  if (!path.empty() && path[0] == '\0') {
    auto it = abstract_names_.find(path);
    if (it == abstract_names_.end()) return SysErr<Socket*>(ECONNREFUSED);
    id = it->second;
  } else {
    auto node = fs_.Open(path);
    if (!node.ok()) return SysErr<Socket*>(node.err);
    if (node.value->type != FakeFs::Type::kSocket) return SysErr<Socket*>(ECONNREFUSED);
    id = node.value->socket_id;
  }
  auto it = sockets_.find(id);
  if (it == sockets_.end() || it->second.state != SocketState::kListening) {
    return SysErr<Socket*>(ECONNREFUSED);  // a stale socket file: nobody listens
  }
  return {&it->second, 0};
}

bool KernelModel::Listens(const SockAddr& addr) const {
  const std::string path = addr.unix_path();
  uint64_t id = 0;
  if (!path.empty() && path[0] == '\0') {
    auto it = abstract_names_.find(path);
    if (it == abstract_names_.end()) return false;
    id = it->second;
  } else {
    auto node = fs_.Open(path);
    if (!node.ok() || node.value->type != FakeFs::Type::kSocket) return false;
    id = node.value->socket_id;
  }
  auto it = sockets_.find(id);
  return it != sockets_.end() && it->second.state == SocketState::kListening;
}

// --- Sys calls ---------------------------------------------------------------

GaiResult KernelModel::getaddrinfo(const std::optional<std::string>& host,
                                   const std::string& service, const AddrInfoHints& hints) {
  bool has_v4 = false, has_v6 = false;
  for (const auto& a : config_.ipv4_addrs) has_v4 |= !IsLoopback4(V4Host(a));
  for (const auto& a : config_.ipv6_addrs) has_v6 |= !IN6_IS_ADDR_LOOPBACK(&V6(a));
  const GaiResult answer = config_.resolver.Resolve(host, service, hints, has_v4, has_v6);
  // A name goes to the C library's name services, which need an fd (glibc's
  // files module opens /etc/hosts, its dns module a socket): with none free
  // the lookup fails as glibc's does (ResolverTable::WithoutFreeFd).
  if (!ResolverTable::NeedsNameService(host, hints)) return answer;
  if (const int err = FdShortage()) return ResolverTable::WithoutFreeFd(answer, nss_ready_, err);
  nss_ready_ = true;
  return answer;
}

SysInt KernelModel::bind(int fd, const SockAddr& addr) {
  int err = 0;
  Socket* s = SocketAt(fd, err);
  if (s == nullptr) return SysErr(err);
  err = BindModel(*s, addr);
  return err == 0 ? SysOk() : SysErr(err);
}

SysInt KernelModel::listen(int fd, int backlog) {
  int err = 0;
  Socket* s = SocketAt(fd, err);
  if (s == nullptr) return SysErr(err);
  err = ListenModel(*s, backlog);
  return err == 0 ? SysOk() : SysErr(err);
}

SysResult<SockAddr> KernelModel::getsockname(int fd) {
  int err = 0;
  Socket* s = SocketAt(fd, err);
  if (s == nullptr) return SysErr<SockAddr>(err);
  if (!s->local.empty()) return {s->local, 0};
  if (s->family == AF_UNIX) return {UnnamedUnix(), 0};
  return {AnyOf(s->family), 0};
}

SysInt KernelModel::accept4(int fd, SockAddr* peer, int flags) {
  int err = 0;
  Socket* s = SocketAt(fd, err);
  if (s == nullptr) return SysErr(err);
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return SysErr(EINVAL);
  if (s->state != SocketState::kListening) return SysErr(EINVAL);
  // Linux takes the fd before it looks at the queue: EMFILE even when empty,
  // and the connection stays queued.
  SysInt nfd = AllocFd(false, 0);
  if (!nfd.ok()) return nfd;
  auto give_back = [&](int e) {
    fds_.erase(nfd.value);
    return SysErr(e);
  };
  // A blocking listener would sleep here; the model cannot, so it answers as
  // a non-blocking one does.
  if (s->queue.empty()) return give_back(EAGAIN);
  Pending p = s->queue.front();
  s->queue.pop_front();
  if (p.aborted) return give_back(ECONNABORTED);

  Socket& c = NewSocket(s->family, s->type);
  c.state = SocketState::kConnected;
  c.local = p.local;
  c.peer = p.peer;
  c.nonblock = (flags & SOCK_NONBLOCK) != 0;
  c.reuseaddr = s->reuseaddr;  // sk_clone keeps the listener's options
  c.reuseport = s->reuseport;
  c.v6only = s->v6only;
  FdEntry& e = fds_[nfd.value];
  e.id = c.id;
  e.cloexec = (flags & SOCK_CLOEXEC) != 0;
  if (peer != nullptr) *peer = p.peer;
  return nfd;
}

SysInt KernelModel::connect(int fd, const SockAddr& addr) {
  int err = 0;
  Socket* s = SocketAt(fd, err);
  if (s == nullptr) return SysErr(err);
  if (s->state == SocketState::kConnected || s->state == SocketState::kListening) {
    return SysErr(EISCONN);
  }
  if (s->family == AF_UNIX) {
    if (addr.family() != AF_UNIX) return SysErr(EINVAL);
    auto target = UnixTarget(addr);
    if (!target.ok()) return SysErr(target.err);
    Socket& l = *target.value;
    if (l.type != s->type) return SysErr(EPROTOTYPE);
    // A full queue: EAGAIN for a non-blocking socket; a blocking one would
    // wait, which the model cannot, so it answers the same.
    if (QueueFull(l)) return SysErr(EAGAIN);
    s->state = SocketState::kConnected;
    s->peer = l.local;
    l.queue.push_back(Pending{next_connection_++, s->local.empty() ? UnnamedUnix() : s->local,
                              l.local, s->id, false});
    return SysOk();
  }
  if (addr.family() != s->family) return SysErr(EAFNOSUPPORT);
  SockAddr dest = addr;
  if (IsAny(dest)) dest = LoopbackOf(dest.family(), dest.port());  // connect to 0.0.0.0 is local
  if (!IsLocalAddress(dest) && !(dest.family() == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&V6(dest)))) {
    return SysErr(ENETUNREACH);
  }
  Socket* l = dest.port() == 0 ? nullptr : FindInetListener(dest);
  if (l == nullptr) return SysErr(ECONNREFUSED);
  s->state = SocketState::kConnected;
  s->peer = dest;
  // A full queue drops the SYN: the connection never completes, and a
  // non-blocking connect says EINPROGRESS either way.
  if (!QueueFull(*l)) {
    const uint16_t port = next_peer_port_++;
    SockAddr peer = LoopbackOf(dest.family(), port);
    if (l->family == AF_INET6 && dest.family() == AF_INET) peer = MappedPeer(peer, port);
    l->queue.push_back(Pending{next_connection_++, peer, dest, s->id, false});
  }
  return s->nonblock ? SysErr(EINPROGRESS) : SysOk();
}

// --- other processes, remote clients -----------------------------------------

SysResult<uint64_t> KernelModel::ForeignBind(const SockAddr& addr, ForeignOptions o) {
  Socket& s = NewSocket(addr.family(), SOCK_STREAM);
  s.foreign = true;
  s.reuseaddr = o.reuseaddr;
  s.reuseport = o.reuseport;
  if (o.v6only) s.v6only = *o.v6only;
  const uint64_t id = s.id;
  int err = BindModel(s, addr);
  if (err == 0 && o.listen) err = ListenModel(s, o.backlog);
  if (err != 0) {
    DestroySocket(id);
    return SysErr<uint64_t>(err);
  }
  return {id, 0};
}

void KernelModel::ForeignClose(uint64_t id) {
  auto it = sockets_.find(id);
  if (it != sockets_.end() && it->second.foreign) DestroySocket(id);
}

SysResult<uint64_t> KernelModel::ConnectTo(const SockAddr& addr) {
  Socket* l = nullptr;
  SockAddr peer;
  SockAddr local = addr;
  if (addr.family() == AF_UNIX) {
    auto target = UnixTarget(addr);
    if (!target.ok()) return SysErr<uint64_t>(target.err);
    l = target.value;
    peer = UnnamedUnix();
    local = l->local;
  } else {
    SockAddr dest = IsAny(addr) ? LoopbackOf(addr.family(), addr.port()) : addr;
    l = dest.port() == 0 ? nullptr : FindInetListener(dest);
    if (l == nullptr) return SysErr<uint64_t>(ECONNREFUSED);
    const uint16_t port = next_peer_port_++;
    peer = LoopbackOf(dest.family(), port);
    if (l->family == AF_INET6 && dest.family() == AF_INET) peer = MappedPeer(peer, port);
    local = dest;
  }
  if (QueueFull(*l)) return SysErr<uint64_t>(EAGAIN);
  const uint64_t id = next_connection_++;
  l->queue.push_back(Pending{id, peer, local, 0, false});
  return {id, 0};
}

bool KernelModel::AbortConnection(uint64_t connection_id) {
  for (auto& [id, s] : sockets_) {
    for (auto& p : s.queue) {
      if (p.id == connection_id) {
        p.aborted = true;
        return true;
      }
    }
  }
  return false;
}

}  // namespace netutil::fakes
