// bind_unix_socket, race-free against a local process that can write in the
// socket's directory or in a parent (docs/SPEC.md, UNIX-017 to UNIX-022).
//
// Nothing after the argument checks acts on a path by name from the root:
//   1. the parent directory is opened component by component with
//      openat(O_PATH | O_DIRECTORY | O_NOFOLLOW) (UNIX-017);
//   2. the entry at the name is inspected with fstatat(AT_SYMLINK_NOFOLLOW)
//      through that fd, and probed through /proc/self/fd/P/name (UNIX-004,
//      UNIX-008, UNIX-009);
//   3. a private 0700 directory is made in the parent (mkdirat), opened
//      O_NOFOLLOW and checked to be ours (fstatat AT_EMPTY_PATH) (UNIX-018);
//   4. a stale socket is moved into it (renameat2 RENAME_NOREPLACE), checked
//      to be the socket probed (device, inode, type), and only then unlinked;
//      anything else is put back (UNIX-019);
//   5. the socket is bound through /proc/self/fd/N/s under the narrowed
//      umask, chmod-ed and made to listen there, where no other process can
//      reach or replace it (UNIX-010, UNIX-018), and
//   6. moved into place with renameat2(RENAME_NOREPLACE) (UNIX-020).
#include "netutil/bind_unix_socket.h"

#include <fcntl.h>
#include <stdio.h>  // RENAME_NOREPLACE
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "retry.h"

namespace netutil {
namespace {

using internal::RetryEintr;

constexpr int kUnixStream = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
constexpr int kDirOpen = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr int kMaxSymlinks = 40;     // Linux's MAXSYMLINKS
constexpr int kMaxPlaceRounds = 3;   // the name re-taken between check and rename
constexpr int kMaxPrivateNames = 8;  // mkdirat EEXIST: another name
constexpr const char* kBoundName = "s";
constexpr const char* kAsideName = "stale";

// UNIX-012, UNIX-013: refused before any syscall.
std::optional<Error> CheckArguments(const UnixOptions& o) {
  if (o.path.empty()) return Error::Argument("path", "path is empty");
  if (o.path[0] != '\0') {
    if (auto nul = o.path.find('\0'); nul != std::string::npos) {
      return Error::Argument("path", "path contains a NUL byte at offset " + std::to_string(nul));
    }
  }
  if (o.path.size() > sizeof(sockaddr_un::sun_path)) {
    return Error::Argument("path", "path is " + std::to_string(o.path.size()) +
                                       " bytes long; a unix socket path holds at most " +
                                       std::to_string(sizeof(sockaddr_un::sun_path)));
  }
  if (o.path[0] != '\0') {  // the socket file's name: what the path ends with
    const std::string_view name = std::string_view(o.path).substr(o.path.rfind('/') + 1);
    if (name.empty() || name == "." || name == "..") {
      return Error::Argument("path", o.path + " names a directory, not a socket file");
    }
  }
  if (o.mode > 07777) {
    return Error::Argument("mode", "mode " + std::to_string(o.mode) + " is outside 0..07777");
  }
  if (o.backlog < 0) {
    return Error::Argument("backlog", "backlog " + std::to_string(o.backlog) + " is negative");
  }
  return std::nullopt;
}

Error WithMessage(Error e, std::string message) {
  e.message = std::move(message);
  return e;
}

std::string ProcPath(int dirfd, const std::string& name) {
  constexpr std::string_view kPrefix = "/proc/self/fd/";
  const std::string fd = std::to_string(dirfd);
  std::string path;
  path.reserve(kPrefix.size() + fd.size() + 1 + name.size());
  path.append(kPrefix).append(fd).append(1, '/').append(name);
  return path;
}

// The path split into its directory and its last component.
struct SplitPath {
  std::string dir;  // "" for a bare name (the working directory)
  std::string name;
};

SplitPath Split(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// The components still to open, the next one last (a stack: a symlink's
// target goes on top without moving the rest).
using ComponentStack = std::vector<std::string>;

// Pushes the components of `path` (empty ones and "." dropped) so that its
// first component is on top.
void PushComponents(std::string_view path, ComponentStack& stack) {
  size_t end = path.size();
  while (end > 0) {
    const size_t slash = path.rfind('/', end - 1);
    const size_t begin = slash == std::string_view::npos ? 0 : slash + 1;
    const std::string_view comp = path.substr(begin, end - begin);
    if (!comp.empty() && comp != ".") stack.emplace_back(comp);
    if (slash == std::string_view::npos) break;
    end = slash;
  }
}

// The state every step needs: the seam, the caller's address for errors, and
// the uid files this process creates get (the socket inode's owner).
struct Ctx {
  Sys& sys;
  const SockAddr& addr;
  uint32_t self_uid = 0;

  // "unix:/run/x.sock": formatted only for an error text.
  std::string where() const { return addr.ToString(); }
};

// UNIX-017: a symlink in a parent is followed only when the directory that
// holds it can be written by nobody but root or this process's user, and the
// link belongs to one of them: only they could have put it there (/var/run ->
// /run on Debian). Anywhere else another user could have swapped it in.
Result<bool> TrustedSymlink(Ctx& c, int holder_fd, const std::string& component,
                            const FileStat& link) {
  SysResult<FileStat> holder =
      RetryEintr([&] { return c.sys.fstatat(holder_fd, "", AT_EMPTY_PATH); });
  if (!holder.ok()) return Error::Os(holder.err, "fstatat", c.where());
  auto trusted_owner = [&](uint32_t uid) { return uid == 0 || uid == c.self_uid; };
  return trusted_owner(holder.value.uid) && trusted_owner(link.uid) &&
         (holder.value.mode & (S_IWGRP | S_IWOTH)) == 0 && !component.empty();
}

// UNIX-017: opens `dir` one component at a time, never following a symlink
// another user could have placed (TrustedSymlink); every later step goes
// through the returned fd, so a component swapped after this changes nothing.
Result<Fd> OpenParent(Ctx& c, const std::string& dir) {
  const bool absolute = !dir.empty() && dir[0] == '/';
  SysInt start =
      RetryEintr([&] { return c.sys.openat(AT_FDCWD, absolute ? "/" : ".", kDirOpen, 0); });
  if (!start.ok()) return Error::Os(start.err, "openat", c.where());
  Fd cur(c.sys, start.value);
  ComponentStack todo;
  todo.reserve(8);  // a typical parent's depth: one allocation
  PushComponents(dir, todo);
  int links = 0;
  while (!todo.empty()) {
    const std::string comp = std::move(todo.back());
    todo.pop_back();
    SysInt next = RetryEintr([&] { return c.sys.openat(cur.get(), comp, kDirOpen, 0); });
    if (next.ok()) {
      cur = Fd(c.sys, next.value);
      continue;
    }
    if (next.err != ENOTDIR && next.err != ELOOP) return Error::Os(next.err, "openat", c.where());
    // ENOTDIR: not a directory, or a symlink O_NOFOLLOW refused to follow.
    SysResult<FileStat> st =
        RetryEintr([&] { return c.sys.fstatat(cur.get(), comp, AT_SYMLINK_NOFOLLOW); });
    if (!st.ok()) return Error::Os(st.err, "fstatat", c.where());
    if ((st.value.mode & S_IFMT) != S_IFLNK) return Error::Os(ENOTDIR, "openat", c.where());
    Result<bool> trusted = TrustedSymlink(c, cur.get(), comp, st.value);
    if (!trusted.ok()) return trusted.error();
    if (!trusted.value()) {
      return WithMessage(Error::Os(ELOOP, "openat", c.where()),
                         c.where() + ": the directory component '" + comp +
                             "' is a symbolic link in a directory other users can write; it is "
                             "not followed");
    }
    if (++links > kMaxSymlinks) return Error::Os(ELOOP, "openat", c.where());
    SysResult<std::string> target = RetryEintr([&] { return c.sys.readlinkat(cur.get(), comp); });
    if (!target.ok()) return Error::Os(target.err, "readlinkat", c.where());
    PushComponents(target.value, todo);
    if (!target.value.empty() && target.value[0] == '/') {  // an absolute target: from "/"
      SysInt root = RetryEintr([&] { return c.sys.openat(AT_FDCWD, "/", kDirOpen, 0); });
      if (!root.ok()) return Error::Os(root.err, "openat", c.where());
      cur = Fd(c.sys, root.value);
    }
  }
  return cur;
}

// UNIX-008: does a process still listen at `addr`? A refused (or vanished)
// connection means the file is stale; a connection, or a full backlog, means
// it is alive. Any other answer is an error: we cannot tell, so we touch nothing.
Result<bool> IsLive(Sys& sys, const SockAddr& addr, const SockAddr& where) {
  SysInt c = RetryEintr([&]() -> SysInt {
    SysInt s = RetryEintr([&] { return sys.socket(AF_UNIX, kUnixStream, 0); });
    if (!s.ok()) return {-1, s.err == EINTR ? EIO : s.err};  // socket() errors end the retry
    Fd probe(sys, s.value);
    return sys.connect(probe.get(), addr);
  });
  if (c.ok() || c.err == EAGAIN) return true;
  if (c.err == ECONNREFUSED || c.err == ENOENT) return false;
  return Error::Os(c.err, "connect probe", where.ToString());
}

// What is at the name now. nullopt: nothing; a value: a stale socket (its
// identity, for UNIX-019). Anything else is the error the caller returns.
struct Stale {
  uint64_t dev = 0;
  uint64_t ino = 0;
};

Result<std::optional<Stale>> Inspect(Ctx& c, int parent_fd, const std::string& name,
                                     const std::string& path) {
  // fstatat(AT_SYMLINK_NOFOLLOW): a symlink is reported, not followed (UNIX-009).
  SysResult<FileStat> st =
      RetryEintr([&] { return c.sys.fstatat(parent_fd, name, AT_SYMLINK_NOFOLLOW); });
  if (!st.ok()) {
    if (st.err == ENOENT) return std::optional<Stale>();
    return Error::Os(st.err, "fstatat", c.where());
  }
  const uint32_t type = st.value.mode & S_IFMT;
  if (type == S_IFLNK) {
    return WithMessage(
        Error::Os(ELOOP, "fstatat", c.where()),
        path + " is a symbolic link; bind_unix_socket neither follows nor removes it");
  }
  if (type != S_IFSOCK) {  // UNIX-004
    return Error::Argument("path", path + " exists and is not a socket; it is left untouched");
  }
  // The probe goes through the parent's fd, so a parent swapped since
  // OpenParent cannot send it elsewhere (UNIX-017); a name too long for that
  // form is probed by the caller's path: the probe only decides whether to
  // try the removal, which UNIX-019 checks by identity.
  std::optional<SockAddr> via_fd = SockAddr::Unix(ProcPath(parent_fd, name));
  Result<bool> live = IsLive(c.sys, via_fd ? *via_fd : *SockAddr::Unix(path), c.addr);
  if (!live.ok()) return live.error();
  if (live.value()) {  // UNIX-008
    return WithMessage(Error::Os(EADDRINUSE, "connect probe", c.where()),
                       path + ": another process listens on this socket; it is left in place");
  }
  return std::optional<Stale>(Stale{st.value.dev, st.value.ino});
}

// ".<name, at most 32 bytes>.netutil-<n>": the private directory's name.
std::string PrivateName(const std::string& name, long long n) {
  constexpr std::string_view kTag = ".netutil-";
  const std::string_view head = std::string_view(name).substr(0, 32);
  const std::string number = std::to_string(n);
  std::string out;
  out.reserve(1 + head.size() + kTag.size() + number.size());
  out.append(1, '.').append(head).append(kTag).append(number);
  return out;
}

// The private directory (UNIX-018): made in the parent, opened without
// following a symlink, and checked to be a directory of ours that nobody else
// can write. Removed (with what it holds) when the call returns.
class PrivateDir {
 public:
  PrivateDir(Ctx& c, int parent_fd) : c_(c), parent_fd_(parent_fd) {}
  ~PrivateDir() { Remove(); }
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;

  Status Make(const std::string& name) {
    for (int i = 0; i < kMaxPrivateNames; ++i) {
      // Unique enough: a taken name is EEXIST and the next one is tried; a
      // directory someone else made under it fails the ownership check.
      const auto now = c_.sys.monotonic_now().count();
      std::string candidate = PrivateName(name, now + i);
      SysInt m = RetryEintr([&] { return c_.sys.mkdirat(parent_fd_, candidate, 0700); });
      if (!m.ok() && m.err == EEXIST) continue;
      if (!m.ok()) return Error::Os(m.err, "mkdirat", c_.where());
      name_ = std::move(candidate);
      SysInt o = RetryEintr([&] { return c_.sys.openat(parent_fd_, name_, kDirOpen, 0); });
      if (!o.ok()) return Error::Os(o.err, "openat", c_.where());
      fd_ = Fd(c_.sys, o.value);
      SysResult<FileStat> st =
          RetryEintr([&] { return c_.sys.fstatat(fd_.get(), "", AT_EMPTY_PATH); });
      if (!st.ok()) return Error::Os(st.err, "fstatat", c_.where());
      if ((st.value.mode & S_IFMT) != S_IFDIR || st.value.uid != c_.self_uid ||
          (st.value.mode & 077) != 0) {
        fd_.reset();  // not ours: neither used nor removed
        const std::string replaced = std::exchange(name_, std::string());
        return WithMessage(Error::Os(EEXIST, "mkdirat", c_.where()),
                           c_.where() + ": the private directory " + replaced +
                               " was replaced by another process");
      }
      return OkStatus();
    }
    return WithMessage(Error::Os(EEXIST, "mkdirat", c_.where()),
                       c_.where() + ": no free name for the private directory");
  }

  int fd() const { return fd_.get(); }
  // Whether the bound socket file is inside (bind succeeded, not yet placed).
  void set_holds_socket(bool holds) { holds_socket_ = holds; }
  // Something stays inside (an entry that could not be put back): the
  // directory is then left for the caller to inspect.
  void Keep() { keep_ = true; }

 private:
  void Remove() {
    if (!fd_.valid()) return;
    // UNIX-011, UNIX-014: our socket file goes even when the directory is
    // kept for another process's entry (only that entry stays behind).
    if (holds_socket_) {
      (void)RetryEintr([&] { return c_.sys.unlinkat(fd_.get(), kBoundName, 0); });
    }
    if (keep_) return;
    fd_.reset();
    // By name: rmdir removes only an empty directory, so at worst an empty
    // one swapped in under this name by the attacker goes instead of ours.
    (void)RetryEintr([&] { return c_.sys.unlinkat(parent_fd_, name_, AT_REMOVEDIR); });
  }

  Ctx& c_;
  int parent_fd_;
  Fd fd_;
  std::string name_;
  bool keep_ = false;
  bool holds_socket_ = false;
};

// UNIX-021: renameat2 absent (ENOSYS) or RENAME_NOREPLACE unsupported
// (EINVAL) named as such; never a fallback to a rename that replaces.
Error PlaceError(Ctx& c, int err) {
  Error e = Error::Os(err, "renameat2", c.where());
  if (err == ENOSYS || err == EINVAL) {
    e.message = c.where() +
                ": renameat2(RENAME_NOREPLACE) is not available here; bind_unix_socket does not "
                "fall back to a rename that could replace another process's file";
  }
  return e;
}

// UNIX-019: removes the stale socket at `name` only if it is the one Inspect
// saw: moved into the private directory first (RENAME_NOREPLACE), compared by
// device, inode and type, unlinked there. Anything else goes back.
Status RemoveStale(Ctx& c, int parent_fd, PrivateDir& priv, const std::string& name,
                   const Stale& seen, const std::string& path) {
  SysInt mv = RetryEintr(
      [&] { return c.sys.renameat2(parent_fd, name, priv.fd(), kAsideName, RENAME_NOREPLACE); });
  if (!mv.ok() && mv.err == ENOENT) return OkStatus();  // gone already: nothing to remove
  if (!mv.ok()) return PlaceError(c, mv.err);           // UNIX-021: ENOSYS, EINVAL named
  SysResult<FileStat> st =
      RetryEintr([&] { return c.sys.fstatat(priv.fd(), kAsideName, AT_SYMLINK_NOFOLLOW); });
  const bool same = st.ok() && (st.value.mode & S_IFMT) == S_IFSOCK && st.value.dev == seen.dev &&
                    st.value.ino == seen.ino;
  if (same) {
    SysInt u = RetryEintr([&] { return c.sys.unlinkat(priv.fd(), kAsideName, 0); });
    if (!u.ok()) return Error::Os(u.err, "unlinkat", c.where());
    return OkStatus();
  }
  SysInt back = RetryEintr(
      [&] { return c.sys.renameat2(priv.fd(), kAsideName, parent_fd, name, RENAME_NOREPLACE); });
  if (!back.ok()) {
    priv.Keep();
    return WithMessage(Error::Os(back.err, "renameat2", c.where()),
                       path +
                           " was replaced by another entry while the stale socket was being "
                           "removed; that entry could not be put back and is kept in the "
                           "private directory next to it");
  }
  return WithMessage(Error::Os(EADDRINUSE, "renameat2", c.where()),
                     path +
                         " was replaced by another entry while the stale socket was being "
                         "removed; it was put back untouched");
}

Result<Listener> BindAbstract(Sys& sys, Fd fd, const SockAddr& addr, const UnixOptions& o) {
  // UNIX-007: no file, so nothing to check, remove or chmod.
  SysInt b = RetryEintr([&] { return sys.bind(fd.get(), addr); });
  if (!b.ok()) return Error::Os(b.err, "bind", addr.ToString());
  SysInt l = RetryEintr([&] { return sys.listen(fd.get(), o.backlog); });
  if (!l.ok()) return Error::Os(l.err, "listen", addr.ToString());
  return Listener{std::move(fd), addr};
}

// UNIX-010, UNIX-015, UNIX-018: binds inside the private directory, under a
// umask that leaves only the requested bits, then chmod (setuid, sticky: what
// the umask cannot set) and listen (UNIX-006), all where no one else can
// reach. A failure leaves the file there for PrivateDir to remove (UNIX-011).
Status BindPrivately(Ctx& c, int sock_fd, PrivateDir& priv, const UnixOptions& o) {
  std::optional<SockAddr> inside = SockAddr::Unix(ProcPath(priv.fd(), kBoundName));
  const mode_t old_mask = c.sys.umask(static_cast<mode_t>(~o.mode & 0777));
  SysInt b = RetryEintr([&] { return c.sys.bind(sock_fd, *inside); });
  c.sys.umask(old_mask);
  if (!b.ok() && b.err == ENOENT) {  // UNIX-021
    return WithMessage(Error::Os(b.err, "bind", c.where()),
                       c.where() + ": bind through " + inside->unix_path() +
                           " found nothing: /proc is not mounted, or another process removed "
                           "the private directory; nothing was bound");
  }
  if (!b.ok()) return Error::Os(b.err, "bind", c.where());
  priv.set_holds_socket(true);
  // UNIX-005: the file ends with exactly the requested mode.
  SysInt m = RetryEintr([&] { return c.sys.fchmodat(priv.fd(), kBoundName, o.mode, 0); });
  if (!m.ok()) return Error::Os(m.err, "chmod", c.where());
  SysInt l = RetryEintr([&] { return c.sys.listen(sock_fd, o.backlog); });
  if (!l.ok()) return Error::Os(l.err, "listen", c.where());
  return OkStatus();
}

// UNIX-020: the socket goes into place only if the name is free; EEXIST
// sends the caller back to Inspect. UNIX-021: no renameat2 (ENOSYS) or a
// filesystem without RENAME_NOREPLACE (EINVAL) is an error, never a rename
// that could replace what another process put there.
SysInt Place(Ctx& c, PrivateDir& priv, int parent_fd, const std::string& name) {
  return RetryEintr(
      [&] { return c.sys.renameat2(priv.fd(), kBoundName, parent_fd, name, RENAME_NOREPLACE); });
}

}  // namespace

Result<Listener> bind_unix_socket(Sys& sys, const UnixOptions& o) {
  if (auto e = CheckArguments(o)) return std::move(*e);
  const SockAddr addr = *SockAddr::Unix(o.path);
  // Error texts name addr.ToString(); it is formatted only when one is returned.

  // UNIX-001
  SysInt s = RetryEintr([&] { return sys.socket(AF_UNIX, kUnixStream, 0); });
  if (!s.ok()) return Error::Os(s.err, "socket", addr.ToString());
  Fd fd(sys, s.value);  // closes on every early return (UNIX-011)

  // UNIX-002
  SysInt r = RetryEintr([&] { return sys.setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1); });
  if (!r.ok() && r.err != ENOPROTOOPT) {
    return Error::Os(r.err, "setsockopt(SO_REUSEADDR)", addr.ToString());
  }

  if (o.path[0] == '\0') return BindAbstract(sys, std::move(fd), addr, o);

  const SplitPath split = Split(o.path);  // the name is checked (UNIX-012)
  Ctx c{sys, addr};
  // The owner of the socket inode is the owner every file this process
  // creates gets: the private directory must have it too (UNIX-018).
  SysResult<FileStat> me = RetryEintr([&] { return sys.fstatat(fd.get(), "", AT_EMPTY_PATH); });
  if (!me.ok()) return Error::Os(me.err, "fstatat", addr.ToString());
  c.self_uid = me.value.uid;

  Result<Fd> parent = OpenParent(c, split.dir);  // UNIX-017
  if (!parent.ok()) return parent.error();
  const int parent_fd = parent.value().get();

  Result<std::optional<Stale>> seen = Inspect(c, parent_fd, split.name, o.path);
  if (!seen.ok()) return seen.error();

  PrivateDir priv(c, parent_fd);  // UNIX-018; removed on every return (UNIX-011)
  if (Status m = priv.Make(split.name); !m.ok()) return m.error();
  for (int round = 0;; ++round) {
    if (seen.value()) {  // UNIX-003, UNIX-019
      if (Status rm = RemoveStale(c, parent_fd, priv, split.name, *seen.value(), o.path);
          !rm.ok()) {
        return rm.error();
      }
    }
    if (round == 0) {
      if (Status b = BindPrivately(c, fd.get(), priv, o); !b.ok()) return b.error();
    }
    SysInt placed = Place(c, priv, parent_fd, split.name);  // UNIX-020
    if (placed.ok()) {
      priv.set_holds_socket(false);
      break;
    }
    if (placed.err != EEXIST) return PlaceError(c, placed.err);
    if (round + 1 == kMaxPlaceRounds) {
      return WithMessage(Error::Os(EADDRINUSE, "renameat2", addr.ToString()),
                         o.path + " was taken again each time it was freed; giving up");
    }
    seen = Inspect(c, parent_fd, split.name, o.path);  // what took the name meanwhile
    if (!seen.ok()) return seen.error();
  }
  // UNIX-022: the caller's path, not the /proc path getsockname would report.
  return Listener{std::move(fd), addr};
}

}  // namespace netutil
