// KernelModel: the fd table, socket options, close, fcntl, the filesystem
// calls and inspection. Addresses, ports and connections are in
// kernel_model_net.cc; epoll and the clock in kernel_model_epoll.cc.
#include "netutil/fakes/kernel_model.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <stdio.h>  // RENAME_NOREPLACE
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

namespace netutil::fakes {

KernelModel::KernelModel(KernelConfig config)
    : config_(std::move(config)), port_rng_(config_.port_seed), now_(config_.clock_start_ns) {
  fs_.set_umask(config_.umask);
  fs_.set_proc_mounted(config_.proc_mounted);
  // /proc/self/fd/N of a closed fd is ENOENT, of a non-directory ENOTDIR.
  fs_.set_fd_resolver([this](int fd) { return DirPathOfFd(fd, ENOENT); });
}

KernelModel::~KernelModel() = default;

// --- the filesystem calls: FakeFs's -----------------------------------------

namespace {
SysInt Errno(int err) { return err == 0 ? SysOk() : SysErr(err); }
}  // namespace

SysInt KernelModel::unlink(const std::string& path) { return Errno(fs_.Unlink(path)); }
SysResult<FileStat> KernelModel::lstat(const std::string& path) { return fs_.Lstat(path); }
SysResult<FileStat> KernelModel::stat(const std::string& path) { return fs_.Stat(path); }
SysInt KernelModel::chmod(const std::string& path, mode_t mode) {
  return Errno(fs_.Chmod(path, mode));
}
mode_t KernelModel::umask(mode_t mask) { return fs_.set_umask(mask); }

// --- fds --------------------------------------------------------------------

namespace {

// The lowest fd number not in `fds` (0-2 are stdio, always taken).
template <typename Map>
int LowestFree(const Map& fds) {
  int fd = 3;
  for (const auto& [n, entry] : fds) {
    if (n < fd) continue;
    if (n != fd) break;
    ++fd;
  }
  return fd;
}

}  // namespace

// EMFILE at the per-process limit, ENFILE at the system one (checked in that
// order, as Linux's get_unused_fd_flags comes before the file allocation), or
// 0 when an fd would open.
int KernelModel::FdShortage() const {
  if (LowestFree(fds_) >= config_.fd_limit) return EMFILE;
  const long long in_use = 3 + static_cast<long long>(fds_.size()) + config_.system_fds_in_use;
  if (in_use >= config_.system_fd_limit) return ENFILE;
  return 0;
}

// The lowest free fd, or FdShortage()'s errno.
SysInt KernelModel::AllocFd(bool is_epoll, uint64_t id) {
  if (const int err = FdShortage()) return SysErr(err);
  const int fd = LowestFree(fds_);
  fds_[fd] = FdEntry{is_epoll, false, id, false};
  return SysOk(fd);
}

KernelModel::Socket* KernelModel::SocketAt(int fd, int& err) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) {
    err = EBADF;
    return nullptr;
  }
  if (it->second.is_epoll || it->second.is_dir) {
    err = it->second.is_dir ? EBADF : ENOTSOCK;  // an O_PATH fd: EBADF for socket calls
    return nullptr;
  }
  return &sockets_.at(it->second.id);
}

const KernelModel::Socket* KernelModel::SocketAt(int fd) const {
  auto it = fds_.find(fd);
  if (it == fds_.end() || it->second.is_epoll || it->second.is_dir) return nullptr;
  return &sockets_.at(it->second.id);
}

KernelModel::Socket& KernelModel::NewSocket(int family, int type) {
  const uint64_t id = next_id_++;
  Socket& s = sockets_[id];
  s.id = id;
  s.family = family;
  s.type = type;
  s.v6only = family == AF_INET6 && config_.traits.v6only_default;
  return s;
}

void KernelModel::DestroySocket(uint64_t id) {
  for (auto it = abstract_names_.begin(); it != abstract_names_.end();) {
    it = it->second == id ? abstract_names_.erase(it) : std::next(it);
  }
  // A unix socket file stays where it is, now pointing at nothing: a later
  // connect() is refused (a stale socket, UNIX-003). Queued connections go
  // with the listener.
  sockets_.erase(id);
}

// --- socket(), options, close, fcntl ----------------------------------------

SysInt KernelModel::socket(int domain, int type, int protocol) {
  const int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
  const int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (domain != AF_INET && domain != AF_INET6 && domain != AF_UNIX) return SysErr(EAFNOSUPPORT);
  if (domain == AF_INET6 && !config_.ipv6_supported) return SysErr(EAFNOSUPPORT);
  if (base & ~0xf) return SysErr(EINVAL);  // flags beyond SOCK_TYPE_MASK
  const bool seqpacket_ok = domain == AF_UNIX && base == SOCK_SEQPACKET;
  if (base != SOCK_STREAM && base != SOCK_DGRAM && !seqpacket_ok) {
    return SysErr(EPROTONOSUPPORT);
  }
  if (protocol != 0) {
    const int expected = domain == AF_UNIX ? -1 : base == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    if (protocol != expected) return SysErr(EPROTONOSUPPORT);
  }
  SysInt fd = AllocFd(false, 0);
  if (!fd.ok()) return fd;
  Socket& s = NewSocket(domain, base);
  s.nonblock = (flags & SOCK_NONBLOCK) != 0;
  FdEntry& e = fds_[fd.value];
  e.id = s.id;
  e.cloexec = (flags & SOCK_CLOEXEC) != 0;
  return fd;
}

namespace {

// Options kept as plain values (no effect on the model).
bool IsStoredSolOption(int optname) {
  return optname == SO_RCVBUF || optname == SO_SNDBUF || optname == SO_KEEPALIVE;
}

}  // namespace

SysInt KernelModel::setsockopt(int fd, int level, int optname, int value) {
  int err = 0;
  Socket* s = SocketAt(fd, err);
  if (s == nullptr) return SysErr(err);
  switch (level) {
    case SOL_SOCKET:
      if (optname == SO_REUSEADDR) {
        s->reuseaddr = value != 0;
        return SysOk();
      }
      if (optname == SO_REUSEPORT) {
        if (!config_.traits.has_reuseport) return SysErr(ENOPROTOOPT);
        if (config_.traits.reuseport_inet_only && s->family == AF_UNIX && value != 0) {
          return SysErr(EOPNOTSUPP);
        }
        s->reuseport = value != 0;
        return SysOk();
      }
      if (IsStoredSolOption(optname)) {
        s->other_options[{level, optname}] = value;
        return SysOk();
      }
      return SysErr(ENOPROTOOPT);  // read-only (SO_TYPE, ...) or not modelled
    case IPPROTO_IPV6:
      if (s->family == AF_UNIX) return SysErr(EOPNOTSUPP);
      if (s->family != AF_INET6) return SysErr(ENOPROTOOPT);
      if (optname == IPV6_V6ONLY) {
        // Linux: only before the socket has a port (inet_num == 0).
        if (s->state != SocketState::kCreated) return SysErr(EINVAL);
        s->v6only = value != 0;
        return SysOk();
      }
      s->other_options[{level, optname}] = value;
      return SysOk();
    case IPPROTO_IP:
    case IPPROTO_TCP:
      if (s->family == AF_UNIX) return SysErr(EOPNOTSUPP);
      if (level == IPPROTO_IP && s->family != AF_INET) return SysErr(ENOPROTOOPT);
      s->other_options[{level, optname}] = value;
      return SysOk();
    default:
      return SysErr(ENOPROTOOPT);
  }
}

SysInt KernelModel::getsockopt(int fd, int level, int optname) {
  int err = 0;
  Socket* s = SocketAt(fd, err);
  if (s == nullptr) return SysErr(err);
  if (level == SOL_SOCKET) {
    switch (optname) {
      case SO_REUSEADDR:
        return SysOk(s->reuseaddr ? 1 : 0);
      case SO_REUSEPORT:
        if (!config_.traits.has_reuseport) return SysErr(ENOPROTOOPT);
        return SysOk(s->reuseport ? 1 : 0);
      case SO_TYPE:
        return SysOk(s->type);
      case SO_DOMAIN:
        return SysOk(s->family);
      case SO_ACCEPTCONN:
        return SysOk(s->state == SocketState::kListening ? 1 : 0);
      case SO_ERROR:
        return SysOk(0);
      default:
        break;
    }
    if (!IsStoredSolOption(optname)) return SysErr(ENOPROTOOPT);
  } else if (level == IPPROTO_IPV6) {
    if (s->family == AF_UNIX) return SysErr(EOPNOTSUPP);
    if (s->family != AF_INET6) return SysErr(ENOPROTOOPT);
    if (optname == IPV6_V6ONLY) return SysOk(s->v6only ? 1 : 0);
  } else if (level == IPPROTO_IP || level == IPPROTO_TCP) {
    if (s->family == AF_UNIX) return SysErr(EOPNOTSUPP);
  } else {
    return SysErr(ENOPROTOOPT);
  }
  auto it = s->other_options.find({level, optname});
  return SysOk(it == s->other_options.end() ? 0 : it->second);
}

SysInt KernelModel::close(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return SysErr(EBADF);
  const FdEntry entry = it->second;
  fds_.erase(it);
  // Linux drops an fd's epoll registrations when its file goes away.
  for (auto& [id, ep] : epolls_) {
    std::erase_if(ep.interest, [fd](const auto& reg) { return reg.first == fd; });
  }
  if (entry.is_epoll) {
    epolls_.erase(entry.id);
  } else if (entry.is_dir) {
    // nothing else holds: the directory stays
  } else {
    DestroySocket(entry.id);
  }
  return SysOk();
}

SysInt KernelModel::fcntl(int fd, int cmd, int arg) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return SysErr(EBADF);
  FdEntry& e = it->second;
  Socket* s = e.is_epoll || e.is_dir ? nullptr : &sockets_.at(e.id);
  switch (cmd) {
    case F_GETFD:
      return SysOk(e.cloexec ? FD_CLOEXEC : 0);
    case F_SETFD:
      e.cloexec = (arg & FD_CLOEXEC) != 0;
      return SysOk();
    case F_GETFL:
      return SysOk(O_RDWR | (s != nullptr && s->nonblock ? O_NONBLOCK : 0));
    case F_SETFL:
      if (s != nullptr) s->nonblock = (arg & O_NONBLOCK) != 0;
      return SysOk();
    default:
      return SysErr(EINVAL);
  }
}

SysInt KernelModel::ioctl(int fd, unsigned long request, int value) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return SysErr(EBADF);
  if (request != FIONBIO) return SysErr(ENOTTY);
  const FdEntry& e = it->second;
  if (!e.is_epoll && !e.is_dir) sockets_.at(e.id).nonblock = value != 0;
  return SysOk();
}

// Linux: first > last is EINVAL; fds past the last open one are nothing to
// close; CLOSE_RANGE_CLOEXEC marks instead of closing.
SysInt KernelModel::close_range(unsigned int first, unsigned int last, unsigned int flags) {
  if (first > last) return SysErr(EINVAL);
  if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) != 0) return SysErr(EINVAL);
  std::vector<int> in_range;
  for (const auto& [fd, entry] : fds_) {
    if (static_cast<unsigned>(fd) >= first && static_cast<unsigned>(fd) <= last) {
      in_range.push_back(fd);
    }
  }
  for (int fd : in_range) {
    if ((flags & CLOSE_RANGE_CLOEXEC) != 0) {
      fds_.at(fd).cloexec = true;
    } else {
      (void)close(fd);
    }
  }
  return SysOk();
}

SysInt KernelModel::fchmod(int fd, mode_t mode) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return SysErr(EBADF);
  // On Linux the socket's inode mode is what bind() gives a unix socket file
  // (before the umask), so fchmod before bind is observable.
  if (it->second.is_dir) return SysErr(EBADF);  // O_PATH
  if (!it->second.is_epoll) sockets_.at(it->second.id).inode_mode = mode & 07777;
  return SysOk();
}

// --- inspection ---------------------------------------------------------------

std::optional<KernelModel::SocketInfo> KernelModel::socket_info(int fd) const {
  const Socket* s = SocketAt(fd);
  if (s == nullptr) return std::nullopt;
  SocketInfo i;
  i.id = s->id;
  i.family = s->family;
  i.type = s->type;
  i.nonblock = s->nonblock;
  i.cloexec = fds_.at(fd).cloexec;
  i.reuseaddr = s->reuseaddr;
  i.reuseport = s->reuseport;
  i.v6only = s->v6only;
  i.inode_mode = s->inode_mode;
  i.state = s->state;
  i.local = s->local;
  i.peer = s->peer;
  i.backlog = s->backlog;
  i.queued = s->queue.size();
  return i;
}

std::vector<int> KernelModel::open_fds() const {
  std::vector<int> out;
  for (const auto& [fd, e] : fds_) out.push_back(fd);
  return out;
}

bool KernelModel::is_epoll(int fd) const {
  auto it = fds_.find(fd);
  return it != fds_.end() && it->second.is_epoll;
}

// --- directories (bind_unix_socket's *at calls) ------------------------------

SysResult<std::string> KernelModel::DirPathOfFd(int fd, int not_open_err) const {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return SysErr<std::string>(not_open_err);
  if (!it->second.is_dir) return SysErr<std::string>(ENOTDIR);
  auto path = fs_.PathOf(it->second.id);
  if (!path) return SysErr<std::string>(ENOENT);  // the directory was removed
  return {*path, 0};
}

SysResult<std::string> KernelModel::AtPath(int dirfd, const std::string& path) const {
  if (path.empty()) return SysErr<std::string>(ENOENT);
  if (path[0] == '/' || dirfd == AT_FDCWD) return {path, 0};
  auto dir = DirPathOfFd(dirfd, EBADF);
  if (!dir.ok()) return dir;
  return {(dir.value == "/" ? "" : dir.value) + "/" + path, 0};
}

// Directories only, as O_PATH | O_DIRECTORY opens them: what the seam's users
// open. A symlink under O_NOFOLLOW is ENOTDIR (Linux checks O_DIRECTORY on
// the link itself).
SysInt KernelModel::openat(int dirfd, const std::string& path, int flags, mode_t /*mode*/) {
  if ((flags & O_DIRECTORY) == 0 || (flags & O_CREAT) != 0) return SysErr(EINVAL);
  auto p = AtPath(dirfd, path);
  if (!p.ok()) return SysErr(p.err);
  auto st = (flags & O_NOFOLLOW) != 0 ? fs_.Lstat(p.value) : fs_.Stat(p.value);
  if (!st.ok()) return SysErr(st.err);
  if ((st.value.mode & S_IFMT) != S_IFDIR) return SysErr(ENOTDIR);
  SysInt fd = AllocFd(false, st.value.ino);
  if (!fd.ok()) return fd;
  FdEntry& e = fds_[fd.value];
  e.is_dir = true;
  e.cloexec = (flags & O_CLOEXEC) != 0;
  return fd;
}

SysInt KernelModel::mkdirat(int dirfd, const std::string& path, mode_t mode) {
  auto p = AtPath(dirfd, path);
  if (!p.ok()) return SysErr(p.err);
  const int err = fs_.Mkdir(p.value, mode);
  return err == 0 ? SysOk() : SysErr(err);
}

SysResult<FileStat> KernelModel::fstatat(int dirfd, const std::string& path, int flags) {
  if (path.empty() && (flags & AT_EMPTY_PATH) != 0) {
    auto it = fds_.find(dirfd);
    if (it == fds_.end()) return SysErr<FileStat>(EBADF);
    const FdEntry& e = it->second;
    if (e.is_dir) {
      auto dir = DirPathOfFd(dirfd, EBADF);
      if (!dir.ok()) return SysErr<FileStat>(dir.err);
      return fs_.Lstat(dir.value);
    }
    if (e.is_epoll) return {FileStat{0600, 0, 0, 0}, 0};  // an anonymous inode
    // sockfs: the socket inode, owned by the process that made it (uid 0 here).
    const Socket& s = sockets_.at(e.id);
    return {FileStat{static_cast<uint32_t>(S_IFSOCK | s.inode_mode), /*dev=*/0, 1'000'000 + s.id,
                     /*uid=*/0},
            0};
  }
  auto p = AtPath(dirfd, path);
  if (!p.ok()) return SysErr<FileStat>(p.err);
  return (flags & AT_SYMLINK_NOFOLLOW) != 0 ? fs_.Lstat(p.value) : fs_.Stat(p.value);
}

SysInt KernelModel::renameat2(int olddirfd, const std::string& oldpath, int newdirfd,
                              const std::string& newpath, unsigned int flags) {
  if (!config_.has_renameat2) return SysErr(ENOSYS);
  if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0) return SysErr(EINVAL);
  if (flags != 0 && !config_.rename_noreplace) return SysErr(EINVAL);
  auto from = AtPath(olddirfd, oldpath);
  if (!from.ok()) return SysErr(from.err);
  auto to = AtPath(newdirfd, newpath);
  if (!to.ok()) return SysErr(to.err);
  const int err = (flags & RENAME_EXCHANGE) != 0
                      ? fs_.Exchange(from.value, to.value)
                      : fs_.Rename(from.value, to.value, (flags & RENAME_NOREPLACE) != 0);
  return err == 0 ? SysOk() : SysErr(err);
}

SysInt KernelModel::unlinkat(int dirfd, const std::string& path, int flags) {
  if ((flags & ~AT_REMOVEDIR) != 0) return SysErr(EINVAL);
  auto p = AtPath(dirfd, path);
  if (!p.ok()) return SysErr(p.err);
  const int err = (flags & AT_REMOVEDIR) != 0 ? fs_.Rmdir(p.value) : fs_.Unlink(p.value);
  return err == 0 ? SysOk() : SysErr(err);
}

SysInt KernelModel::fchmodat(int dirfd, const std::string& path, mode_t mode, int flags) {
  if ((flags & ~AT_SYMLINK_NOFOLLOW) != 0) return SysErr(EINVAL);
  auto p = AtPath(dirfd, path);
  if (!p.ok()) return SysErr(p.err);
  const int err = (flags & AT_SYMLINK_NOFOLLOW) != 0 ? fs_.ChmodNoFollow(p.value, mode)
                                                     : fs_.Chmod(p.value, mode);
  return err == 0 ? SysOk() : SysErr(err);
}

SysResult<std::string> KernelModel::readlinkat(int dirfd, const std::string& path) {
  auto p = AtPath(dirfd, path);
  if (!p.ok()) return SysErr<std::string>(p.err);
  return fs_.Readlink(p.value);
}

const char* SocketStateName(KernelModel::SocketState state) {
  switch (state) {
    case KernelModel::SocketState::kCreated:
      return "created";
    case KernelModel::SocketState::kBound:
      return "bound";
    case KernelModel::SocketState::kListening:
      return "listening";
    case KernelModel::SocketState::kConnected:
      return "connected";
  }
  return "?";
}

std::string KernelModel::DescribeFds() const {
  std::ostringstream os;
  for (const auto& [fd, e] : fds_) {
    os << fd << ": ";
    if (e.is_epoll) {
      os << "epoll (" << epolls_.at(e.id).interest.size() << " fds)";
    } else if (e.is_dir) {
      os << "dir " << fs_.PathOf(e.id).value_or("(removed)");
    } else {
      const Socket& s = sockets_.at(e.id);
      os << FamilyName(s.family) << " " << SocketStateName(s.state);
      if (!s.local.empty()) os << " " << s.local;
      if (s.state == SocketState::kListening) {
        os << " backlog " << s.backlog << " queued " << s.queue.size();
      }
      if (s.nonblock) os << " nonblock";
      if (s.reuseaddr) os << " reuseaddr";
      if (s.reuseport) os << " reuseport";
      if (s.family == AF_INET6) os << (s.v6only ? " v6only" : " dualstack");
    }
    if (e.cloexec) os << " cloexec";
    os << "\n";
  }
  return os.str();
}

}  // namespace netutil::fakes
