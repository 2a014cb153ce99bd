#include "netns_child.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "netutil/netns/netns_setup.h"

namespace netutil::fidelity {
namespace {

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

constexpr char kMissing = 'M';  // first byte of the child's message: the machine lacks something
constexpr char kBroken = 'B';   // ... set-up failed for another reason
constexpr char kRan = 'R';      // ... or the body ran

// A failed set-up step (netutil/netns/netns_setup.h): `missing` when its
// errno is one that means the machine cannot do it here (no privilege, no
// such kernel feature), listed per step in `lacks`.
std::optional<SetupFailure> Step(const std::string& why, int err,
                                 std::initializer_list<int> lacks) {
  if (why.empty()) return std::nullopt;
  bool missing = false;
  for (int e : lacks) missing = missing || e == err;
  return SetupFailure{missing, why};
}

// Lacking privilege or a read-only /proc/sys (a container) is the environment.
constexpr std::initializer_list<int> kNoPrivilege = {EPERM, EACCES, EROFS};

std::optional<SetupFailure> BuildNetns(const EnvSpec& spec) {
  const int flags = CLONE_NEWNET | (spec.hosts ? CLONE_NEWNS : 0);
  // EINVAL/ENOSYS: a kernel without network namespaces; EPERM: not root.
  if (::unshare(flags) != 0) {
    const int err = errno;
    return Step(std::string("unshare(CLONE_NEWNET): ") + std::strerror(err), err,
                {EPERM, EINVAL, ENOSYS});
  }
  int err = 0;
  if (auto f = Step(netns::BringLoopbackUp(&err), err, kNoPrivilege)) return f;
  if (auto f = Step(netns::WriteProcFile(
                        "/proc/sys/net/ipv4/ip_local_port_range",
                        std::to_string(spec.port_low) + " " + std::to_string(spec.port_high), &err),
                    err, kNoPrivilege)) {
    return f;
  }
  if (spec.no_loopback_v6) {
    // ENOENT: a kernel without IPv6 has no such sysctl.
    if (auto f = Step(netns::WriteProcFile("/proc/sys/net/ipv6/conf/lo/disable_ipv6", "1", &err),
                      err, {EPERM, EACCES, EROFS, ENOENT})) {
      return f;
    }
  }
  if (spec.hosts) {
    if (auto f = Step(netns::MountPrivateHosts(*spec.hosts, &err), err, kNoPrivilege)) return f;
  }
  if (spec.no_ipv6_sockets) {
    // EINVAL, ENOSYS, EACCES: a kernel without seccomp filters.
    if (auto f = Step(netns::InstallSeccomp({netns::NoIpv6SocketsRule()}, &err), err,
                      {EINVAL, ENOSYS, EACCES})) {
      return f;
    }
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
