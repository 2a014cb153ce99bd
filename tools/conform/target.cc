#include "target.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "bounded_json.h"
#include "json_match.h"
#include "netutil/errno_name.h"
#include "netutil/fakes/fault_injector.h"
#include "netutil/fakes/injecting_sys.h"
#include "netutil/posix_sys.h"
#include "protocol.h"

extern char** environ;

namespace netutil::conform {
namespace {

using Clock = std::chrono::steady_clock;

// Within bounded_json.h's kReplyLimits (size, depth, string length): a reply
// nested too deep would overflow the stack wherever it is copied or dumped.
json ParseReply(const std::string& line, std::string* failure) {
  std::optional<json> j = ParseReplyLine(line, failure);
  return j ? std::move(*j) : json(nullptr);
}

// --- in-process ---

class InProcessSession final : public Session {
 public:
  explicit InProcessSession(const Environment& env)
      : injecting_(posix_),
        instrument_(injecting_.faults(), injecting_.trace()),
        session_(injecting_) {
    injecting_.trace() = fakes::Trace(kMaxTraceLogLines);
    injecting_.set_resolver(env.resolver);
    injecting_.faults().Reset(env.faults, fakes::ErrnoCheck::kAny);
    injecting_.set_ipv6_missing(env.ipv6_missing);
  }

  Exchange Send(const json& request, std::chrono::milliseconds) override {
    // Through text, as on the wire: the in-process mode tests the same parser.
    return ReplyOrFailure(
        session_.Handle(request.dump(-1, ' ', false, json::error_handler_t::replace)));
  }
  Instrument* instrument() override { return &instrument_; }

 private:
  PosixSys posix_;
  fakes::InjectingSys injecting_;
  InjectingInstrument instrument_;
  adapter::AdapterSession session_;
};

class InProcessTarget final : public Target {
 public:
  std::string Describe() const override { return "reference (in-process)"; }
  bool CanInject() const override { return true; }
  bool InProcess() const override { return true; }
  std::optional<std::string> CannotMake(const Environment& env) const override {
    if (env.fd_limit) {
      return std::string(
          "an fd limit in-process on the real kernel would limit netconform "
          "itself (run it with --mode fake or --mode process)");
    }
    return Target::CannotMake(env);
  }
  std::unique_ptr<Session> Open(const std::string&, const Environment& env, std::string*) override {
    return std::make_unique<InProcessSession>(env);
  }
};

// --- another process ---

std::string SignalName(int sig) {
  return "signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by " + SignalName(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

std::string Bytes(size_t n) { return std::to_string(n) + " bytes"; }

// The adapter process groups alive now, for the signal handler: a fixed table
// of atomics, since a handler may neither lock nor allocate.
constexpr size_t kMaxGroups = 256;
std::atomic<pid_t> g_groups[kMaxGroups];

}  // namespace

void RegisterGroup(pid_t pgid) {
  for (std::atomic<pid_t>& slot : g_groups) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pgid)) return;
  }
  // Full (more sessions than --jobs allows): the group is still killed by its
  // session; only a signal to netconform would miss it.
}

void UnregisterGroup(pid_t pgid) {
  for (std::atomic<pid_t>& slot : g_groups) {
    pid_t mine = pgid;
    if (slot.compare_exchange_strong(mine, 0)) return;
  }
}

namespace {

// The adapter's stderr, drained whenever netconform waits on the adapter
// (each request, the end of the session): only the last kStderrKeptBytes are
// kept, so a flood neither blocks the adapter for long nor grows memory.
class StderrTail {
 public:
  explicit StderrTail(int fd) : fd_(fd) {}
  ~StderrTail() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

  // Reads what is there now, without blocking. False at end of file.
  bool Drain() {
    while (fd_ >= 0) {
      char buf[65536];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return true;  // EAGAIN: nothing more now
      if (n == 0) {
        ::close(fd_);
        fd_ = -1;
        return false;
      }
      Keep(std::string_view(buf, static_cast<size_t>(n)));
    }
    return false;
  }

  // The kept tail, with how much was dropped before it.
  std::string Text() const {
    std::string s = kept_;
    if (dropped_ > 0) {
      s = "[" + Bytes(dropped_) + " of stderr dropped; the last " + Bytes(kept_.size()) +
          " follow]\n" + s;
    }
    return s;
  }
  size_t dropped() const { return dropped_; }

 private:
  void Keep(std::string_view data) {
    kept_.append(data);
    if (kept_.size() > kStderrKeptBytes) {
      const size_t cut = kept_.size() - kStderrKeptBytes;
      kept_.erase(0, cut);
      dropped_ += cut;
    }
  }

  int fd_;
  std::string kept_;
  size_t dropped_ = 0;
};

class ProcessSession final : public Session {
 public:
  ProcessSession(pid_t pid, int to_child, int from_child, int err_from_child,
                 std::string stderr_path)
      : pid_(pid),
        to_child_(to_child),
        from_child_(from_child),
        stderr_(err_from_child),
        stderr_path_(std::move(stderr_path)) {
    RegisterGroup(pid_);
  }

  ~ProcessSession() override {
    CloseFds();
    if (pid_ > 0) {
      KillGroup();
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    SaveStderr();
  }

  Exchange Send(const json& request, std::chrono::milliseconds timeout) override {
    if (!dead_.empty()) return {std::nullopt, dead_};
    // One deadline covers writing the request and reading the whole reply
    // line, whatever the adapter writes meanwhile.
    const auto deadline = Clock::now() + timeout;
    const long long id = ++last_id_;
    // Anything the adapter wrote since the last reply answers no request.
    if (std::string why = CheckNoUnsolicited(id); !why.empty()) return {std::nullopt, Die(why)};
    json tagged = request;
    tagged["id"] = id;  // echoed in the reply (protocol 2): replies match requests
    const std::string line = tagged.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    if (std::string why = WriteAll(line, deadline, timeout); !why.empty()) {
      return {std::nullopt, Die(why)};
    }
    std::string reply;
    if (std::string why = ReadLine(deadline, timeout, &reply); !why.empty()) {
      return {std::nullopt, Die(why)};
    }
    Exchange ex = ReplyOrFailure(reply);
    if (!ex.reply) return ex;
    if (std::string why = CheckId(*ex.reply, id); !why.empty()) return {std::nullopt, Die(why)};
    ex.reply->erase("id");  // the same reply as in-process
    // A second line already there for this one request is no reply to anything.
    if (!buffer_.empty()) {
      return {std::nullopt,
              Die("protocol error: unsolicited output from the adapter after its reply to "
                  "request " +
                  std::to_string(id) + ": " + Preview(buffer_))};
    }
    return ex;
  }

  std::string Close(std::chrono::milliseconds timeout) override {
    if (!dead_.empty()) return {};  // already reported by the step that saw it
    ::close(to_child_);             // end of input: the adapter must exit 0
    to_child_ = -1;
    const auto deadline = Clock::now() + timeout;
    int status = 0;
    std::string unsolicited;
    // Until it exits, its output is read: a line there answers no request.
    if (!WaitForExit(deadline, &status, &unsolicited)) {
      return Die("the adapter did not exit within " + std::to_string(timeout.count()) +
                 " ms of end of input");
    }
    Reap();
    CloseFds();
    if (!unsolicited.empty()) {
      dead_ = "protocol error: unsolicited output from the adapter at end of input: " +
              Preview(unsolicited) + StderrText();
      return dead_;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    return "the adapter " + DescribeStatus(status) + " at end of input" + StderrText();
  }

 private:
  static std::string Preview(const std::string& s) {
    return Brief(json(s.substr(0, 200)), 300) + (s.size() > 200 ? "..." : "");
  }

  std::string CheckId(const json& reply, long long id) const {
    auto it = reply.find("id");
    if (it == reply.end()) {
      return "protocol error: the reply to request " + std::to_string(id) +
             " has no \"id\" (protocol 2: every reply echoes its request's id): " +
             Brief(reply, 300);
    }
    if (*it != json(id)) {
      return "protocol error: unsolicited line from the adapter (id " + Brief(*it, 40) +
             " while waiting for the reply to request " + std::to_string(id) +
             "): " + Brief(reply, 300);
    }
    return {};
  }

  std::string CheckNoUnsolicited(long long id) {
    if (!buffer_.empty()) {
      return "protocol error: unsolicited output from the adapter before request " +
             std::to_string(id) + ": " + Preview(buffer_);
    }
    std::string why;
    pollfd p{from_child_, POLLIN, 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) {
      char buf[512];
      const ssize_t n = ::read(from_child_, buf, sizeof buf);
      if (n > 0) {
        return "protocol error: unsolicited output from the adapter before request " +
               std::to_string(id) + ": " + Preview(std::string(buf, static_cast<size_t>(n)));
      }
    }
    return {};
  }

  // Polls `fd` for `events` and the adapter's stderr (always drained) until
  // `fd` is ready or the deadline. 1: ready; 0: the deadline passed; -1: poll
  // failed (errno).
  int PollWithStderr(int fd, short events, Clock::time_point deadline) {
    while (true) {
      pollfd p[2] = {{fd, events, 0}, {stderr_.fd(), POLLIN, 0}};
      const int rc = ::poll(p, stderr_.fd() >= 0 ? 2 : 1, MillisLeft(deadline));
      if (rc < 0 && errno != EINTR) return -1;
      if (rc > 0 && p[1].revents != 0) stderr_.Drain();
      if (rc > 0 && p[0].revents != 0) return 1;
      if (Clock::now() >= deadline) return 0;
    }
  }

  std::string WriteAll(const std::string& data, Clock::time_point deadline,
                       std::chrono::milliseconds timeout) {
    size_t off = 0;
    while (off < data.size()) {
      const int rc = PollWithStderr(to_child_, POLLOUT, deadline);
      if (rc < 0) return std::string("poll: ") + ErrnoName(errno);
      if (rc == 0) {
        return "timeout after " + std::to_string(timeout.count()) +
               " ms: the adapter did not take the request";
      }
      const ssize_t n = ::write(to_child_, data.data() + off, data.size() - off);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return std::string("writing to the adapter failed: ") + ErrnoName(errno);
      }
      off += static_cast<size_t>(n);
    }
    return {};
  }

  // One reply line. Linear in its length: each read appends to the buffer and
  // only the new bytes are searched for the newline. The line may not exceed
  // kMaxReplyLineBytes, checked as bytes arrive; the deadline holds whatever
  // the adapter writes, a byte at a time or a flood without a newline.
  std::string ReadLine(Clock::time_point deadline, std::chrono::milliseconds timeout,
                       std::string* line) {
    size_t scanned = 0;
    while (true) {
      if (size_t nl = buffer_.find('\n', scanned); nl != std::string::npos) {
        *line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return {};
      }
      scanned = buffer_.size();
      if (buffer_.size() > kMaxReplyLineBytes) {
        return "protocol error: reply line longer than the limit of " + Bytes(kMaxReplyLineBytes) +
               " (" + Bytes(buffer_.size()) + " without a newline so far)";
      }
      if (Clock::now() >= deadline) {
        return "timeout after " + std::to_string(timeout.count()) +
               " ms: no reply from the adapter" +
               (buffer_.empty() ? std::string(" (hung?)")
                                : " (" + Bytes(buffer_.size()) + " of a line without its newline)");
      }
      const int rc = PollWithStderr(from_child_, POLLIN, deadline);
      if (rc < 0) return std::string("poll: ") + ErrnoName(errno);
      if (rc == 0) continue;  // the deadline check above reports it
      // Never more than the limit allows, so the buffer stays bounded.
      char buf[65536];
      const size_t room = kMaxReplyLineBytes + 1 - std::min(buffer_.size(), kMaxReplyLineBytes);
      const ssize_t n = ::read(from_child_, buf, std::min(sizeof buf, room));
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return std::string("reading from the adapter failed: ") + ErrnoName(errno);
      }
      if (n == 0) return "the adapter closed its output without replying";
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  // Waits for the adapter to exit without reaping it (WNOWAIT): while it is a
  // zombie its pid, and so its process group ID, cannot be reused, so the
  // group can still be killed safely. Its stdout is read meanwhile into
  // `output` (bounded), its stderr drained.
  bool WaitForExit(Clock::time_point deadline, int* status, std::string* output) {
    while (true) {
      siginfo_t info{};
      const int r = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
      if (r == 0 && info.si_pid == pid_) {
        *status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : info.si_status;
        return true;
      }
      if (r < 0 && errno != EINTR) {
        *status = 0;
        return true;  // not ours any more: nothing to wait for
      }
      if (Clock::now() >= deadline) return false;
      // Short polls: exit has no fd to wait on.
      const auto step = std::min(deadline, Clock::now() + std::chrono::milliseconds(5));
      if (from_child_ >= 0 && PollWithStderr(from_child_, POLLIN, step) == 1) {
        char buf[4096];
        const ssize_t n = ::read(from_child_, buf, sizeof buf);
        if (n == 0) {
          ::close(from_child_);
          from_child_ = -1;
        } else if (n > 0 && output->size() < 4096) {
          output->append(buf, static_cast<size_t>(n));
        }
      } else if (from_child_ < 0) {
        PollWithStderr(-1, 0, step);
      }
    }
  }

  // Kills whatever is left of the adapter's process group (its children,
  // their children) while the adapter itself is still unreaped.
  void KillGroup() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      UnregisterGroup(pid_);
    }
  }

  void Reap() {
    KillGroup();
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    stderr_.Drain();
  }

  // The session cannot go on: kill the adapter if it still runs, and say how it
  // ended.
  std::string Die(const std::string& why) {
    std::string what = why;
    if (pid_ > 0) {
      int status = 0;
      std::string ignored;
      if (!WaitForExit(Clock::now() + std::chrono::milliseconds(200), &status, &ignored)) {
        what += "; killed it";
      } else {
        what += "; the adapter " + DescribeStatus(status);
      }
      Reap();
    }
    CloseFds();
    dead_ = what + StderrText();
    return dead_;
  }

  std::string StderrText() {
    stderr_.Drain();
    std::string s = stderr_.Text();
    if (s.empty()) return {};
    if (s.size() > 1500) s = "..." + s.substr(s.size() - 1500);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    std::string dropped;
    if (stderr_.dropped() > 0) {
      dropped = " (" + Bytes(stderr_.dropped()) + " dropped; the last " + Bytes(kStderrKeptBytes) +
                " are kept)";
    }
    return "\nadapter stderr" + dropped + ":\n" + s;
  }

  // The kept tail, for --keep-tmp and anyone reading the case's directory.
  void SaveStderr() {
    if (stderr_path_.empty()) return;
    stderr_.Drain();
    const std::string text = stderr_.Text();
    if (text.empty()) return;
    std::ofstream(stderr_path_, std::ios::binary | std::ios::trunc) << text;
  }

  void CloseFds() {
    if (to_child_ >= 0) ::close(to_child_);
    if (from_child_ >= 0) ::close(from_child_);
    to_child_ = from_child_ = -1;
  }

  pid_t pid_;
  int to_child_;
  int from_child_;
  StderrTail stderr_;
  std::string stderr_path_;
  std::string buffer_;
  std::string dead_;
  long long last_id_ = 0;
};

class ProcessTarget final : public Target {
 public:
  explicit ProcessTarget(std::string command) : command_(std::move(command)) {}

  std::string Describe() const override { return "adapter: " + command_; }
  bool CanInject() const override { return false; }

  std::unique_ptr<Session> Open(const std::string& scratch_dir, const Environment& env,
                                std::string* error) override {
    return SpawnAdapter(command_, scratch_dir, env, {}, error);
  }

 private:
  std::string command_;
};

}  // namespace

Exchange ReplyOrFailure(const std::string& line) {
  std::string failure;
  json j = ParseReply(line, &failure);
  if (!failure.empty()) return {std::nullopt, failure};
  return {std::move(j), {}};
}

void InjectingInstrument::SetFaults(fakes::FaultPlan plan) {
  faults_.Reset(std::move(plan), fakes::ErrnoCheck::kAny);
}

json InjectingInstrument::TakeTrace() {
  json out = TraceJson(trace_);
  trace_.Clear();
  return out;
}

std::optional<std::string> Target::CannotMake(const Environment& env) const {
  if (env.injects() && !CanInject()) {
    return std::string(
        "needs fault injection or resolver overrides; this target has no "
        "instrument (--mode inprocess, --mode fake, or the interposer)");
  }
  return std::nullopt;
}

json TraceJson(const fakes::Trace& t) {
  json calls = json::object();
  for (fakes::Call c : fakes::kAllCalls) calls[fakes::CallName(c)] = t.Count(c);
  json log = json::array();
  for (const fakes::TraceEntry& e : t.entries()) log.push_back(fakes::FormatTraceLine(e));
  return {{"calls", std::move(calls)},
          {"total", t.size()},
          {"log", std::move(log)},
          {"dropped", t.dropped()}};
}

std::unique_ptr<Session> SpawnAdapter(const std::string& command, const std::string& scratch_dir,
                                      const Environment& env,
                                      const std::vector<std::string>& extra_env,
                                      std::string* error) {
  int in[2];   // runner -> adapter stdin
  int out[2];  // adapter stdout -> runner
  int err[2];  // adapter stderr -> runner (its tail is kept)
  if (::pipe2(in, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + ErrnoName(errno);
    return nullptr;
  }
  if (::pipe2(out, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + ErrnoName(errno);
    ::close(in[0]);
    ::close(in[1]);
    return nullptr;
  }
  if (::pipe2(err, O_CLOEXEC | O_NONBLOCK) != 0) {
    *error = std::string("pipe2: ") + ErrnoName(errno);
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    return nullptr;
  }
  // The adapter's end of the stderr pipe blocks, as a terminal or file would.
  ::fcntl(err[1], F_SETFL, ::fcntl(err[1], F_GETFL) & ~O_NONBLOCK);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);  // dup2 clears close-on-exec
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  // Its own process group: at the end of the session, on a timeout and when
  // netconform is interrupted, the whole group goes, the adapter's children
  // and theirs included (docs/ADAPTER.md, Limits).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  const std::string shell_command = "exec " + command;
  const char* argv[] = {"sh", "-c", shell_command.c_str(), nullptr};
  pid_t pid = -1;
  // The adapter's environment: ours, then extra_env ("NAME=value"), which wins.
  std::vector<std::string> vars = extra_env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string v = *e;
    const std::string name = v.substr(0, v.find('='));
    bool overridden = false;
    for (const std::string& x : extra_env) overridden = overridden || x.rfind(name + "=", 0) == 0;
    if (!overridden) vars.push_back(v);
  }
  std::vector<char*> envp;
  for (std::string& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  const int rc =
      ::posix_spawn(&pid, "/bin/sh", &actions, &attr, const_cast<char* const*>(argv), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    *error = "cannot start " + command + ": " + ErrnoName(rc);
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return nullptr;
  }
  // Our end of the request pipe must not block: a stuck adapter hits the
  // timeout.
  ::fcntl(in[1], F_SETFL, ::fcntl(in[1], F_GETFL) | O_NONBLOCK);
  auto session =
      std::make_unique<ProcessSession>(pid, in[1], out[0], err[0], scratch_dir + "/adapter.stderr");
  // The fd limit applies from the first request on: the adapter only
  // starts to work when it reads one.
  if (env.fd_limit) {
    const rlimit lim{static_cast<rlim_t>(*env.fd_limit), static_cast<rlim_t>(*env.fd_limit)};
    if (::prlimit(pid, RLIMIT_NOFILE, &lim, nullptr) != 0) {
      *error = std::string("prlimit(RLIMIT_NOFILE): ") + ErrnoName(errno);
      return nullptr;  // the session's destructor kills the group
    }
  }
  return session;
}

void KillAdapterGroups() {
  for (std::atomic<pid_t>& slot : g_groups) {
    const pid_t pgid = slot.load();
    if (pgid > 0) ::kill(-pgid, SIGKILL);
  }
}

std::unique_ptr<Target> MakeInProcessTarget() { return std::make_unique<InProcessTarget>(); }

std::unique_ptr<Target> MakeProcessTarget(std::string command) {
  return std::make_unique<ProcessTarget>(std::move(command));
}

}  // namespace netutil::conform
