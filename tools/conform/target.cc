#include "target.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
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

class ProcessSession final : public Session {
 public:
  ProcessSession(pid_t pid, int to_child, int from_child, std::string stderr_path)
      : pid_(pid),
        to_child_(to_child),
        from_child_(from_child),
        stderr_path_(std::move(stderr_path)) {}

  ~ProcessSession() override {
    CloseFds();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  Exchange Send(const json& request, std::chrono::milliseconds timeout) override {
    if (!dead_.empty()) return {std::nullopt, dead_};
    // The timeout covers writing the request and reading the whole reply line.
    const auto deadline = Clock::now() + timeout;
    const std::string line = request.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    if (std::string why = WriteAll(line, deadline); !why.empty()) return {std::nullopt, Die(why)};
    std::string reply;
    if (std::string why = ReadLine(deadline, &reply); !why.empty()) {
      return {std::nullopt, Die(why)};
    }
    return ReplyOrFailure(reply);
  }

  std::string Close(std::chrono::milliseconds timeout) override {
    if (!dead_.empty()) return {};  // already reported by the step that saw it
    ::close(to_child_);             // end of input: the adapter must exit 0
    to_child_ = -1;
    int status = 0;
    if (!WaitFor(timeout, &status)) {
      return Die("the adapter did not exit within " + std::to_string(timeout.count()) +
                 " ms of end of input");
    }
    pid_ = -1;
    CloseFds();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    return "the adapter " + DescribeStatus(status) + " at end of input" + StderrTail();
  }

 private:
  std::string WriteAll(const std::string& data, Clock::time_point deadline) {
    size_t off = 0;
    while (off < data.size()) {
      pollfd p{to_child_, POLLOUT, 0};
      const int rc = ::poll(&p, 1, MillisLeft(deadline));
      if (rc < 0 && errno == EINTR) continue;
      if (rc == 0) return "the adapter did not take the request within the timeout";
      const ssize_t n = ::write(to_child_, data.data() + off, data.size() - off);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return std::string("writing to the adapter failed: ") + ErrnoName(errno);
      }
      off += static_cast<size_t>(n);
    }
    return {};
  }

  std::string ReadLine(Clock::time_point deadline, std::string* line) {
    while (true) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        *line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return {};
      }
      pollfd p{from_child_, POLLIN, 0};
      const int rc = ::poll(&p, 1, MillisLeft(deadline));
      if (rc < 0 && errno == EINTR) continue;
      if (rc == 0) return "no reply from the adapter within the timeout (hung?)";
      char buf[65536];
      const ssize_t n = ::read(from_child_, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return std::string("reading from the adapter failed: ") + ErrnoName(errno);
      }
      if (n == 0) return "the adapter closed its output without replying";
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  static int MillisLeft(Clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
  }

  bool WaitFor(std::chrono::milliseconds limit, int* status) {
    const auto deadline = Clock::now() + limit;
    while (true) {
      const pid_t r = ::waitpid(pid_, status, WNOHANG);
      if (r == pid_) return true;
      if (r < 0 && errno != EINTR) return true;  // not ours any more: nothing to wait for
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // The session cannot go on: kill the adapter if it still runs, and say how it
  // ended.
  std::string Die(const std::string& why) {
    std::string what = why;
    int status = 0;
    if (pid_ > 0) {
      if (!WaitFor(std::chrono::milliseconds(200), &status)) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        what += "; killed it";
      } else {
        what += "; the adapter " + DescribeStatus(status);
      }
      pid_ = -1;
    }
    CloseFds();
    dead_ = what + StderrTail();
    return dead_;
  }

  std::string StderrTail() const {
    std::ifstream in(stderr_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    if (s.empty()) return {};
    if (s.size() > 1500) s = "..." + s.substr(s.size() - 1500);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return "\nadapter stderr:\n" + s;
  }

  void CloseFds() {
    if (to_child_ >= 0) ::close(to_child_);
    if (from_child_ >= 0) ::close(from_child_);
    to_child_ = from_child_ = -1;
  }

  pid_t pid_;
  int to_child_;
  int from_child_;
  std::string stderr_path_;
  std::string buffer_;
  std::string dead_;
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
  const std::string stderr_path = scratch_dir + "/adapter.stderr";
  const int err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0],
                                   0);  // dup2 clears close-on-exec
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
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
  const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, const_cast<char* const*>(argv),
                               envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  if (err_fd >= 0) ::close(err_fd);
  if (rc != 0) {
    *error = "cannot start " + command + ": " + ErrnoName(rc);
    ::close(in[1]);
    ::close(out[0]);
    return nullptr;
  }
  // Our end of the request pipe must not block: a stuck adapter hits the
  // timeout.
  ::fcntl(in[1], F_SETFL, ::fcntl(in[1], F_GETFL) | O_NONBLOCK);
  // The fd limit applies from the first request on: the adapter only
  // starts to work when it reads one.
  if (env.fd_limit) {
    const rlimit lim{static_cast<rlim_t>(*env.fd_limit), static_cast<rlim_t>(*env.fd_limit)};
    if (::prlimit(pid, RLIMIT_NOFILE, &lim, nullptr) != 0) {
      *error = std::string("prlimit(RLIMIT_NOFILE): ") + ErrnoName(errno);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ::close(in[1]);
      ::close(out[0]);
      return nullptr;
    }
  }
  return std::make_unique<ProcessSession>(pid, in[1], out[0], stderr_path);
}

std::unique_ptr<Target> MakeInProcessTarget() { return std::make_unique<InProcessTarget>(); }

std::unique_ptr<Target> MakeProcessTarget(std::string command) {
  return std::make_unique<ProcessTarget>(std::move(command));
}

}  // namespace netutil::conform
