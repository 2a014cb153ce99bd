// bind_unix_socket on a real filesystem, each test in a fresh temp directory:
// stale sockets, live listeners, regular files, symlinks, modes and umask,
// abstract names.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "integration_util.h"
#include "netns_sandbox.h"
#include "netutil/bind_unix_socket.h"
#include "netutil/posix_sys.h"

namespace netutil::integration {
namespace {

using namespace std::chrono_literals;

// A unix stream socket bound at `path`, listening or not. Invalid on failure.
ScopedFd RawUnixSocket(const std::string& path, bool listening, int backlog = 8) {
  ScopedFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto addr = SockAddr::Unix(path);
  if (!s.valid() || !addr || ::bind(s.get(), addr->data(), addr->len()) != 0) return ScopedFd();
  if (listening && ::listen(s.get(), backlog) != 0) return ScopedFd();
  return s;
}

// Leaves a socket file nobody listens on (a crashed server's leftover).
// Created under umask 0, so its mode is 0777.
void MakeStaleSocket(const std::string& path) {
  ScopedUmask open_mask(0);
  ScopedFd s = RawUnixSocket(path, /*listening=*/false);
  ASSERT_TRUE(s.valid()) << "bind " << path << ": " << Errno(errno);
}

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << Errno(errno);
  return st;
}

// Inode numbers are reused at once after an unlink (ext4 does), so "the same
// file" is the inode plus its change time, to the nanosecond.
struct FileIdentity {
  ino_t ino;
  long long ctime_ns;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

FileIdentity Identity(const std::string& path) {
  const struct stat st = Lstat(path);
  return {st.st_ino, st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec};
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A client connection to `path` that the listener `l` accepts.
void ExpectAcceptsAConnection(const std::string& path, int listen_fd) {
  int err = 0;
  ScopedFd client = ConnectTcp(*SockAddr::Unix(path), /*nonblocking=*/false, &err);
  ASSERT_TRUE(client.valid()) << "connect " << path << ": " << Errno(err);
  EXPECT_TRUE(AcceptWithin(listen_fd, 2s).valid()) << "nothing to accept on " << path;
}

TEST(UnixSocketIntegration, UNIX_003_StaleSocketFileIsReplaced) {
  TempDir dir;
  const std::string path = dir.Join("stale.sock");
  MakeStaleSocket(path);
  const FileIdentity stale = Identity(path);
  int err = 0;
  ASSERT_FALSE(ConnectTcp(*SockAddr::Unix(path), false, &err).valid());
  ASSERT_EQ(err, ECONNREFUSED) << "precondition: nobody listens on " << path;
  PosixSys sys;
  auto r = bind_unix_socket(sys, {.path = path});
  IT_ASSERT_OK(r);
  const struct stat st = Lstat(path);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u) << "the stale 0777 socket must be replaced";
  EXPECT_FALSE(Identity(path) == stale) << "the stale file must be replaced by a new socket";
  EXPECT_EQ(GetIntOption(r.value().fd.get(), SOL_SOCKET, SO_ACCEPTCONN), 1);
  ExpectAcceptsAConnection(path, r.value().fd.get());
}

// Tornado unlinks a live listener of another process; the reference must not.
TEST(UnixSocketIntegration, UNIX_008_LiveListenerOfAnotherProcessIsNotReplaced) {
  TempDir dir;
  const std::string path = dir.Join("live.sock");
  int ready[2], stop[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(stop, O_CLOEXEC), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0) << Errno(errno);
  if (pid == 0) {
    // The other server: listen, say so, answer every client with 'c' until
    // told to stop (or 20 s pass).
    ::close(ready[0]);
    ::close(stop[1]);
    ::alarm(20);
    ScopedFd s = RawUnixSocket(path, /*listening=*/true);
    char c = s.valid() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    while (s.valid()) {
      pollfd p[2] = {{s.get(), POLLIN, 0}, {stop[0], POLLIN, 0}};
      if (::poll(p, 2, -1) < 0 || p[1].revents != 0) break;
      ScopedFd conn(::accept4(s.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn.valid()) (void)::send(conn.get(), "c", 1, MSG_NOSIGNAL);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(stop[0]);
  char c = 0;
  const bool listening = ::read(ready[0], &c, 1) == 1 && c == 'y';
  ::close(ready[0]);

  if (listening) {
    const FileIdentity live = Identity(path);
    const int fds_before = CountOpenFds();
    PosixSys sys;
    auto r = bind_unix_socket(sys, {.path = path});
    EXPECT_FALSE(r.ok());
    if (!r.ok()) {
      EXPECT_EQ(r.error().kind, Error::Kind::kOs);
      EXPECT_EQ(r.error().code, EADDRINUSE) << r.error();
      EXPECT_NE(r.error().ToString().find(path), std::string::npos) << r.error();
    }
    EXPECT_TRUE(Exists(path) && Identity(path) == live) << "the live socket was replaced";
    EXPECT_EQ(CountOpenFds(), fds_before) << "UNIX-011";
    // The other process still gets its clients: it answers 'c'.
    int err = 0;
    ScopedFd client = ConnectTcp(*SockAddr::Unix(path), false, &err);
    ASSERT_TRUE(client.valid()) << Errno(err);
    char answer = 0;
    EXPECT_TRUE(WaitReadable(client.get(), 5s));
    EXPECT_EQ(::read(client.get(), &answer, 1), 1);
    EXPECT_EQ(answer, 'c') << "the client did not reach the other process";
  }
  ::close(stop[1]);  // the child reads EOF and exits
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(listening) << "the other process could not listen on " << path;
}

// The probe must not hang or misread a listener whose backlog is full: it is
// alive. Run in a forked child with a time limit, in case the probe blocks.
TEST(UnixSocketIntegration, UNIX_008_LiveListenerWithAFullBacklogIsNotReplaced) {
  SandboxOptions options;
  options.new_netns = false;
  options.timeout = 10s;
  RUN_IN_SANDBOX(options, [] {
    TempDir dir;
    const std::string path = dir.Join("full.sock");
    ScopedFd live = RawUnixSocket(path, /*listening=*/true, /*backlog=*/0);
    ASSERT_TRUE(live.valid()) << Errno(errno);
    // Fill the queue until a non-blocking connect finds it full.
    std::vector<ScopedFd> fillers;
    for (int i = 0; i < 16; ++i) {
      int err = 0;
      ScopedFd f = ConnectTcp(*SockAddr::Unix(path), /*nonblocking=*/true, &err);
      if (!f.valid()) {
        ASSERT_EQ(err, EAGAIN) << Errno(err);
        break;
      }
      fillers.push_back(std::move(f));
    }
    ASSERT_LT(fillers.size(), 16u) << "precondition: the backlog never filled";
    const FileIdentity before = Identity(path);
    PosixSys sys;
    auto r = bind_unix_socket(sys, {.path = path});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EADDRINUSE) << r.error();
    EXPECT_TRUE(Identity(path) == before) << "the live socket was replaced";
    // Drain one queued client; the listener behind the path is still the same.
    EXPECT_TRUE(AcceptWithin(live.get(), 1s).valid());
    ExpectAcceptsAConnection(path, live.get());
  });
}

TEST(UnixSocketIntegration, UNIX_008_LiveListenerInThisProcessIsNotReplaced) {
  TempDir dir;
  const std::string path = dir.Join("mine.sock");
  ScopedFd live = RawUnixSocket(path, /*listening=*/true);
  ASSERT_TRUE(live.valid()) << Errno(errno);
  PosixSys sys;
  auto r = bind_unix_socket(sys, {.path = path});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EADDRINUSE) << r.error();
  ExpectAcceptsAConnection(path, live.get());
}

TEST(UnixSocketIntegration, UNIX_004_UNIX_015_RegularFileIsAnErrorAndIsLeftUntouched) {
  TempDir dir;
  const std::string path = dir.Join("precious.txt");
  std::ofstream(path) << "do not delete\n";
  const FileIdentity before = Identity(path);
  ScopedUmask mask(027);
  const int fds_before = CountOpenFds();
  PosixSys sys;
  auto r = bind_unix_socket(sys, {.path = path});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().ToString().find(path), std::string::npos)
      << "the error names the path: " << r.error();
  EXPECT_EQ(ReadFile(path), "do not delete\n");
  EXPECT_TRUE(Identity(path) == before);
  EXPECT_TRUE(S_ISREG(Lstat(path).st_mode));
  EXPECT_EQ(CountOpenFds(), fds_before) << "UNIX-011";
  EXPECT_EQ(CurrentUmask(), 027u) << "UNIX-015 on failure";
}

TEST(UnixSocketIntegration, UNIX_009_SymlinkToAStaleSocketIsEloopAndNothingIsTouched) {
  TempDir dir;
  const std::string target = dir.Join("target.sock");
  const std::string link = dir.Join("link.sock");
  MakeStaleSocket(target);
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0) << Errno(errno);
  const FileIdentity target_before = Identity(target);
  const FileIdentity link_before = Identity(link);
  const int fds_before = CountOpenFds();
  PosixSys sys;
  auto r = bind_unix_socket(sys, {.path = link});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::kOs);
  EXPECT_EQ(r.error().code, ELOOP) << r.error();
  EXPECT_NE(r.error().ToString().find(link), std::string::npos) << r.error();
  ASSERT_TRUE(S_ISLNK(Lstat(link).st_mode)) << "the link was removed or replaced";
  EXPECT_TRUE(Identity(link) == link_before) << "the link was replaced";
  char buf[PATH_MAX] = {};
  ASSERT_GT(::readlink(link.c_str(), buf, sizeof buf - 1), 0);
  EXPECT_EQ(std::string(buf), target);
  EXPECT_TRUE(S_ISSOCK(Lstat(target).st_mode));
  EXPECT_TRUE(Identity(target) == target_before) << "the link's target was replaced";
  EXPECT_EQ(CountOpenFds(), fds_before) << "UNIX-011";
}

TEST(UnixSocketIntegration, UNIX_011_FailedBindLeavesNoFdAndNoFile) {
  TempDir dir;
  const std::string path = dir.Join("missing-dir/s.sock");
  const int fds_before = CountOpenFds();
  PosixSys sys;
  auto r = bind_unix_socket(sys, {.path = path});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ENOENT) << r.error();
  // The parent is opened before anything is bound (UNIX-017): that is where
  // the missing directory is found.
  EXPECT_EQ(r.error().step, "openat") << r.error();
  EXPECT_EQ(CountOpenFds(), fds_before);
  EXPECT_FALSE(Exists(path));
}

TEST(UnixSocketIntegration, UNIX_005_UNIX_010_UNIX_015_FinalModeIsTheRequestedModeUnderAnyUmask) {
  TempDir dir;
  PosixSys sys;
  int n = 0;
  for (mode_t umask_value : {mode_t{022}, mode_t{077}, mode_t{0}}) {
    for (mode_t mode : {mode_t{0600}, mode_t{0660}, mode_t{0666}, mode_t{0700}}) {
      SCOPED_TRACE(testing::Message()
                   << "umask 0" << std::oct << umask_value << ", mode 0" << mode);
      const std::string path = dir.Join("m" + std::to_string(n++) + ".sock");
      ScopedUmask mask(umask_value);
      auto r = bind_unix_socket(sys, {.path = path, .mode = mode});
      IT_ASSERT_OK(r);
      EXPECT_EQ(Lstat(path).st_mode & 07777, mode);
      EXPECT_EQ(CurrentUmask(), umask_value) << "UNIX-015";
    }
  }
  // The default is 0600.
  ScopedUmask mask(0);
  const std::string path = dir.Join("default.sock");
  auto r = bind_unix_socket(sys, {.path = path});
  IT_ASSERT_OK(r);
  EXPECT_EQ(Lstat(path).st_mode & 07777, 0600u);
}

// UNIX-010 made visible: with chmod neutralised (seccomp: it "succeeds" and
// does nothing), the file keeps the mode bind() created it with. Binding
// under the process umask (Tornado: 0755 under 022) would show here.
TEST(UnixSocketIntegration, UNIX_010_UNIX_015_SocketFileIsCreatedWithNoWiderModeThanRequested) {
  SandboxOptions options;
  options.new_netns = false;
  options.chmod_does_nothing = true;
  RUN_IN_SANDBOX(options, [] {
    TempDir dir;
    {  // precondition: chmod really does nothing here
      const std::string probe = dir.Join("probe");
      std::ofstream(probe) << "x";
      const mode_t before = Lstat(probe).st_mode & 07777;
      ASSERT_EQ(::chmod(probe.c_str(), before ^ 0070), 0);
      ASSERT_EQ(Lstat(probe).st_mode & 07777, before) << "chmod was not neutralised";
    }
    PosixSys sys;
    int n = 0;
    for (mode_t umask_value : {mode_t{022}, mode_t{0}}) {
      for (mode_t mode : {mode_t{0600}, mode_t{0660}, mode_t{0640}}) {
        SCOPED_TRACE(testing::Message()
                     << "umask 0" << std::oct << umask_value << ", mode 0" << mode);
        const std::string path = dir.Join("c" + std::to_string(n++) + ".sock");
        ScopedUmask mask(umask_value);
        auto r = bind_unix_socket(sys, {.path = path, .mode = mode});
        IT_ASSERT_OK(r);
        EXPECT_EQ(Lstat(path).st_mode & 07777, mode) << "the mode bind() created the file with";
        EXPECT_EQ(CurrentUmask(), umask_value) << "UNIX-015";
      }
    }
  });
}

TEST(UnixSocketIntegration, UNIX_007_AbstractNameBindsWithoutAFile) {
  SandboxOptions options;  // a network namespace: its own abstract socket names
  options.netns_required = false;
  RUN_IN_SANDBOX(options, [] {
    TempDir dir;
    ASSERT_EQ(::chdir(dir.path().c_str()), 0);
    const std::string name = std::string(1, '\0') + "netutil-it-" + std::to_string(::getpid());
    PosixSys sys;
    auto r = bind_unix_socket(sys, {.path = name});
    IT_ASSERT_OK(r);
    EXPECT_TRUE(r.value().addr.is_abstract_unix()) << r.value().addr;
    EXPECT_EQ(r.value().addr.unix_path(), name);
    ExpectAcceptsAConnection(name, r.value().fd.get());
    // No file anywhere we can see: not in the cwd, not under the name's text.
    EXPECT_FALSE(Exists(name.substr(1)));
    // An abstract name has no stale file to replace: a second bind is EADDRINUSE.
    auto again = bind_unix_socket(sys, {.path = name});
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, EADDRINUSE) << again.error();
  });
}

}  // namespace
}  // namespace netutil::integration
