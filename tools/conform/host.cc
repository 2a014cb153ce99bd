#include "host.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "confined_path.h"
#include "json_match.h"
#include "netutil/errno_name.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/fakes/kernel_config.h"
#include "netutil/posix_sys.h"
#include "netutil/sock_addr.h"

namespace netutil::conform::host {
namespace {

constexpr int kStream = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;

std::string Errno(const char* what, int err) { return std::string(what) + ": " + ErrnoName(err); }

}  // namespace

std::optional<std::string> SpecString(const json& spec, const char* key, std::string* out) {
  auto it = spec.find(key);
  if (it == spec.end() || !it->is_string()) {
    return std::string("needs a string \"") + key + "\": " + Brief(spec);
  }
  *out = it->get<std::string>();
  return std::nullopt;
}

std::optional<std::string> SpecInt(const json& spec, const char* key, long long lo, long long hi,
                                   long long* out) {
  auto it = spec.find(key);
  if (it == spec.end()) return std::nullopt;  // keep the default
  if (!it->is_number_integer() || it->get<long long>() < lo || it->get<long long>() > hi) {
    return std::string("\"") + key + "\" must be an integer in " + std::to_string(lo) + ".." +
           std::to_string(hi) + ": " + Brief(spec);
  }
  *out = it->get<long long>();
  return std::nullopt;
}

std::optional<std::string> TargetAddress(const json& spec, SockAddr* addr) {
  if (spec.contains("path")) {
    std::string path;
    if (auto e = SpecString(spec, "path", &path)) return e;
    std::optional<SockAddr> a = SockAddr::Unix(path);
    if (!a) return "unix path too long: " + path;
    *addr = *a;
    return std::nullopt;
  }
  std::string host = "127.0.0.1";
  if (spec.contains("host") || spec.contains("address")) {
    if (auto e = SpecString(spec, spec.contains("host") ? "host" : "address", &host)) return e;
  }
  long long port = 0;
  if (auto e = SpecInt(spec, "port", 0, 65535, &port)) return e;
  std::optional<SockAddr> a = SockAddr::FromIp(host, static_cast<uint16_t>(port));
  if (!a) return "not an IP literal: " + host;
  // Loopback only: a case never reaches out of the machine.
  const std::string h = a->host();
  if (h.rfind("127.", 0) != 0 && h != "::1") return "not a loopback address: " + host;
  *addr = *a;
  return std::nullopt;
}

namespace {

bool CanListen(Sys& sys, const char* ip) {
  std::optional<SockAddr> a = SockAddr::FromIp(ip, 0);
  if (!a) return false;
  const SysInt fd = sys.socket(a->family(), kStream, 0);
  if (!fd.ok()) return false;
  const bool ok = sys.bind(fd.value, *a).ok() && sys.listen(fd.value, 1).ok();
  (void)sys.close(fd.value);
  return ok;
}

// NETCONFORM_HOST_PROBE: a comma-separated list of "no-ipv6", "no-loopback2".
void ApplyTestOverride(Probe* p) {
  const char* env = std::getenv("NETCONFORM_HOST_PROBE");
  if (env == nullptr) return;
  const std::string v = std::string(",") + env + ",";
  if (v.find(",no-ipv6,") != std::string::npos) p->ipv6 = false;
  if (v.find(",no-loopback2,") != std::string::npos) p->loopback2 = false;
}

const char* TypeName(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFSOCK:
      return "socket";
    case S_IFREG:
      return "regular";
    case S_IFLNK:
      return "symlink";
    case S_IFDIR:
      return "dir";
    default:
      return "other";
  }
}

}  // namespace

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) ::close(fd_);
}

OwnedFd& OwnedFd::operator=(OwnedFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Probe ProbeWith(Sys& sys) { return Probe{CanListen(sys, "::1"), CanListen(sys, "127.0.0.2")}; }

Probe ProbeHost() {
  PosixSys sys;
  Probe p = ProbeWith(sys);
  ApplyTestOverride(&p);
  return p;
}

Probe ProbeFakeKernel() {
  fakes::FakeKernel kernel(fakes::KernelConfig::For());
  return ProbeWith(kernel);
}

std::optional<std::string> Connect(const json& spec, Keep* keep, json* result) {
  SockAddr addr;
  if (auto e = TargetAddress(spec, &addr)) return e;
  long long count = 1;
  if (auto e = SpecInt(spec, "count", 1, kMaxClients, &count)) return e;

  std::map<std::string, long long> failed;
  std::vector<OwnedFd> pending;
  long long connected = 0;
  for (long long i = 0; i < count; ++i) {
    OwnedFd fd(::socket(addr.family(), kStream, 0));
    if (fd.get() < 0) return Errno("socket", errno);
    if (::connect(fd.get(), addr.data(), addr.len()) == 0) {
      ++connected;
      keep->push_back(std::move(fd));
    } else if (errno == EINPROGRESS) {
      pending.push_back(std::move(fd));
    } else {
      ++failed[ErrnoName(errno)];
    }
  }
  // Wait for the handshakes (a SYN dropped on a full queue is resent after 1
  // s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!pending.empty()) {
    std::vector<pollfd> pfds;
    for (const OwnedFd& fd : pending) pfds.push_back(pollfd{fd.get(), POLLOUT, 0});
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) break;
    if (::poll(pfds.data(), pfds.size(), static_cast<int>(left)) < 0 && errno != EINTR) {
      return Errno("poll", errno);
    }
    std::vector<OwnedFd> still;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (pfds[i].revents == 0) {
        still.push_back(std::move(pending[i]));
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(pending[i].get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) {
        ++connected;
        keep->push_back(std::move(pending[i]));
      } else {
        ++failed[ErrnoName(err)];
      }
    }
    pending = std::move(still);
  }
  if (!pending.empty()) failed["ETIMEDOUT"] += static_cast<long long>(pending.size());
  // Let the last handshakes land in the listener's queue before anyone accepts.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  *result = {{"connected", connected}, {"failed", failed}};
  return std::nullopt;
}

std::optional<std::string> Hold(const json& spec, Keep* keep, json* result) {
  SockAddr addr;
  if (auto e = TargetAddress(spec, &addr)) return e;
  OwnedFd fd(::socket(addr.family(), kStream, 0));
  if (fd.get() < 0) return Errno("socket", errno);
  if (addr.family() == AF_INET6) {
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (::bind(fd.get(), addr.data(), addr.len()) != 0) {
    return Errno(("bind " + addr.ToString()).c_str(), errno);
  }
  if (::listen(fd.get(), 16) != 0) return Errno("listen", errno);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return Errno("getsockname", errno);
  }
  const SockAddr bound = SockAddr::FromRaw(&ss, len);
  keep->push_back(std::move(fd));
  *result = {{"port", bound.port()}, {"address", bound.host()}};
  return std::nullopt;
}

namespace {

// The case's dir and the directory holding `path`'s last component, opened
// beneath it without following symlinks (confined_path.h); an error when the
// path is not the case's or cannot be reached that way.
struct Beneath {
  OwnedFd parent;
  std::string name;  // the last component
  int error_number = 0;
};

std::optional<std::string> OpenBeneath(const std::string& root, const std::string& path,
                                       Beneath* out) {
  std::string relative;
  if (auto why = RelativeBeneath(root, path, &relative)) return why;
  OwnedFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root_fd.get() < 0) return Errno(("open " + root).c_str(), errno);
  std::string error;
  out->parent =
      OwnedFd(OpenParentBeneath(root_fd.get(), relative, &out->name, &out->error_number, &error));
  if (out->parent.get() < 0) return error;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Make(const std::string& root, const json& spec, Keep* keep,
                                json* result) {
  std::string path;
  std::string kind;
  if (auto e = SpecString(spec, "path", &path)) return e;
  if (auto e = SpecString(spec, "kind", &kind)) return e;
  Beneath at;
  if (auto e = OpenBeneath(root, path, &at)) return "make " + *e;
  const int dir = at.parent.get();
  const char* name = at.name.c_str();
  if (kind == "regular") {
    std::string content;
    if (spec.contains("content")) {
      if (auto e = SpecString(spec, "content", &content)) return e;
    }
    OwnedFd fd(::openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (fd.get() < 0) return Errno(("open " + path).c_str(), errno);
    if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
      return Errno(("write " + path).c_str(), errno);
    }
  } else if (kind == "dir") {
    if (::mkdirat(dir, name, 0755) != 0) return Errno(("mkdir " + path).c_str(), errno);
  } else if (kind == "symlink") {
    std::string target;
    if (auto e = SpecString(spec, "target", &target)) return e;
    // The link itself is made beneath the dir; where it points was checked
    // when the case was loaded, and is never followed by netconform.
    if (::symlinkat(target.c_str(), dir, name) != 0) {
      return Errno(("symlink " + path).c_str(), errno);
    }
  } else if (kind == "stale_socket" || kind == "live_socket") {
    // bind() takes no directory fd: the socket is named through the fd of
    // its directory, so no symlink on the way can move it elsewhere.
    std::optional<SockAddr> addr = SockAddr::Unix(ProcFdPath(dir, at.name));
    if (!addr) return "unix path too long: " + path;
    OwnedFd fd(::socket(AF_UNIX, kStream, 0));
    if (fd.get() < 0) return Errno("socket", errno);
    if (::bind(fd.get(), addr->data(), addr->len()) != 0) {
      return Errno(("bind " + path).c_str(), errno);
    }
    // A stale socket: bound, never listening, closed; its file stays behind
    // and a connect() to it is refused, as after a crashed server.
    if (kind == "live_socket") {
      if (::listen(fd.get(), 16) != 0) return Errno("listen", errno);
      keep->push_back(std::move(fd));
    }
  } else {
    return "unknown kind \"" + kind + "\" (regular, dir, symlink, stale_socket, live_socket)";
  }
  *result = {{"made", path}};
  return std::nullopt;
}

// The names in a directory (no "." or ".."), sorted, at most kMaxDirEntries
// and a last "..." when there were more: what a failed call left behind
// (UNIX-011: the private directory and the socket file in it). O_NOFOLLOW: a
// directory swapped for a link meanwhile is not listed.
json DirEntries(int parent, const std::string& name) {
  const int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return json::array();
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return json::array();
  }
  std::vector<std::string> names;
  bool more = false;
  while (const dirent* e = ::readdir(dir)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (names.size() == kMaxDirEntries) {
      more = true;
      break;
    }
    names.push_back(n);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  json out = names;
  if (more) out.push_back("...");
  return out;
}

json Inspect(const std::string& root, const std::string& path) {
  Beneath at;
  if (auto e = OpenBeneath(root, path, &at)) {
    // Not a file of the case's, or behind a symlink: reported, never looked at.
    return {{"exists", false},
            {"errno", ErrnoName(at.error_number != 0 ? at.error_number : EPERM)},
            {"refused", *e}};
  }
  const int dir = at.parent.get();
  struct stat st {};
  if (::fstatat(dir, at.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return {{"exists", false}, {"errno", ErrnoName(errno)}};
  }
  json out = {{"exists", true},
              {"type", TypeName(st.st_mode)},
              {"mode", static_cast<unsigned>(st.st_mode & 07777)}};
  if (S_ISLNK(st.st_mode)) {
    char buf[PATH_MAX];
    const ssize_t n = ::readlinkat(dir, at.name.c_str(), buf, sizeof buf);
    if (n >= 0) out["target"] = std::string(buf, static_cast<size_t>(n));
  } else if (S_ISREG(st.st_mode)) {
    // O_NOFOLLOW and O_NONBLOCK: swapped meanwhile for a link or a FIFO, it
    // is neither followed nor waited on.
    OwnedFd fd(::openat(dir, at.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat again {};
    char buf[4096];
    ssize_t n = -1;
    if (fd.get() >= 0 && ::fstat(fd.get(), &again) == 0 && S_ISREG(again.st_mode)) {
      n = ::read(fd.get(), buf, sizeof buf);
    }
    out["content"] = n >= 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  } else if (S_ISSOCK(st.st_mode)) {
    std::optional<SockAddr> addr = SockAddr::Unix(ProcFdPath(dir, at.name));
    OwnedFd fd(::socket(AF_UNIX, kStream, 0));
    const bool ok = addr && fd.get() >= 0 &&
                    (::connect(fd.get(), addr->data(), addr->len()) == 0 || errno == EAGAIN);
    out["connectable"] = ok;
  } else if (S_ISDIR(st.st_mode)) {
    out["entries"] = DirEntries(dir, at.name);
  }
  return out;
}

std::optional<std::string> RealHost::Connect(const json& spec, json* result) {
  return host::Connect(spec, &keep_, result);
}
std::optional<std::string> RealHost::Hold(const json& spec, json* result) {
  return host::Hold(spec, &keep_, result);
}
std::optional<std::string> RealHost::Make(const json& spec, json* result) {
  return host::Make(root_, spec, &keep_, result);
}
json RealHost::Inspect(const std::string& path) { return host::Inspect(root_, path); }
void RealHost::Sleep(long long ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace netutil::conform::host
