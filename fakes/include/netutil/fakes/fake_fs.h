// The filesystem bits unix sockets need, for the FakeKernel: directories,
// regular files, symbolic links and socket files with their modes, the
// process umask, and path resolution as Linux does it (symlinks followed in
// every component but the last unless asked, 40 hops at most, ENOENT /
// ENOTDIR / ELOOP / ENAMETOOLONG). Permission checks are left out: the
// harness runs as root, where they do not apply.
//
// Paths are absolute or relative to "/" (the fake's working directory);
// "//", "." and ".." are understood. "/proc/self/fd/N/..." goes through the
// directory fd N (set_fd_resolver), as Linux's magic links do, unless /proc
// is not mounted (set_proc_mounted(false): ENOENT).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "netutil/fakes/fault_plan.h"
#include "netutil/sys.h"

namespace netutil::fakes {

class FakeFs {
 public:
  enum class Type { kDir, kFile, kSocket, kSymlink };
  struct Node {
    Type type = Type::kFile;
    mode_t perm = 0644;      // permission bits (07777)
    std::string target;      // kSymlink
    uint64_t socket_id = 0;  // kSocket: the socket bound to it (0: none)
    uint64_t ino = 0;
    // The permission bits the node was created with, before any chmod: what
    // the file was reachable with from its first instant (UNIX-010).
    mode_t created_perm = 0;
  };

  FakeFs();  // "/", "/tmp" and "/run" exist

  // --- what the syscalls do
  SysResult<FileStat> Lstat(const std::string& path) const;
  SysResult<FileStat> Stat(const std::string& path) const;
  int Unlink(const std::string& path);  // 0 or an errno
  int Chmod(const std::string& path, mode_t mode);
  // bind(): creates a socket file; EADDRINUSE when anything (even a dangling
  // symlink) is at the path, ENOENT/ENOTDIR when the directory is missing.
  int MakeSocket(const std::string& path, mode_t perm, uint64_t socket_id);
  // connect(): the node at `path`, symlinks followed, or the errno.
  SysResult<const Node*> Open(const std::string& path) const;
  // mkdir(): perm less the umask; EEXIST for anything (even a dangling
  // symlink) at the path.
  int Mkdir(const std::string& path, mode_t perm);
  int Rmdir(const std::string& path);  // unlinkat(AT_REMOVEDIR)
  // rename(): neither path's last component is followed. noreplace:
  // EEXIST when anything is at `to` (RENAME_NOREPLACE). A directory moves
  // with what it holds.
  int Rename(const std::string& from, const std::string& to, bool noreplace);
  // rename(RENAME_EXCHANGE): both must exist.
  int Exchange(const std::string& a, const std::string& b);
  SysResult<std::string> Readlink(const std::string& path) const;
  // chmod that does not follow a final symlink (fchmodat AT_SYMLINK_NOFOLLOW):
  // EOPNOTSUPP on a symlink, as glibc answers.
  int ChmodNoFollow(const std::string& path, mode_t mode);
  // Another process swaps an entry (fault_plan.h's "after ... swap"): 0 or
  // an errno, never a throw (a swap that cannot be done is not a test bug).
  int Swap(const FsSwap& swap);
  // The canonical path of the node with inode `ino` now, or nullopt (removed).
  std::optional<std::string> PathOf(uint64_t ino) const;
  FileStat StatOf(const Node& n) const;
  using FdResolver = std::function<SysResult<std::string>(int fd)>;
  void set_fd_resolver(FdResolver r) { fd_resolver_ = std::move(r); }
  void set_proc_mounted(bool on) { proc_mounted_ = on; }
  mode_t umask() const { return umask_; }
  mode_t set_umask(mode_t mask);  // returns the previous mask

  // --- set-up for tests: a set-up that cannot be (a file where a directory
  // must go) throws std::invalid_argument, a bug in the test
  void MakeDirs(const std::string& path, mode_t perm = 0755);
  void MakeFile(const std::string& path, mode_t perm = 0644);
  void MakeSymlink(const std::string& path, const std::string& target);
  // The node at `path` itself (no symlink followed), or null.
  const Node* Find(const std::string& path) const;
  // Every node, by canonical path.
  const std::map<std::string, Node>& nodes() const { return nodes_; }

  // The canonical form of `path` ("/a/b"), or nullopt for an empty path.
  static std::optional<std::string> Normalize(const std::string& path);

 private:
  // Resolves every component but the last (following symlinks), then the last
  // one too when `follow`. Returns the canonical path of the result (which
  // need not exist) or an errno.
  SysResult<std::string> Resolve(const std::string& path, bool follow) const;
  SysResult<std::string> ResolveIn(const std::string& path, bool follow, int& hops) const;
  // "/proc/self/fd/N/rest" -> "<dir of N>/rest"; other paths as they are.
  SysResult<std::string> ThroughProc(const std::string& path) const;
  void Move(const std::string& from, const std::string& to);
  Node& Insert(const std::string& canonical, Node node);

  std::map<std::string, Node> nodes_;
  uint64_t next_ino_ = 2;
  mode_t umask_ = 022;
  FdResolver fd_resolver_;
  bool proc_mounted_ = true;
};

}  // namespace netutil::fakes
