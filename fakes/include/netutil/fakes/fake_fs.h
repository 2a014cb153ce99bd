// The filesystem bits unix sockets need, for the FakeKernel: directories,
// regular files, symbolic links and socket files with their modes, the
// process umask, and path resolution as Linux does it (symlinks followed in
// every component but the last unless asked, 40 hops at most, ENOENT /
// ENOTDIR / ELOOP / ENAMETOOLONG). Permission checks are left out: the
// harness runs as root, where they do not apply.
//
// Paths are absolute or relative to "/" (the fake's working directory);
// "//", "." and ".." are understood.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

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
  int Unlink(const std::string& path);       // 0 or an errno
  int Chmod(const std::string& path, mode_t mode);
  // bind(): creates a socket file; EADDRINUSE when anything (even a dangling
  // symlink) is at the path, ENOENT/ENOTDIR when the directory is missing.
  int MakeSocket(const std::string& path, mode_t perm, uint64_t socket_id);
  // connect(): the node at `path`, symlinks followed, or the errno.
  SysResult<const Node*> Open(const std::string& path) const;
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
  FileStat StatOf(const Node& n) const;
  Node& Insert(const std::string& canonical, Node node);

  std::map<std::string, Node> nodes_;
  uint64_t next_ino_ = 2;
  mode_t umask_ = 022;
};

}  // namespace netutil::fakes
