#include "netutil/tracer/syscall_tracer.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "decode_x86_64.h"
#include "netutil/fakes/fault_injector.h"
#include "netutil/fakes/injecting_sys.h"  // RealFsSwap
#include "seccomp_filter.h"
#include "tracee_memory.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace netutil::tracer {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr long kPtraceOptions = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD |
                                PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                                PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;

// What the child reports on its CLOEXEC pipe when it cannot exec: the step
// that failed and its errno. Nothing arrives when exec succeeds.
struct ChildFailure {
  char step = 0;  // 'n' no_new_privs, 's' seccomp, 'e' exec
  int err = 0;
};

// Everything the child needs, made before fork: after fork in a threaded
// process the child may not allocate.
struct ExecData {
  std::vector<std::string> argv, env;
  bool inherit_env = true;
  std::vector<char*> argvp, envp;
  std::vector<sock_filter> filter;
  sock_fprog prog{};
  int fds[3] = {-1, -1, -1};
  bool own_group = true;

  explicit ExecData(const SyscallTracer::Options& o)
      : argv(o.argv),
        env(o.env.value_or(std::vector<std::string>{})),
        inherit_env(!o.env),
        filter(BuildSeccompFilter({o.arm_at_stdin_read})),
        fds{o.stdin_fd, o.stdout_fd, o.stderr_fd},
        own_group(o.own_process_group) {
    for (auto& a : argv) argvp.push_back(a.data());
    argvp.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    prog.len = static_cast<unsigned short>(filter.size());
    prog.filter = filter.data();
  }
};

[[noreturn]] void ChildFail(int pipe_fd, char step) {
  const ChildFailure f{step, errno};
  (void)!::write(pipe_fd, &f, sizeof f);
  ::_exit(127);
}

// The child: its own process group (Stop kills it whole), the caller's stdio,
// no other inherited fd, no_new_privs (seccomp requires it of an unprivileged
// process; it also keeps setuid binaries from gaining privilege under us), a
// stop so the tracer can seize it before the filter exists, then the filter
// and exec.
[[noreturn]] void ChildMain(ExecData& d, int pipe_fd) {
  if (d.own_group) ::setpgid(0, 0);
  for (int i = 0; i < 3; ++i) {
    if (d.fds[i] >= 0 && ::dup2(d.fds[i], i) < 0) ChildFail(pipe_fd, 'e');
  }
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ChildFail(pipe_fd, 'n');
  ::kill(::getpid(), SIGSTOP);
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &d.prog) != 0) ChildFail(pipe_fd, 's');
  if (d.inherit_env) {
    ::execvp(d.argvp[0], d.argvp.data());
  } else {
    ::execvpe(d.argvp[0], d.argvp.data(), d.envp.data());
  }
  ChildFail(pipe_fd, 'e');
}

std::string FailureText(const ChildFailure& f, const std::string& argv0) {
  const std::string why = std::strerror(f.err);
  switch (f.step) {
    case 'n':
      return "prctl(PR_SET_NO_NEW_PRIVS) failed: " + why;
    case 's':
      return "installing the seccomp filter failed: " + why;
    default:
      return "cannot execute '" + argv0 + "': " + why;
  }
}

struct InFlight {
  DecodedCall call;
  std::optional<fakes::FaultOutcome> outcome;
  bool ran = true;      // the kernel ran the call (no fault, or one that takes effect despite)
  bool record = false;  // its entry goes into the trace
  // What the call's "after" rules do once it returns: taken with the decision,
  // so another thread's call returning meanwhile cannot do them early.
  std::vector<fakes::FsSwap> swaps;
};

struct Tracee {
  std::shared_ptr<FdSet> fds;  // null until the event that made it says whose
  bool held = false;           // its first stop came before that event
  std::optional<InFlight> inflight;
  int quiet = 0;                    // open prctl(kQuietPrctl, 1) brackets
  bool stdin_read_pending = false;  // a read of fd 0 whose result may arm
};

// What a stop that is no call of the seam is (the filter's by-argument checks).
enum class Marker { kNone, kQuietBegin, kQuietEnd, kQuietQuery, kStdinRead };

Marker MarkerOf(const user_regs_struct& regs) {
  if (regs.orig_rax == SYS_prctl && static_cast<unsigned>(regs.rdi) == kQuietPrctl) {
    switch (regs.rsi) {
      case 0:
        return Marker::kQuietEnd;
      case 1:
        return Marker::kQuietBegin;
      default:
        return Marker::kQuietQuery;
    }
  }
  if ((regs.orig_rax == SYS_read || regs.orig_rax == SYS_readv) && regs.rdi == 0) {
    return Marker::kStdinRead;
  }
  return Marker::kNone;
}

bool GetRegs(pid_t tid, user_regs_struct* regs) {
  return ::ptrace(PTRACE_GETREGS, tid, nullptr, regs) == 0;
}
void SetRegs(pid_t tid, const user_regs_struct& regs) {
  ::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
}
// Restarts a tracee; ESRCH (killed meanwhile) is its exit to come.
void Resume(pid_t tid, int sig, bool to_exit = false) {
  ::ptrace(to_exit ? PTRACE_SYSCALL : PTRACE_CONT, tid, nullptr,
           reinterpret_cast<void*>(long{sig}));
}
unsigned long EventMsg(pid_t tid) {
  unsigned long msg = 0;
  ::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg);
  return msg;
}

}  // namespace

class SyscallTracer::Impl {
 public:
  explicit Impl(Options o)
      : options_(std::move(o)),
        exec_(options_),
        armed_(!options_.arm_at_stdin_read),
        trace_(options_.trace_limit) {
    faults_.Reset(options_.plan, fakes::ErrnoCheck::kAny);
  }

  std::string Start();
  void SetPlan(fakes::FaultPlan plan);
  fakes::Trace TakeTrace();
  uint64_t seen() const { return seen_.load(); }
  bool armed() const { return armed_.load(); }
  pid_t pid() {
    std::lock_guard<std::mutex> lock(mu_);
    return root_;
  }
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  int Stop();

 private:
  void Run();
  std::string Launch();
  void Loop();
  void Handle(pid_t tid, int status);
  void OnGone(pid_t tid, int status);
  void OnNewChild(pid_t tid, int event);
  void OnExec(pid_t tid);
  void OnFirstStop(pid_t tid);
  void OnSeccomp(pid_t tid);
  void OnMarker(pid_t tid, Tracee& t, Marker m, user_regs_struct& regs);
  void OnSyscallExit(pid_t tid);
  void ApplyFdEffect(Tracee& t, const InFlight& f, long ret, bool at_entry);
  Tracee& Known(pid_t tid);
  void Forget(pid_t tid);
  void SetStarted(std::string error);
  std::string ChildError();

  Options options_;
  ExecData exec_;
  int error_pipe_ = -1;
  pid_t root_ = -1;
  bool exec_seen_ = false;
  bool started_set_ = false;
  std::promise<std::string> started_;
  std::unordered_map<pid_t, Tracee> tracees_;  // the tracer thread's own
  std::thread thread_;
  std::atomic<uint64_t> seen_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> armed_;

  std::mutex mu_;  // guards what follows
  std::condition_variable cv_;
  fakes::FaultInjector faults_;
  fakes::Trace trace_;
  std::unordered_set<pid_t> live_;  // for Stop(), from another thread
  std::optional<int> root_status_;
};

std::string SyscallTracer::Impl::Start() {
  std::future<std::string> started = started_.get_future();
  thread_ = std::thread([this] { Run(); });
  if (started.wait_for(kStartTimeout) == std::future_status::timeout) {
    return "the command did not exec within 10 s";
  }
  return started.get();
}

void SyscallTracer::Impl::SetStarted(std::string error) {
  if (started_set_) return;
  started_set_ = true;
  started_.set_value(std::move(error));
}

void SyscallTracer::Impl::Run() {
  const std::string error = Launch();
  if (error.empty()) Loop();
  SetStarted(error.empty() ? "the command ended before it exec'd" : error);
  if (error_pipe_ >= 0) ::close(error_pipe_);
}

// Forks on this thread (the tracer), waits for the child's self-stop, seizes
// it and lets it go on to install its filter and exec.
std::string SyscallTracer::Impl::Launch() {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::string("pipe2: ") + std::strerror(errno);
  error_pipe_ = pipe_fds[0];
  const pid_t pid = ::fork();
  if (pid == 0) ChildMain(exec_, pipe_fds[1]);
  ::close(pipe_fds[1]);
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  int status = 0;
  pid_t got;
  while ((got = ::waitpid(pid, &status, WUNTRACED | __WNOTHREAD)) < 0 && errno == EINTR) {
  }
  if (got != pid || !WIFSTOPPED(status)) return ChildError();
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(kPtraceOptions)) != 0) {
    const std::string why = std::strerror(errno);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, __WNOTHREAD);
    return "ptrace(PTRACE_SEIZE) refused: " + why + " (a container or Yama may forbid ptrace)";
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    root_ = pid;
  }
  Known(pid).fds = std::make_shared<FdSet>();
  ::kill(pid, SIGCONT);
  return "";
}

std::string SyscallTracer::Impl::ChildError() {
  ChildFailure f;
  if (::read(error_pipe_, &f, sizeof f) != static_cast<ssize_t>(sizeof f)) {
    return "the command ended before it exec'd";
  }
  return FailureText(f, options_.argv[0]);
}

// Until no tracee is left (ECHILD): the command, its threads, and whatever it
// started, even after the command itself has exited.
void SyscallTracer::Impl::Loop() {
  for (;;) {
    int status = 0;
    const pid_t tid = ::waitpid(-1, &status, __WALL | __WNOTHREAD);
    if (tid < 0) {
      if (errno == EINTR) continue;
      return;
    }
    Handle(tid, status);
  }
}

void SyscallTracer::Impl::Handle(pid_t tid, int status) {
  if (WIFEXITED(status) || WIFSIGNALED(status)) return OnGone(tid, status);
  if (!WIFSTOPPED(status)) return;
  Known(tid);
  if (stopping_) {
    ::kill(tid, SIGKILL);  // ends any stop, ptrace or not
    return;
  }
  const int sig = WSTOPSIG(status);
  if (sig == (SIGTRAP | 0x80)) return OnSyscallExit(tid);
  switch (status >> 16) {
    case PTRACE_EVENT_SECCOMP:
      return OnSeccomp(tid);
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE:
      return OnNewChild(tid, status >> 16);
    case PTRACE_EVENT_EXEC:
      return OnExec(tid);
    // A group-stop or a new tracee's first stop. Job control does not stop
    // a traced command: it is resumed (docs/TRACER.md).
    case PTRACE_EVENT_STOP:
      return OnFirstStop(tid);
    case 0:
      return Resume(tid, sig);  // a signal for the tracee: deliver it
    default:
      return Resume(tid, 0);
  }
}

Tracee& SyscallTracer::Impl::Known(pid_t tid) {
  auto [it, added] = tracees_.try_emplace(tid);
  if (added) {
    std::lock_guard<std::mutex> lock(mu_);
    live_.insert(tid);
  }
  return it->second;
}

void SyscallTracer::Impl::Forget(pid_t tid) {
  tracees_.erase(tid);
  std::lock_guard<std::mutex> lock(mu_);
  live_.erase(tid);
}

void SyscallTracer::Impl::OnGone(pid_t tid, int status) {
  Forget(tid);
  if (tid != root_) return;
  if (!exec_seen_) SetStarted(ChildError());
  std::lock_guard<std::mutex> lock(mu_);
  root_status_ = status;
  cv_.notify_all();
}

// A new child shares its parent's fd table when it is a thread (a clone
// event), and gets a copy when it is a process (fork, vfork).
void SyscallTracer::Impl::OnNewChild(pid_t tid, int event) {
  const auto child = static_cast<pid_t>(EventMsg(tid));
  const std::shared_ptr<FdSet> parent = Known(tid).fds;
  Tracee& c = Known(child);
  if (!parent) {
    c.fds = std::make_shared<FdSet>();
  } else {
    c.fds = event == PTRACE_EVENT_CLONE ? parent : std::make_shared<FdSet>(*parent);
  }
  if (c.held) {
    c.held = false;
    Resume(child, 0);
  }
  Resume(tid, 0);
}

// A new tracee's first stop can come before its parent's event: it waits
// there until that event says whose fd table it has.
void SyscallTracer::Impl::OnFirstStop(pid_t tid) {
  Tracee& t = Known(tid);
  if (!t.fds) {
    t.held = true;
    return;
  }
  Resume(tid, 0);
}

// execve from a thread other than the leader takes the leader's tid.
void SyscallTracer::Impl::OnExec(pid_t tid) {
  const auto former = static_cast<pid_t>(EventMsg(tid));
  if (former != tid && tracees_.count(former) != 0) {
    std::shared_ptr<FdSet> fds = tracees_[former].fds;
    Forget(former);
    Known(tid).fds = fds;
  }
  Known(tid).inflight.reset();
  Known(tid).quiet = 0;  // a new program: no bracket of the old one is open
  if (tid == root_ && !exec_seen_) {
    exec_seen_ = true;
    SetStarted("");
  }
  Resume(tid, 0);
}

void SyscallTracer::Impl::OnSeccomp(pid_t tid) {
  seen_.fetch_add(1);
  user_regs_struct regs{};
  if (!GetRegs(tid, &regs)) return;  // killed meanwhile: its exit follows
  Tracee& t = Known(tid);
  if (const Marker m = MarkerOf(regs); m != Marker::kNone) return OnMarker(tid, t, m, regs);
  const SyscallRegs r{regs.orig_rax, {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9}};
  static const FdSet kNoFds;
  std::optional<DecodedCall> call = DecodeSyscall(r, TraceeMemory(tid), t.fds ? *t.fds : kNoFds);
  if (!call) return Resume(tid, 0);
  InFlight f{std::move(*call), std::nullopt, true, false, {}};
  // Before arming and inside a quiet bracket the call is not the
  // implementation's: neither faulted nor recorded, only its fds followed.
  const bool in_force = armed_ && t.quiet == 0;
  if (options_.poll_plan) {
    if (std::optional<fakes::FaultPlan> plan = options_.poll_plan()) SetPlan(std::move(*plan));
  }
  if (in_force && options_.ipv6_missing && f.call.args.call == fakes::Call::kSocket &&
      f.call.args.family == "inet6") {
    f.outcome = fakes::FaultOutcome::Errno(EAFNOSUPPORT);
  } else if (in_force) {
    std::lock_guard<std::mutex> lock(mu_);
    f.outcome = faults_.Decide(f.call.args);
    f.swaps = faults_.TakeSwaps();
  }
  // A fault skips the call (orig_rax -1: the kernel runs nothing), except an
  // errno the call reports after doing its work (close): it runs, and only
  // its result is replaced at the exit stop.
  if (f.outcome) {
    const bool despite = f.outcome->kind == fakes::FaultOutcome::Kind::kErrno &&
                         fakes::TakesEffectDespite(f.call.args.call, f.outcome->code);
    if (!despite) {
      f.ran = false;
      regs.orig_rax = static_cast<unsigned long long>(-1);
      SetRegs(tid, regs);
    }
  }
  // Without a trace, only a fault or a new fd needs the call's exit.
  const bool need_exit = (options_.record_trace && in_force) || f.outcome || !f.swaps.empty() ||
                         f.call.effect == DecodedCall::FdEffect::kOpens;
  ApplyFdEffect(t, f, 0, /*at_entry=*/true);
  if (!need_exit) return Resume(tid, 0);
  f.record = options_.record_trace && in_force;
  t.inflight = std::move(f);
  Resume(tid, 0, /*to_exit=*/true);
}

// The quiet marker is answered here without reaching the kernel (orig_rax -1
// with rax set: the kernel skips the call and the program sees rax). A read
// of fd 0 before arming goes on to its exit, where its result may arm.
void SyscallTracer::Impl::OnMarker(pid_t tid, Tracee& t, Marker m, user_regs_struct& regs) {
  if (m == Marker::kStdinRead) {
    if (armed_) return Resume(tid, 0);
    t.stdin_read_pending = true;
    return Resume(tid, 0, /*to_exit=*/true);
  }
  if (m == Marker::kQuietBegin) ++t.quiet;
  if (m == Marker::kQuietEnd && t.quiet > 0) --t.quiet;
  regs.orig_rax = static_cast<unsigned long long>(-1);
  regs.rax = 0;
  SetRegs(tid, regs);
  Resume(tid, 0);
}

void SyscallTracer::Impl::OnSyscallExit(pid_t tid) {
  Tracee& t = Known(tid);
  user_regs_struct regs{};
  if (t.stdin_read_pending) {
    t.stdin_read_pending = false;
    if (GetRegs(tid, &regs) && static_cast<long>(regs.rax) > 0) armed_ = true;
    return Resume(tid, 0);
  }
  if (!t.inflight || !GetRegs(tid, &regs)) return Resume(tid, 0);
  InFlight f = std::move(*t.inflight);
  t.inflight.reset();
  const auto ret = static_cast<long>(regs.rax);
  long seen = ret;
  if (f.outcome) {
    const int code = f.outcome->code;
    if (f.outcome->kind == fakes::FaultOutcome::Kind::kErrno) {
      seen = -code;
    } else {
      seen = f.call.apply_value ? f.call.apply_value(code) : code;
    }
    regs.rax = static_cast<unsigned long long>(seen);
    SetRegs(tid, regs);
  }
  fakes::TraceEntry entry = f.call.finish(seen, !f.outcome);
  entry.injected = f.outcome.has_value();
  ApplyFdEffect(t, f, ret, /*at_entry=*/false);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (f.record && !options_.trace_sink) trace_.Add(std::move(entry));
  }
  if (f.record && options_.trace_sink) options_.trace_sink(std::move(entry));
  // "after ... swap" rules: another process changes the filesystem once the
  // call that matched has returned and before it goes on (fault_plan.h).
  for (const fakes::FsSwap& swap : f.swaps) (void)fakes::RealFsSwap(swap);
  Resume(tid, 0);
}

// The seam's fds: those the kernel really opened, added at the exit stop
// (the number exists from then on), until really closed, forgotten at the
// entry stop: once the close runs, another thread may get the same number,
// and its socket's exit stop may come before this close's.
void SyscallTracer::Impl::ApplyFdEffect(Tracee& t, const InFlight& f, long ret, bool at_entry) {
  if (!t.fds || !f.ran) return;
  if (!at_entry && f.call.effect == DecodedCall::FdEffect::kOpens && ret >= 0 && !f.outcome) {
    t.fds->insert(static_cast<int>(ret));
  } else if (at_entry && f.call.effect == DecodedCall::FdEffect::kCloses) {
    t.fds->erase(f.call.fd);
  } else if (at_entry && f.call.effect == DecodedCall::FdEffect::kClosesRange) {
    std::erase_if(*t.fds, [&](int fd) { return fd >= f.call.fd && fd <= f.call.last_fd; });
  }
}

void SyscallTracer::Impl::SetPlan(fakes::FaultPlan plan) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.Reset(std::move(plan), fakes::ErrnoCheck::kAny);
}

fakes::Trace SyscallTracer::Impl::TakeTrace() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(trace_, fakes::Trace(options_.trace_limit));
}

std::optional<int> SyscallTracer::Impl::Wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return root_status_.has_value(); });
  return root_status_;
}

// SIGKILL to the command's process group and to every tracee known (a child
// may have left the group); the tracer thread kills any tracee that stops
// after this, so one forked meanwhile dies at its first stop.
int SyscallTracer::Impl::Stop() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (root_ > 0 && !root_status_) ::kill(-root_, SIGKILL);
    for (pid_t tid : live_) ::kill(tid, SIGKILL);
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return root_status_.value_or(SIGKILL);  // as waitpid reports a SIGKILL death
}

SyscallTracer::SyscallTracer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyscallTracer::~SyscallTracer() { impl_->Stop(); }

std::unique_ptr<SyscallTracer> SyscallTracer::Start(Options options, std::string* error) {
#if !defined(__x86_64__)
  *error = "the syscall tracer supports x86_64 only";
  return nullptr;
#else
  if (options.argv.empty() || options.argv[0].empty()) {
    *error = "no command to run";
    return nullptr;
  }
  for (const fakes::FaultRule& rule : options.plan.rules()) {
    if (auto why = fakes::FaultPlan::Validate(rule, fakes::ErrnoCheck::kAny)) {
      *error = "fault plan: " + fakes::PrintRule(rule) + ": " + *why;
      return nullptr;
    }
  }
  auto impl = std::make_unique<Impl>(std::move(options));
  std::string failed = impl->Start();
  if (!failed.empty()) {
    impl->Stop();
    *error = std::move(failed);
    return nullptr;
  }
  return std::unique_ptr<SyscallTracer>(new SyscallTracer(std::move(impl)));
#endif
}

void SyscallTracer::SetPlan(fakes::FaultPlan plan) { impl_->SetPlan(std::move(plan)); }
fakes::Trace SyscallTracer::TakeTrace() { return impl_->TakeTrace(); }
uint64_t SyscallTracer::SyscallsSeen() const { return impl_->seen(); }
pid_t SyscallTracer::pid() const { return impl_->pid(); }
bool SyscallTracer::Armed() const { return impl_->armed(); }
std::optional<int> SyscallTracer::Wait(std::chrono::milliseconds timeout) {
  return impl_->Wait(timeout);
}
int SyscallTracer::Stop() { return impl_->Stop(); }

}  // namespace netutil::tracer
