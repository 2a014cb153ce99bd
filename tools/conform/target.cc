#include "target.h"

#include <fcntl.h>
#include <signal.h>
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
#include "child_process.h"
#include "json_match.h"
#include "netutil/errno_name.h"
#include "netutil/fakes/fault_injector.h"
#include "netutil/fakes/injecting_sys.h"
#include "netutil/fakes/trace_fields.h"
#include "netutil/posix_sys.h"
#include "protocol.h"

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
  // This process: the case's worker (Runner::Run isolates every in-process
  // case), which holds the case's clients too.
  std::unique_ptr<FdTable> fd_table() override { return ProcessFdTable(::getpid(), true); }

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

// The adapter's stderr text: the kept tail (the last kStderrKeptBytes, drained
// whenever netconform waits on the adapter), with how much was dropped before.
std::string TailText(const tools::BoundedTail& tail) {
  std::string s = tail.kept();
  if (tail.dropped() > 0) {
    s = "[" + Bytes(tail.dropped()) + " of stderr dropped; the last " + Bytes(tail.kept().size()) +
        " follow]\n" + s;
  }
  return s;
}

class ProcessSession final : public Session {
 public:
  ProcessSession(tools::ChildProcess child, std::string stderr_path)
      : child_(std::move(child)), pgid_(child_.pid()), stderr_path_(std::move(stderr_path)) {
    RegisterGroup(pgid_);
  }

  ~ProcessSession() override {
    Reap();
    SaveStderr();
  }

  std::optional<pid_t> ProcessId() const override { return pgid_; }

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
    if (!child_.unread().empty()) {
      return {std::nullopt,
              Die("protocol error: unsolicited output from the adapter after its reply to "
                  "request " +
                  std::to_string(id) + ": " + Preview(child_.unread()))};
    }
    return ex;
  }

  std::string Close(std::chrono::milliseconds timeout) override {
    if (!dead_.empty()) return {};  // already reported by the step that saw it
    child_.CloseStdin();            // end of input: the adapter must exit 0
    std::string unsolicited;
    // Until it exits, its output is read: a line there answers no request.
    const std::optional<int> status = child_.WaitForExit(Clock::now() + timeout, &unsolicited);
    if (!status) {
      return Die("the adapter did not exit within " + std::to_string(timeout.count()) +
                 " ms of end of input");
    }
    Reap();
    if (!unsolicited.empty()) {
      dead_ = "protocol error: unsolicited output from the adapter at end of input: " +
              Preview(unsolicited) + StderrText();
      return dead_;
    }
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return {};
    return "the adapter " + DescribeStatus(*status) + " at end of input" + StderrText();
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
    std::string unsolicited = child_.unread();
    if (unsolicited.empty()) unsolicited = child_.ReadAvailable(512);
    if (unsolicited.empty()) return {};
    return "protocol error: unsolicited output from the adapter before request " +
           std::to_string(id) + ": " + Preview(unsolicited);
  }

  std::string IoFailure(const char* writing_or_reading) const {
    const tools::ChildProcess::IoError& e = child_.error();
    if (std::string_view(e.call) == "poll") return std::string("poll: ") + ErrnoName(e.err);
    return std::string(writing_or_reading) + " the adapter failed: " + ErrnoName(e.err);
  }

  std::string WriteAll(const std::string& data, Clock::time_point deadline,
                       std::chrono::milliseconds timeout) {
    switch (child_.WriteAll(data, deadline)) {
      case tools::ChildProcess::Io::kDone:
        return {};
      case tools::ChildProcess::Io::kTimeout:
        return "timeout after " + std::to_string(timeout.count()) +
               " ms: the adapter did not take the request";
      default:
        return IoFailure("writing to");
    }
  }

  // One reply line, of at most kMaxReplyLineBytes, checked as bytes arrive;
  // the deadline holds whatever the adapter writes, a byte at a time or a
  // flood without a newline.
  std::string ReadLine(Clock::time_point deadline, std::chrono::milliseconds timeout,
                       std::string* line) {
    switch (child_.ReadLine(deadline, kMaxReplyLineBytes, line)) {
      case tools::ChildProcess::Io::kDone:
        return {};
      case tools::ChildProcess::Io::kTooLong:
        return "protocol error: reply line longer than the limit of " + Bytes(kMaxReplyLineBytes) +
               " (" + Bytes(child_.unread().size()) + " without a newline so far)";
      case tools::ChildProcess::Io::kTimeout:
        return "timeout after " + std::to_string(timeout.count()) +
               " ms: no reply from the adapter" +
               (child_.unread().empty()
                    ? std::string(" (hung?)")
                    : " (" + Bytes(child_.unread().size()) + " of a line without its newline)");
      case tools::ChildProcess::Io::kClosed:
        return "the adapter closed its output without replying";
      case tools::ChildProcess::Io::kFailed:
        break;
    }
    return IoFailure("reading from");
  }

  // Kills whatever is left of the adapter's process group (its children,
  // their children) while the adapter itself is still unreaped, so the group
  // ID cannot be reused before it is off the signal handler's list; then reaps.
  void Reap() {
    if (!child_.running()) return;
    child_.SendKill();
    UnregisterGroup(pgid_);
    child_.Kill();
  }

  // The session cannot go on: kill the adapter if it still runs, and say how it
  // ended.
  std::string Die(const std::string& why) {
    std::string what = why;
    if (child_.running()) {
      if (std::optional<int> status =
              child_.WaitForExit(Clock::now() + std::chrono::milliseconds(200))) {
        what += "; the adapter " + DescribeStatus(*status);
      } else {
        what += "; killed it";
      }
      Reap();
    }
    dead_ = what + StderrText();
    return dead_;
  }

  std::string StderrText() {
    const tools::BoundedTail& tail = child_.stderr_tail();
    std::string s = TailText(tail);
    if (s.empty()) return {};
    if (s.size() > 1500) s = "..." + s.substr(s.size() - 1500);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    std::string dropped;
    if (tail.dropped() > 0) {
      dropped = " (" + Bytes(tail.dropped()) + " dropped; the last " + Bytes(kStderrKeptBytes) +
                " are kept)";
    }
    return "\nadapter stderr" + dropped + ":\n" + s;
  }

  // The kept tail, for --keep-tmp and anyone reading the case's directory.
  void SaveStderr() {
    if (stderr_path_.empty()) return;
    const std::string text = TailText(child_.stderr_tail());
    if (text.empty()) return;
    std::ofstream(stderr_path_, std::ios::binary | std::ios::trunc) << text;
  }

  tools::ChildProcess child_;
  pid_t pgid_;
  std::string stderr_path_;
  std::string dead_;
  long long last_id_ = 0;
};

class ProcessTarget final : public Target {
 public:
  explicit ProcessTarget(std::string command) : command_(std::move(command)) {}

  std::string Describe() const override { return "adapter: " + command_; }
  bool CanInject() const override { return false; }
  bool NameService() const override { return true; }

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

std::optional<std::string> Target::CannotMake(const Environment& /*env*/) const {
  // Injection a target cannot make is no environment it lacks: the runner
  // calls such a case BLIND (Runner::BlindBefore).
  return std::nullopt;
}

json TraceJson(const fakes::Trace& t) {
  json calls = json::object();
  for (fakes::Call c : fakes::kAllCalls) calls[fakes::CallName(c)] = t.Count(c);
  json log = json::array();
  json entries = json::array();
  for (const fakes::TraceEntry& e : t.entries()) {
    log.push_back(fakes::FormatTraceLine(e));
    entries.push_back(fakes::TraceFields(e));
  }
  return {{"calls", std::move(calls)},
          {"total", t.size()},
          {"log", std::move(log)},
          {"entries", std::move(entries)},
          {"dropped", t.dropped()}};
}

std::unique_ptr<Session> SpawnAdapter(const std::string& command, const std::string& scratch_dir,
                                      const Environment& env,
                                      const std::vector<std::string>& extra_env,
                                      std::string* error) {
  tools::ChildSpec spec;
  spec.file = "/bin/sh";
  spec.argv = {"sh", "-c", "exec " + command};
  spec.extra_env = extra_env;
  spec.stderr_to = tools::ChildSpec::Stderr::kTail;  // its tail is kept
  spec.stderr_tail_bytes = kStderrKeptBytes;
  // Its own process group: at the end of the session, on a timeout and when
  // netconform is interrupted, the whole group goes, the adapter's children
  // and theirs included (docs/ADAPTER.md, Limits).
  spec.own_process_group = true;
  tools::ChildProcess child;
  if (std::string why = child.Start(spec); !why.empty()) {
    *error = why.rfind("cannot start ", 0) == 0
                 ? "cannot start " + command + why.substr(why.find(':'))
                 : why;
    return nullptr;
  }
  const pid_t pid = child.pid();
  auto session =
      std::make_unique<ProcessSession>(std::move(child), scratch_dir + "/adapter.stderr");
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
