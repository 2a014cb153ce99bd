// netutil_tracer on a program that makes every call with raw syscall(), built
// dynamic and -static: what it traces (typed, as the in-process trace), what
// its faults make the program see, and how it ends (docs/TRACER.md).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/trace.h"
#include "netutil/tracer/syscall_tracer.h"

namespace netutil::tracer {
namespace {

using fakes::Call;
using Clock = std::chrono::steady_clock;

struct TracedRun {
  int status = -1;
  std::string out;
  fakes::Trace trace;
  uint64_t seen = 0;
  // "bind" -> {return, errno}, from the program's own report.
  std::map<std::string, std::pair<long, int>> said;
};

fakes::FaultPlan Plan(const std::string& text) {
  auto parsed = fakes::FaultPlan::Parse(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.plan.value_or(fakes::FaultPlan{});
}

// Reads the pipe until EOF or the deadline: a test never waits longer.
std::string ReadAll(int fd, Clock::time_point deadline) {
  std::string out;
  char buf[4096];
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::map<std::string, std::pair<long, int>> Parse(const std::string& out) {
  std::map<std::string, std::pair<long, int>> said;
  std::istringstream in(out);
  std::string name;
  long ret = 0;
  int err = 0;
  while (in >> name >> ret >> err) said[name] = {ret, err};
  return said;
}

TracedRun RunTraced(const std::string& probe, const std::vector<std::string>& args,
                    const std::string& plan = "", SyscallTracer::Options o = {}) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  o.argv = {probe};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.stdout_fd = pipe_fds[1];
  o.plan = Plan(plan);
  std::string error;
  auto tracer = SyscallTracer::Start(std::move(o), &error);
  ::close(pipe_fds[1]);
  TracedRun run;
  if (!tracer) {
    ADD_FAILURE() << error;
    ::close(pipe_fds[0]);
    return run;
  }
  run.out = ReadAll(pipe_fds[0], Clock::now() + std::chrono::seconds(4));
  ::close(pipe_fds[0]);
  run.status = tracer->Wait(std::chrono::seconds(4)).value_or(-1);
  run.trace = tracer->TakeTrace();
  run.seen = tracer->SyscallsSeen();
  run.said = Parse(run.out);
  return run;
}

template <Call C>
std::vector<const fakes::CallRecord<C>*> All(const fakes::Trace& trace) {
  std::vector<const fakes::CallRecord<C>*> out;
  for (const auto& e : trace.entries()) {
    if (const auto* r = e.template As<C>()) out.push_back(r);
  }
  return out;
}

const fakes::TraceEntry* First(const fakes::Trace& trace, Call call) {
  for (const auto& e : trace.entries()) {
    if (e.call() == call) return &e;
  }
  return nullptr;
}

class TracerProbe : public ::testing::TestWithParam<const char*> {};

TEST_P(TracerProbe, TracesRawSyscallsWithTypedArgs) {
  const TracedRun run = RunTraced(GetParam(), {"net"});
  ASSERT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.out;
  EXPECT_GT(run.seen, 0U);
  const auto binds = All<Call::kBind>(run.trace);
  ASSERT_EQ(binds.size(), 1U) << run.trace;
  const auto& [bind_fd, bind_addr] = binds[0]->args;
  EXPECT_EQ(bind_fd, run.said.at("socket").first);
  EXPECT_EQ(bind_addr.family(), AF_INET);
  EXPECT_EQ(bind_addr.port(), 0);
  EXPECT_TRUE(binds[0]->result.ok());

  const auto names = All<Call::kGetsockname>(run.trace);
  ASSERT_EQ(names.size(), 1U);
  ASSERT_TRUE(names[0]->result.ok());
  EXPECT_NE(names[0]->result.value.port(), 0);
  EXPECT_EQ(names[0]->result.value.port(), run.said.at("port").first);

  const auto accepts = All<Call::kAccept4>(run.trace);
  ASSERT_EQ(accepts.size(), 1U);
  EXPECT_EQ(accepts[0]->result.err, EAGAIN);
  EXPECT_EQ(std::get<2>(accepts[0]->args), SOCK_CLOEXEC);

  const auto opts = All<Call::kSetsockopt>(run.trace);
  ASSERT_EQ(opts.size(), 1U);
  EXPECT_EQ(opts[0]->args, std::make_tuple(bind_fd, SOL_SOCKET, SO_REUSEADDR, 1));
  const auto listens = All<Call::kListen>(run.trace);
  ASSERT_EQ(listens.size(), 1U);
  EXPECT_EQ(std::get<1>(listens[0]->args), 16);
}

TEST_P(TracerProbe, FollowsTheProgramsThread) {
  const TracedRun run = RunTraced(GetParam(), {"net"});
  bool thread_socket = false;
  for (const auto* s : All<Call::kSocket>(run.trace)) {
    thread_socket |=
        std::get<1>(s->args) == SOCK_DGRAM && s->result.value == run.said.at("thread_socket").first;
  }
  EXPECT_TRUE(thread_socket) << run.trace;
}

TEST_P(TracerProbe, PrintsAsTheInProcessTrace) {
  const TracedRun run = RunTraced(GetParam(), {"net"});
  const fakes::TraceEntry* bind = First(run.trace, Call::kBind);
  ASSERT_NE(bind, nullptr);
  const std::string fd = std::to_string(run.said.at("socket").first);
  EXPECT_EQ(fakes::FormatTraceLine(*bind), "bind(" + fd + ", 127.0.0.1:0) = 0");
  const fakes::TraceEntry* accept = First(run.trace, Call::kAccept4);
  ASSERT_NE(accept, nullptr);
  EXPECT_EQ(fakes::FormatTraceLine(*accept), "accept4(" + fd + ", ..., SOCK_CLOEXEC) = -1 EAGAIN");
}

TEST_P(TracerProbe, ErrnoFaultReachesTheProgram) {
  const TracedRun run = RunTraced(GetParam(), {"net"}, "bind = EADDRINUSE");
  EXPECT_EQ(run.said.at("bind"), std::make_pair(-1L, EADDRINUSE)) << run.out;
  const fakes::TraceEntry* bind = First(run.trace, Call::kBind);
  ASSERT_NE(bind, nullptr);
  EXPECT_TRUE(bind->injected);
  EXPECT_EQ(bind->err(), EADDRINUSE);
}

TEST_P(TracerProbe, ValueFaultReachesTheProgram) {
  const TracedRun run = RunTraced(GetParam(), {"net"}, "listen = 7");
  EXPECT_EQ(run.said.at("listen"), std::make_pair(7L, 0)) << run.out;
  const auto listens = All<Call::kListen>(run.trace);
  ASSERT_EQ(listens.size(), 1U);
  EXPECT_EQ(listens[0]->result.value, 7);
}

// close = EINTR: the program sees EINTR, and the fd is gone all the same
// (fakes::TakesEffectDespite), as the kernel does. The thread's close of its
// own socket comes first (the program joins it), so the rule names the second.
TEST_P(TracerProbe, CloseFaultTakesEffectDespite) {
  const TracedRun run = RunTraced(GetParam(), {"net"}, "close #2 = EINTR");
  EXPECT_EQ(run.said.at("close"), std::make_pair(-1L, EINTR)) << run.out;
  EXPECT_EQ(run.said.at("fcntl_after_close"), std::make_pair(-1L, EBADF)) << run.out;
  const auto closes = All<Call::kClose>(run.trace);
  ASSERT_EQ(closes.size(), 2U) << run.trace;
  EXPECT_TRUE(closes[0]->result.ok());
  EXPECT_EQ(std::get<0>(closes[1]->args), run.said.at("socket").first);
  EXPECT_EQ(closes[1]->result.err, EINTR);
}

TEST_P(TracerProbe, FollowsForkedChildren) {
  const TracedRun run = RunTraced(GetParam(), {"fork"}, "socket family=inet6 = EAFNOSUPPORT");
  // The child's socket was failed by the plan: it exited 1, and said so.
  EXPECT_EQ(run.said.at("child_exit").first, 1) << run.out;
  const auto sockets = All<Call::kSocket>(run.trace);
  ASSERT_EQ(sockets.size(), 1U);
  EXPECT_EQ(sockets[0]->result.err, EAFNOSUPPORT);
}

TEST_P(TracerProbe, TracesTheDirectoryCalls) {
  char dir[] = "/tmp/netutil-tracer-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const TracedRun run = RunTraced(GetParam(), {"files", dir});
  ::rmdir(dir);
  EXPECT_EQ(run.said.at("unlinkat_dir"), std::make_pair(0L, 0)) << run.out;
  const int dfd = static_cast<int>(run.said.at("openat").first);
  const auto renames = All<Call::kRenameat2>(run.trace);
  ASSERT_EQ(renames.size(), 1U) << run.trace;
  EXPECT_EQ(renames[0]->args, std::make_tuple(dfd, std::string("f"), dfd, std::string("g"), 1U));
  // newfstatat and statx on a directory fd are the seam's fstatat; both see
  // the mode fchmodat set. (The C library's own fstat of stdout is one too.)
  int stats = 0;
  for (const auto* st : All<Call::kFstatat>(run.trace)) {
    if (std::get<1>(st->args) != "g") continue;
    ++stats;
    ASSERT_TRUE(st->result.ok());
    EXPECT_EQ(st->result.value.mode, static_cast<uint32_t>(S_IFREG | 0640));
    EXPECT_EQ(std::get<2>(st->args), AT_SYMLINK_NOFOLLOW);
  }
  EXPECT_EQ(stats, 2) << run.trace;
  EXPECT_EQ(All<Call::kMkdirat>(run.trace).size(), 1U);
  EXPECT_EQ(All<Call::kFchmodat>(run.trace).size(), 2U);  // fchmodat and fchmodat2
  EXPECT_EQ(All<Call::kUnlinkat>(run.trace).size(), 2U);
  const auto umasks = All<Call::kUmask>(run.trace);
  ASSERT_EQ(umasks.size(), 1U);
  EXPECT_EQ(std::get<0>(umasks[0]->args), 022U);
  EXPECT_EQ(static_cast<long>(umasks[0]->result), run.said.at("umask").first);
}

TEST_P(TracerProbe, PathFaultReachesTheProgram) {
  char dir[] = "/tmp/netutil-tracer-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const TracedRun run = RunTraced(GetParam(), {"files", dir}, "mkdirat path=sub = EACCES");
  ::rmdir(dir);
  EXPECT_EQ(run.said.at("mkdirat"), std::make_pair(-1L, EACCES)) << run.out;
  // Skipped, not run: the directory was never made, so removing it fails.
  EXPECT_EQ(run.said.at("unlinkat_dir"), std::make_pair(-1L, ENOENT)) << run.out;
}

// An "after" rule: the swap happens once mkdirat has returned, before the
// program goes on, so its unlinkat(AT_REMOVEDIR) finds a file there.
TEST_P(TracerProbe, AfterRuleSwapsBeforeTheProgramGoesOn) {
  char dir[] = "/tmp/netutil-tracer-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string sub = std::string(dir) + "/sub";
  const TracedRun run =
      RunTraced(GetParam(), {"files", dir}, "after mkdirat path=sub swap " + sub + " with file");
  EXPECT_EQ(::unlink(sub.c_str()), 0);
  EXPECT_EQ(::rmdir((sub + ".orig").c_str()), 0);  // the directory mkdirat made
  ::rmdir(dir);
  EXPECT_EQ(run.said.at("mkdirat"), std::make_pair(0L, 0)) << run.out;
  EXPECT_EQ(run.said.at("unlinkat_dir"), std::make_pair(-1L, ENOTDIR)) << run.out;
}

// The swap of an "after" rule happens at the exit of the call that matched it,
// not at the exit of another thread's call made meanwhile (found with Go's
// scheduler polling epoll during a bind: the swap came before the bind).
TEST_P(TracerProbe, AfterRuleSwapWaitsForItsOwnCallInAThreadedProgram) {
  char dir[] = "/tmp/netutil-tracer-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string sub = std::string(dir) + "/sub";
  const TracedRun run =
      RunTraced(GetParam(), {"swaprace", dir}, "after epoll_wait #1 swap " + sub + " with file");
  ::unlink(sub.c_str());
  ::rmdir((sub + ".orig").c_str());
  ::rmdir(dir);
  ASSERT_EQ(run.said.count("file_after"), 1U) << run.out;
  EXPECT_EQ(run.said.at("epoll_pwait_long").first, 0) << run.out;  // timed out, after the quick one
  EXPECT_EQ(run.said.at("file_while_waiting").first, 0) << run.out;
  EXPECT_EQ(run.said.at("file_after").first, 1) << run.out;
}

TEST_P(TracerProbe, TracesEpollWithItsReadyList) {
  const TracedRun run = RunTraced(GetParam(), {"epoll"});
  const int fd = static_cast<int>(run.said.at("socket").first);
  const auto ctls = All<Call::kEpollCtl>(run.trace);
  ASSERT_EQ(ctls.size(), 1U) << run.trace;
  EXPECT_EQ(std::get<3>(ctls[0]->args), static_cast<uint32_t>(EPOLLOUT));
  const auto waits = All<Call::kEpollWait>(run.trace);
  ASSERT_EQ(waits.size(), 1U) << run.trace;
  EXPECT_EQ(waits[0]->result.value, run.said.at("epoll_pwait").first);
  const auto& ready = std::get<1>(waits[0]->args);
  ASSERT_EQ(ready.size(), 1U);
  EXPECT_EQ(ready[0].fd, fd);
  EXPECT_TRUE(ready[0].events & EPOLLOUT);
  EXPECT_EQ(std::get<3>(waits[0]->args), 0);  // timeout_ms
}

// A signal handled while the tracee waits: delivered through the tracer
// (the handler ran), and epoll_wait's ERESTARTNOHAND recorded as the EINTR
// the program got.
TEST_P(TracerProbe, SignalsReachTheProgram) {
  const TracedRun run = RunTraced(GetParam(), {"signal"});
  EXPECT_EQ(run.said.at("epoll_wait"), std::make_pair(-1L, EINTR)) << run.out;
  EXPECT_EQ(run.said.at("alarms").first, 1) << run.out;
  const auto waits = All<Call::kEpollWait>(run.trace);
  ASSERT_EQ(waits.size(), 1U) << run.trace;
  EXPECT_EQ(waits[0]->result.err, EINTR);
  EXPECT_EQ(std::get<3>(waits[0]->args), 3000);
}

// Pointers to nowhere: the kernel says EFAULT, the tracer records what it
// could read (an empty address, an empty path) and goes on.
TEST_P(TracerProbe, OddPointersAreRecordedNotFollowed) {
  const TracedRun run = RunTraced(GetParam(), {"badptr"});
  ASSERT_TRUE(WIFEXITED(run.status)) << run.out;
  const auto binds = All<Call::kBind>(run.trace);
  ASSERT_EQ(binds.size(), 1U) << run.trace;
  EXPECT_EQ(std::get<1>(binds[0]->args).len(), 0U);
  EXPECT_EQ(binds[0]->result.err, EFAULT);
  const auto names = All<Call::kGetsockname>(run.trace);
  ASSERT_EQ(names.size(), 1U);
  EXPECT_EQ(names[0]->result.err, EFAULT);
  const auto unlinks = All<Call::kUnlink>(run.trace);
  ASSERT_EQ(unlinks.size(), 1U);
  EXPECT_EQ(std::get<0>(unlinks[0]->args), "");
  EXPECT_EQ(unlinks[0]->result.err, EFAULT);
}

// The program run by a shell: exec'd in place, and forked then exec'd.
TEST_P(TracerProbe, FollowsExecAndForkExec) {
  for (const std::string script : {"exec \"$0\" net", "\"$0\" net; exit 0"}) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    SyscallTracer::Options o;
    o.argv = {"/bin/sh", "-c", script, GetParam()};
    o.stdout_fd = pipe_fds[1];
    o.plan = Plan("bind = EADDRINUSE");
    std::string error;
    auto tracer = SyscallTracer::Start(std::move(o), &error);
    ::close(pipe_fds[1]);
    ASSERT_NE(tracer, nullptr) << error;
    const std::string out = ReadAll(pipe_fds[0], Clock::now() + std::chrono::seconds(4));
    ::close(pipe_fds[0]);
    EXPECT_EQ(Parse(out)["bind"], std::make_pair(-1L, EADDRINUSE)) << script << "\n" << out;
    EXPECT_EQ(All<Call::kBind>(tracer->TakeTrace()).size(), 1U) << script;
  }
}

// Four threads making sockets at once: every call is seen, each once.
TEST_P(TracerProbe, ThreadsAtOnceAreAllTraced) {
  const TracedRun run = RunTraced(GetParam(), {"threads", "200"});
  ASSERT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.status;
  EXPECT_EQ(run.trace.Count(Call::kSocket), 800U);
  EXPECT_EQ(run.trace.Count(Call::kClose), 800U);
  for (const auto* s : All<Call::kSocket>(run.trace)) EXPECT_TRUE(s->result.ok());
}

TEST_P(TracerProbe, KeepsAtMostTheLimit) {
  SyscallTracer::Options o;
  o.trace_limit = 5;
  const TracedRun run = RunTraced(GetParam(), {"threads", "10"}, "", std::move(o));
  EXPECT_EQ(run.trace.entries().size(), 5U);
  EXPECT_GE(run.trace.size(), 80U);  // the rest counted
}

// Without a trace the faults still apply, and nothing is recorded.
TEST_P(TracerProbe, FaultsWithoutATrace) {
  SyscallTracer::Options o;
  o.record_trace = false;
  const TracedRun run = RunTraced(GetParam(), {"net"}, "close #2 = EINTR", std::move(o));
  EXPECT_EQ(run.said.at("close"), std::make_pair(-1L, EINTR)) << run.out;
  EXPECT_EQ(run.said.at("fcntl_after_close"), std::make_pair(-1L, EBADF)) << run.out;
  EXPECT_TRUE(run.trace.empty());
  EXPECT_GT(run.seen, 0U);
}

// ioctl(FIONBIO) and close_range are calls of the seam: traced with their
// typed arguments, faulted like any other.
TEST_P(TracerProbe, IoctlFionbioAndCloseRangeAreTracedAndFaulted) {
  const TracedRun run = RunTraced(GetParam(), {"fionbio"});
  ASSERT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.out;
  EXPECT_EQ(run.said.at("nonblock").first, 1) << run.out;
  const auto ioctls = All<Call::kIoctl>(run.trace);
  ASSERT_EQ(ioctls.size(), 1U) << run.trace;
  const auto& [fd, request, value] = ioctls[0]->args;
  EXPECT_EQ(fd, run.said.at("socket").first);
  EXPECT_EQ(request, static_cast<unsigned long>(FIONBIO));
  EXPECT_EQ(value, 1);
  EXPECT_EQ(fakes::FormatTraceLine(*First(run.trace, Call::kIoctl)),
            "ioctl(" + std::to_string(fd) + ", FIONBIO, 1) = 0");
  const auto ranges = All<Call::kCloseRange>(run.trace);
  ASSERT_EQ(ranges.size(), 1U) << run.trace;
  EXPECT_EQ(std::get<0>(ranges[0]->args), static_cast<unsigned>(fd));
  // The fd is gone from the seam's set: the later fcntl on it is not traced.
  EXPECT_EQ(run.said.at("fcntl_after"), std::make_pair(-1L, EBADF));
  for (const auto* f : All<Call::kFcntl>(run.trace)) EXPECT_EQ(f->result.err, 0);

  const TracedRun faulted = RunTraced(GetParam(), {"fionbio"}, "ioctl cmd=FIONBIO = EBADF");
  EXPECT_EQ(faulted.said.at("ioctl"), std::make_pair(-1L, EBADF)) << faulted.out;
  EXPECT_EQ(faulted.said.at("nonblock").first, 0) << faulted.out;  // skipped: still blocking
}

// A thread's calls between prctl(kQuietPrctl, 1) and prctl(kQuietPrctl, 0)
// are neither faulted nor recorded; the marker is answered 0 by the tracer.
TEST_P(TracerProbe, QuietMarkerHidesTheProgramsOwnCalls) {
  const TracedRun run = RunTraced(GetParam(), {"quiet"}, "socket always = EMFILE");
  ASSERT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.out;
  EXPECT_EQ(run.said.at("query"), std::make_pair(0L, 0)) << run.out;
  EXPECT_EQ(run.said.at("begin"), std::make_pair(0L, 0));
  EXPECT_GE(run.said.at("quiet_socket").first, 0) << run.out;
  EXPECT_EQ(run.said.at("socket"), std::make_pair(-1L, EMFILE));
  ASSERT_EQ(All<Call::kSocket>(run.trace).size(), 1U) << run.trace;
  EXPECT_TRUE(First(run.trace, Call::kSocket)->injected);
}

// With arm_at_stdin_read, the plan and the trace start with the first data
// read from fd 0 (an adapter's first request), not before.
TEST_P(TracerProbe, ArmsAtTheFirstDataReadFromStdin) {
  for (const bool data : {true, false}) {
    SCOPED_TRACE(data ? "data" : "EOF");
    int in[2];
    ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
    if (data) {
      ASSERT_EQ(::write(in[1], "go\n", 3), 3);
    }
    ::close(in[1]);  // EOF after the data, or at once: read() = 0 arms nothing
    SyscallTracer::Options o;
    o.arm_at_stdin_read = true;
    o.stdin_fd = in[0];
    const TracedRun run = RunTraced(GetParam(), {"stdin"}, "socket always = EMFILE", std::move(o));
    ::close(in[0]);
    ASSERT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.out;
    EXPECT_GE(run.said.at("early_socket").first, 0) << run.out;
    EXPECT_EQ(run.said.at("read").first, data ? 3 : 0);
    if (data) {
      EXPECT_EQ(run.said.at("socket"), std::make_pair(-1L, EMFILE)) << run.out;
      ASSERT_EQ(All<Call::kSocket>(run.trace).size(), 1U) << run.trace;
    } else {
      EXPECT_GE(run.said.at("socket").first, 0) << run.out;
      EXPECT_TRUE(run.trace.empty()) << run.trace;
    }
  }
}

// A plan polled at each stop (another process's, through netutil-trace)
// takes effect at once; a trace sink gets the entries instead of the trace.
TEST_P(TracerProbe, PolledPlanAndTraceSink) {
  SyscallTracer::Options o;
  bool given = false;
  o.poll_plan = [&given]() -> std::optional<fakes::FaultPlan> {
    if (std::exchange(given, true)) return std::nullopt;
    return Plan("bind = EADDRINUSE");
  };
  std::vector<std::string> sunk;
  o.trace_sink = [&sunk](fakes::TraceEntry&& e) { sunk.push_back(fakes::FormatTraceLine(e)); };
  const TracedRun run = RunTraced(GetParam(), {"net"}, "", std::move(o));
  EXPECT_EQ(run.said.at("bind"), std::make_pair(-1L, EADDRINUSE)) << run.out;
  EXPECT_TRUE(run.trace.empty());
  bool bind_seen = false;
  for (const std::string& line : sunk) bind_seen |= line.find("bind(") == 0;
  EXPECT_TRUE(bind_seen) << ::testing::PrintToString(sunk);
}

INSTANTIATE_TEST_SUITE_P(Tracer, TracerProbe, ::testing::Values(RAW_PROBE, RAW_PROBE_STATIC),
                         [](const auto& info) { return info.index == 0 ? "Dynamic" : "Static"; });

TEST(Tracer, MissingCommandFailsClearly) {
  SyscallTracer::Options o;
  o.argv = {"/nonexistent/netutil-no-such-command"};
  std::string error;
  const auto start = Clock::now();
  EXPECT_EQ(SyscallTracer::Start(std::move(o), &error), nullptr);
  EXPECT_NE(error.find("cannot execute '/nonexistent/netutil-no-such-command'"), std::string::npos)
      << error;
  EXPECT_NE(error.find(std::strerror(ENOENT)), std::string::npos) << error;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
}

TEST(Tracer, InvalidPlanIsRefused) {
  SyscallTracer::Options o;
  o.argv = {RAW_PROBE, "exit"};
  o.plan = fakes::FaultPlan({fakes::FaultRule::Fail(Call::kUmask, EINVAL)});
  std::string error;
  EXPECT_EQ(SyscallTracer::Start(std::move(o), &error), nullptr);
  EXPECT_EQ(error.rfind("fault plan: umask", 0), 0U) << error;
}

TEST(Tracer, EmptyCommandIsRefused) {
  std::string error;
  EXPECT_EQ(SyscallTracer::Start(SyscallTracer::Options{}, &error), nullptr);
  EXPECT_EQ(error, "no command to run");
}

// A program that ignores everything and exits: its status comes back; only
// the C library's start-up calls were seen (static glibc reads
// /proc/self/exe), none of the socket calls.
TEST(Tracer, CommandThatExitsAtOnce) {
  const TracedRun run = RunTraced(RAW_PROBE_STATIC, {"exit"});
  ASSERT_TRUE(WIFEXITED(run.status)) << run.status;
  EXPECT_EQ(WEXITSTATUS(run.status), 3);
  for (const auto& e : run.trace.entries()) {
    EXPECT_EQ(e.call(), Call::kReadlinkat) << run.trace;
  }
}

TEST(Tracer, StopOnASleepingTraceeIsPrompt) {
  SyscallTracer::Options o;
  o.argv = {RAW_PROBE, "sleep"};
  std::string error;
  auto tracer = SyscallTracer::Start(std::move(o), &error);
  ASSERT_NE(tracer, nullptr) << error;
  EXPECT_FALSE(tracer->Wait(std::chrono::milliseconds(100)).has_value());
  const auto start = Clock::now();
  const int status = tracer->Stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_EQ(tracer->Stop(), status);  // idempotent
}

// Gone, or a zombie its new parent has yet to reap: either way not running.
bool Ended(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  if (!(stat >> pid_field >> comm >> state)) return true;
  return state == "Z" || state == "X";
}

// Stop kills what the command started too, even a child in its own session.
TEST(Tracer, StopKillsTheWholeTree) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  SyscallTracer::Options o;
  o.argv = {RAW_PROBE, "tree"};
  o.stdout_fd = pipe_fds[1];
  std::string error;
  auto tracer = SyscallTracer::Start(std::move(o), &error);
  ::close(pipe_fds[1]);
  ASSERT_NE(tracer, nullptr) << error;
  std::string out;
  const auto deadline = Clock::now() + std::chrono::seconds(4);
  while (out.find('\n') == std::string::npos && Clock::now() < deadline) {
    char buf[256];
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  const auto child = static_cast<pid_t>(Parse(out)["child"].first);
  ASSERT_GT(child, 0) << out;
  const auto start = Clock::now();
  tracer->Stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(Ended(child)) << child;
}

TEST(Tracer, CommandKilledFromOutside) {
  SyscallTracer::Options o;
  o.argv = {RAW_PROBE, "sleep"};
  std::string error;
  auto tracer = SyscallTracer::Start(std::move(o), &error);
  ASSERT_NE(tracer, nullptr) << error;
  ASSERT_GT(tracer->pid(), 0);
  ASSERT_EQ(::kill(tracer->pid(), SIGKILL), 0);
  const std::optional<int> status = tracer->Wait(std::chrono::seconds(2));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << *status;
  EXPECT_EQ(tracer->Stop(), *status);
}

size_t OpenFds() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) n += !e.path().empty();
  return n;
}

// The tracer leaves nothing behind in the process that uses it: no fd, and
// no child (the failed start included).
TEST(Tracer, LeavesNoFdOrChildBehind) {
  const size_t before = OpenFds();
  (void)RunTraced(RAW_PROBE, {"net"});
  SyscallTracer::Options o;
  o.argv = {"/nonexistent/netutil-no-such-command"};
  std::string error;
  EXPECT_EQ(SyscallTracer::Start(std::move(o), &error), nullptr);
  EXPECT_EQ(OpenFds(), before);
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

// Without the tracer the quiet marker is an unknown prctl: EINVAL, no effect.
TEST(Tracer, QuietMarkerIsHarmlessUntraced) {
  FILE* p = ::popen((std::string(RAW_PROBE) + " quiet").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  ASSERT_EQ(::pclose(p), 0) << out;
  const auto said = Parse(out);
  EXPECT_EQ(said.at("query"), std::make_pair(-1L, EINVAL)) << out;
  EXPECT_GE(said.at("socket").first, 0) << out;
}

TEST(Tracer, PlanChangesWhileRunning) {
  SyscallTracer::Options o;
  o.argv = {RAW_PROBE, "sleep"};
  std::string error;
  auto tracer = SyscallTracer::Start(std::move(o), &error);
  ASSERT_NE(tracer, nullptr) << error;
  tracer->SetPlan(Plan("bind = EACCES"));
  EXPECT_THROW(tracer->SetPlan(fakes::FaultPlan({fakes::FaultRule::Fail(Call::kUmask, EINVAL)})),
               std::invalid_argument);
  tracer->Stop();
}

}  // namespace
}  // namespace netutil::tracer
