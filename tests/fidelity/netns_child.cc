#include "netns_child.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace netutil::fidelity {
namespace {

constexpr char kSetupFailed = 'S';  // first byte of the child's message: set-up failed
constexpr char kRan = 'R';          // ... or the body ran

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

bool WriteFile(const char* path, const std::string& text, std::string& why) {
  const int fd = ::open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    why = Errno(path);
    return false;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (!ok) why = Errno(path);
  ::close(fd);
  return ok;
}

bool LoopbackUp(std::string& why) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    why = Errno("socket for SIOCSIFFLAGS");
    return false;
  }
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  ok = ok && ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  if (!ok) why = Errno("bringing lo up");
  ::close(s);
  return ok;
}

// socket(AF_INET6, ...) -> EAFNOSUPPORT, as on a kernel booted with
// ipv6.disable=1, which a namespace cannot be.
bool NoIpv6Sockets(std::string& why) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EAFNOSUPPORT & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    why = Errno("seccomp");
    return false;
  }
  return true;
}

bool PrivateHosts(const std::string& text, std::string& why) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    why = Errno("making / private");
    return false;
  }
  char path[] = "/tmp/netutil-hosts-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) {
    why = Errno("mkstemp");
    return false;
  }
  const bool wrote = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  const bool ok = wrote && ::mount(path, "/etc/hosts", nullptr, MS_BIND, nullptr) == 0;
  if (!ok) why = Errno("bind-mounting /etc/hosts");
  ::unlink(path);  // the mount keeps the file alive
  return ok;
}

void Send(int fd, char tag, const std::string& text) {
  std::string msg = std::string(1, tag) + text;
  size_t off = 0;
  while (off < msg.size()) {
    const ssize_t w = ::write(fd, msg.data() + off, msg.size() - off);
    if (w <= 0) return;
    off += static_cast<size_t>(w);
  }
}

[[noreturn]] void Child(int out, const EnvSpec& spec, const std::function<std::string()>& body) {
  ::alarm(10);  // a hung body dies; the parent reports it
  std::string why;
  int flags = CLONE_NEWNET | (spec.hosts ? CLONE_NEWNS : 0);
  bool ok = ::unshare(flags) == 0;
  if (!ok) why = Errno("unshare(CLONE_NEWNET)");
  ok = ok && LoopbackUp(why);
  ok = ok && WriteFile("/proc/sys/net/ipv4/ip_local_port_range",
                       std::to_string(spec.port_low) + " " + std::to_string(spec.port_high), why);
  if (ok && spec.no_loopback_v6) {
    ok = WriteFile("/proc/sys/net/ipv6/conf/lo/disable_ipv6", "1", why);
  }
  if (ok && spec.hosts) ok = PrivateHosts(*spec.hosts, why);
  if (ok && spec.no_ipv6_sockets) ok = NoIpv6Sockets(why);
  if (!ok) {
    Send(out, kSetupFailed, why);
    ::_exit(0);
  }
  ::umask(022);
  std::string result;
  try {
    result = body();
  } catch (const std::exception& e) {
    result = std::string("exception: ") + e.what();
  }
  Send(out, kRan, result);
  ::_exit(0);
}

}  // namespace

ChildResult RunInFreshNetns(const EnvSpec& spec, const std::function<std::string()>& body) {
  ChildResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    r.why = Errno("pipe");
    return r;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    r.why = Errno("fork");
    ::close(fds[0]);
    ::close(fds[1]);
    return r;
  }
  if (pid == 0) {
    ::close(fds[0]);
    Child(fds[1], spec, body);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    msg.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    r.why = std::string("the child died: ") + strsignal(WTERMSIG(status));
    return r;
  }
  if (msg.empty()) {
    r.why = "the child said nothing";
    return r;
  }
  if (msg[0] == kSetupFailed) {
    r.why = "cannot build the network namespace: " + msg.substr(1);
    return r;
  }
  r.ran = true;
  r.output = msg.substr(1);
  return r;
}

}  // namespace netutil::fidelity
