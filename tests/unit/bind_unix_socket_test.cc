// bind_unix_socket (UNIX-001..015).
#include "netutil/bind_unix_socket.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
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
using ::testing::StrictMock;
using unit::HealthyKernel;
using unit::kStreamFlags;
using unit::UnixAt;

constexpr auto kOs = Error::Kind::kOs;
constexpr auto kArgument = Error::Kind::kArgument;
const std::string kPath = "/run/app.sock";
const std::string kAbstract("\0app", 4);

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
  EXPECT_CALL(sys, lstat(kPath))
      .InSequence(s)
      .WillOnce(Return(SysResult<FileStat>{StatOf(S_IFSOCK)}));
  // Nobody listens: the file is left over from a crash.
  EXPECT_CALL(sys, connect(_, UnixAt(kPath))).InSequence(s).WillOnce(Return(SysErr(ECONNREFUSED)));
  EXPECT_CALL(sys, unlink(kPath)).InSequence(s);
  EXPECT_CALL(sys, bind(_, UnixAt(kPath))).InSequence(s);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_003_ProbeSocketIsClosed) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, lstat(kPath)).WillOnce(Return(SysResult<FileStat>{StatOf(S_IFSOCK)}));
  ASSERT_OK_AND_ASSIGN(auto listener, bind_unix_socket(sys, {.path = kPath}));
  // fd 3 is the listener, fd 4 the connect() probe: only the listener is left.
  EXPECT_THAT(kernel.open_fds(), ElementsAre(listener.fd.get()));
}

TEST(BindUnixSocket, UNIX_003_StaleSocketVanishingBeforeUnlinkIsFine) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, lstat(kPath)).WillOnce(Return(SysResult<FileStat>{StatOf(S_IFSOCK)}));
  // Another process removed it first: the goal (no file) is reached anyway.
  EXPECT_CALL(sys, unlink(kPath)).WillOnce(Return(SysErr(ENOENT)));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_004_RegularFileIsErrorNamingPathAndKept) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, lstat(kPath)).WillOnce(Return(SysResult<FileStat>{StatOf(S_IFREG)}));
  EXPECT_CALL(sys, unlink).Times(0);  // a typo must never delete a file
  EXPECT_CALL(sys, bind).Times(0);
  auto r = bind_unix_socket(sys, {.path = kPath});
  ASSERT_THAT(r, IsError(kArgument, EINVAL));
  EXPECT_THAT(r.error().message, HasSubstr(kPath));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_004_DirectoryIsErrorAndKept) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, lstat(kPath)).WillOnce(Return(SysResult<FileStat>{StatOf(S_IFDIR, 0755)}));
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kArgument, EINVAL));
}

TEST(BindUnixSocket, UNIX_005_DefaultModeIs0600) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, chmod(kPath, /*mode=*/0600));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_005_RequestedModeIsApplied) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, chmod(kPath, /*mode=*/0660));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath, .mode = 0660}), IsOk());
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
  EXPECT_CALL(sys, lstat(kPath)).WillOnce(Return(SysResult<FileStat>{StatOf(S_IFSOCK)}));
  // The probe connects: another process serves this socket (Tornado would steal it).
  EXPECT_CALL(sys, connect(_, UnixAt(kPath))).WillOnce(Return(SysOk()));
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_CALL(sys, bind).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EADDRINUSE, "connect probe"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());  // the socket and the probe
}

TEST(BindUnixSocket, UNIX_008_FullBacklogCountsAsLive) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, lstat(kPath)).WillOnce(Return(SysResult<FileStat>{StatOf(S_IFSOCK)}));
  // A non-blocking connect to a unix listener with a full queue says EAGAIN.
  EXPECT_CALL(sys, connect).WillOnce(Return(SysErr(EAGAIN)));
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EADDRINUSE, "connect probe"));
}

TEST(BindUnixSocket, UNIX_008_UnclearProbeRemovesNothing) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, lstat(kPath)).WillOnce(Return(SysResult<FileStat>{StatOf(S_IFSOCK)}));
  // Only ECONNREFUSED proves the file stale; EACCES proves nothing.
  EXPECT_CALL(sys, connect).WillOnce(Return(SysErr(EACCES)));
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_CALL(sys, bind).Times(0);
  EXPECT_FALSE(bind_unix_socket(sys, {.path = kPath}).ok());
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_009_SymlinkIsNeitherFollowedNorRemoved) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // An attacker's link could point at any socket (or file) of the system.
  EXPECT_CALL(sys, lstat(kPath)).WillOnce(Return(SysResult<FileStat>{StatOf(S_IFLNK, 0777)}));
  EXPECT_CALL(sys, stat).Times(0);
  EXPECT_CALL(sys, connect).Times(0);
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_CALL(sys, bind).Times(0);
  auto r = bind_unix_socket(sys, {.path = kPath});
  ASSERT_THAT(r, IsError(kOs, ELOOP, "lstat"));
  EXPECT_THAT(r.error().ToString(), HasSubstr(kPath));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_010_BindRunsUnderUmaskOfRequestedMode) {
  StrictMock<MockSys> sys;
  {
    InSequence seq;  // the exact script: umask narrowed around bind, then chmod
    EXPECT_CALL(sys, socket(AF_UNIX, kStreamFlags, 0)).WillOnce(Return(SysOk(3)));
    EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEADDR, 1)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, lstat(kPath)).WillOnce(Return(SysErr<FileStat>(ENOENT)));
    // 0600 requested: bind() creates the file under umask 0177, never 0755.
    EXPECT_CALL(sys, umask(/*mask=*/0177)).WillOnce(Return(static_cast<mode_t>(022)));
    EXPECT_CALL(sys, bind(/*fd=*/3, UnixAt(kPath))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, umask(/*mask=*/022)).WillOnce(Return(static_cast<mode_t>(0177)));
    EXPECT_CALL(sys, chmod(kPath, /*mode=*/0600)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, listen(/*fd=*/3, kDefaultBacklog)).WillOnce(Return(SysOk()));
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
  // A leftover file would later be taken for a stale socket.
  EXPECT_CALL(sys, unlink(kPath));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EOPNOTSUPP, "listen"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_011_ChmodFailureRemovesFileAndClosesSocket) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, chmod).WillOnce(Return(SysErr(EPERM)));
  EXPECT_CALL(sys, unlink(kPath));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EPERM, "chmod"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_011_BindFailureRemovesNoFileOfOthers) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // bind() lost a race: the file at the path is someone else's, not ours.
  EXPECT_CALL(sys, bind).WillOnce(Return(SysErr(EADDRINUSE)));
  EXPECT_CALL(sys, unlink).Times(0);
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EADDRINUSE, "bind"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindUnixSocket, UNIX_011_LstatFailureClosesSocket) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, lstat).WillOnce(Return(SysErr<FileStat>(EACCES)));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EACCES, "lstat"));
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
  EXPECT_CALL(sys, chmod(kPath, /*mode=*/07777));  // setuid, setgid, sticky: chmod's job
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
    EXPECT_CALL(sys, lstat(kPath))
        .WillOnce(Return(SysErr<FileStat>(EINTR)))
        .WillOnce(Return(SysErr<FileStat>(ENOENT)));
    EXPECT_CALL(sys, umask(_)).WillOnce(Return(static_cast<mode_t>(022)));
    EXPECT_CALL(sys, bind(/*fd=*/3, _)).WillOnce(Return(SysErr(EINTR))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, umask(/*mask=*/022)).WillOnce(Return(static_cast<mode_t>(0177)));
    EXPECT_CALL(sys, chmod(kPath, _)).WillOnce(Return(SysErr(EINTR))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, listen(/*fd=*/3, _)).WillOnce(Return(SysErr(EINTR))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, close(/*fd=*/3));  // the listener, dropped by EXPECT_THAT
  }
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsOk());
}

TEST(BindUnixSocket, UNIX_014_InterruptedProbeIsRetried) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, lstat(kPath)).WillOnce(Return(SysResult<FileStat>{StatOf(S_IFSOCK)}));
  // An EINTR is no answer about the listener: probe again, then decide.
  EXPECT_CALL(sys, connect(_, UnixAt(kPath)))
      .WillOnce(Return(SysErr(EINTR)))
      .WillOnce(Return(SysErr(ECONNREFUSED)));
  EXPECT_CALL(sys, unlink(kPath));
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
  EXPECT_CALL(sys, chmod).WillOnce(Return(SysErr(EPERM)));
  EXPECT_THAT(bind_unix_socket(sys, {.path = kPath}), IsError(kOs, EPERM, "chmod"));
  EXPECT_EQ(kernel.umask(), static_cast<mode_t>(022));
}

}  // namespace
}  // namespace netutil
