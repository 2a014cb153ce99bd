// libnetfault.so under LD_PRELOAD, in child processes: netfault_probe (a C++
// program making the calls its arguments name) and /usr/bin/python3 snippets.
// Each test writes a control file, runs the child, and compares what the child
// saw (its stdout) with what the interposer traced (the control file).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.h"
#include "netfault_control.h"
#include "netutil/fakes/syscall_table.h"

namespace netutil::netfault {
namespace {

using std::chrono::milliseconds;

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, as the adapters use

// A child on pipes, with the interposer preloaded; `control` is the
// NETFAULT_CONTROL_FD=n or NETFAULT_CONTROL=path it gets, or empty (then it
// gets neither, whatever this process has).
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& control,
        const std::string& stderr_path) {
    tools::ChildSpec spec;
    spec.argv = argv;
    spec.extra_env = {std::string("LD_PRELOAD=") + NETFAULT_LIBRARY};
    if (!control.empty()) spec.extra_env.push_back(control);
    // The probe is an ASan build in the asan preset; the runtime must accept a
    // library preloaded before it.
    const char* asan = std::getenv("ASAN_OPTIONS");
    spec.extra_env.push_back(std::string("ASAN_OPTIONS=verify_asan_link_order=0") +
                             (asan != nullptr && *asan != '\0' ? std::string(":") + asan : ""));
    spec.unset_env = {"NETFAULT_CONTROL", "NETFAULT_CONTROL_FD"};
    spec.stderr_to = tools::ChildSpec::Stderr::kFile;
    spec.stderr_file = stderr_path;
    EXPECT_EQ(child_.Start(spec), "") << argv[0];
  }

  std::optional<std::string> ReadLine(milliseconds timeout = milliseconds(20000)) {
    return child_.ReadLine(timeout);
  }
  void WriteLine(const std::string& line) { EXPECT_TRUE(child_.WriteLine(line)); }
  // Closes stdin, reads the rest of stdout, waits; the exit status (-1 when
  // it had to be killed).
  int Finish(std::vector<std::string>* rest) {
    child_.CloseStdin();
    while (std::optional<std::string> l = ReadLine()) rest->push_back(*l);
    return child_.Stop(milliseconds(20000));
  }

 private:
  tools::ChildProcess child_;
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
    if (child_fd_ >= 0) ::close(child_fd_);
    control_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A sealed memfd, as netconform makes.
  ControlFile& Control(Config config = {}, Sizes sizes = {}) {
    std::string error;
    control_ = ControlFile::CreateSealed(config, sizes, &error);
    EXPECT_NE(control_, nullptr) << error;
    // Inherited by the children (the tests spawn from one thread).
    child_fd_ = ::fcntl(control_->fd(), F_DUPFD, 100);
    EXPECT_GE(child_fd_, 0);
    return *control_;
  }
  // A file at control_path_, as the benchmark makes.
  ControlFile& ControlAtPath(Config config = {}, Sizes sizes = {}) {
    std::string error;
    control_ = ControlFile::Create(control_path_, config, sizes, &error);
    EXPECT_NE(control_, nullptr) << error;
    return *control_;
  }
  // What the child gets: the memfd when there is one, else the path.
  std::string ControlEnv() const {
    if (child_fd_ >= 0) return "NETFAULT_CONTROL_FD=" + std::to_string(child_fd_);
    return "NETFAULT_CONTROL=" + control_path_;
  }

  // Runs the probe (or any argv) to the end; its stdout lines.
  std::vector<std::string> Run(std::vector<std::string> argv, bool with_control = true,
                               int* status = nullptr) {
    if (argv.empty() || argv[0] != kPython) argv.insert(argv.begin(), NETFAULT_PROBE);
    Child child(argv, with_control ? ControlEnv() : "", stderr_path_);
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
  int child_fd_ = -1;
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
              ControlEnv(), stderr_path_);
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
              ControlEnv(), stderr_path_);
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

// ---- the control region is untrusted -------------------------------------------

// The region through a mapping of its own, as a hostile traced process has it.
class Scribbler {
 public:
  explicit Scribbler(const ControlFile& ctl) {
    struct stat st {};
    EXPECT_EQ(::fstat(ctl.fd(), &st), 0);
    size_ = static_cast<size_t>(st.st_size);
    base_ =
        static_cast<char*>(::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, ctl.fd(), 0));
    EXPECT_NE(base_, MAP_FAILED);
  }
  ~Scribbler() { ::munmap(base_, size_); }
  template <typename T>
  void Put(size_t offset, T value) {
    std::memcpy(base_ + offset, &value, sizeof value);
  }
  template <typename T>
  T Get(size_t offset) const {
    T v;
    std::memcpy(&v, base_ + offset, sizeof v);
    return v;
  }
  void Random(uint64_t seed) {
    uint64_t x = 0x9e3779b97f4a7c15ull ^ seed;
    for (size_t i = 0; i + 8 <= size_; i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      Put(i, x);
    }
  }
  size_t size() const { return size_; }

 private:
  char* base_ = nullptr;
  size_t size_ = 0;
};

// Where the header keeps things (netfault_control.cc's PlainHeader + atomics).
constexpr size_t kTraceOffsetAt = 40;
constexpr size_t kFdsOffsetAt = 56;
constexpr size_t kGenerationAt = 72;
constexpr size_t kTraceUsedAt = 80;
constexpr size_t kOwnerAt = 88;
constexpr size_t kDroppedAt = 96;

TEST_F(Interposer, AFileRegionStillWorksForTrustedPrograms) {
  // The benchmark's way: NETFAULT_CONTROL=<path>.
  ControlAtPath(Plan("bind = EADDRINUSE\n"));
  ASSERT_EQ(ControlEnv(), "NETFAULT_CONTROL=" + control_path_);
  const std::vector<std::string> out = Run({"socket4", "bind4", "0"});
  ASSERT_EQ(out.size(), 2u) << Join(out);
  EXPECT_EQ(out[1], "bind=-1 EADDRINUSE");
  EXPECT_EQ(Count(Trace(), fakes::Call::kBind), 1u);
  EXPECT_EQ(Stderr(), "");
}

TEST_F(Interposer, ABadDescriptorNumberPassesThroughAndSaysWhy) {
  Child child({NETFAULT_PROBE, "socket4"}, "NETFAULT_CONTROL_FD=3x", stderr_path_);
  std::vector<std::string> out;
  EXPECT_EQ(child.Finish(&out), 0);
  EXPECT_EQ(Stderr(),
            "netfault: NETFAULT_CONTROL_FD=3x: not a descriptor number; passing every call "
            "through\n");
}

TEST_F(Interposer, SealedRegionCannotBeTruncatedByTheTracedProgram) {
  ControlFile& ctl = Control();
  const std::vector<std::string> out = Run({"truncate", "socket4", "close"});
  ASSERT_EQ(out.size(), 3u) << Join(out);
  // Shrinking would SIGBUS every mapping; growing is refused as well.
  EXPECT_EQ(out[0], "truncate=-1 EPERM -1 EPERM");
  std::string error;
  EXPECT_TRUE(ctl.Check(&error)) << error;
  const TraceSince t = Trace();
  EXPECT_EQ(t.corrupted, "");
  EXPECT_EQ(Count(t, fakes::Call::kSocket), 1u);
  // Nor can the runner lift the seals.
  EXPECT_EQ(::fcntl(ctl.fd(), F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
}

TEST_F(Interposer, AProgramThatScribblesTheRegionIsReportedNotTrusted) {
  ControlFile& ctl = Control();
  const std::vector<std::string> out = Run({"socket4", "close", "scribble", "7"});
  ASSERT_EQ(out.size(), 3u) << Join(out);
  EXPECT_EQ(out[2], "scribble=ok");
  std::string error;
  EXPECT_FALSE(ctl.Check(&error));
  EXPECT_EQ(error, "the header's magic was overwritten");
  EXPECT_NE(Trace().corrupted, "");
  std::string fds_error;
  ctl.OpenSockets(&fds_error);
  EXPECT_NE(fds_error.find("fd table: fd "), std::string::npos) << fds_error;
}

TEST_F(Interposer, RandomRegionsNeverCrashTheReaderAndAreReported) {
  Sizes small;
  small.trace_bytes = 1 << 16;
  ControlFile& ctl = Control({}, small);
  Scribbler s(ctl);
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    s.Random(seed);
    std::string error;
    EXPECT_FALSE(ctl.Check(&error)) << seed;
    EXPECT_FALSE(error.empty());
    // Marks as the runner keeps them, and one a random region suggests.
    for (const TraceMark& mark : {TraceMark{}, ctl.Mark()}) {
      const TraceSince t = ctl.ReadSince(mark, 100);
      EXPECT_LE(t.lines.size(), 100u);
      // Only what was read before the corruption came to light.
      if (t.corrupted.empty()) {
        EXPECT_LE(t.end.offset, small.trace_bytes);
      }
    }
    ctl.OpenSockets(&error);
  }
}

TEST_F(Interposer, EachCorruptionOfTheRegionIsNamed) {
  ControlFile& ctl = Control();
  Scribbler s(ctl);
  std::string error;
  ASSERT_TRUE(ctl.Check(&error)) << error;
  ASSERT_TRUE(ctl.Append(static_cast<uint16_t>(fakes::Call::kBind), "bind(3, 127.0.0.1:0) = 0"));
  ASSERT_TRUE(ctl.Check(&error)) << error;
  const uint64_t trace_at = s.Get<uint64_t>(kTraceOffsetAt);
  const uint64_t used = s.Get<uint64_t>(kTraceUsedAt);
  const TraceMark start{};

  auto expect_trace = [&](const std::string& want) {
    const TraceSince t = ctl.ReadSince(start);
    EXPECT_EQ(t.corrupted, want);
  };
  expect_trace("");

  // A record's call that is no call, a length past the end, a reserved field.
  s.Put<uint16_t>(trace_at + 4, 200);
  expect_trace("trace record at offset 0: call 200 is no call");
  s.Put<uint16_t>(trace_at + 4, static_cast<uint16_t>(fakes::Call::kBind));
  s.Put<uint32_t>(trace_at, 1u << 30);
  expect_trace("trace record at offset 0: its length 1073741824 runs past the trace's end (" +
               std::to_string(used) + ")");
  s.Put<uint32_t>(trace_at, 24);
  s.Put<uint16_t>(trace_at + 6, 1);
  expect_trace("trace record at offset 0: its reserved field is not 0");
  s.Put<uint16_t>(trace_at + 6, 0);
  expect_trace("");

  // The write offset: unaligned, or gone back.
  s.Put<uint64_t>(kTraceUsedAt, used + 3);
  EXPECT_FALSE(ctl.Check(&error));
  EXPECT_EQ(error, "the trace's write offset " + std::to_string(used + 3) + " is not aligned");
  s.Put<uint64_t>(kTraceUsedAt, 0);
  EXPECT_FALSE(ctl.Check(&error));
  EXPECT_EQ(error, "the trace's write offset went back from " + std::to_string(used) + " to 0");
  TraceMark later = start;
  later.offset = used;
  EXPECT_EQ(ctl.ReadSince(later).corrupted,
            "the trace's write offset went back from " + std::to_string(used) + " to 0");
  s.Put<uint64_t>(kTraceUsedAt, used);

  // Dropped counts: one of no call, one gone back.
  s.Put<uint64_t>(kDroppedAt + 8 * 31, 5);
  EXPECT_FALSE(ctl.Check(&error));
  EXPECT_EQ(error, "dropped count 31 (no such call) is 5");
  s.Put<uint64_t>(kDroppedAt + 8 * 31, 0);
  TraceMark counted = start;
  counted.dropped[static_cast<size_t>(fakes::Call::kBind)] = 9;
  EXPECT_EQ(ctl.ReadSince(counted).corrupted, "the dropped count of bind went back from 9 to 0");

  // The generation only netconform writes, and the header's layout.
  const uint64_t g = s.Get<uint64_t>(kGenerationAt);
  s.Put<uint64_t>(kGenerationAt, g + 2);
  EXPECT_FALSE(ctl.Check(&error));
  EXPECT_EQ(error, "the header's config generation is " + std::to_string(g + 2) +
                       ", netconform wrote " + std::to_string(g));
  s.Put<uint64_t>(kGenerationAt, g);
  const uint64_t fds_at = s.Get<uint64_t>(kFdsOffsetAt);
  s.Put<uint64_t>(kFdsOffsetAt, 1ull << 40);
  EXPECT_FALSE(ctl.Check(&error));
  EXPECT_EQ(error, "the header's fd table offset is 1099511627776, netconform wrote " +
                       std::to_string(fds_at));
  // Never followed: the table is read where netconform put it.
  EXPECT_EQ(ctl.OpenSockets(&error), std::vector<int>{});
  s.Put<uint64_t>(kFdsOffsetAt, fds_at);
  s.Put<int32_t>(kOwnerAt, -5);
  EXPECT_FALSE(ctl.Check(&error));
  EXPECT_EQ(error, "the owner pid is -5");
  s.Put<int32_t>(kOwnerAt, 0);

  // The fd table: a byte that is no kind.
  s.Put<uint8_t>(fds_at + 7, 1);
  s.Put<uint8_t>(fds_at + 9, 77);
  error.clear();
  EXPECT_EQ(ctl.OpenSockets(&error), std::vector<int>{7});
  EXPECT_EQ(error, "fd table: fd 9 holds 77 (not 0, 1 or 2)");
  s.Put<uint8_t>(fds_at + 9, 0);

  ASSERT_TRUE(ctl.Check(&error)) << error;
  // A line that is not UTF-8 reaches the report escaped, not as raw bytes.
  s.Put<uint8_t>(trace_at + 8, 0xff);
  const TraceSince t = ctl.ReadSince(start);
  ASSERT_EQ(t.lines.size(), 1u);
  EXPECT_EQ(t.lines[0].text.substr(0, 4), "\\xff");
}

TEST_F(Interposer, TheBoundOnLinesKeptStillCountsEveryCall) {
  ControlFile& ctl = Control();
  for (int i = 0; i < 10; ++i) ctl.Append(static_cast<uint16_t>(fakes::Call::kListen), "listen");
  const TraceSince t = ctl.ReadSince(TraceMark{}, 4);
  EXPECT_EQ(t.corrupted, "");
  EXPECT_EQ(t.lines.size(), 4u);
  EXPECT_EQ(t.unkept[static_cast<size_t>(fakes::Call::kListen)], 6u);
}

// ---- the fd table: copies, ranges ----------------------------------------------

TEST_F(Interposer, ACopyOfASocketIsASocket) {
  Control();
  const std::vector<std::string> out = Run({"socket4", "dup", "close", "dupfd", "close", "close"});
  ASSERT_EQ(out.size(), 6u) << Join(out);
  const std::string s = std::to_string(Fd(out[0]));
  const std::string d = std::to_string(Fd(out[1]));
  const std::string f = std::to_string(Fd(out[3]));
  EXPECT_EQ(Lines(Trace()), (std::vector<std::string>{
                                "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0) = " + s,
                                "close(" + d + ") = 0",
                                "close(" + f + ") = 0",
                                "close(" + s + ") = 0",
                            }));
  EXPECT_EQ(control_->OpenSockets(), std::vector<int>{});
}

TEST_F(Interposer, AFileDup2dOverASocketIsNoSocket) {
  // A fault for sockets' close must not hit the file now at that number.
  Control(Plan("close always = EIO\n"));
  const std::vector<std::string> out = Run({"socket4", "dup2file", "close"});
  ASSERT_EQ(out.size(), 3u) << Join(out);
  EXPECT_EQ(out[1], "dup2=ok");
  EXPECT_EQ(out[2], "close=0");
  EXPECT_EQ(Count(Trace(), fakes::Call::kClose), 0u);
}

TEST_F(Interposer, CloseRangeForgetsTheSocketsItCloses) {
  // The socket's number is reused by a file, whose close is not faulted.
  Control(Plan("close always = EIO\n"));
  const std::vector<std::string> out = Run({"socket4", "closerange", "0", "file"});
  ASSERT_EQ(out.size(), 3u) << Join(out);
  EXPECT_EQ(out[1], "close_range=0");
  EXPECT_EQ(out[2], "file=0");
  EXPECT_EQ(control_->OpenSockets(), std::vector<int>{});
}

TEST_F(Interposer, CloseRangeFlagsAndClosefrom) {
  struct Way {
    std::vector<std::string> args;
    bool second_open;  // whether the second socket stays a socket
  };
  for (const Way& w : {Way{{"closerange", "cloexec"}, true}, Way{{"closerange", "unshare"}, false},
                       Way{{"closefrom"}, false}}) {
    SCOPED_TRACE(w.args[0] + (w.args.size() > 1 ? " " + w.args[1] : ""));
    Control();
    std::vector<std::string> argv = {"socket4", "socket4"};
    argv.insert(argv.end(), w.args.begin(), w.args.end());
    const std::vector<std::string> out = Run(argv);
    ASSERT_EQ(out.size(), 3u) << Join(out);
    std::vector<int> want = {Fd(out[0])};
    if (w.second_open) want.push_back(Fd(out[1]));
    EXPECT_EQ(control_->OpenSockets(), want);
    ::close(child_fd_);
    child_fd_ = -1;
  }
}

TEST_F(Interposer, AVforkChildsClosesAreNotTheParents) {
  Control();
  const std::vector<std::string> out = Run({"socket4", "vfork", "socket4"});
  ASSERT_EQ(out.size(), 3u) << Join(out);
  EXPECT_EQ(out[1], "vfork=ok");
  EXPECT_EQ(control_->OpenSockets(), (std::vector<int>{Fd(out[0]), Fd(out[2])}));
}

// ---- the trace starts with the first request, however it is read ---------------

TEST_F(Interposer, TheTraceStartsWhenStdinIsReadThroughStdio) {
  for (const char* how :
       {"read", "fgets", "fgets_chk", "getline", "fread", "getc", "getc_unlocked", "cin"}) {
    SCOPED_TRACE(how);
    Config config;
    config.wait_for_stdin = true;
    ControlFile& ctl = Control(config);
    Child child(
        {NETFAULT_PROBE, "socket4", "close", "readwith", how, "socket4", "bind4", "0", "close"},
        ControlEnv(), stderr_path_);
    for (const char* want : {"socket=", "close=0", "readwith=ready"}) {
      const std::optional<std::string> l = child.ReadLine();
      ASSERT_TRUE(l);
      EXPECT_EQ(l->rfind(want, 0), 0u) << *l;
    }
    // Before the request: nothing traced.
    EXPECT_EQ(ctl.ReadSince(TraceMark{}).lines.size(), 0u);
    child.WriteLine("{\"op\":\"hello\"}");
    std::vector<std::string> rest;
    EXPECT_EQ(child.Finish(&rest), 0);
    ASSERT_EQ(rest.size(), 4u) << Join(rest);
    EXPECT_EQ(rest[0], "readwith=line");
    const TraceSince t = ctl.ReadSince(TraceMark{});
    EXPECT_EQ(Count(t, fakes::Call::kSocket), 1u) << Join(Lines(t));
    EXPECT_EQ(Count(t, fakes::Call::kBind), 1u);
    EXPECT_EQ(Count(t, fakes::Call::kClose), 1u);
    ::close(child_fd_);
    child_fd_ = -1;
  }
}

}  // namespace
}  // namespace netutil::netfault
