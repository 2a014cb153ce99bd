#include "netutil/fakes/fake_fs.h"

#include <sys/stat.h>

#include <cerrno>
#include <stdexcept>
#include <vector>

namespace netutil::fakes {
namespace {

constexpr int kMaxSymlinkHops = 40;  // Linux's MAXSYMLINKS
constexpr size_t kPathMax = 4096;
constexpr size_t kNameMax = 255;

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string Child(const std::string& dir, const std::string& name) {
  return (dir == "/" ? "" : dir) + "/" + name;
}

std::string Parent(const std::string& canonical) {
  const size_t slash = canonical.rfind('/');
  return slash == 0 ? "/" : canonical.substr(0, slash);
}

// A set-up the filesystem cannot have is a bug in the test that asked for it.
[[noreturn]] void SetupBug(const char* what, const std::string& path) {
  throw std::invalid_argument(std::string("FakeFs: ") + what + ": " + path);
}

}  // namespace

FakeFs::FakeFs() {
  Insert("/", Node{Type::kDir, 0755, "", 0, 0, 0});
  MakeDirs("/tmp", 01777);
  MakeDirs("/run", 0755);
}

std::optional<std::string> FakeFs::Normalize(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::vector<std::string> parts;
  for (const auto& c : Split(path)) {
    if (c == ".") continue;
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

SysResult<std::string> FakeFs::ThroughProc(const std::string& path) const {
  static const std::string kPrefix = "/proc/self/fd/";
  if (!path.starts_with(kPrefix)) return {path, 0};
  if (!proc_mounted_) return SysErr<std::string>(ENOENT);
  size_t end = kPrefix.size();
  while (end < path.size() && path[end] >= '0' && path[end] <= '9') ++end;
  if (end == kPrefix.size() || end - kPrefix.size() > 9) return SysErr<std::string>(ENOENT);
  if (!fd_resolver_) return SysErr<std::string>(ENOENT);
  auto dir = fd_resolver_(std::stoi(path.substr(kPrefix.size(), end - kPrefix.size())));
  if (!dir.ok()) return dir;
  return {dir.value + path.substr(end), 0};
}

SysResult<std::string> FakeFs::Resolve(const std::string& raw, bool follow) const {
  if (raw.empty()) return SysErr<std::string>(ENOENT);
  if (raw.size() >= kPathMax) return SysErr<std::string>(ENAMETOOLONG);
  auto path = ThroughProc(raw);
  if (!path.ok()) return path;
  int hops = 0;
  return ResolveIn(path.value, follow, hops);
}

// ".." is taken lexically (before symlinks are followed); the harness's paths
// do not climb out of a symlinked directory.
SysResult<std::string> FakeFs::ResolveIn(const std::string& path, bool follow, int& hops) const {
  const std::vector<std::string> parts = Split(*Normalize(path));
  std::string cur = "/";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].size() > kNameMax) return SysErr<std::string>(ENAMETOOLONG);
    const std::string cand = Child(cur, parts[i]);
    const bool last = i + 1 == parts.size();
    auto it = nodes_.find(cand);
    if (it == nodes_.end()) {
      if (last) return {cand, 0};
      return SysErr<std::string>(ENOENT);
    }
    const Node& n = it->second;
    if (n.type == Type::kSymlink && (!last || follow)) {
      if (++hops > kMaxSymlinkHops) return SysErr<std::string>(ELOOP);
      const std::string target = n.target.starts_with("/") ? n.target : Child(cur, n.target);
      auto r = ResolveIn(target, /*follow=*/true, hops);
      if (!r.ok()) return r;
      if (last) return r;
      auto t = nodes_.find(r.value);
      if (t == nodes_.end()) return SysErr<std::string>(ENOENT);
      if (t->second.type != Type::kDir) return SysErr<std::string>(ENOTDIR);
      cur = r.value;
      continue;
    }
    if (last) return {cand, 0};
    if (n.type != Type::kDir) return SysErr<std::string>(ENOTDIR);
    cur = cand;
  }
  return {cur, 0};
}

FileStat FakeFs::StatOf(const Node& n) const {
  uint32_t type = S_IFREG;
  switch (n.type) {
    case Type::kDir:
      type = S_IFDIR;
      break;
    case Type::kFile:
      type = S_IFREG;
      break;
    case Type::kSocket:
      type = S_IFSOCK;
      break;
    case Type::kSymlink:
      type = S_IFLNK;
      break;
  }
  // A symlink's own mode is 0777 on Linux whatever was asked.
  const uint32_t perm = n.type == Type::kSymlink ? 0777 : (n.perm & 07777);
  return FileStat{type | perm, /*dev=*/1, n.ino, /*uid=*/0};
}

SysResult<FileStat> FakeFs::Lstat(const std::string& path) const {
  auto r = Resolve(path, /*follow=*/false);
  if (!r.ok()) return SysErr<FileStat>(r.err);
  auto it = nodes_.find(r.value);
  if (it == nodes_.end()) return SysErr<FileStat>(ENOENT);
  return {StatOf(it->second), 0};
}

SysResult<FileStat> FakeFs::Stat(const std::string& path) const {
  auto r = Resolve(path, /*follow=*/true);
  if (!r.ok()) return SysErr<FileStat>(r.err);
  auto it = nodes_.find(r.value);
  if (it == nodes_.end()) return SysErr<FileStat>(ENOENT);
  return {StatOf(it->second), 0};
}

int FakeFs::Unlink(const std::string& path) {
  auto r = Resolve(path, /*follow=*/false);
  if (!r.ok()) return r.err;
  auto it = nodes_.find(r.value);
  if (it == nodes_.end()) return ENOENT;
  if (it->second.type == Type::kDir) return EISDIR;
  nodes_.erase(it);
  return 0;
}

int FakeFs::Chmod(const std::string& path, mode_t mode) {
  auto r = Resolve(path, /*follow=*/true);
  if (!r.ok()) return r.err;
  auto it = nodes_.find(r.value);
  if (it == nodes_.end()) return ENOENT;
  it->second.perm = mode & 07777;
  return 0;
}

int FakeFs::MakeSocket(const std::string& path, mode_t perm, uint64_t socket_id) {
  auto r = Resolve(path, /*follow=*/false);
  if (!r.ok()) return r.err;
  if (nodes_.count(r.value) != 0) return EADDRINUSE;
  Insert(r.value, Node{Type::kSocket, static_cast<mode_t>(perm & 07777), "", socket_id, 0, 0});
  return 0;
}

SysResult<const FakeFs::Node*> FakeFs::Open(const std::string& path) const {
  auto r = Resolve(path, /*follow=*/true);
  if (!r.ok()) return SysErr<const Node*>(r.err);
  auto it = nodes_.find(r.value);
  if (it == nodes_.end()) return SysErr<const Node*>(ENOENT);
  return {&it->second, 0};
}

int FakeFs::Mkdir(const std::string& path, mode_t perm) {
  auto r = Resolve(path, /*follow=*/false);
  if (!r.ok()) return r.err;
  if (nodes_.count(r.value) != 0) return EEXIST;
  Insert(r.value, Node{Type::kDir, static_cast<mode_t>(perm & ~umask_ & 07777), "", 0, 0, 0});
  return 0;
}

int FakeFs::Rmdir(const std::string& path) {
  auto r = Resolve(path, /*follow=*/false);
  if (!r.ok()) return r.err;
  auto it = nodes_.find(r.value);
  if (it == nodes_.end()) return ENOENT;
  if (it->second.type != Type::kDir) return ENOTDIR;
  if (r.value == "/") return EBUSY;
  auto child = nodes_.lower_bound(r.value + "/");
  if (child != nodes_.end() && child->first.starts_with(r.value + "/")) return ENOTEMPTY;
  nodes_.erase(it);
  return 0;
}

// Re-keys `from` and everything under it to `to` (inodes kept).
void FakeFs::Move(const std::string& from, const std::string& to) {
  std::vector<std::pair<std::string, Node>> moved;
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (it->first == from || it->first.starts_with(from + "/")) {
      moved.emplace_back(to + it->first.substr(from.size()), std::move(it->second));
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [k, n] : moved) nodes_[k] = std::move(n);
}

int FakeFs::Rename(const std::string& from, const std::string& to, bool noreplace) {
  auto rf = Resolve(from, /*follow=*/false);
  if (!rf.ok()) return rf.err;
  auto rt = Resolve(to, /*follow=*/false);
  if (!rt.ok()) return rt.err;
  auto src = nodes_.find(rf.value);
  if (src == nodes_.end()) return ENOENT;
  if (rf.value == "/" || rt.value == "/") return EBUSY;
  if (rf.value == rt.value) return noreplace ? EEXIST : 0;
  if (rt.value.starts_with(rf.value + "/")) return EINVAL;  // into itself
  auto dst = nodes_.find(rt.value);
  if (dst != nodes_.end()) {
    if (noreplace) return EEXIST;
    const bool src_dir = src->second.type == Type::kDir;
    const bool dst_dir = dst->second.type == Type::kDir;
    if (src_dir && !dst_dir) return ENOTDIR;
    if (!src_dir && dst_dir) return EISDIR;
    if (dst_dir) {
      if (int err = Rmdir(rt.value)) return err;
    } else {
      nodes_.erase(dst);
    }
  }
  Move(rf.value, rt.value);
  return 0;
}

int FakeFs::Exchange(const std::string& a, const std::string& b) {
  auto ra = Resolve(a, /*follow=*/false);
  if (!ra.ok()) return ra.err;
  auto rb = Resolve(b, /*follow=*/false);
  if (!rb.ok()) return rb.err;
  if (nodes_.count(ra.value) == 0 || nodes_.count(rb.value) == 0) return ENOENT;
  if (ra.value == rb.value) return 0;
  if (ra.value.starts_with(rb.value + "/") || rb.value.starts_with(ra.value + "/")) return EINVAL;
  const std::string tmp = ra.value + std::string(1, '\1') + "exchange";  // no path has it
  Move(ra.value, tmp);
  Move(rb.value, ra.value);
  Move(tmp, rb.value);
  return 0;
}

SysResult<std::string> FakeFs::Readlink(const std::string& path) const {
  auto r = Resolve(path, /*follow=*/false);
  if (!r.ok()) return SysErr<std::string>(r.err);
  auto it = nodes_.find(r.value);
  if (it == nodes_.end()) return SysErr<std::string>(ENOENT);
  if (it->second.type != Type::kSymlink) return SysErr<std::string>(EINVAL);
  return {it->second.target, 0};
}

int FakeFs::ChmodNoFollow(const std::string& path, mode_t mode) {
  auto r = Resolve(path, /*follow=*/false);
  if (!r.ok()) return r.err;
  auto it = nodes_.find(r.value);
  if (it == nodes_.end()) return ENOENT;
  if (it->second.type == Type::kSymlink) return EOPNOTSUPP;
  it->second.perm = mode & 07777;
  return 0;
}

int FakeFs::Swap(const FsSwap& s) {
  if (s.kind == FsSwap::Kind::kExchange) return Exchange(s.arg, s.path);
  auto r = Resolve(s.path, /*follow=*/false);
  if (!r.ok()) return r.err;
  if (nodes_.count(r.value) != 0) {
    if (int err = Rename(s.path, s.path + ".orig", /*noreplace=*/false)) return err;
  }
  switch (s.kind) {
    case FsSwap::Kind::kSymlink:
      Insert(r.value, Node{Type::kSymlink, 0777, s.arg, 0, 0, 0});
      return 0;
    case FsSwap::Kind::kFile:
      Insert(r.value, Node{Type::kFile, 0644, "", 0, 0, 0});
      return 0;
    case FsSwap::Kind::kDir:
      Insert(r.value, Node{Type::kDir, 0755, "", 0, 0, 0});
      return 0;
    case FsSwap::Kind::kSocket:  // bound by a process that is gone: stale
      Insert(r.value, Node{Type::kSocket, 0755, "", 0, 0, 0});
      return 0;
    case FsSwap::Kind::kRename:
      return Rename(s.arg, s.path, /*noreplace=*/false);
    case FsSwap::Kind::kExchange:
      break;
  }
  return EINVAL;
}

std::optional<std::string> FakeFs::PathOf(uint64_t ino) const {
  for (const auto& [path, n] : nodes_) {
    if (n.ino == ino) return path;
  }
  return std::nullopt;
}

mode_t FakeFs::set_umask(mode_t mask) {
  const mode_t old = umask_;
  umask_ = mask & 0777;
  return old;
}

FakeFs::Node& FakeFs::Insert(const std::string& canonical, Node node) {
  node.ino = next_ino_++;
  node.created_perm = node.perm;
  return nodes_[canonical] = std::move(node);
}

void FakeFs::MakeDirs(const std::string& path, mode_t perm) {
  auto canonical = Normalize(path);
  if (!canonical) SetupBug("empty directory path", path);
  std::string cur = "/";
  for (const auto& part : Split(*canonical)) {
    cur = Child(cur, part);
    auto it = nodes_.find(cur);
    if (it == nodes_.end()) {
      Insert(cur, Node{Type::kDir, perm, "", 0, 0, 0});
    } else if (it->second.type != Type::kDir) {
      SetupBug("not a directory", cur);
    }
  }
}

void FakeFs::MakeFile(const std::string& path, mode_t perm) {
  auto canonical = Normalize(path);
  if (!canonical || *canonical == "/") SetupBug("bad file path", path);
  MakeDirs(Parent(*canonical));
  Insert(*canonical, Node{Type::kFile, perm, "", 0, 0, 0});
}

void FakeFs::MakeSymlink(const std::string& path, const std::string& target) {
  auto canonical = Normalize(path);
  if (!canonical || *canonical == "/") SetupBug("bad symlink path", path);
  MakeDirs(Parent(*canonical));
  Insert(*canonical, Node{Type::kSymlink, 0777, target, 0, 0, 0});
}

const FakeFs::Node* FakeFs::Find(const std::string& path) const {
  auto canonical = Normalize(path);
  if (!canonical) return nullptr;
  auto it = nodes_.find(*canonical);
  return it == nodes_.end() ? nullptr : &it->second;
}

}  // namespace netutil::fakes
