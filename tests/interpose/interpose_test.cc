// libnetfault.so under LD_PRELOAD, in child processes: netfault_probe (a C++
// program making the calls its arguments name) and /usr/bin/python3 snippets.
// Each test writes a control file, runs the child, and compares what the child
// saw (its stdout) with what the interposer traced (the control file).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "netfault_control.h"
#include "netutil/fakes/syscall_table.h"

extern char** environ;

namespace netutil::netfault {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, as the adapters use

// A child on pipes, with the interposer preloaded.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& control,
        const std::string& stderr_path) {
    std::vector<std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string v = *e;
      if (v.rfind("LD_PRELOAD=", 0) == 0 || v.rfind("NETFAULT_CONTROL=", 0) == 0 ||
          v.rfind("ASAN_OPTIONS=", 0) == 0) {
        continue;
      }
      vars.push_back(v);
    }
    vars.push_back(std::string("LD_PRELOAD=") + NETFAULT_LIBRARY);
    if (!control.empty()) vars.push_back("NETFAULT_CONTROL=" + control);
    // The probe is an ASan build in the asan preset; the runtime must accept a
    // library preloaded before it.
    const char* asan = std::getenv("ASAN_OPTIONS");
    vars.push_back(std::string("ASAN_OPTIONS=verify_asan_link_order=0") +
                   (asan != nullptr && *asan != '\0' ? std::string(":") + asan : ""));
    std::vector<char*> envp;
    for (std::string& v : vars) envp.push_back(v.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> cargv;
    for (std::string& a : args) cargv.push_back(a.data());
    cargv.push_back(nullptr);

    int in[2];
    int out[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err, 2);
    EXPECT_EQ(::posix_spawn(&pid_, cargv[0], &fa, nullptr, cargv.data(), envp.data()), 0)
        << argv[0];
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err);
    to_ = in[1];
    from_ = out[0];
  }
  ~Child() {
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  std::optional<std::string> ReadLine(milliseconds timeout = milliseconds(20000)) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      if (const size_t nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char b[4096];
      const ssize_t n = ::read(from_, b, sizeof b);
      if (n <= 0) return std::nullopt;
      buf_.append(b, static_cast<size_t>(n));
    }
  }
  void WriteLine(const std::string& line) {
    const std::string l = line + "\n";
    EXPECT_EQ(::write(to_, l.data(), l.size()), static_cast<ssize_t>(l.size()));
  }
  // Closes stdin, reads the rest of stdout, waits; the exit status.
  int Finish(std::vector<std::string>* rest) {
    ::close(to_);
    to_ = -1;
    while (std::optional<std::string> l = ReadLine()) rest->push_back(*l);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
  std::string buf_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const TraceSince& t) {
  std::vector<std::string> out;
  for (const TraceLine& l : t.lines) out.push_back(l.text);
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += x + "\n";
  return s;
}

size_t Count(const TraceSince& t, fakes::Call call) {
  size_t n = t.dropped[static_cast<size_t>(call)];
  for (const TraceLine& l : t.lines) n += l.call == static_cast<uint16_t>(call);
  return n;
}

// Configs by what they set (designated initializers would have to name every field).
Config Plan(std::string plan) {
  Config c;
  c.plan = std::move(plan);
  return c;
}
Config Resolver(const fakes::ResolverTable& table, std::string plan = "") {
  Config c = Plan(std::move(plan));
  c.resolver = PrintResolver(table);
  return c;
}
Config NoIpv6() {
  Config c;
  c.ipv6_missing = true;
  return c;
}

class Interposer : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/netfault-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    control_path_ = dir_ + "/netfault.ctl";
    stderr_path_ = dir_ + "/stderr";
  }
  void TearDown() override {
    control_.reset();
    std::filesystem::remove_all(dir_);
  }

  ControlFile& Control(Config config = {}, Sizes sizes = {}) {
    std::string error;
    control_ = ControlFile::Create(control_path_, config, sizes, &error);
    EXPECT_NE(control_, nullptr) << error;
    return *control_;
  }

  // Runs the probe (or any argv) to the end; its stdout lines.
  std::vector<std::string> Run(std::vector<std::string> argv, bool with_control = true,
                               int* status = nullptr) {
    if (argv.empty() || argv[0] != kPython) argv.insert(argv.begin(), NETFAULT_PROBE);
    Child child(argv, with_control ? control_path_ : "", stderr_path_);
    std::vector<std::string> out;
    const int st = child.Finish(&out);
    if (status != nullptr) {
      *status = st;
    } else {
      EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st << "\nstdout:\n"
                                                         << Join(out) << "stderr:\n"
                                                         << Stderr();
    }
    return out;
  }
  std::string Stderr() const { return ReadFile(stderr_path_); }
  TraceSince Trace() const { return control_->ReadSince(TraceMark{}); }

  // "socket=3" -> 3
  static int Fd(const std::string& line) {
    return std::atoi(line.substr(line.find('=') + 1).c_str());
  }

  std::string dir_;
  std::string control_path_;
  std::string stderr_path_;
  std::unique_ptr<ControlFile> control_;
};

TEST_F(Interposer, PassThroughWithoutControl) {
  const std::vector<std::string> out =
      Run({"socket4", "bind4", "0", "listen", "5", "name", "close", "accept", "epoll"}, false);
  ASSERT_EQ(out.size(), 7u) << Join(out);
  EXPECT_EQ(out[1], "bind=0");
  EXPECT_EQ(out[2], "listen=0");
  EXPECT_NE(out[3], "getsockname=0");
  EXPECT_EQ(out[4], "close=0");
  EXPECT_NE(out[5].find("peer ok"), std::string::npos) << out[5];
  EXPECT_EQ(out[6], "epoll_wait=1 data ok");
  EXPECT_EQ(Stderr(), "");
}

TEST_F(Interposer, BindFaultGivesItsErrnoAndIsTracedAsInjected) {
  Control(Plan("bind = EADDRINUSE\n"));
  const std::vector<std::string> out = Run({"socket4", "bind4", "0", "close"});
  ASSERT_EQ(out.size(), 3u) << Join(out);
  EXPECT_EQ(out[1], "bind=-1 EADDRINUSE");
  const int fd = Fd(out[0]);
  const std::string s = std::to_string(fd);
  EXPECT_EQ(Lines(Trace()), (std::vector<std::string>{
                                "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0) = " + s,
                                "bind(" + s + ", 127.0.0.1:0) = -1 EADDRINUSE (injected)",
                                "close(" + s + ") = 0",
                            }));
  EXPECT_EQ(Stderr(), "");
}

TEST_F(Interposer, RulesCountMatchingCallsFromOne) {
  Control(Plan("bind #2 = EACCES\nsocket family=inet6 always = EAFNOSUPPORT\n"));
  const std::vector<std::string> out =
      Run({"socket4", "bind4", "0", "socket4", "bind4", "0", "socket6", "socket4", "bind4", "0"});
  ASSERT_EQ(out.size(), 7u) << Join(out);
  EXPECT_EQ(out[1], "bind=0");
  EXPECT_EQ(out[3], "bind=-1 EACCES");
  EXPECT_EQ(out[4], "socket=-1 EAFNOSUPPORT");  // an IPv6 socket counts for its own rule only
  EXPECT_EQ(out[6], "bind=0");
  const TraceSince t = Trace();
  EXPECT_EQ(Count(t, fakes::Call::kBind), 3u);
  EXPECT_EQ(Count(t, fakes::Call::kSocket), 4u);
}

TEST_F(Interposer, AnyErrnoIsInjectedNotOnlyTheManPagesOnes) {
  // listen(2) does not list ENOBUFS; netconform's catalog scripts it anyway.
  Control(Plan("listen = ENOBUFS\n"));
  const std::vector<std::string> out = Run({"socket4", "bind4", "0", "listen", "5"});
  ASSERT_EQ(out.size(), 3u) << Join(out);
  EXPECT_EQ(out[2], "listen=-1 E" + std::to_string(ENOBUFS));
  EXPECT_EQ(Stderr(), "");
}

TEST_F(Interposer, ResolverOverrideAnswersAMadeUpName) {
  fakes::ResolverTable table;
  table.Set("made-up.netfault.test",
            {*SockAddr::FromIp("192.0.2.7", 0), *SockAddr::FromIp("2001:db8::7", 0)});
  table.Fail("flaky.netfault.test", EAI_AGAIN);
  Control(Resolver(table));
  const std::vector<std::string> out =
      Run({"gai", "made-up.netfault.test", "80", "gai", "flaky.netfault.test", "80"});
  ASSERT_EQ(out.size(), 2u) << Join(out);
  EXPECT_EQ(out[0], "gai=ok 192.0.2.7:80 2001:db8::7:80");
  EXPECT_EQ(out[1], "gai=EAI " + std::to_string(EAI_AGAIN));
  EXPECT_EQ(Lines(Trace()),
            (std::vector<std::string>{
                "getaddrinfo(\"made-up.netfault.test\", \"80\", AF_UNSPEC, SOCK_STREAM, 0, 0) = "
                "[192.0.2.7:80, [2001:db8::7]:80] (injected)",
                "getaddrinfo(\"flaky.netfault.test\", \"80\", AF_UNSPEC, SOCK_STREAM, 0, 0) = "
                "EAI_AGAIN (injected)",
            }));
}

TEST_F(Interposer, PythonSeesTheResolverOverrideAndTheFaults) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is not installed";
  fakes::ResolverTable table;
  table.Set("made-up.netfault.test", {*SockAddr::FromIp("192.0.2.7", 0)});
  Control(Resolver(table, "bind = EADDRINUSE\n"));
  // socket.getaddrinfo on the main thread, asyncio's in its executor thread.
  const std::vector<std::string> out = Run({kPython, "-c", R"(
import asyncio, socket
print(sorted({a[4][0] for a in socket.getaddrinfo('made-up.netfault.test', 80)}))
async def main():
    infos = await asyncio.get_running_loop().getaddrinfo('made-up.netfault.test', 81)
    print(sorted({(a[4][0], a[4][1]) for a in infos}))
asyncio.run(main())
s = socket.socket()
try:
    s.bind(('127.0.0.1', 0))
    print('bound')
except OSError as e:
    print('bind failed', e.errno)
s.close()
)"});
  ASSERT_EQ(out.size(), 3u) << Join(out) << Stderr();
  EXPECT_EQ(out[0], "['192.0.2.7']");
  EXPECT_EQ(out[1], "[('192.0.2.7', 81)]");
  EXPECT_EQ(out[2], "bind failed " + std::to_string(EADDRINUSE));
  const std::string trace = Join(Lines(Trace()));
  EXPECT_NE(trace.find("getaddrinfo(\"made-up.netfault.test\", \"80\""), std::string::npos)
      << trace;
  EXPECT_NE(trace.find("getaddrinfo(\"made-up.netfault.test\", \"81\""), std::string::npos)
      << trace;
  EXPECT_NE(trace.find("127.0.0.1:0) = -1 EADDRINUSE (injected)"), std::string::npos) << trace;
}

TEST_F(Interposer, Ipv6MissingFailsInet6Sockets) {
  Control(NoIpv6());
  const std::vector<std::string> out = Run({"socket6", "socket4", "close"});
  ASSERT_EQ(out.size(), 3u) << Join(out);
  EXPECT_EQ(out[0], "socket=-1 EAFNOSUPPORT");
  EXPECT_EQ(out[2], "close=0");
  const std::vector<std::string> lines = Lines(Trace());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, 0) = -1 EAFNOSUPPORT (injected)");
}

TEST_F(Interposer, TraceHasOneLinePerCallWithItsArgumentsAndAnswer) {
  Control();
  const std::vector<std::string> out =
      Run({"socket4", "reuse", "bind4", "0", "listen", "7", "name", "close", "file"});
  ASSERT_EQ(out.size(), 7u) << Join(out);
  const std::string s = std::to_string(Fd(out[0]));
  const std::string port = out[4].substr(out[4].find('=') + 1);
  // The file's close is not a socket's: not traced.
  EXPECT_EQ(Lines(Trace()), (std::vector<std::string>{
                                "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0) = " + s,
                                "setsockopt(" + s + ", SOL_SOCKET, SO_REUSEADDR, 1) = 0",
                                "bind(" + s + ", 127.0.0.1:0) = 0",
                                "listen(" + s + ", 7) = 0",
                                "getsockname(" + s + ") = 127.0.0.1:" + port,
                                "close(" + s + ") = 0",
                            }));
  const TraceSince t = Trace();
  EXPECT_EQ(Count(t, fakes::Call::kClose), 1u);
  EXPECT_EQ(Count(t, fakes::Call::kAccept4), 0u);
}

TEST_F(Interposer, AcceptAndEpollKeepTheCallersBuffers) {
  Control();
  const std::vector<std::string> out = Run({"accept", "epoll"});
  ASSERT_EQ(out.size(), 2u) << Join(out);
  EXPECT_NE(out[0].find("peer ok"), std::string::npos) << out[0];
  EXPECT_EQ(out[1], "epoll_wait=1 data ok");
  const TraceSince t = Trace();
  EXPECT_EQ(Count(t, fakes::Call::kAccept4), 1u);
  EXPECT_EQ(Count(t, fakes::Call::kEpollCreate1), 1u);
  EXPECT_EQ(Count(t, fakes::Call::kEpollCtl), 1u);
  EXPECT_EQ(Count(t, fakes::Call::kEpollWait), 1u);
  // accept: listener, client, accepted; epoll: listener, client, the epoll fd.
  EXPECT_EQ(Count(t, fakes::Call::kClose), 6u);
}

TEST_F(Interposer, AFullTraceAreaStillCountsEveryCall) {
  Sizes small;
  small.trace_bytes = 4096;
  Control({}, small);
  const std::vector<std::string> out = Run({"threads", "4", "100"});
  ASSERT_EQ(out, (std::vector<std::string>{"threads=0 errors"}));
  const TraceSince t = Trace();
  EXPECT_EQ(Count(t, fakes::Call::kSocket), 400u);
  EXPECT_EQ(Count(t, fakes::Call::kClose), 400u);
  EXPECT_GT(control_->DroppedTotal(), 0u);
  EXPECT_LT(t.lines.size(), 800u);
}

TEST_F(Interposer, ThreadsShareOneInjector) {
  Control(Plan("socket #1 x10 = EMFILE\n"));
  const std::vector<std::string> out = Run({"threads", "4", "250"});
  ASSERT_EQ(out, (std::vector<std::string>{"threads=10 errors"}));
  const TraceSince t = Trace();
  EXPECT_EQ(Count(t, fakes::Call::kSocket), 1000u);
  EXPECT_EQ(Count(t, fakes::Call::kClose), 990u);
  EXPECT_EQ(control_->DroppedTotal(), 0u);
}

TEST_F(Interposer, GarbledControlFilePassesThroughAndSaysWhy) {
  std::ofstream(control_path_) << std::string(8192, 'x');
  const std::vector<std::string> out = Run({"socket4", "bind4", "0", "close"});
  ASSERT_EQ(out.size(), 3u) << Join(out);
  EXPECT_EQ(out[1], "bind=0");
  const std::string err = Stderr();
  EXPECT_EQ(err, "netfault: NETFAULT_CONTROL=" + control_path_ +
                     ": bad magic (not a netfault control file); passing every call through\n");
}

TEST_F(Interposer, MissingControlFilePassesThroughAndSaysWhy) {
  const std::vector<std::string> out = Run({"socket4", "close"});
  ASSERT_EQ(out.size(), 2u) << Join(out);
  EXPECT_EQ(out[1], "close=0");
  EXPECT_EQ(Stderr(), "netfault: NETFAULT_CONTROL=" + control_path_ +
                          ": open: ENOENT; passing every call through\n");
}

TEST_F(Interposer, TracksTheSocketsLeftOpen) {
  ControlFile& ctl = Control();
  Child child({NETFAULT_PROBE, "socket4", "socket4", "socket4", "close", "file", "accept", "wait"},
              control_path_, stderr_path_);
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    std::optional<std::string> l = child.ReadLine();
    ASSERT_TRUE(l);
    fds.push_back(Fd(*l));
  }
  for (const char* want : {"close=0", "file=0"}) EXPECT_EQ(child.ReadLine(), want);
  ASSERT_TRUE(child.ReadLine());  // accept4=...: its three sockets are closed again
  ASSERT_EQ(child.ReadLine(), "wait=ready");
  EXPECT_EQ(ctl.OpenSockets(), (std::vector<int>{fds[0], fds[1]}));
  EXPECT_GT(ctl.owner(), 0);
  std::vector<std::string> rest;
  child.Finish(&rest);
}

TEST_F(Interposer, ANewPlanRestartsTheCounts) {
  ControlFile& ctl = Control(Plan("bind = EACCES\n"));
  Child child({NETFAULT_PROBE, "socket4", "bind4", "0", "bind4", "0", "wait", "socket4", "bind4",
               "0", "wait", "bind4", "0"},
              control_path_, stderr_path_);
  for (const char* want : {"bind=-1 EACCES", "bind=0", "wait=ready"}) {
    std::optional<std::string> l = child.ReadLine();
    if (l && l->rfind("socket=", 0) == 0) l = child.ReadLine();
    EXPECT_EQ(l, want);
  }
  std::string error;
  ASSERT_TRUE(ctl.WriteConfig(Plan("bind = EADDRINUSE\n"), &error)) << error;
  child.WriteLine("");
  for (const char* want : {"bind=-1 EADDRINUSE", "wait=ready"}) {
    std::optional<std::string> l = child.ReadLine();
    if (l && l->rfind("socket=", 0) == 0) l = child.ReadLine();
    EXPECT_EQ(l, want);
  }
  ASSERT_TRUE(ctl.WriteConfig({}, &error)) << error;
  child.WriteLine("");
  std::vector<std::string> rest;
  EXPECT_EQ(child.Finish(&rest), 0);
  EXPECT_EQ(rest, (std::vector<std::string>{"bind=0"}));
}

TEST_F(Interposer, AForkedChildPassesThrough) {
  Control(Plan("socket always = EMFILE\n"));
  // The child's socket succeeds (no plan there); the parent's next one fails.
  const std::vector<std::string> out = Run({"fork", "socket4"});
  ASSERT_EQ(out, (std::vector<std::string>{"fork=ok", "socket=-1 EMFILE"}));
  const TraceSince t = Trace();
  EXPECT_EQ(Count(t, fakes::Call::kSocket), 1u);
}

}  // namespace
}  // namespace netutil::netfault
