#include "netns_sandbox.h"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "netutil/errno_name.h"
#include "netutil/netns/netns_setup.h"

namespace netutil::integration {
namespace {

using netns::BringLoopbackUp;
using netns::InstallSeccomp;
using netns::MountPrivateHosts;
using netns::RemoveLoopbackIpv6;
using netns::SeccompRule;
using netns::WriteProcFile;

// ---- The child -> parent record stream ------------------------------------

enum class RecordKind : uint32_t {
  kFailure = 1,      // an assertion failed (file, line, message)
  kSkip = 2,         // GTEST_SKIP() in the body
  kUnavailable = 3,  // the environment could not be built
  kNote = 4,         // something the parent prints (a fallback taken)
  kDone = 5,         // the body returned
};

struct RecordHeader {
  uint32_t kind;
  int32_t line;
  uint32_t file_len;
  uint32_t text_len;
};

struct Record {
  RecordKind kind;
  int line;
  std::string file;
  std::string text;
};

std::string ErrnoText(int err) {
  return std::string(ErrnoName(err)) + " (" + std::strerror(err) + ")";
}

// Child side: one write per record (a blocking pipe with a single writer).
void SendRecord(int fd, RecordKind kind, std::string_view text, std::string_view file = {},
                int line = 0) {
  RecordHeader h{static_cast<uint32_t>(kind), line, static_cast<uint32_t>(file.size()),
                 static_cast<uint32_t>(text.size())};
  std::string buf(reinterpret_cast<const char*>(&h), sizeof h);
  buf.append(file);
  buf.append(text);
  size_t off = 0;
  while (off < buf.size()) {
    ssize_t n = ::write(fd, buf.data() + off, buf.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent is gone; nothing to tell
    off += static_cast<size_t>(n);
  }
}

// Parent side: pulls complete records out of the bytes read so far.
bool PopRecord(std::string& buf, Record& out) {
  if (buf.size() < sizeof(RecordHeader)) return false;
  RecordHeader h;
  std::memcpy(&h, buf.data(), sizeof h);
  const size_t total = sizeof h + size_t{h.file_len} + size_t{h.text_len};
  if (buf.size() < total) return false;
  out.kind = static_cast<RecordKind>(h.kind);
  out.line = h.line;
  out.file = buf.substr(sizeof h, h.file_len);
  out.text = buf.substr(sizeof h + h.file_len, h.text_len);
  buf.erase(0, total);
  return true;
}

// Installed in the child only (its copy of gtest's listener list): every
// assertion result goes to the parent instead of the child's stdout.
class PipeReporter : public ::testing::EmptyTestEventListener {
 public:
  explicit PipeReporter(int fd) : fd_(fd) {}
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (r.skipped()) {
      SendRecord(fd_, RecordKind::kSkip, r.message(), r.file_name() ? r.file_name() : "",
                 r.line_number());
    } else if (r.failed()) {
      SendRecord(fd_, RecordKind::kFailure, r.message(), r.file_name() ? r.file_name() : "",
                 r.line_number());
    }
  }

 private:
  int fd_;
};

// ---- Environment set-up, in the child ---------------------------------------

struct SetupStatus {
  RecordKind kind = RecordKind::kDone;  // kDone: ready
  std::string text;
  static SetupStatus Ready() { return {}; }
  static SetupStatus Unavailable(std::string why) { return {RecordKind::kUnavailable, why}; }
  static SetupStatus Misuse(std::string why) { return {RecordKind::kFailure, why}; }
  bool ready() const { return kind == RecordKind::kDone; }
};

std::vector<SeccompRule> SeccompRules(const SandboxOptions& o) {
  std::vector<SeccompRule> rules;
  if (o.ipv6_sockets_unsupported) rules.push_back(netns::NoIpv6SocketsRule());
  if (o.chmod_does_nothing) {
#ifdef __NR_chmod
    rules.push_back({__NR_chmod, std::nullopt, 0});
#endif
    rules.push_back({__NR_fchmod, std::nullopt, 0});
    rules.push_back({__NR_fchmodat, std::nullopt, 0});
    rules.push_back({452, std::nullopt, 0});  // fchmodat2 (Linux 6.6)
  }
  return rules;
}

SetupStatus SetUpEnvironment(const SandboxOptions& o, int report_fd) {
  const bool wants_netns_settings =
      o.disable_ipv6 || o.remove_loopback_ipv6 || !o.ip_local_port_range.empty();
  if (!o.new_netns && wants_netns_settings) {
    return SetupStatus::Misuse(
        "SandboxOptions: disable_ipv6, remove_loopback_ipv6 and "
        "ip_local_port_range need "
        "new_netns (they would change the host)");
  }

  bool in_netns = false;
  if (o.new_netns) {
    int flags = CLONE_NEWNET | (o.hosts_file ? CLONE_NEWNS : 0);
    if (::unshare(flags) == 0) {
      in_netns = true;
    } else {
      const int err = errno;
      std::string why = std::string("unshare(CLONE_NEWNET") + (o.hosts_file ? "|CLONE_NEWNS" : "") +
                        "): " + ErrnoText(err) +
                        (err == EPERM ? "; network namespaces need root (CAP_SYS_ADMIN)" : "");
      if (o.netns_required || wants_netns_settings || o.hosts_file) {
        return SetupStatus::Unavailable(why);
      }
      SendRecord(report_fd, RecordKind::kNote, why + "; running on the host's loopback instead");
    }
  } else if (o.hosts_file) {
    if (::unshare(CLONE_NEWNS) != 0) {
      return SetupStatus::Unavailable("unshare(CLONE_NEWNS): " + ErrnoText(errno));
    }
  }

  std::string err;
  if (o.hosts_file && (err = MountPrivateHosts(*o.hosts_file)) != "") {
    return SetupStatus::Unavailable(err);
  }
  if (in_netns && o.loopback_up && (err = BringLoopbackUp()) != "") {
    return SetupStatus::Unavailable(err);
  }
  if (o.disable_ipv6) {
    for (const char* dev : {"all", "default", "lo"}) {
      err = WriteProcFile(std::string("/proc/sys/net/ipv6/conf/") + dev + "/disable_ipv6", "1");
      if (!err.empty()) return SetupStatus::Unavailable(err);
    }
  }
  if (!o.ip_local_port_range.empty() &&
      (err = WriteProcFile("/proc/sys/net/ipv4/ip_local_port_range", o.ip_local_port_range)) !=
          "") {
    return SetupStatus::Unavailable(err);
  }
  if (o.remove_loopback_ipv6 && (err = RemoveLoopbackIpv6()) != "") {
    return SetupStatus::Unavailable(err);
  }
  // Last: the filter applies to the body only.
  if (auto rules = SeccompRules(o); !rules.empty() && (err = InstallSeccomp(rules)) != "") {
    return SetupStatus::Unavailable(err);
  }
  return SetupStatus::Ready();
}

[[noreturn]] void ChildMain(const SandboxOptions& options, const std::function<void()>& body,
                            int report_fd, pid_t parent) {
  // Its own process group, so a timeout can kill whatever the body started;
  // and it dies with the parent.
  (void)::setpgid(0, 0);
  (void)::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::getppid() != parent) ::_exit(1);

  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  delete listeners.Release(listeners.default_result_printer());
  listeners.Append(new PipeReporter(report_fd));

  const SetupStatus setup = SetUpEnvironment(options, report_fd);
  if (!setup.ready()) {
    SendRecord(report_fd, setup.kind, setup.text);
  } else {
    try {
      body();
    } catch (const std::exception& e) {
      SendRecord(report_fd, RecordKind::kFailure,
                 std::string("the body threw an exception: ") + e.what());
    } catch (...) {
      SendRecord(report_fd, RecordKind::kFailure, "the body threw a non-std exception");
    }
    SendRecord(report_fd, RecordKind::kDone, {});
  }
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  ::_exit(0);  // no atexit handlers, no gtest teardown: the parent owns the test
}

}  // namespace

SandboxOutcome RunInSandbox(const SandboxOptions& options, const std::function<void()>& body) {
  SandboxOutcome outcome;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << ErrnoText(errno);
    return outcome;
  }
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);  // or the child would print the parent's buffered output again

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << ErrnoText(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return outcome;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ChildMain(options, body, fds[1], parent);
  }
  ::close(fds[1]);
  const int rd = fds[0];
  (void)::fcntl(rd, F_SETFL, O_NONBLOCK);

  std::string buf;
  auto drain = [&] {
    char chunk[4096];
    for (;;) {
      ssize_t n = ::read(rd, chunk, sizeof chunk);
      if (n > 0) {
        buf.append(chunk, static_cast<size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return;  // EOF or EAGAIN
      }
    }
  };

  // Wait for the child to end without reaping it (WNOWAIT), so its process
  // group id cannot be reused before the group is killed below.
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool timed_out = false;
  for (;;) {
    pollfd p{rd, POLLIN, 0};
    (void)::poll(&p, 1, 20);
    drain();
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      timed_out = true;
      (void)::kill(pid, SIGKILL);
      siginfo_t ignored{};
      (void)::waitid(P_PID, static_cast<id_t>(pid), &ignored, WEXITED | WNOWAIT);
      break;
    }
  }
  (void)::kill(-pid, SIGKILL);  // anything the body left running in its group
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  drain();
  ::close(rd);

  auto fail = [&](const std::string& file, int line, const std::string& text) {
    outcome.failures.push_back(text);
    if (!options.report_failures) return;
    if (file.empty()) {
      ADD_FAILURE() << text;
    } else {
      ADD_FAILURE_AT(file.c_str(), line) << "[sandbox child] " << text;
    }
  };

  bool done = false;
  Record r;
  while (PopRecord(buf, r)) {
    switch (r.kind) {
      case RecordKind::kFailure:
        fail(r.file, r.line, r.text);
        break;
      case RecordKind::kSkip:
        outcome.kind = SandboxOutcome::Kind::kSkipped;
        outcome.detail = r.text;
        break;
      case RecordKind::kUnavailable:
        outcome.kind = SandboxOutcome::Kind::kUnavailable;
        outcome.detail = "sandbox unavailable: " + r.text;
        std::cout << "[sandbox] " << outcome.detail << std::endl;
        return outcome;
      case RecordKind::kNote:
        std::cout << "[sandbox] " << r.text << std::endl;
        break;
      case RecordKind::kDone:
        done = true;
        break;
    }
  }

  std::ostringstream why;
  if (timed_out) {
    why << "[sandbox] the child did not finish within " << options.timeout.count()
        << " ms and was killed";
  } else if (WIFSIGNALED(status)) {
    why << "[sandbox] the child was killed by signal " << WTERMSIG(status) << " ("
        << strsignal(WTERMSIG(status)) << ")";
  } else if (!done) {
    why << "[sandbox] the child exited (status " << WEXITSTATUS(status)
        << ") before the body finished";
  }
  if (!why.str().empty()) {
    fail({}, 0, why.str());
    outcome.kind = SandboxOutcome::Kind::kAbnormal;
    outcome.detail = why.str();
  } else if (outcome.kind != SandboxOutcome::Kind::kSkipped) {
    outcome.kind = SandboxOutcome::Kind::kRan;
  }
  return outcome;
}

}  // namespace netutil::integration
