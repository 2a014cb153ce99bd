#include "netns_child.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
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
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace netutil::fidelity {
namespace {

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

constexpr char kMissing = 'M';  // first byte of the child's message: the machine lacks something
constexpr char kBroken = 'B';   // ... set-up failed for another reason
constexpr char kRan = 'R';      // ... or the body ran

// A failed set-up step, from errno: `missing` when errno is one that means the
// machine cannot do it here (no privilege, no such kernel feature), listed
// per step in `lacks`.
SetupFailure Failed(const std::string& what, std::initializer_list<int> lacks) {
  const int err = errno;
  bool missing = false;
  for (int e : lacks) missing = missing || e == err;
  return SetupFailure{missing, what + ": " + std::strerror(err)};
}

// Lacking privilege or a read-only /proc/sys (a container) is the environment.
constexpr std::initializer_list<int> kNoPrivilege = {EPERM, EACCES, EROFS};

std::optional<SetupFailure> WriteFile(const char* path, const std::string& text,
                                      std::initializer_list<int> lacks) {
  const int fd = ::open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return Failed(path, lacks);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  std::optional<SetupFailure> f;
  if (!ok) f = Failed(path, lacks);
  ::close(fd);
  return f;
}

std::optional<SetupFailure> LoopbackUp() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Failed("socket for SIOCSIFFLAGS", {});
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  ok = ok && ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  std::optional<SetupFailure> f;
  if (!ok) f = Failed("bringing lo up", kNoPrivilege);
  ::close(s);
  return f;
}

// socket(AF_INET6, ...) -> EAFNOSUPPORT, as on a kernel booted with
// ipv6.disable=1, which a namespace cannot be.
std::optional<SetupFailure> NoIpv6Sockets() {
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
    return Failed("seccomp", {EINVAL, ENOSYS, EACCES});  // a kernel without seccomp filters
  }
  return std::nullopt;
}

std::optional<SetupFailure> PrivateHosts(const std::string& text) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Failed("making / private", kNoPrivilege);
  }
  char path[] = "/tmp/netutil-hosts-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return Failed("mkstemp", {});
  const bool wrote = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  std::optional<SetupFailure> f;
  if (!wrote || ::mount(path, "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) {
    f = Failed("bind-mounting /etc/hosts", kNoPrivilege);
  }
  ::unlink(path);  // the mount keeps the file alive
  return f;
}

std::optional<SetupFailure> BuildNetns(const EnvSpec& spec) {
  const int flags = CLONE_NEWNET | (spec.hosts ? CLONE_NEWNS : 0);
  // EINVAL/ENOSYS: a kernel without network namespaces; EPERM: not root.
  if (::unshare(flags) != 0) return Failed("unshare(CLONE_NEWNET)", {EPERM, EINVAL, ENOSYS});
  if (auto f = LoopbackUp()) return f;
  if (auto f = WriteFile("/proc/sys/net/ipv4/ip_local_port_range",
                         std::to_string(spec.port_low) + " " + std::to_string(spec.port_high),
                         kNoPrivilege)) {
    return f;
  }
  if (spec.no_loopback_v6) {
    // ENOENT: a kernel without IPv6 has no such sysctl.
    if (auto f = WriteFile("/proc/sys/net/ipv6/conf/lo/disable_ipv6", "1",
                           {EPERM, EACCES, EROFS, ENOENT})) {
      return f;
    }
  }
  if (spec.hosts) {
    if (auto f = PrivateHosts(*spec.hosts)) return f;
  }
  if (spec.no_ipv6_sockets) {
    if (auto f = NoIpv6Sockets()) return f;
  }
  ::umask(022);  // FakeEnv::ConfigFor uses the same
  return std::nullopt;
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

[[noreturn]] void Child(int out, const Setup& setup, const std::function<std::string()>& body) {
  if (setup) {
    std::optional<SetupFailure> f;
    try {
      f = setup();
    } catch (const std::exception& e) {
      f = SetupFailure{false, std::string("set-up threw: ") + e.what()};
    }
    if (f) {
      Send(out, f->missing ? kMissing : kBroken, f->why);
      ::_exit(0);
    }
  }
  std::string result;
  try {
    result = body();
  } catch (const std::exception& e) {
    result = std::string("exception: ") + e.what();
  }
  Send(out, kRan, result);
  ::_exit(0);
}

// Waits for the child's message until `deadline`; false on a timeout.
bool ReadUntil(int fd, std::chrono::steady_clock::time_point deadline, std::string* msg) {
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return false;
    if (n < 0) return true;  // cannot wait: take what came
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return true;  // EOF: the child exited (or died)
    msg->append(buf, static_cast<size_t>(r));
  }
}

ChildResult Failure(std::string why) {
  ChildResult r;
  r.status = ChildStatus::kFailed;
  r.why = std::move(why);
  return r;
}

}  // namespace

ChildResult RunInChild(const Setup& setup, const std::function<std::string()>& body,
                       std::chrono::milliseconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Failure(Errno("pipe"));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ChildResult r = Failure(Errno("fork"));
    ::close(fds[0]);
    ::close(fds[1]);
    return r;
  }
  if (pid == 0) {
    ::close(fds[0]);
    Child(fds[1], setup, body);
  }
  ::close(fds[1]);
  std::string msg;
  const bool in_time = ReadUntil(fds[0], deadline, &msg);
  ::close(fds[0]);
  if (!in_time) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!in_time) {
    return Failure("timeout after " + std::to_string(timeout.count()) + " ms (killed)");
  }
  if (WIFSIGNALED(status)) {
    return Failure("the child died of signal " + std::to_string(WTERMSIG(status)) + " (" +
                   strsignal(WTERMSIG(status)) + ")");
  }
  if (msg.empty()) {
    return Failure("the child exited with status " + std::to_string(WEXITSTATUS(status)) +
                   " without reporting");
  }
  ChildResult r;
  switch (msg[0]) {
    case kRan:
      r.status = ChildStatus::kRan;
      r.output = msg.substr(1);
      return r;
    case kMissing:
      r.status = ChildStatus::kNoEnvironment;
      r.why = "cannot build the network namespace here: " + msg.substr(1);
      return r;
    case kBroken:
      return Failure("the network namespace set-up failed: " + msg.substr(1));
    default:
      return Failure("the child sent garbage: " + msg.substr(0, 80));
  }
}

ChildResult RunInFreshNetns(const EnvSpec& spec, const std::function<std::string()>& body,
                            std::chrono::milliseconds timeout) {
  return RunInChild([spec] { return BuildNetns(spec); }, body, timeout);
}

}  // namespace netutil::fidelity
