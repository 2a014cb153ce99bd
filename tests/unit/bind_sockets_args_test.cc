// bind_sockets: arguments and resolution (BIND-001..005, BIND-019..022).
// Argument errors come before any syscall, so those tests use a StrictMock that
// fails on any call at all.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <sys/socket.h>

#include <string>

#include "healthy_kernel.h"
#include "netutil/bind_sockets.h"
#include "netutil/fakes/addr_builders.h"
#include "netutil/fakes/mock_sys.h"
#include "netutil/fakes/sys_matchers.h"
#include "test_helpers.h"

namespace netutil {
namespace {

using fakes::Ip;
using fakes::IsError;
using fakes::IsOk;
using fakes::IsOkAndHolds;
using fakes::MockSys;
using fakes::Resolved;
using fakes::ResolveFails;
using ::testing::_;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::NiceMock;
using ::testing::Optional;
using ::testing::Return;
using ::testing::SizeIs;
using ::testing::StrictMock;
using unit::HealthyKernel;
using unit::HintsAre;
using unit::HintsFamily;
using unit::HintsFlags;
using unit::kNullNode;

constexpr auto kArgument = Error::Kind::kArgument;

TEST(BindSocketsArgs, BIND_001_ReusePortWithoutSoReuseportIsArgumentError) {
  StrictMock<MockSys> sys;  // any syscall fails the test
  // Platform::Windows() has no SO_REUSEPORT.
  auto r = bind_sockets(
      sys, BindOptions{.port = 8888, .reuse_port = true, .platform = Platform::Windows()});
  EXPECT_THAT(r, IsError(kArgument, EINVAL, "reuse_port"));
}

TEST(BindSocketsArgs, BIND_001_ReusePortIsCheckedByCapabilityNotByOs) {
  StrictMock<MockSys> sys;
  Platform linux_without = Platform::Linux();
  linux_without.has_reuseport = false;  // an old kernel: the capability decides, not the name
  auto r =
      bind_sockets(sys, BindOptions{.port = 8888, .reuse_port = true, .platform = linux_without});
  EXPECT_THAT(r, IsError(kArgument, EINVAL, "reuse_port"));
}

TEST(BindSocketsArgs, BIND_002_EmptyAddressResolvesNullNode) {
  StrictMock<MockSys> sys;
  // "" must reach the resolver as NULL (all interfaces), not as an empty name.
  EXPECT_CALL(sys, getaddrinfo(Eq(kNullNode), "8888", _)).WillOnce(Return(Resolved({})));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .address = ""}), IsOkAndHolds(IsEmpty()));
}

TEST(BindSocketsArgs, BIND_002_NoAddressResolvesNullNode) {
  StrictMock<MockSys> sys;
  EXPECT_CALL(sys, getaddrinfo(Eq(kNullNode), "8888", _)).WillOnce(Return(Resolved({})));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .address = std::nullopt}), IsOk());
}

TEST(BindSocketsArgs, BIND_003_ExplicitFamilyIsKeptWithoutIpv6Runtime) {
  StrictMock<MockSys> sys;
  // Only AF_UNSPEC is narrowed; an explicit AF_INET6 is the caller's choice.
  EXPECT_CALL(sys, getaddrinfo(_, _, HintsFamily(AF_INET6))).WillOnce(Return(Resolved({})));
  EXPECT_THAT(
      bind_sockets(sys,
                   BindOptions{.port = 8888, .family = AF_INET6, .platform = unit::NoIpv6Linux()}),
      IsOk());
}

TEST(BindSocketsArgs, BIND_004_NoFlagsMeansPassive) {
  StrictMock<MockSys> sys;
  EXPECT_CALL(sys, getaddrinfo(_, _, HintsFlags(AI_PASSIVE))).WillOnce(Return(Resolved({})));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsOk());
}

TEST(BindSocketsArgs, BIND_004_ExplicitFlagsReplacePassive) {
  StrictMock<MockSys> sys;
  // Exactly AI_NUMERICHOST: not AI_NUMERICHOST | AI_PASSIVE.
  EXPECT_CALL(sys, getaddrinfo(_, _, HintsFlags(AI_NUMERICHOST))).WillOnce(Return(Resolved({})));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .flags = AI_NUMERICHOST}), IsOk());
}

TEST(BindSocketsArgs, BIND_004_ExplicitZeroFlagsAreKept) {
  StrictMock<MockSys> sys;
  // 0 is a caller's choice too (no AI_PASSIVE: a NULL node then means loopback).
  EXPECT_CALL(sys, getaddrinfo(_, _, HintsFlags(0))).WillOnce(Return(Resolved({})));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .flags = 0}), IsOk());
}

TEST(BindSocketsArgs, BIND_005_ResolvesOnceWithStreamHints) {
  StrictMock<MockSys> sys;
  EXPECT_CALL(sys, getaddrinfo(Optional(std::string("example.com")), "8888",
                               HintsAre(AF_UNSPEC, SOCK_STREAM, /*protocol=*/0, AI_PASSIVE)))
      .Times(1)
      .WillOnce(Return(Resolved({})));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .address = "example.com"}), IsOk());
}

TEST(BindSocketsArgs, BIND_005_ResolverFailureIsResolveError) {
  StrictMock<MockSys> sys;  // no socket() after a failed resolve
  EXPECT_CALL(sys, getaddrinfo).WillOnce(Return(ResolveFails(EAI_NONAME)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .address = "no.such.host"}),
              IsError(Error::Kind::kResolve, EAI_NONAME, "getaddrinfo"));
}

TEST(BindSocketsArgs, BIND_029_EaiSystemIsAResolveErrorCarryingErrno) {
  StrictMock<MockSys> sys;
  EXPECT_CALL(sys, getaddrinfo).WillOnce(Return(ResolveFails(EAI_SYSTEM, EMFILE)));
  auto r = bind_sockets(sys, BindOptions{.port = 8888, .address = "example.com"});
  ASSERT_THAT(r, IsError(Error::Kind::kResolve, EAI_SYSTEM));
  EXPECT_EQ(r.error().sys_errno, EMFILE);
}

TEST(BindSocketsArgs, BIND_019_PortAbove65535IsArgumentError) {
  StrictMock<MockSys> sys;
  // Tornado would listen on 4464 (70000 - 65536).
  auto r = bind_sockets(sys, BindOptions{.port = 70000});
  ASSERT_THAT(r, IsError(kArgument, EINVAL, "port"));
  EXPECT_THAT(r.error().message, HasSubstr("70000"));
}

TEST(BindSocketsArgs, BIND_019_NegativePortIsArgumentError) {
  StrictMock<MockSys> sys;
  auto r = bind_sockets(sys, BindOptions{.port = -1});
  ASSERT_THAT(r, IsError(kArgument, EINVAL, "port"));
  EXPECT_THAT(r.error().message, HasSubstr("-1"));
}

TEST(BindSocketsArgs, BIND_019_Port65535IsAccepted) {
  StrictMock<MockSys> sys;
  EXPECT_CALL(sys, getaddrinfo(_, "65535", _)).WillOnce(Return(Resolved({})));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 65535}), IsOk());
}

TEST(BindSocketsArgs, BIND_020_AddressWithNulIsArgumentError) {
  StrictMock<MockSys> sys;
  // The resolver would see "localhost" and bind where the caller did not write.
  const std::string address("localhost\0.evil.example", 23);
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .address = address}),
              IsError(kArgument, EINVAL, "address"));
}

TEST(BindSocketsArgs, BIND_020_AddressLongerThan253IsArgumentError) {
  StrictMock<MockSys> sys;
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .address = std::string(254, 'a')}),
              IsError(kArgument, EINVAL, "address"));
}

TEST(BindSocketsArgs, BIND_020_AddressOf253IsAccepted) {
  StrictMock<MockSys> sys;
  EXPECT_CALL(sys, getaddrinfo(Optional(SizeIs(253)), "8888", _)).WillOnce(Return(Resolved({})));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .address = std::string(253, 'a')}),
              IsOk());
}

TEST(BindSocketsArgs, BIND_021_UnixFamilyIsArgumentError) {
  StrictMock<MockSys> sys;
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .family = AF_UNIX}),
              IsError(kArgument, EINVAL, "family"));
}

TEST(BindSocketsArgs, BIND_021_UnknownFamilyIsArgumentError) {
  StrictMock<MockSys> sys;
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .family = /*AF_PACKET=*/17}),
              IsError(kArgument, EINVAL, "family"));
}

TEST(BindSocketsArgs, BIND_022_NegativeBacklogIsArgumentError) {
  StrictMock<MockSys> sys;
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .backlog = -1}),
              IsError(kArgument, EINVAL, "backlog"));
}

TEST(BindSocketsArgs, BIND_022_ZeroBacklogIsPassedOn) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888)});
  EXPECT_CALL(sys, listen(/*fd=*/3, /*backlog=*/0));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .backlog = 0}), IsOkAndHolds(SizeIs(1)));
}

}  // namespace
}  // namespace netutil
