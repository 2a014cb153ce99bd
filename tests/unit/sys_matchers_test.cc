// The matchers of netutil/fakes/sys_matchers.h: they pass and fail as their
// header says, with the failure text the header shows.
#include "netutil/fakes/sys_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <vector>

#include "netutil/fakes/addr_builders.h"
#include "netutil/fakes/mock_sys.h"

namespace netutil::fakes {
namespace {

using ::testing::AnyOf;
using ::testing::Ge;
using ::testing::SizeIs;

TEST(SysMatchers, Succeeds) {
  EXPECT_THAT(SysOk(0), Succeeds());
  EXPECT_FALSE(::testing::Value(SysErr(EBADF), Succeeds()));
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(SysErr(EBADF), Succeeds()),
                          "Expected: succeeds\n  Actual: {-1, EBADF}, which failed with EBADF");
}

TEST(SysMatchers, SucceedsWith) {
  EXPECT_THAT(SysOk(3), SucceedsWith(3));
  EXPECT_THAT(SysOk(3), SucceedsWith(Ge(0)));
  EXPECT_THAT((SysResult<SockAddr>{Ip("::", 80), 0}), SucceedsWith(Ip("::", 80)));
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(SysOk(-1), SucceedsWith(Ge(0))),
                          "Expected: succeeds with a value that is >= 0\n"
                          "  Actual: {ok -1}, which succeeded with -1");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(SysErr(EMFILE), SucceedsWith(Ge(0))),
                          "Expected: succeeds with a value that is >= 0\n"
                          "  Actual: {-1, EMFILE}, which failed with EMFILE");
}

TEST(SysMatchers, Fails) {
  EXPECT_THAT(SysErr(EADDRINUSE), Fails());
  EXPECT_THAT(SysErr<FileStat>(ENOENT), Fails());
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(SysOk(0), Fails()),
                          "Expected: fails\n  Actual: {ok 0}, which succeeded");
}

TEST(SysMatchers, FailsWithErrnoByName) {
  EXPECT_THAT(SysErr(EAGAIN), FailsWith(EAGAIN));
  EXPECT_FALSE(::testing::Value(SysErr(EMFILE), FailsWith(EAGAIN)));
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(SysErr(EMFILE), FailsWith(EAGAIN)),
                          "Expected: fails with EAGAIN\n"
                          "  Actual: {-1, EMFILE}, which failed with EMFILE");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(SysOk(7), FailsWith(EAGAIN)),
                          "Expected: fails with EAGAIN\n  Actual: {ok 7}, which succeeded");
}

TEST(SysMatchers, FailsWithErrnoMatcher) {
  EXPECT_THAT(SysErr(EPERM), FailsWith(AnyOf(EACCES, EPERM)));
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(SysErr(EBADF), FailsWith(AnyOf(EACCES, EPERM))),
                          "which failed with EBADF");
}

TEST(ResultMatchers, IsOk) {
  EXPECT_THAT(Result<int>(3), IsOk());
  EXPECT_THAT(OkStatus(), IsOk());
  EXPECT_NONFATAL_FAILURE(
      EXPECT_THAT(Result<std::vector<int>>(Error::Os(EADDRINUSE, "bind", "[::]:8888")), IsOk()),
      "Expected: is ok\n"
      "  Actual: error(Error{os, bind [::]:8888: EADDRINUSE (Address already in use)}), "
      "which is an os error EADDRINUSE");
}

TEST(ResultMatchers, IsOkAndHolds) {
  EXPECT_THAT(Result<int>(3), IsOkAndHolds(3));
  EXPECT_THAT(Result<std::vector<int>>(std::vector<int>{1, 2}), IsOkAndHolds(SizeIs(2)));
  EXPECT_NONFATAL_FAILURE(
      EXPECT_THAT(Result<std::vector<int>>(std::vector<int>{1}), IsOkAndHolds(SizeIs(2))),
      "Expected: is ok and holds a value that size is equal to 2\n"
      "  Actual: ok({ 1 }), which holds { 1 }, whose size 1 doesn't match");
  EXPECT_NONFATAL_FAILURE(
      EXPECT_THAT(Result<int>(Error::Argument("port", "port 70000 is outside 0..65535")),
                  IsOkAndHolds(3)),
      "which is an argument error EINVAL");
}

TEST(ResultMatchers, IsError) {
  EXPECT_THAT(Result<int>(Error::Os(EADDRINUSE, "bind")), IsError(Error::Kind::kOs, EADDRINUSE));
  EXPECT_THAT(Result<int>(Error::Os(EADDRINUSE, "bind")),
              IsError(Error::Kind::kOs, EADDRINUSE, "bind"));
  EXPECT_THAT(Error::Os(EMFILE, "accept4"), IsError(Error::Kind::kOs, EMFILE, "accept4"));
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Result<std::vector<int>>(Error::Argument(
                                          "port", "port 70000 is outside 0..65535")),
                                      IsError(Error::Kind::kOs, EADDRINUSE)),
                          "Expected: is an os error EADDRINUSE\n"
                          "  Actual: error(Error{argument, port 70000 is outside 0..65535}), "
                          "which is an argument error EINVAL");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Result<int>(Error::Os(EADDRINUSE, "listen")),
                                      IsError(Error::Kind::kOs, EADDRINUSE, "bind")),
                          "Expected: is an os error EADDRINUSE at step \"bind\"");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Result<std::vector<int>>(std::vector<int>{}),
                                      IsError(Error::Kind::kOs, EADDRINUSE, "bind")),
                          "Expected: is an os error EADDRINUSE at step \"bind\"\n"
                          "  Actual: ok({}), which is ok");
}

TEST(ResultMatchers, IsErrorNamesEaiCodes) {
  EXPECT_THAT(Result<int>(Error::Resolve(EAI_NONAME, 0, "x:80")),
              IsError(Error::Kind::kResolve, EAI_NONAME));
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Result<int>(Error::Resolve(EAI_AGAIN, 0, "x:80")),
                                      IsError(Error::Kind::kResolve, EAI_NONAME)),
                          "Expected: is a resolve error EAI_NONAME");
}

// ASSERT_OK_AND_ASSIGN returns from the function it is in, so it is tried in
// helpers.
void AssignsFromError() {
  ASSERT_OK_AND_ASSIGN(int v, Result<int>(Error::Os(EBADF, "close")));
  (void)v;
  ADD_FAILURE() << "not reached";
}

struct Pair {
  int a = 0;
  int b = 0;
};
Result<Pair> Make(Pair p) { return p; }

TEST(AssertOkAndAssign, AssignsTheValue) {
  ASSERT_OK_AND_ASSIGN(auto p, Make({.a = 1, .b = 2}));  // commas inside the expression
  EXPECT_EQ(p.a + p.b, 3);
  int existing = 0;
  ASSERT_OK_AND_ASSIGN(existing, Result<int>(5));
  EXPECT_EQ(existing, 5);
}

TEST(AssertOkAndAssign, FailsAndReturnsOnError) {
  EXPECT_FATAL_FAILURE(AssignsFromError(),
                       "Failed\nResult<int>(Error::Os(EBADF, \"close\")) is not ok: "
                       "Error{os, close: EBADF (Bad file descriptor)}");
}

TEST(Printers, PrintValuesNotBytes) {
  ::testing::NiceMock<MockSys> sys;
  Listener l{Fd(sys, 3), Ip("0.0.0.0", 8888)};
  EXPECT_EQ(::testing::PrintToString(l), "Listener{fd=3, 0.0.0.0:8888}");
  EXPECT_EQ(::testing::PrintToString(Fd(sys, 4)), "Fd{4}");
  EXPECT_EQ(::testing::PrintToString(AddrInfoHints{AF_INET, SOCK_STREAM, 0, AI_PASSIVE}),
            "{family=AF_INET, socktype=1, protocol=0, flags=0x1}");
  EXPECT_EQ(::testing::PrintToString(StatOf(S_IFSOCK, 0600)),
            "{mode=0140600, dev=1, ino=1, uid=0}");
  EXPECT_EQ(::testing::PrintToString(EpollEvent{1, 5}), "{events=0x1, fd=5}");
  EXPECT_EQ(::testing::PrintToString(OkStatus()), "ok(Ok)");
}

}  // namespace
}  // namespace netutil::fakes
