#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "netutil/errno_name.h"

extern char** environ;

namespace netutil::tools {
namespace {

// No line limit beyond this (a gibibyte): ReadLine(timeout)'s bound.
constexpr size_t kUnlimitedLine = size_t{1} << 30;

std::string ErrText(const std::string& what, int err) {
  return what + ": " + ErrnoName(err) + " (" + std::strerror(err) + ")";
}

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
}

void SetNonBlocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

// This process's environment without the names of `unset`, with `extra`
// ("NAME=value") over it.
std::vector<std::string> MergedEnv(const std::vector<std::string>& extra,
                                   const std::vector<std::string>& unset) {
  std::vector<std::string> vars = extra;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string v = *e;
    const std::string name = v.substr(0, v.find('='));
    bool overridden = std::find(unset.begin(), unset.end(), name) != unset.end();
    for (const std::string& x : extra) overridden = overridden || x.rfind(name + "=", 0) == 0;
    if (!overridden) vars.push_back(v);
  }
  return vars;
}

// How a stderr file is opened: written from its start, made private.
constexpr int kStderrFileFlags = O_WRONLY | O_CREAT | O_TRUNC;
constexpr mode_t kStderrFileMode = 0600;

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The three pipes' ends, the child's and ours (-1 where unused).
struct Pipes {
  int child_in = -1, our_in = -1;
  int our_out = -1, child_out = -1;
  int our_err = -1, child_err = -1;
  void CloseChildEnds() {
    CloseAll({child_in, child_out, child_err});
    child_in = child_out = child_err = -1;
  }
  void CloseAllEnds() {
    CloseChildEnds();
    CloseAll({our_in, our_out, our_err});
    our_in = our_out = our_err = -1;
  }
};

std::string MakePipes(bool stderr_pipe, Pipes* p) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return ErrText("pipe2", errno);
  p->child_in = in[0];
  p->our_in = in[1];
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrText("pipe2", errno);
  p->our_out = out[0];
  p->child_out = out[1];
  if (stderr_pipe) {
    if (::pipe2(err, O_CLOEXEC | O_NONBLOCK) != 0) return ErrText("pipe2", errno);
    p->our_err = err[0];
    p->child_err = err[1];
    // The child's end blocks, as a terminal or file would.
    SetNonBlocking(p->child_err, false);
  }
  return "";
}

// fork + exec, for PR_SET_PDEATHSIG. Only async-signal-safe calls in the child.
std::string ForkExec(const ChildSpec& spec, const Pipes& p, char* const* argv, char* const* envp,
                     pid_t* pid) {
  const char* file = spec.file.empty() ? argv[0] : spec.file.c_str();
  const pid_t parent = ::getpid();
  *pid = ::fork();
  if (*pid < 0) return ErrText("fork", errno);
  if (*pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    if (spec.own_process_group) ::setpgid(0, 0);
    ::dup2(p.child_in, 0);  // dup2 clears close-on-exec
    ::dup2(p.child_out, 1);
    if (spec.stderr_to == ChildSpec::Stderr::kTail) {
      ::dup2(p.child_err, 2);
    } else if (spec.stderr_to == ChildSpec::Stderr::kDevNull) {
      const int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) ::dup2(null, 2);
    } else if (spec.stderr_to == ChildSpec::Stderr::kFile) {
      const int file = ::open(spec.stderr_file.c_str(), kStderrFileFlags, kStderrFileMode);
      if (file >= 0) ::dup2(file, 2);
    }
    ::execvpe(file, argv, envp);
    ::_exit(127);
  }
  return "";
}

std::string Spawn(const ChildSpec& spec, const Pipes& p, char* const* argv, char* const* envp,
                  pid_t* pid) {
  const char* file = spec.file.empty() ? argv[0] : spec.file.c_str();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, p.child_in, 0);  // dup2 clears close-on-exec
  posix_spawn_file_actions_adddup2(&actions, p.child_out, 1);
  if (spec.stderr_to == ChildSpec::Stderr::kTail) {
    posix_spawn_file_actions_adddup2(&actions, p.child_err, 2);
  } else if (spec.stderr_to == ChildSpec::Stderr::kDevNull) {
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  } else if (spec.stderr_to == ChildSpec::Stderr::kFile) {
    posix_spawn_file_actions_addopen(&actions, 2, spec.stderr_file.c_str(), kStderrFileFlags,
                                     kStderrFileMode);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (spec.own_process_group) {
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
  }
  const int rc = ::posix_spawnp(pid, file, &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? "" : "cannot start " + std::string(file) + ": " + ErrnoName(rc);
}

}  // namespace

void BoundedTail::Append(std::string_view data) {
  kept_.append(data);
  if (kept_.size() > limit_) {
    const size_t cut = kept_.size() - limit_;
    kept_.erase(0, cut);
    dropped_ += cut;
  }
}

ChildProcess::~ChildProcess() { Kill(); }

ChildProcess::ChildProcess(ChildProcess&& other) noexcept { MoveFrom(other); }

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    Kill();
    MoveFrom(other);
  }
  return *this;
}

void ChildProcess::MoveFrom(ChildProcess& other) {
  pid_ = std::exchange(other.pid_, -1);
  own_group_ = other.own_group_;
  stdin_ = std::exchange(other.stdin_, -1);
  stdout_ = std::exchange(other.stdout_, -1);
  stderr_ = std::exchange(other.stderr_, -1);
  unread_ = std::move(other.unread_);
  stderr_tail_ = std::move(other.stderr_tail_);
  error_ = other.error_;
}

std::string ChildProcess::Start(const ChildSpec& spec) {
  Kill();
  if (spec.argv.empty()) return "no command to start";
  Pipes pipes;
  if (std::string why = MakePipes(spec.stderr_to == ChildSpec::Stderr::kTail, &pipes);
      !why.empty()) {
    pipes.CloseAllEnds();
    return why;
  }
  std::vector<std::string> args = spec.argv;
  std::vector<std::string> vars = MergedEnv(spec.extra_env, spec.unset_env);
  std::vector<char*> argv = CStrings(args);
  std::vector<char*> envp = CStrings(vars);
  pid_t pid = -1;
  const std::string why = spec.die_with_parent
                              ? ForkExec(spec, pipes, argv.data(), envp.data(), &pid)
                              : Spawn(spec, pipes, argv.data(), envp.data(), &pid);
  pipes.CloseChildEnds();
  if (!why.empty()) {
    pipes.CloseAllEnds();
    return why;
  }
  // Our end of its stdin must not block: a stuck child meets the deadline.
  SetNonBlocking(pipes.our_in, true);
  pid_ = pid;
  own_group_ = spec.own_process_group;
  stdin_ = pipes.our_in;
  stdout_ = pipes.our_out;
  stderr_ = pipes.our_err;
  unread_.clear();
  stderr_tail_ = BoundedTail(spec.stderr_tail_bytes);
  error_ = {};
  return "";
}

ChildProcess::Io ChildProcess::Fail(const char* call) {
  error_ = {call, errno};
  return Io::kFailed;
}

int ChildProcess::PollDraining(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd p[2] = {{fd, events, 0}, {stderr_, POLLIN, 0}};
    const int rc = ::poll(p, stderr_ >= 0 ? 2 : 1, MillisLeft(deadline));
    if (rc < 0 && errno != EINTR) return -1;
    if (rc > 0 && p[1].revents != 0) DrainStderr();
    if (rc > 0 && p[0].revents != 0) return 1;
    if (Clock::now() >= deadline) return 0;
  }
}

ChildProcess::Io ChildProcess::ReadLine(Clock::time_point deadline, size_t max_line,
                                        std::string* line) {
  size_t scanned = 0;
  while (true) {
    if (size_t nl = unread_.find('\n', scanned); nl != std::string::npos) {
      *line = unread_.substr(0, nl);
      unread_.erase(0, nl + 1);
      return Io::kDone;
    }
    scanned = unread_.size();
    if (unread_.size() > max_line) return Io::kTooLong;
    if (stdout_ < 0) return Io::kClosed;
    if (Clock::now() >= deadline) return Io::kTimeout;
    const int rc = PollDraining(stdout_, POLLIN, deadline);
    if (rc < 0) return Fail("poll");
    if (rc == 0) continue;  // the deadline check above reports it
    // Never more than the limit allows, so the buffer stays bounded.
    char buf[65536];
    const size_t room = max_line + 1 - std::min(unread_.size(), max_line);
    const ssize_t n = ::read(stdout_, buf, std::min(sizeof buf, room));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Fail("read");
    }
    if (n == 0) {
      ::close(stdout_);
      stdout_ = -1;
      return Io::kClosed;
    }
    unread_.append(buf, static_cast<size_t>(n));
  }
}

std::optional<std::string> ChildProcess::ReadLine(std::chrono::milliseconds timeout) {
  std::string line;
  if (ReadLine(Clock::now() + timeout, kUnlimitedLine, &line) != Io::kDone) return std::nullopt;
  return line;
}

std::string ChildProcess::ReadAvailable(size_t max) {
  std::string out = unread_.substr(0, max);
  unread_.erase(0, out.size());
  pollfd p{stdout_, POLLIN, 0};
  if (out.size() < max && stdout_ >= 0 && ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) {
    char buf[4096];
    const ssize_t n = ::read(stdout_, buf, std::min(sizeof buf, max - out.size()));
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

ChildProcess::Io ChildProcess::WriteAll(std::string_view data, Clock::time_point deadline) {
  size_t off = 0;
  while (off < data.size()) {
    if (stdin_ < 0) return Io::kClosed;
    const int rc = PollDraining(stdin_, POLLOUT, deadline);
    if (rc < 0) return Fail("poll");
    if (rc == 0) return Io::kTimeout;
    const ssize_t n = ::write(stdin_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Fail("write");
    }
    off += static_cast<size_t>(n);
  }
  return Io::kDone;
}

bool ChildProcess::WriteLine(const std::string& line, std::chrono::milliseconds timeout) {
  return WriteAll(line + "\n", Clock::now() + timeout) == Io::kDone;
}

void ChildProcess::CloseStdin() {
  if (stdin_ >= 0) ::close(stdin_);
  stdin_ = -1;
}

std::optional<int> ChildProcess::WaitForExit(Clock::time_point deadline, std::string* output,
                                             size_t output_limit) {
  if (pid_ <= 0) return 0;
  while (true) {
    siginfo_t info{};
    const int r = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    if (r == 0 && info.si_pid == pid_) {
      return info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : info.si_status;
    }
    if (r < 0 && errno != EINTR) return 0;  // not ours any more: nothing to wait for
    if (Clock::now() >= deadline) return std::nullopt;
    // Short polls: exit has no fd to wait on.
    const auto step = std::min(deadline, Clock::now() + std::chrono::milliseconds(5));
    if (stdout_ >= 0 && PollDraining(stdout_, POLLIN, step) == 1) {
      char buf[4096];
      const ssize_t n = ::read(stdout_, buf, sizeof buf);
      if (n == 0) {
        ::close(stdout_);
        stdout_ = -1;
      } else if (n > 0 && output != nullptr && output->size() < output_limit) {
        output->append(buf, static_cast<size_t>(n));
      }
    } else if (stdout_ < 0) {
      PollDraining(-1, 0, step);
    }
  }
}

int ChildProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  CloseStdin();
  const std::optional<int> status = WaitForExit(Clock::now() + timeout);
  Kill();
  return status.value_or(-1);
}

void ChildProcess::SendKill() {
  if (pid_ > 0) ::kill(own_group_ ? -pid_ : pid_, SIGKILL);
}

void ChildProcess::Kill() {
  if (pid_ > 0) {
    SendKill();
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  DrainStderr();
  CloseFds();
}

void ChildProcess::DrainStderr() {
  while (stderr_ >= 0) {
    char buf[65536];
    const ssize_t n = ::read(stderr_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // EAGAIN: nothing more now
    if (n == 0) {
      ::close(stderr_);
      stderr_ = -1;
      return;
    }
    stderr_tail_.Append(std::string_view(buf, static_cast<size_t>(n)));
  }
}

const BoundedTail& ChildProcess::stderr_tail() {
  DrainStderr();
  return stderr_tail_;
}

void ChildProcess::CloseFds() {
  CloseAll({stdin_, stdout_, stderr_});
  stdin_ = stdout_ = stderr_ = -1;
}

}  // namespace netutil::tools
