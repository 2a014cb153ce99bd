// bind_unix_socket (UNIX-001 to UNIX-022). With HealthyKernel the fds are:
// 3 the listener, 4 "/", 5 "/run" (the parent), then the probe and the
// private directory in the order they are made.
#include "netutil/bind_unix_socket.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdio.h>  // RENAME_NOREPLACE
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <string>

#include "healthy_kernel.h"
#include "netutil/fakes/addr_builders.h"
#include "netutil/fakes/mock_sys.h"
#include "netutil/fakes/sys_matchers.h"
#include "test_helpers.h"

namespace netutil {
namespace {

using fakes::IsError;
using fakes::IsOk;
using fakes::IsOkAndHolds;
using fakes::MockSys;
using fakes::StatOf;
using ::testing::_;
using ::testing::AnyNumber;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::InSequence;
using ::testing::IsEmpty;
using ::testing::NiceMock;
using ::testing::Return;
using ::testing::Sequence;
using ::testing::StartsWith;
using ::testing::StrictMock;
using ::testing::Truly;
using unit::HealthyKernel;
using unit::kStreamFlags;
using unit::UnixAt;

constexpr auto kOs = Error::Kind::kOs;
constexpr auto kArgument = Error::Kind::kArgument;
const std::string kPath = "/run/app.sock";
const std::string kName = "app.sock";
const std::string kAbstract("\0app", 4);
constexpr int kParentFd = 5;
constexpr int kDirOpen = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr int kNoFollow = AT_SYMLINK_NOFOLLOW;
// The probe reaches the name through the parent's fd (UNIX-017).
const std::string kProbe = "/proc/self/fd/5/app.sock";
const std::string kPrivatePrefix = ".app.sock.netutil-";

SysResult<FileStat> Found(uint32_t type, uint32_t perm = 0644) { return {StatOf(type, perm)}; }
SysResult<FileStat> FoundIno(uint32_t type, uint64_t ino) {
  return {FileStat{type | 0644, 1, ino, 0}, 0};
}
SysResult<FileStat> DirOf(uint32_t perm, uint32_t uid) {
  return {FileStat{S_IFDIR | perm, 1, 7, uid}, 0};
}

// bind() through the private directory's fd: "/proc/self/fd/N/s".
auto InPrivateDir() {
  return Truly([](const SockAddr& a) {
    const std::string p = a.unix_path();
    return p.starts_with("/proc/self/fd/") && p.ends_with("/s");
  });
}

TEST(BindUnixSocket, UNIX_001_StreamSocketCloseOnExecNonBlocking) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // Atomic flags: no fcntl() window where the socket is inheritable or blocking.
  EXPECT_CALL(sys, socket(AF_UNIX, kStreamFlags, /*protocol=*/0));
  EXPECT_CALL(sys, fcntl).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}),
              IsOkAndHolds(Field("addr", &Listener::addr, UnixAt(kPath))));
}

TEST(BindUnixSocket, UNIX_016_FlagsAtomicOnSocketNoLaterCall) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  EXPECT_CALL(sys, fcntl).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_002_SetsReuseAddr) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEADDR, 1));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_002_ReuseAddrEnoprotooptIsIgnored) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // GNU Hurd has no SO_REUSEADDR for unix sockets (what Tornado ignores).
  EXPECT_CALL(sys, setsockopt(_, SOL_SOCKET, SO_REUSEADDR, 1))
      .WillOnce(Return(SysErr(ENOPROTOOPT)));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_002_ReuseAddrEinvalIsAnOsError) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, setsockopt(_, SOL_SOCKET, SO_REUSEADDR, 1)).WillOnce(Return(SysErr(EINVAL)));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}),
              IsError(kOs, EINVAL, "setsockopt(SO_REUSEADDR)"));
}

TEST(BindUnixSocket, UNIX_002_ReuseAddrOtherErrorIsOsError) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, setsockopt(_, SOL_SOCKET, SO_REUSEADDR, 1)).WillOnce(Return(SysErr(ENOMEM)));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}),
              IsError(kOs, ENOMEM, "setsockopt(SO_REUSEADDR)"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_003_StaleSocketIsRemovedBeforeBind) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  Sequence s;
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow))
      .InSequence(s)
      .WillOnce(Return(Found(S_IFSOCK)));
  // Nobody listens: the file is left over from a crash.
  EXPECT_CALL(sys, connect(_, UnixAt(kProbe))).InSequence(s).WillOnce(Return(SysErr(ECONNREFUSED)));
  // Removed as UNIX-019 says: moved aside, checked, unlinked there.
  EXPECT_CALL(sys, renameat2(kParentFd, kName, _, "stale", RENAME_NOREPLACE)).InSequence(s);
  EXPECT_CALL(sys, fstatat(_, "stale", kNoFollow)).InSequence(s).WillOnce(Return(Found(S_IFSOCK)));
  EXPECT_CALL(sys, unlinkat(_, "stale", 0)).InSequence(s);
  EXPECT_CALL(sys, bind(_, InPrivateDir())).InSequence(s);
  EXPECT_CALL(sys, renameat2(_, "s", kParentFd, kName, RENAME_NOREPLACE)).InSequence(s);
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_003_ProbeSocketIsClosed) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(Found(S_IFSOCK)));
  EXPECT_CALL(sys, fstatat(_, "stale", kNoFollow)).WillOnce(Return(Found(S_IFSOCK)));
  ASSERT_OK_AND_ASSIGN(auto listener, bind_unix_socket(sys, {.path = kPath}));
  // fd 3 is the listener, then the directories and the connect() probe:
  // only the listener is left.
  EXPECT_THAT(kernel.open_fds(), ElementsAre(listener.fd.get()));
}

TEST(BindUnixSocket, UNIX_003_StaleSocketVanishingBeforeUnlinkIsFine) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(Found(S_IFSOCK)));
  // Another process removed it first: the goal (no file) is reached anyway.
  EXPECT_CALL(sys, renameat2(kParentFd, kName, _, "stale", _)).WillOnce(Return(SysErr(ENOENT)));
  EXPECT_CALL(sys, unlinkat(_, "stale", _)).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_004_RegularFileIsErrorNamingPathAndKept) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(Found(S_IFREG)));
  EXPECT_CALL(sys, unlink).Times(0);  // a typo must never delete a file
  EXPECT_CALL(sys, unlinkat).Times(0);
  EXPECT_CALL(sys, renameat2).Times(0);
  EXPECT_CALL(sys, bind).Times(0);
  auto r = bind_unix_socket(sys, {.path = kPath});
  ASSERT_THAT(r, IsError(kArgument, EINVAL));
  EXPECT_THAT(r.error().message, HasSubstr(kPath));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_004_DirectoryIsErrorAndKept) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(Found(S_IFDIR, 0755)));
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_CALL(sys, unlinkat).Times(0);
  EXPECT_CALL(sys, renameat2).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kArgument, EINVAL));
}

TEST(BindUnixSocket, UNIX_005_DefaultModeIs0600) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fchmodat(_, "s", /*mode=*/0600, 0));
  EXPECT_CALL(sys, chmod).Times(0);  // never by path (UNIX-018)
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_005_RequestedModeIsApplied) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fchmodat(_, "s", /*mode=*/0660, 0));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath, .mode = 0660}), IsOk());
}

TEST(BindUnixSocket, UNIX_005_StickyAndSetgidBitsAreApplied) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // The umask around bind() covers 0777 only: these bits come from the chmod.
  EXPECT_CALL(sys, fchmodat(_, "s", /*mode=*/03660, 0));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath, .mode = 03660}), IsOk());
}

TEST(BindUnixSocket, UNIX_023_DefaultBacklogIs128) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // A literal, not kDefaultBacklog: the rule is the number (Tornado's _DEFAULT_BACKLOG).
  EXPECT_CALL(sys, listen(/*fd=*/3, /*backlog=*/128));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_006_ListensWithTheGivenBacklog) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, listen(/*fd=*/3, /*backlog=*/7));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath, .backlog = 7}), IsOk());
}

TEST(BindUnixSocket, UNIX_007_AbstractNameHasNoFileSteps) {
  StrictMock<MockSys> sys;  // no lstat, unlink, chmod or umask: there is no file
  {
    InSequence seq;
    EXPECT_CALL(sys, socket(AF_UNIX, kStreamFlags, 0)).WillOnce(Return(SysOk(3)));
    EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEADDR, 1)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, bind(/*fd=*/3, UnixAt(kAbstract))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, listen(/*fd=*/3, kDefaultBacklog)).WillOnce(Return(SysOk()));
  }
  ASSERT_OK_AND_ASSIGN(auto listener, bind_unix_socket(sys, {.path = kAbstract}));
  EXPECT_TRUE(listener.addr.is_abstract_unix());
  EXPECT_CALL(sys, close(/*fd=*/3));
}

TEST(BindUnixSocket, UNIX_008_LiveListenerIsNeverRemoved) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(Found(S_IFSOCK)));
  // The probe connects: another process serves this socket (Tornado would steal it).
  EXPECT_CALL(sys, connect(_, UnixAt(kProbe))).WillOnce(Return(SysOk()));
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_CALL(sys, renameat2).Times(0);
  EXPECT_CALL(sys, mkdirat).Times(0);
  EXPECT_CALL(sys, bind).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EADDRINUSE, "connect probe"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());  // the socket and the probe
}

TEST(BindUnixSocket, UNIX_008_FullBacklogCountsAsLive) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(Found(S_IFSOCK)));
  // A non-blocking connect to a unix listener with a full queue says EAGAIN.
  EXPECT_CALL(sys, connect).WillOnce(Return(SysErr(EAGAIN)));
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_CALL(sys, renameat2).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EADDRINUSE, "connect probe"));
}

TEST(BindUnixSocket, UNIX_008_UnclearProbeRemovesNothing) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(Found(S_IFSOCK)));
  // Only ECONNREFUSED proves the file stale; EACCES proves nothing.
  EXPECT_CALL(sys, connect).WillOnce(Return(SysErr(EACCES)));
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_CALL(sys, renameat2).Times(0);
  EXPECT_CALL(sys, bind).Times(0);
  EXPECT_FALSE(bind_unix_socket(sys, {.path = kPath}).ok());
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_009_SymlinkIsNeitherFollowedNorRemoved) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // An attacker's link could point at any socket (or file) of the system.
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(Found(S_IFLNK, 0777)));
  EXPECT_CALL(sys, stat).Times(0);
  EXPECT_CALL(sys, connect).Times(0);
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_CALL(sys, unlinkat).Times(0);
  EXPECT_CALL(sys, renameat2).Times(0);
  EXPECT_CALL(sys, bind).Times(0);
  auto r = bind_unix_socket(sys, {.path = kPath});
  ASSERT_THAT(r, IsError(kOs, ELOOP, "fstatat"));
  EXPECT_THAT(r.error().ToString(), HasSubstr(kPath));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_010_BindRunsUnderUmaskOfRequestedMode) {
  StrictMock<MockSys> sys;
  {
    // The exact script: the parent opened without following (UNIX-017), the
    // name inspected through it, a private directory made and checked
    // (UNIX-018), umask narrowed around bind inside it, then chmod and
    // listen there, then the move into place (UNIX-020) and the clean-up.
    InSequence seq;
    EXPECT_CALL(sys, socket(AF_UNIX, kStreamFlags, 0)).WillOnce(Return(SysOk(3)));
    EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEADDR, 1)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, fstatat(3, "", AT_EMPTY_PATH)).WillOnce(Return(Found(S_IFSOCK, 0777)));
    EXPECT_CALL(sys, openat(AT_FDCWD, "/", kDirOpen, 0)).WillOnce(Return(SysOk(4)));
    EXPECT_CALL(sys, openat(4, "run", kDirOpen, 0)).WillOnce(Return(SysOk(5)));
    EXPECT_CALL(sys, close(4)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, fstatat(5, kName, kNoFollow)).WillOnce(Return(SysErr<FileStat>(ENOENT)));
    EXPECT_CALL(sys, monotonic_now()).WillOnce(Return(std::chrono::nanoseconds(42)));
    EXPECT_CALL(sys, mkdirat(5, kPrivatePrefix + "42", 0700)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, openat(5, kPrivatePrefix + "42", kDirOpen, 0)).WillOnce(Return(SysOk(6)));
    EXPECT_CALL(sys, fstatat(6, "", AT_EMPTY_PATH)).WillOnce(Return(DirOf(0700, 0)));
    // 0600 requested: bind() creates the file under umask 0177, never 0755.
    EXPECT_CALL(sys, umask(/*mask=*/0177)).WillOnce(Return(static_cast<mode_t>(022)));
    EXPECT_CALL(sys, bind(/*fd=*/3, UnixAt("/proc/self/fd/6/s"))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, umask(/*mask=*/022)).WillOnce(Return(static_cast<mode_t>(0177)));
    EXPECT_CALL(sys, fchmodat(6, "s", /*mode=*/0600, 0)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, listen(/*fd=*/3, kDefaultBacklog)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, renameat2(6, "s", 5, kName, RENAME_NOREPLACE)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, close(6)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, unlinkat(5, kPrivatePrefix + "42", AT_REMOVEDIR)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, close(5)).WillOnce(Return(SysOk()));
  }
  ASSERT_OK_AND_ASSIGN(auto listener, bind_unix_socket(sys, {.path = kPath}));
  EXPECT_CALL(sys, close(/*fd=*/3));
}

TEST(BindUnixSocket, UNIX_010_UmaskLeavesOnlyTheRequestedBits) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, umask(_)).Times(AnyNumber());
  EXPECT_CALL(sys, umask(/*mask=*/027));  // mode 0750
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath, .mode = 0750}), IsOk());
}

TEST(BindUnixSocket, UNIX_011_ListenFailureRemovesFileAndClosesSocket) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, listen).WillOnce(Return(SysErr(EOPNOTSUPP)));
  // A leftover file would later be taken for a stale socket. It never
  // reached the path: removed from the private directory.
  EXPECT_CALL(sys, unlinkat(_, "s", 0));
  EXPECT_CALL(sys, renameat2).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EOPNOTSUPP, "listen"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_011_ChmodFailureRemovesFileAndClosesSocket) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fchmodat).WillOnce(Return(SysErr(EPERM)));
  EXPECT_CALL(sys, unlinkat(_, "s", 0));
  EXPECT_CALL(sys, unlinkat(kParentFd, StartsWith(kPrivatePrefix), AT_REMOVEDIR));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EPERM, "chmod"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_011_BindFailureRemovesNoFileOfOthers) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // bind() lost a race: the file at the path is someone else's, not ours.
  EXPECT_CALL(sys, bind).WillOnce(Return(SysErr(EADDRINUSE)));
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_CALL(sys, unlinkat(_, "s", _)).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EADDRINUSE, "bind"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_011_FstatatFailureClosesSocketAndDirectories) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(SysErr<FileStat>(EACCES)));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EACCES, "fstatat"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_011_ParentOpenFailureClosesSocket) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, openat(_, "run", _, _)).WillOnce(Return(SysErr(ENOENT)));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, ENOENT, "openat"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_011_AbstractListenFailureClosesSocket) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, listen).WillOnce(Return(SysErr(EOPNOTSUPP)));
  EXPECT_CALL(sys, unlink).Times(0);  // an abstract name has no file to remove
  EXPECT_THAT(bind_unix_socket(sys, {.path = kAbstract}), IsError(kOs, EOPNOTSUPP, "listen"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_012_EmptyPathIsArgumentError) {
  StrictMock<MockSys> sys;  // any syscall fails the test
  EXPECT_THAT(bind_unix_socket(sys, {.path = ""}), IsError(kArgument, EINVAL));
}

TEST(BindUnixSocket, UNIX_012_PathWithNulIsArgumentError) {
  StrictMock<MockSys> sys;
  // The kernel would stop at the NUL and bind /run/app.
  EXPECT_THAT(bind_unix_socket(sys, {.path = std::string("/run/app\0.sock", 14)}),
              IsError(kArgument, EINVAL));
}

TEST(BindUnixSocket, UNIX_012_PathLongerThanSunPathIsArgumentError) {
  StrictMock<MockSys> sys;
  const std::string path = "/" + std::string(sizeof(sockaddr_un::sun_path), 'a');
  EXPECT_THAT(bind_unix_socket(sys, {.path = path}), IsError(kArgument, EINVAL));
}

TEST(BindUnixSocket, UNIX_012_PathFillingSunPathIsAccepted) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // Exactly sizeof(sun_path) bytes fit (Linux takes a path without its NUL).
  const std::string path = "/" + std::string(sizeof(sockaddr_un::sun_path) - 1, 'a');
  EXPECT_THAT(bind_unix_socket(sys, {.path = path}), IsOk());
}

TEST(BindUnixSocket, UNIX_012_AbstractNameMayContainNul) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // Abstract names are byte strings: the NUL rule is for paths.
  EXPECT_THAT(bind_unix_socket(sys, {.path = std::string("\0a\0b", 4)}), IsOk());
}

TEST(BindUnixSocket, UNIX_013_ModeAbove07777IsArgumentError) {
  StrictMock<MockSys> sys;
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath, .mode = 010000}),
              IsError(kArgument, EINVAL, "mode"));
}

TEST(BindUnixSocket, UNIX_013_NegativeBacklogIsArgumentError) {
  StrictMock<MockSys> sys;
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath, .backlog = -1}),
              IsError(kArgument, EINVAL, "backlog"));
}

TEST(BindUnixSocket, UNIX_013_Mode07777IsAccepted) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fchmodat(_, "s", /*mode=*/07777, 0));  // setuid, setgid, sticky: chmod's job
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath, .mode = 07777}), IsOk());
}

TEST(BindUnixSocket, UNIX_014_InterruptedCallsAreRetried) {
  StrictMock<MockSys> sys;
  {
    InSequence seq;  // every call interrupted once, then repeated
    EXPECT_CALL(sys, socket(AF_UNIX, _, _))
        .WillOnce(Return(SysErr(EINTR)))
        .WillOnce(Return(SysOk(3)));
    EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEADDR, 1))
        .WillOnce(Return(SysErr(EINTR)))
        .WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, fstatat(3, "", AT_EMPTY_PATH))
        .WillOnce(Return(SysErr<FileStat>(EINTR)))
        .WillOnce(Return(Found(S_IFSOCK, 0777)));
    EXPECT_CALL(sys, openat(AT_FDCWD, "/", _, _))
        .WillOnce(Return(SysErr(EINTR)))
        .WillOnce(Return(SysOk(4)));
    EXPECT_CALL(sys, openat(4, "run", _, _))
        .WillOnce(Return(SysErr(EINTR)))
        .WillOnce(Return(SysOk(5)));
    EXPECT_CALL(sys, close(4));
    EXPECT_CALL(sys, fstatat(5, kName, kNoFollow))
        .WillOnce(Return(SysErr<FileStat>(EINTR)))
        .WillOnce(Return(SysErr<FileStat>(ENOENT)));
    EXPECT_CALL(sys, monotonic_now()).WillOnce(Return(std::chrono::nanoseconds(1)));
    EXPECT_CALL(sys, mkdirat(5, _, 0700)).WillOnce(Return(SysErr(EINTR))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, openat(5, _, _, _)).WillOnce(Return(SysErr(EINTR))).WillOnce(Return(SysOk(6)));
    EXPECT_CALL(sys, fstatat(6, "", AT_EMPTY_PATH))
        .WillOnce(Return(SysErr<FileStat>(EINTR)))
        .WillOnce(Return(DirOf(0700, 0)));
    EXPECT_CALL(sys, umask(_)).WillOnce(Return(static_cast<mode_t>(022)));
    EXPECT_CALL(sys, bind(/*fd=*/3, _)).WillOnce(Return(SysErr(EINTR))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, umask(/*mask=*/022)).WillOnce(Return(static_cast<mode_t>(0177)));
    EXPECT_CALL(sys, fchmodat(6, "s", _, 0))
        .WillOnce(Return(SysErr(EINTR)))
        .WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, listen(/*fd=*/3, _)).WillOnce(Return(SysErr(EINTR))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, renameat2(6, "s", 5, kName, RENAME_NOREPLACE))
        .WillOnce(Return(SysErr(EINTR)))
        .WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, close(6));
    EXPECT_CALL(sys, unlinkat(5, _, AT_REMOVEDIR));
    EXPECT_CALL(sys, close(5));
    EXPECT_CALL(sys, close(/*fd=*/3));  // the listener, dropped by EXPECT_THAT
  }
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_014_InterruptedProbeIsRetried) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(Found(S_IFSOCK)));
  EXPECT_CALL(sys, fstatat(_, "stale", kNoFollow)).WillOnce(Return(Found(S_IFSOCK)));
  // An EINTR is no answer about the listener: probe again, then decide.
  EXPECT_CALL(sys, connect(_, UnixAt(kProbe)))
      .WillOnce(Return(SysErr(EINTR)))
      .WillOnce(Return(SysErr(ECONNREFUSED)));
  EXPECT_CALL(sys, unlinkat(_, "stale", 0));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
  EXPECT_THAT(kernel.open_fds(), IsEmpty());  // every probe closed, listener dropped
}

TEST(BindUnixSocket, UNIX_015_UmaskRestoredOnSuccess) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);  // the process umask starts at 022
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
  EXPECT_EQ(kernel.umask(), static_cast<mode_t>(022));
}

TEST(BindUnixSocket, UNIX_015_UmaskRestoredWhenBindFails) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, bind).WillOnce(Return(SysErr(EACCES)));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EACCES, "bind"));
  EXPECT_EQ(kernel.umask(), static_cast<mode_t>(022));
}

TEST(BindUnixSocket, UNIX_015_UmaskRestoredWhenLaterStepFails) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fchmodat).WillOnce(Return(SysErr(EPERM)));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EPERM, "chmod"));
  EXPECT_EQ(kernel.umask(), static_cast<mode_t>(022));
}

// --- the hostile local process (UNIX-017 to UNIX-022) -------------------------

TEST(BindUnixSocket, UNIX_017_ParentComponentsOpenedWithoutFollowing) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, openat(AT_FDCWD, "/", kDirOpen, 0));
  EXPECT_CALL(sys, openat(/*"/"=*/4, "run", kDirOpen, 0));
  EXPECT_CALL(sys, openat(kParentFd, StartsWith(kPrivatePrefix), kDirOpen, 0));
  EXPECT_CALL(sys, stat).Times(0);
  EXPECT_CALL(sys, lstat).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_017_SymlinkInAWritableParentIsNotFollowed) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // "/tmp/d/app.sock" with d a symlink another user put in the sticky /tmp.
  EXPECT_CALL(sys, openat(_, "d", kDirOpen, 0)).WillOnce(Return(SysErr(ENOTDIR)));
  EXPECT_CALL(sys, fstatat(_, "d", kNoFollow))
      .WillOnce(Return(SysResult<FileStat>{FileStat{S_IFLNK | 0777, 1, 9, 1000}, 0}));
  EXPECT_CALL(sys, fstatat(/*"/tmp"=*/5, "", AT_EMPTY_PATH)).WillOnce(Return(DirOf(01777, 0)));
  EXPECT_CALL(sys, readlinkat).Times(0);
  EXPECT_CALL(sys, mkdirat).Times(0);
  EXPECT_CALL(sys, bind).Times(0);
  auto r = bind_unix_socket(sys, {.path = "/tmp/d/app.sock"});
  ASSERT_THAT(r, IsError(kOs, ELOOP, "openat"));
  EXPECT_THAT(r.error().message, HasSubstr("'d'"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_017_SymlinkOfAnotherUserIsNotFollowedEvenInARootDirectory) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, openat(_, "run", kDirOpen, 0)).WillOnce(Return(SysErr(ENOTDIR)));
  EXPECT_CALL(sys, fstatat(_, "run", kNoFollow))
      .WillOnce(Return(SysResult<FileStat>{FileStat{S_IFLNK | 0777, 1, 9, 1000}, 0}));
  EXPECT_CALL(sys, readlinkat).Times(0);
  EXPECT_CALL(sys, bind).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, ELOOP, "openat"));
}

TEST(BindUnixSocket, UNIX_017_RootsSymlinkInARootOnlyDirectoryIsFollowed) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // Debian's /var/run -> /run: / is root's and mode 0755, the link root's.
  EXPECT_CALL(sys, openat(_, "var", kDirOpen, 0)).WillOnce(Return(SysOk(50)));
  EXPECT_CALL(sys, openat(50, "run", kDirOpen, 0)).WillOnce(Return(SysErr(ENOTDIR)));
  EXPECT_CALL(sys, fstatat(50, "run", kNoFollow))
      .WillOnce(Return(SysResult<FileStat>{FileStat{S_IFLNK | 0777, 1, 9, 0}, 0}));
  EXPECT_CALL(sys, fstatat(50, "", AT_EMPTY_PATH)).WillOnce(Return(DirOf(0755, 0)));
  EXPECT_CALL(sys, readlinkat(50, "run")).WillOnce(Return(SysResult<std::string>{"/run", 0}));
  // The target is walked by the same rule, from "/".
  EXPECT_CALL(sys, openat(AT_FDCWD, "/", kDirOpen, 0)).Times(2);
  EXPECT_CALL(sys, openat(::testing::Ne(50), "run", kDirOpen, 0)).WillOnce(Return(SysOk(20)));
  EXPECT_CALL(sys, fstatat(20, kName, kNoFollow)).WillOnce(Return(SysErr<FileStat>(ENOENT)));
  EXPECT_CALL(sys, renameat2(_, "s", 20, kName, RENAME_NOREPLACE));
  EXPECT_THAT(bind_unix_socket(sys, {.path = "/var/run/app.sock"}), IsOk());
}

TEST(BindUnixSocket, UNIX_017_SymlinkLoopEndsWithEloop) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  ON_CALL(sys, openat(_, "run", _, _)).WillByDefault(Return(SysErr(ENOTDIR)));
  ON_CALL(sys, fstatat(_, "run", kNoFollow))
      .WillByDefault(Return(SysResult<FileStat>{FileStat{S_IFLNK | 0777, 1, 9, 0}, 0}));
  ON_CALL(sys, fstatat(_, "", AT_EMPTY_PATH)).WillByDefault(Return(DirOf(0755, 0)));
  // run -> run: a loop, followed at most 40 times (MAXSYMLINKS).
  EXPECT_CALL(sys, readlinkat(_, "run"))
      .Times(40)
      .WillRepeatedly(Return(SysResult<std::string>{"run", 0}));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, ELOOP, "openat"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_017_ProbeReachesTheNameThroughTheParentFd) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(Found(S_IFSOCK)));
  EXPECT_CALL(sys, connect(_, UnixAt(kProbe))).WillOnce(Return(SysOk()));
  EXPECT_CALL(sys, connect(_, UnixAt(kPath))).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EADDRINUSE, "connect probe"));
}

TEST(BindUnixSocket, UNIX_018_BoundChmodedAndListeningInThePrivateDirectoryFirst) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  Sequence s;
  EXPECT_CALL(sys, mkdirat(kParentFd, StartsWith(kPrivatePrefix), 0700)).InSequence(s);
  EXPECT_CALL(sys, bind(3, UnixAt("/proc/self/fd/6/s"))).InSequence(s);
  EXPECT_CALL(sys, fchmodat(6, "s", 0640, 0)).InSequence(s);
  EXPECT_CALL(sys, listen(3, _)).InSequence(s);
  EXPECT_CALL(sys, renameat2(6, "s", kParentFd, kName, RENAME_NOREPLACE)).InSequence(s);
  EXPECT_CALL(sys, unlinkat(kParentFd, StartsWith(kPrivatePrefix), AT_REMOVEDIR)).InSequence(s);
  EXPECT_CALL(sys, chmod).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath, .mode = 0640}), IsOk());
}

TEST(BindUnixSocket, UNIX_018_PrivateDirectoryOfAnotherUserIsNeitherUsedNorRemoved) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // Another process replaced the new directory between mkdirat and openat.
  EXPECT_CALL(sys, fstatat(/*private=*/6, "", AT_EMPTY_PATH)).WillOnce(Return(DirOf(0700, 1000)));
  EXPECT_CALL(sys, bind).Times(0);
  EXPECT_CALL(sys, unlinkat).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EEXIST, "mkdirat"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_018_PrivateDirectoryOthersCanEnterIsRefused) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(/*private=*/6, "", AT_EMPTY_PATH)).WillOnce(Return(DirOf(0770, 0)));
  EXPECT_CALL(sys, bind).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EEXIST, "mkdirat"));
}

TEST(BindUnixSocket, UNIX_018_TakenPrivateNameTriesAnother) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  std::vector<std::string> names;
  EXPECT_CALL(sys, mkdirat(kParentFd, _, 0700))
      .WillOnce([&](int, const std::string& n, mode_t) {
        names.push_back(n);
        return SysErr(EEXIST);
      })
      .WillOnce([&](int, const std::string& n, mode_t) {
        names.push_back(n);
        return SysOk();
      });
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
  ASSERT_EQ(names.size(), 2u);
  EXPECT_NE(names[0], names[1]);
}

TEST(BindUnixSocket, UNIX_019_NonSocketSwappedInBeforeTheMoveIsPutBack) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(FoundIno(S_IFSOCK, 1)));
  // Between the probe and the move, a regular file took the name.
  EXPECT_CALL(sys, fstatat(_, "stale", kNoFollow)).WillOnce(Return(FoundIno(S_IFREG, 1)));
  EXPECT_CALL(sys, renameat2(_, "stale", kParentFd, kName, RENAME_NOREPLACE));
  EXPECT_CALL(sys, unlinkat(_, "stale", _)).Times(0);
  EXPECT_CALL(sys, bind).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EADDRINUSE, "renameat2"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_019_AnotherSocketSwappedInIsPutBack) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(FoundIno(S_IFSOCK, 1)));
  EXPECT_CALL(sys, fstatat(_, "stale", kNoFollow)).WillOnce(Return(FoundIno(S_IFSOCK, 99)));
  EXPECT_CALL(sys, renameat2(_, "stale", kParentFd, kName, RENAME_NOREPLACE));
  EXPECT_CALL(sys, unlinkat(_, "stale", _)).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EADDRINUSE, "renameat2"));
}

TEST(BindUnixSocket, UNIX_019_EntryThatCannotGoBackIsKeptInThePrivateDirectory) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow)).WillOnce(Return(FoundIno(S_IFSOCK, 1)));
  EXPECT_CALL(sys, fstatat(_, "stale", kNoFollow)).WillOnce(Return(FoundIno(S_IFREG, 5)));
  EXPECT_CALL(sys, renameat2(_, "stale", kParentFd, kName, RENAME_NOREPLACE))
      .WillOnce(Return(SysErr(EEXIST)));
  EXPECT_CALL(sys, unlinkat).Times(0);  // neither the entry nor the directory holding it
  auto r = bind_unix_socket(sys, {.path = kPath});
  ASSERT_THAT(r, IsError(kOs, EEXIST, "renameat2"));
  EXPECT_THAT(r.error().message, HasSubstr("kept"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_020_NameTakenBeforeTheMoveIsInspectedAgain) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow))
      .WillOnce(Return(SysErr<FileStat>(ENOENT)))
      .WillOnce(Return(Found(S_IFREG)));  // another process's file took the name
  EXPECT_CALL(sys, renameat2(_, "s", kParentFd, kName, RENAME_NOREPLACE))
      .WillOnce(Return(SysErr(EEXIST)));
  EXPECT_CALL(sys, unlinkat(_, "s", 0));  // ours, in the private directory (UNIX-011)
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kArgument, EINVAL, "path"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_020_StaleSocketAppearingBeforeTheMoveIsReplaced) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, fstatat(kParentFd, kName, kNoFollow))
      .WillOnce(Return(SysErr<FileStat>(ENOENT)))
      .WillOnce(Return(Found(S_IFSOCK)));
  EXPECT_CALL(sys, fstatat(_, "stale", kNoFollow)).WillOnce(Return(Found(S_IFSOCK)));
  EXPECT_CALL(sys, renameat2(_, "s", kParentFd, kName, RENAME_NOREPLACE))
      .WillOnce(Return(SysErr(EEXIST)))
      .WillOnce(Return(SysOk()));
  EXPECT_CALL(sys, unlinkat(_, "stale", 0));
  EXPECT_CALL(sys, bind).Times(1);  // bound once, moved twice
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_020_GivesUpWhenTheNameKeepsBeingTaken) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, renameat2(_, "s", kParentFd, kName, RENAME_NOREPLACE))
      .Times(3)
      .WillRepeatedly(Return(SysErr(EEXIST)));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EADDRINUSE, "renameat2"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_021_NoRenameat2IsAClearErrorNotAByPathFallback) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, renameat2(_, "s", _, _, _)).WillOnce(Return(SysErr(ENOSYS)));
  EXPECT_CALL(sys, bind(_, UnixAt(kPath))).Times(0);
  EXPECT_CALL(sys, chmod).Times(0);
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_CALL(sys, unlinkat(_, "s", 0));  // what it bound is removed
  auto r = bind_unix_socket(sys, {.path = kPath});
  ASSERT_THAT(r, IsError(kOs, ENOSYS, "renameat2"));
  EXPECT_THAT(r.error().message, HasSubstr("RENAME_NOREPLACE"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_021_FilesystemWithoutNoreplaceIsAClearError) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, renameat2(_, "s", _, _, RENAME_NOREPLACE)).WillOnce(Return(SysErr(EINVAL)));
  EXPECT_CALL(sys, renameat2(_, _, _, _, 0u)).Times(0);  // never a replacing rename
  auto r = bind_unix_socket(sys, {.path = kPath});
  ASSERT_THAT(r, IsError(kOs, EINVAL, "renameat2"));
  EXPECT_THAT(r.error().message, HasSubstr("RENAME_NOREPLACE"));
}

TEST(BindUnixSocket, UNIX_021_NoProcIsAClearErrorNamingIt) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, bind(_, InPrivateDir())).WillOnce(Return(SysErr(ENOENT)));
  EXPECT_CALL(sys, bind(_, UnixAt(kPath))).Times(0);
  EXPECT_CALL(sys, unlinkat(kParentFd, StartsWith(kPrivatePrefix), AT_REMOVEDIR));
  auto r = bind_unix_socket(sys, {.path = kPath});
  ASSERT_THAT(r, IsError(kOs, ENOENT, "bind"));
  EXPECT_THAT(r.error().message, HasSubstr("/proc"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
  EXPECT_EQ(kernel.umask(), static_cast<mode_t>(022));
}

TEST(BindUnixSocket, UNIX_022_ListenerAddressIsTheCallersPath) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, getsockname).Times(0);  // it would say /proc/self/fd/N/s
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}),
              IsOkAndHolds(Field("addr", &Listener::addr, UnixAt(kPath))));
}

TEST(BindUnixSocket, UNIX_012_PathNamingADirectoryIsArgumentError) {
  StrictMock<MockSys> sys;  // before any syscall
  EXPECT_THAT(bind_unix_socket(sys, {.path = "/run/"}), IsError(kArgument, EINVAL, "path"));
  EXPECT_THAT(bind_unix_socket(sys, {.path = "/run/.."}), IsError(kArgument, EINVAL, "path"));
}

}  // namespace
}  // namespace netutil
