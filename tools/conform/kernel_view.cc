#include "kernel_view.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string_view>

#include "netutil/errno_name.h"
#include "netutil/posix_sys.h"

namespace netutil::conform {
namespace {

using nlohmann::json;

// A process may hold this many fds at most as far as the view goes: a
// listing is bounded in time whatever the process did.
constexpr size_t kMaxFdsListed = 1 << 16;

std::string ProcPath(pid_t pid, const char* what) {
  return "/proc/" + std::to_string(pid) + "/" + what;
}

// The "flags:" line of /proc/PID/fdinfo/FD, in octal: the open file's status
// flags, with O_CLOEXEC added by the kernel when the fd has close-on-exec.
std::optional<unsigned> FdInfoFlags(pid_t pid, int fd) {
  std::ifstream in(ProcPath(pid, "fdinfo") + "/" + std::to_string(fd));
  std::string line;
  for (int n = 0; n < 16 && std::getline(in, line); ++n) {
    if (line.rfind("flags:", 0) == 0)
      return static_cast<unsigned>(std::stoul(line.substr(6), nullptr, 8));
  }
  return std::nullopt;
}

// An int option of the copy; false when it cannot be read.
bool IntOption(Sys& sys, int fd, int level, int name, int* value) {
  const SysInt r = sys.getsockopt(fd, level, name);
  if (!r.ok()) return false;
  *value = r.value;
  return true;
}

bool SameAddress(const json& listener, const SockAddr& local) {
  if (local.family() == AF_UNIX) {
    return listener.value("path", json()) == json(local.unix_path());
  }
  return listener.value("address", json()) == json(local.host()) &&
         listener.value("port", json()) == json(local.port());
}

// The observed socket bound where `listener` says, new sockets first. A unix
// socket the kernel names otherwise (the reference binds through a directory
// fd, "/proc/self/fd/5/s", and renames the file into place) is the one new
// unix socket of the request, when there is exactly one.
const ObservedSocket* FindListener(const json& listener, const std::vector<ObservedSocket>& now,
                                   const std::set<int>& before) {
  const ObservedSocket* found = nullptr;
  const ObservedSocket* new_unix = nullptr;
  size_t new_unix_count = 0;
  for (const ObservedSocket& s : now) {
    const bool is_new = before.count(s.fd) == 0;
    if (is_new && s.local.family() == AF_UNIX) {
      new_unix = &s;
      ++new_unix_count;
    }
    if (!SameAddress(listener, s.local)) continue;
    if (is_new) return &s;
    if (found == nullptr) found = &s;
  }
  if (found == nullptr && listener.value("family", json()) == "unix" && new_unix_count == 1) {
    return new_unix;
  }
  return found;
}

void CompareProps(const json& said, const json& seen, const std::string& who,
                  std::vector<std::string>* notes) {
  if (!said.is_object()) return;
  for (const auto& [key, value] : seen.items()) {
    const auto it = said.find(key);
    if (it != said.end() && !it->is_null() && *it != value) {
      notes->push_back(who + " props." + key + ": the adapter said " + it->dump() +
                       ", the kernel shows " + value.dump());
    }
  }
}

}  // namespace

std::unique_ptr<KernelView> KernelView::Open(pid_t pid, std::string* why) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    *why = std::string("pidfd_open: ") + ErrnoName(errno);
    return nullptr;
  }
  return std::unique_ptr<KernelView>(new KernelView(pid, pidfd));
}

KernelView::~KernelView() { ::close(pidfd_); }

std::optional<std::vector<int>> OpenFdsOf(pid_t pid, std::string* why) {
  const std::string dir = ProcPath(pid, "fd");
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    *why = "cannot list " + dir + ": " + ErrnoName(errno);
    return std::nullopt;
  }
  // Its own fd shows in the listing when the process lists itself.
  const int own = pid == ::getpid() ? ::dirfd(d) : -1;
  std::vector<int> fds;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    if (fds.size() >= kMaxFdsListed) break;
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd < 0 || fd > INT_MAX || fd == own) continue;
    fds.push_back(static_cast<int>(fd));
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) {
    *why = "cannot list " + dir + ": " + ErrnoName(err);
    return std::nullopt;
  }
  std::sort(fds.begin(), fds.end());
  return fds;
}

std::optional<std::vector<int>> KernelView::SocketFds(std::string* why) const {
  std::optional<std::vector<int>> open = OpenFdsOf(pid_, why);
  if (!open) return std::nullopt;
  std::vector<int> fds;
  for (int fd : *open) {
    std::error_code link_ec;
    const std::string target =
        std::filesystem::read_symlink(ProcPath(pid_, "fd") + "/" + std::to_string(fd), link_ec)
            .string();
    if (link_ec || target.rfind("socket:[", 0) != 0) continue;  // closed meanwhile, or no socket
    fds.push_back(fd);
  }
  return fds;
}

std::optional<std::vector<int>> KernelView::ListenerCandidates(std::string* why) const {
  std::optional<std::vector<int>> fds = SocketFds(why);
  if (!fds) return std::nullopt;
  PosixSys sys;
  std::vector<int> out;
  for (int fd : *fds) {
    std::string closed;
    const int copy = CopyFd(fd, &closed);
    if (copy < 0) continue;  // closed meanwhile
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    const SysInt domain = sys.getsockopt(copy, SOL_SOCKET, SO_DOMAIN);
    const bool paired = domain.ok() && domain.value == AF_UNIX &&
                        ::getpeername(copy, reinterpret_cast<sockaddr*>(&peer), &len) == 0;
    (void)sys.close(copy);
    if (!paired) out.push_back(fd);
  }
  return out;
}

int KernelView::CopyFd(int fd, std::string* why) const {
  const int copy = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd_, fd, 0));
  if (copy < 0) *why = "pidfd_getfd(" + std::to_string(fd) + "): " + ErrnoName(errno);
  return copy;
}

bool KernelView::CanCopy(int fd, std::string* why) const {
  const int copy = CopyFd(fd, why);
  if (copy < 0) return false;
  ::close(copy);
  return true;
}

std::optional<ObservedSocket> KernelView::Socket(int fd, std::string* why) const {
  const int copy = CopyFd(fd, why);
  if (copy < 0) return std::nullopt;
  PosixSys sys;
  ObservedSocket s;
  s.fd = fd;
  const SysResult<SockAddr> name = sys.getsockname(copy);
  int accepting = 0, reuseaddr = 0, reuseport = 0, v6only = 0;
  const bool read = name.ok() && IntOption(sys, copy, SOL_SOCKET, SO_TYPE, &s.type) &&
                    IntOption(sys, copy, SOL_SOCKET, SO_ACCEPTCONN, &accepting) &&
                    IntOption(sys, copy, SOL_SOCKET, SO_REUSEADDR, &reuseaddr) &&
                    IntOption(sys, copy, SOL_SOCKET, SO_REUSEPORT, &reuseport);
  if (read && name.value.family() == AF_INET6 &&
      IntOption(sys, copy, IPPROTO_IPV6, IPV6_V6ONLY, &v6only)) {
    s.v6only = v6only != 0;
  }
  (void)sys.close(copy);
  const std::optional<unsigned> flags = FdInfoFlags(pid_, fd);
  if (!read || !flags) {
    *why = "cannot read socket " + std::to_string(fd) + " of process " + std::to_string(pid_);
    return std::nullopt;
  }
  s.local = name.value;
  s.accepting = accepting != 0;
  s.reuseaddr = reuseaddr != 0;
  s.reuseport = reuseport != 0;
  s.nonblock = (*flags & O_NONBLOCK) != 0;
  s.cloexec = (*flags & O_CLOEXEC) != 0;
  return s;
}

json PropsJson(const ObservedSocket& s) {
  json props = {{"nonblock", s.nonblock},
                {"cloexec", s.cloexec},
                {"type", s.type == SOCK_STREAM ? json("stream") : json(s.type)},
                {"accepting", s.accepting},
                {"reuseaddr", s.reuseaddr},
                {"reuseport", s.reuseport}};
  if (s.v6only) props["v6only"] = *s.v6only;
  return props;
}

void ObserveBindReply(const KernelView& view, const std::vector<int>& sockets_before, json* reply,
                      std::vector<std::string>* notes) {
  std::string why;
  const std::optional<std::vector<int>> after = view.ListenerCandidates(&why);
  if (!after) {
    notes->push_back("kernel view: " + why);
    return;
  }
  const long long kernel_delta =
      static_cast<long long>(after->size()) - static_cast<long long>(sockets_before.size());
  const json said = reply->value("fds_delta", json());
  if (said.is_number_integer() && said.get<long long>() != kernel_delta) {
    notes->push_back("fds_delta: the adapter said " + said.dump() + ", the kernel shows " +
                     std::to_string(kernel_delta));
  }
  (*reply)["fds_delta"] =
      said.is_number_integer() ? std::max(said.get<long long>(), kernel_delta) : kernel_delta;
  const auto listeners = reply->find("listeners");
  if (listeners == reply->end() || !listeners->is_array()) return;
  std::vector<ObservedSocket> now;
  for (int fd : *after) {
    if (std::optional<ObservedSocket> s = view.Socket(fd, &why)) now.push_back(*s);
  }
  const std::set<int> before(sockets_before.begin(), sockets_before.end());
  for (size_t i = 0; i < listeners->size(); ++i) {
    json& l = (*listeners)[i];
    if (!l.is_object()) continue;
    const std::string who = "listener " + std::to_string(i);
    const ObservedSocket* s = FindListener(l, now, before);
    if (s == nullptr) {
      notes->push_back(who + ": the kernel shows no socket of the process bound there");
      continue;
    }
    const json seen = PropsJson(*s);
    CompareProps(l.value("props", json()), seen, who, notes);
    l["props"] = seen;
  }
}

}  // namespace netutil::conform
