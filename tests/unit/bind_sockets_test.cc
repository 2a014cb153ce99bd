// bind_sockets: socket set-up, order, port reuse, listen and failure handling
// (BIND-006..018, BIND-023..027), plus the family matrix.
#include "netutil/bind_sockets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "healthy_kernel.h"
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
using ::testing::_;
using ::testing::AnyNumber;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::InSequence;
using ::testing::IsEmpty;
using ::testing::NiceMock;
using ::testing::Return;
using ::testing::Sequence;
using ::testing::SizeIs;
using ::testing::StrictMock;
using ::testing::UnorderedElementsAre;
using unit::AddressesOf;
using unit::HasBits;
using unit::HealthyKernel;
using unit::kStreamFlags;
using unit::ListenerAt;
using unit::Named;
using unit::V6WithPort;

constexpr auto kOs = Error::Kind::kOs;

// ---------------------------------------------------------------------------
// The family matrix: what is resolved, and what listens, for each kind of host.

struct FamilyCase {
  const char* name;
  Platform platform;
  int family;                       // BindOptions::family
  int resolver_family;              // what getaddrinfo must be asked for
  std::vector<SockAddr> resolved;   // what it answers
  std::vector<SockAddr> listening;  // the listeners expected, in order
};

// gtest prints a failing case's parameter: its name, not its bytes.
void PrintTo(const FamilyCase& c, std::ostream* os) { *os << c.name; }

class BindSocketsFamily : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(BindSocketsFamily, BIND_003_ResolverIsAskedForTheEffectiveFamily) {
  const FamilyCase& c = GetParam();
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  EXPECT_CALL(sys, getaddrinfo(_, "8888", unit::HintsFamily(c.resolver_family)))
      .WillOnce(Return(unit::ResolvedFrom(c.resolved)));
  EXPECT_THAT(
      bind_sockets(sys, BindOptions{.port = 8888, .family = c.family, .platform = c.platform}),
      IsOk());
}

TEST_P(BindSocketsFamily, BIND_016_EveryAddressListensInOrder) {
  const FamilyCase& c = GetParam();
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  ON_CALL(sys, getaddrinfo).WillByDefault(Return(unit::ResolvedFrom(c.resolved)));
  // One listen per address, with the default backlog (Tornado's 128).
  EXPECT_CALL(sys, listen(_, kDefaultBacklog)).Times(static_cast<int>(c.listening.size()));
  ASSERT_OK_AND_ASSIGN(
      auto listeners,
      bind_sockets(sys, BindOptions{.port = 8888, .family = c.family, .platform = c.platform}));
  EXPECT_THAT(AddressesOf(listeners), ElementsAreArray(c.listening));
}

TEST_P(BindSocketsFamily, BIND_012_V6OnlyOnExactlyTheInet6Sockets) {
  const FamilyCase& c = GetParam();
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  ON_CALL(sys, getaddrinfo).WillByDefault(Return(unit::ResolvedFrom(c.resolved)));
  const auto v6 = std::count_if(c.listening.begin(), c.listening.end(),
                                [](const SockAddr& a) { return a.family() == AF_INET6; });
  EXPECT_CALL(sys, setsockopt(_, _, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, setsockopt(_, IPPROTO_IPV6, IPV6_V6ONLY, 1)).Times(static_cast<int>(v6));
  EXPECT_THAT(
      bind_sockets(sys, BindOptions{.port = 8888, .family = c.family, .platform = c.platform}),
      IsOk());
}

INSTANTIATE_TEST_SUITE_P(
    Families, BindSocketsFamily,
    ::testing::Values(FamilyCase{.name = "V4Only",
                                 .platform = Platform::Linux(),
                                 .family = AF_INET,
                                 .resolver_family = AF_INET,
                                 .resolved = {Ip("0.0.0.0", 8888)},
                                 .listening = {Ip("0.0.0.0", 8888)}},
                      FamilyCase{.name = "V6Only",
                                 .platform = Platform::Linux(),
                                 .family = AF_INET6,
                                 .resolver_family = AF_INET6,
                                 .resolved = {Ip("::", 8888)},
                                 .listening = {Ip("::", 8888)}},
                      // The resolver lists IPv6 first; the listeners come IPv4 first (BIND-006).
                      FamilyCase{.name = "DualStack",
                                 .platform = Platform::Linux(),
                                 .family = AF_UNSPEC,
                                 .resolver_family = AF_UNSPEC,
                                 .resolved = {Ip("::", 8888), Ip("0.0.0.0", 8888)},
                                 .listening = {Ip("0.0.0.0", 8888), Ip("::", 8888)}},
                      // No IPv6 in the runtime: AF_UNSPEC is narrowed to AF_INET before resolving.
                      FamilyCase{.name = "NoIpv6Runtime",
                                 .platform = unit::NoIpv6Linux(),
                                 .family = AF_UNSPEC,
                                 .resolver_family = AF_INET,
                                 .resolved = {Ip("0.0.0.0", 8888)},
                                 .listening = {Ip("0.0.0.0", 8888)}}),
    [](const ::testing::TestParamInfo<FamilyCase>& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------
// Resolution and order

TEST(BindSockets, BIND_006_DeduplicatesThenPutsIpv4FirstKeepingOrder) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // Within a family the resolver's order is kept: 127.0.0.2 before 127.0.0.1,
  // ::1 before ::, the reverse of byte order, so a sort by address would show.
  kernel.Resolve({Ip("::1", 8888), Ip("127.0.0.2", 8888), Ip("::", 8888), Ip("127.0.0.1", 8888),
                  Ip("::1", 8888), Ip("127.0.0.2", 8888)});
  {
    InSequence seq;  // each address bound once (a duplicate would be a 2nd call)
    EXPECT_CALL(sys, bind(_, Ip("127.0.0.2", 8888)));
    EXPECT_CALL(sys, bind(_, Ip("127.0.0.1", 8888)));
    EXPECT_CALL(sys, bind(_, Ip("::1", 8888)));
    EXPECT_CALL(sys, bind(_, Ip("::", 8888)));
  }
  ASSERT_OK_AND_ASSIGN(auto listeners, bind_sockets(sys, BindOptions{.port = 8888}));
  EXPECT_THAT(AddressesOf(listeners), ElementsAre(Ip("127.0.0.2", 8888), Ip("127.0.0.1", 8888),
                                                  Ip("::1", 8888), Ip("::", 8888)));
}

TEST(BindSockets, BIND_007_DarwinSkipsScopedLocalhostIpv6) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // macOS resolves localhost to fe80::1%lo0 too; it cannot share the IPv4 port.
  kernel.Resolve({Ip("127.0.0.1", 8888), Ip("fe80::1", 8888, /*scope_id=*/1), Ip("::1", 8888)});
  EXPECT_CALL(sys, socket(_, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, socket(AF_INET6, _, _)).Times(1);  // for ::1 only
  ASSERT_OK_AND_ASSIGN(
      auto listeners,
      bind_sockets(
          sys, BindOptions{.port = 8888, .address = "localhost", .platform = Platform::Darwin()}));
  EXPECT_THAT(AddressesOf(listeners), ElementsAre(Ip("127.0.0.1", 8888), Ip("::1", 8888)));
}

TEST(BindSockets, BIND_007_LinuxKeepsScopedLocalhostIpv6) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // The skip is darwin's alone: the same answer on Linux binds all three.
  kernel.Resolve({Ip("127.0.0.1", 8888), Ip("fe80::1", 8888, /*scope_id=*/1), Ip("::1", 8888)});
  ASSERT_OK_AND_ASSIGN(
      auto listeners,
      bind_sockets(
          sys, BindOptions{.port = 8888, .address = "localhost", .platform = Platform::Linux()}));
  EXPECT_THAT(AddressesOf(listeners), Contains(Ip("fe80::1", 8888, /*scope_id=*/1)));
}

TEST(BindSockets, BIND_007_DarwinKeepsScopedAddressOfOtherHosts) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // Only the name "localhost" triggers the skip.
  kernel.Resolve({Ip("fe80::1", 8888, /*scope_id=*/1)});
  EXPECT_THAT(
      bind_sockets(
          sys, BindOptions{.port = 8888, .address = "fe80::1%1", .platform = Platform::Darwin()}),
      IsOkAndHolds(ElementsAre(ListenerAt(Ip("fe80::1", 8888, /*scope_id=*/1)))));
}

// ---------------------------------------------------------------------------
// Socket set-up

TEST(BindSockets, BIND_008_EafnosupportSkipsTheAddress) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  // A kernel without IPv6 still gets IPv6 answers from the resolver.
  EXPECT_CALL(sys, socket(_, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, socket(AF_INET6, _, _)).WillOnce(Return(SysErr(EAFNOSUPPORT)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}),
              IsOkAndHolds(ElementsAre(ListenerAt(Ip("0.0.0.0", 8888)))));
}

TEST(BindSockets, BIND_008_OtherSocketErrorIsOsError) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  EXPECT_CALL(sys, socket(_, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, socket(AF_INET6, _, _)).WillOnce(Return(SysErr(EMFILE)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsError(kOs, EMFILE, "socket"));
}

TEST(BindSockets, BIND_009_EverySocketIsCloseOnExecAtCreation) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  // Atomic: SOCK_CLOEXEC on socket(), no fcntl(FD_CLOEXEC) racing a fork.
  EXPECT_CALL(sys, socket(_, HasBits(SOCK_CLOEXEC), _)).Times(2);
  EXPECT_CALL(sys, fcntl).Times(0);
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsOkAndHolds(SizeIs(2)));
}

TEST(BindSockets, BIND_010_ReuseAddrOnLinux) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  EXPECT_CALL(sys, setsockopt(_, _, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEADDR, 1));
  EXPECT_CALL(sys, setsockopt(/*fd=*/4, SOL_SOCKET, SO_REUSEADDR, 1));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .platform = Platform::Linux()}), IsOk());
}

TEST(BindSockets, BIND_010_ReuseAddrOnDarwin) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888)});
  EXPECT_CALL(sys, setsockopt(_, _, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEADDR, 1));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .platform = Platform::Darwin()}), IsOk());
}

TEST(BindSockets, BIND_010_NoReuseAddrOnWindows) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  // On Windows SO_REUSEADDR lets another process hijack the port (Tornado #550).
  EXPECT_CALL(sys, setsockopt(_, _, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, setsockopt(_, SOL_SOCKET, SO_REUSEADDR, _)).Times(0);
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .platform = Platform::Windows()}),
              IsOkAndHolds(SizeIs(2)));
}

TEST(BindSockets, BIND_011_ReusePortSetsSoReuseport) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  EXPECT_CALL(sys, setsockopt(_, _, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEPORT, 1));
  EXPECT_CALL(sys, setsockopt(/*fd=*/4, SOL_SOCKET, SO_REUSEPORT, 1));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .reuse_port = true}), IsOk());
}

TEST(BindSockets, BIND_011_WithoutReusePortSoReuseportIsUntouched) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  EXPECT_CALL(sys, setsockopt(_, _, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, setsockopt(_, SOL_SOCKET, SO_REUSEPORT, _)).Times(0);
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsOkAndHolds(SizeIs(2)));
}

TEST(BindSockets, BIND_012_V6OnlyIsSetBeforeBind) {
  StrictMock<MockSys> sys;
  Sequence v6only_then_bind;  // the rule is this order; the rest may move
  EXPECT_CALL(sys, getaddrinfo).WillOnce(Return(Resolved({Ip("::", 8888)})));
  EXPECT_CALL(sys, socket(AF_INET6, kStreamFlags, IPPROTO_TCP)).WillOnce(Return(SysOk(3)));
  EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEADDR, 1)).WillOnce(Return(SysOk()));
  EXPECT_CALL(sys, setsockopt(/*fd=*/3, IPPROTO_IPV6, IPV6_V6ONLY, 1))
      .InSequence(v6only_then_bind)
      .WillOnce(Return(SysOk()));
  EXPECT_CALL(sys, bind(/*fd=*/3, Ip("::", 8888)))
      .InSequence(v6only_then_bind)
      .WillOnce(Return(SysOk()));
  EXPECT_CALL(sys, getsockname(/*fd=*/3)).WillOnce(Return(Named(Ip("::", 8888))));
  EXPECT_CALL(sys, listen(/*fd=*/3, kDefaultBacklog)).WillOnce(Return(SysOk()));
  ASSERT_OK_AND_ASSIGN(auto listeners,
                       bind_sockets(sys, BindOptions{.port = 8888, .family = AF_INET6}));
  EXPECT_CALL(sys, close(/*fd=*/3));  // when the test drops the listener, not before
}

TEST(BindSockets, BIND_014_EverySocketIsNonBlockingAtCreation) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  // Atomic: SOCK_NONBLOCK on socket(), so it is non-blocking before bind().
  EXPECT_CALL(sys, socket(_, HasBits(SOCK_NONBLOCK), _)).Times(2);
  EXPECT_CALL(sys, fcntl).Times(0);
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsOkAndHolds(SizeIs(2)));
}

TEST(BindSockets, BIND_028_FlagsAtomicOnSocketNoLaterCall) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  // Both flags in socket()'s own type argument; nothing sets them afterwards
  // (fcntl is the seam's only call that could: there is no ioctl in it).
  EXPECT_CALL(sys, socket(_, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, _)).Times(2);
  EXPECT_CALL(sys, fcntl).Times(0);
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsOkAndHolds(SizeIs(2)));
}

TEST(BindSockets, BIND_026_V6OnlyFailureIsOsErrorNamingTheOption) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  // A dual-stack [::] would take the IPv4 port too: not the socket asked for.
  EXPECT_CALL(sys, setsockopt(_, _, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, setsockopt(/*fd=*/4, IPPROTO_IPV6, IPV6_V6ONLY, 1))
      .WillOnce(Return(SysErr(ENOPROTOOPT)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}),
              IsError(kOs, ENOPROTOOPT, "setsockopt(IPV6_V6ONLY)"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindSockets, BIND_026_ReuseAddrFailureIsOsErrorNamingTheOption) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888)});
  EXPECT_CALL(sys, setsockopt(_, _, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEADDR, 1))
      .WillOnce(Return(SysErr(ENOBUFS)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}),
              IsError(kOs, ENOBUFS, "setsockopt(SO_REUSEADDR)"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindSockets, BIND_026_ReusePortFailureIsOsErrorNamingTheOption) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888)});
  // Tornado checks only that the constant exists; a kernel may still refuse it.
  EXPECT_CALL(sys, setsockopt(_, _, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEPORT, 1))
      .WillOnce(Return(SysErr(ENOPROTOOPT)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .reuse_port = true}),
              IsError(kOs, ENOPROTOOPT, "setsockopt(SO_REUSEPORT)"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

// ---------------------------------------------------------------------------
// Bind, port reuse and listen

TEST(BindSockets, BIND_013_PortZeroReusesFirstBoundPort) {
  StrictMock<MockSys> sys;
  {
    InSequence seq;  // the exact script: the v6 bind must use the port read back from v4
    EXPECT_CALL(sys, getaddrinfo(_, "0", _))
        .WillOnce(Return(Resolved({Ip("0.0.0.0", 0), Ip("::", 0)})));
    EXPECT_CALL(sys, socket(AF_INET, kStreamFlags, IPPROTO_TCP)).WillOnce(Return(SysOk(3)));
    EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEADDR, 1)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, bind(/*fd=*/3, Ip("0.0.0.0", 0))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, getsockname(/*fd=*/3)).WillOnce(Return(Named(Ip("0.0.0.0", 40001))));
    EXPECT_CALL(sys, listen(/*fd=*/3, kDefaultBacklog)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, socket(AF_INET6, kStreamFlags, IPPROTO_TCP)).WillOnce(Return(SysOk(4)));
    EXPECT_CALL(sys, setsockopt(/*fd=*/4, SOL_SOCKET, SO_REUSEADDR, 1)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, setsockopt(/*fd=*/4, IPPROTO_IPV6, IPV6_V6ONLY, 1)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, bind(/*fd=*/4, Ip("::", 40001))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, getsockname(/*fd=*/4)).WillOnce(Return(Named(Ip("::", 40001))));
    EXPECT_CALL(sys, listen(/*fd=*/4, kDefaultBacklog)).WillOnce(Return(SysOk()));
  }
  ASSERT_OK_AND_ASSIGN(auto listeners, bind_sockets(sys, BindOptions{.port = 0}));
  EXPECT_CALL(sys, close(/*fd=*/3));  // when the test drops the listeners, not before
  EXPECT_CALL(sys, close(/*fd=*/4));
}

TEST(BindSockets, BIND_013_PortIsFixedByTheFirstSuccessfulBind) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 0), Ip("::", 0), Ip("::1", 0)});
  // The first address is skipped, so [::] binds port 0 and fixes the port.
  EXPECT_CALL(sys, socket(_, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, socket(AF_INET, _, _)).WillOnce(Return(SysErr(EAFNOSUPPORT)));
  EXPECT_CALL(sys, bind(_, _)).Times(0);
  EXPECT_CALL(sys, bind(_, Ip("::", 0)));
  EXPECT_CALL(sys, bind(_, Ip("::1", 40001)));  // 40001: HealthyKernel's first port
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 0}),
              IsOkAndHolds(ElementsAre(ListenerAt(Ip("::", 40001)), ListenerAt(Ip("::1", 40001)))));
}

TEST(BindSockets, BIND_013_ExplicitPortIsNotReplaced) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  EXPECT_CALL(sys, bind(_, Ip("0.0.0.0", 8888)));
  EXPECT_CALL(sys, bind(_, Ip("::", 8888)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsOkAndHolds(SizeIs(2)));
}

TEST(BindSockets, BIND_015_LocalhostIpv6AddrNotAvailIsSkipped) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  // A container without ::1 whose /etc/hosts still lists it (Tornado #2274).
  kernel.Resolve({Ip("127.0.0.1", 8888), Ip("::1", 8888)});
  EXPECT_CALL(sys, bind(_, _)).Times(AnyNumber());
  EXPECT_CALL(sys, bind(/*fd=*/4, Ip("::1", 8888))).WillOnce(Return(SysErr(EADDRNOTAVAIL)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .address = "localhost"}),
              IsOkAndHolds(ElementsAre(ListenerAt(Ip("127.0.0.1", 8888)))));
  EXPECT_THAT(kernel.closed(), Contains(4));  // the skipped socket does not linger
}

TEST(BindSockets, BIND_015_AddrNotAvailOnOtherHostIsOsError) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("::1", 8888)});
  EXPECT_CALL(sys, bind).WillOnce(Return(SysErr(EADDRNOTAVAIL)));
  // The literal "::1" is not "localhost": the caller asked for exactly that address.
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .address = "::1"}),
              IsError(kOs, EADDRNOTAVAIL, "bind"));
}

TEST(BindSockets, BIND_015_LocalhostIpv4AddrNotAvailIsOsError) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("127.0.0.1", 8888), Ip("::1", 8888)});
  EXPECT_CALL(sys, bind(_, _)).Times(AnyNumber());
  EXPECT_CALL(sys, bind(_, Ip("127.0.0.1", 8888))).WillOnce(Return(SysErr(EADDRNOTAVAIL)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .address = "localhost"}),
              IsError(kOs, EADDRNOTAVAIL, "bind"));
}

TEST(BindSockets, BIND_015_LocalhostIpv6OtherBindErrorIsOsError) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("127.0.0.1", 8888), Ip("::1", 8888)});
  EXPECT_CALL(sys, bind(_, _)).Times(AnyNumber());
  EXPECT_CALL(sys, bind(_, Ip("::1", 8888))).WillOnce(Return(SysErr(EACCES)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .address = "localhost"}),
              IsError(kOs, EACCES, "bind"));
}

TEST(BindSockets, BIND_016_ListensWithTheGivenBacklog) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  EXPECT_CALL(sys, listen(/*fd=*/3, /*backlog=*/7));
  EXPECT_CALL(sys, listen(/*fd=*/4, /*backlog=*/7));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888, .backlog = 7}), IsOkAndHolds(SizeIs(2)));
}

TEST(BindSockets, BIND_030_DefaultBacklogIs128) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  // A literal, not kDefaultBacklog: the rule is the number (Tornado's _DEFAULT_BACKLOG).
  EXPECT_CALL(sys, listen(/*fd=*/3, /*backlog=*/128));
  EXPECT_CALL(sys, listen(/*fd=*/4, /*backlog=*/128));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsOkAndHolds(SizeIs(2)));
}

TEST(BindSockets, BIND_016_ListenFailureIsOsError) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888)});
  EXPECT_CALL(sys, listen).WillOnce(Return(SysErr(EADDRINUSE)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsError(kOs, EADDRINUSE, "listen"));
}

TEST(BindSockets, BIND_017_EveryAddressSkippedIsAnEmptyList) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("::", 8888)});
  EXPECT_CALL(sys, socket).WillOnce(Return(SysErr(EAFNOSUPPORT)));
  // Tornado #1443: zero listeners is the caller's decision, not an error.
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsOkAndHolds(IsEmpty()));
}

TEST(BindSockets, BIND_017_NoResolvedAddressIsAnEmptyList) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({});
  EXPECT_CALL(sys, socket).Times(0);
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsOkAndHolds(IsEmpty()));
}

TEST(BindSockets, BIND_027_ListenerCarriesTheAddressGetsocknameReturned) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 0), Ip("::", 0)});
  // The caller of port 0 learns the port without another syscall.
  EXPECT_THAT(
      bind_sockets(sys, BindOptions{.port = 0}),
      IsOkAndHolds(ElementsAre(ListenerAt(Ip("0.0.0.0", 40001)), ListenerAt(Ip("::", 40001)))));
}

TEST(BindSockets, BIND_027_GetsocknameFailureIsOsError) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 0)});
  EXPECT_CALL(sys, getsockname).WillOnce(Return(SysErr<SockAddr>(ENOBUFS)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 0}), IsError(kOs, ENOBUFS, "getsockname"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

// ---------------------------------------------------------------------------
// Failure handling

TEST(BindSockets, BIND_018_BindFailureClosesEverySocketOpened) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  EXPECT_CALL(sys, bind(_, _)).Times(AnyNumber());
  EXPECT_CALL(sys, bind(/*fd=*/4, Ip("::", 8888))).WillOnce(Return(SysErr(EADDRINUSE)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsError(kOs, EADDRINUSE, "bind"));
  // The IPv4 listener, already listening, would otherwise accept connections.
  EXPECT_THAT(kernel.closed(), UnorderedElementsAre(3, 4));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindSockets, BIND_018_SocketFailureClosesEarlierListeners) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  EXPECT_CALL(sys, socket(_, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, socket(AF_INET6, _, _)).WillOnce(Return(SysErr(EMFILE)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsError(kOs, EMFILE, "socket"));
  EXPECT_THAT(kernel.closed(), ElementsAre(3));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindSockets, BIND_018_ListenFailureClosesEverySocketOpened) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  EXPECT_CALL(sys, listen(_, _)).Times(AnyNumber());
  EXPECT_CALL(sys, listen(/*fd=*/4, _)).WillOnce(Return(SysErr(EADDRINUSE)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsError(kOs, EADDRINUSE, "listen"));
  EXPECT_THAT(kernel.closed(), UnorderedElementsAre(3, 4));
}

TEST(BindSockets, BIND_018_SetsockoptFailureClosesEverySocketOpened) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  EXPECT_CALL(sys, setsockopt(_, _, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, setsockopt(/*fd=*/4, SOL_SOCKET, SO_REUSEADDR, 1))
      .WillOnce(Return(SysErr(ENOMEM)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}),
              IsError(kOs, ENOMEM, "setsockopt(SO_REUSEADDR)"));
  EXPECT_THAT(kernel.closed(), UnorderedElementsAre(3, 4));
}

TEST(BindSockets, BIND_023_RestartsOnNewPortHoldingTheTakenOne) {
  StrictMock<MockSys> sys;
  {
    InSequence seq;
    EXPECT_CALL(sys, getaddrinfo(_, "0", _))
        .WillOnce(Return(Resolved({Ip("0.0.0.0", 0), Ip("::", 0)})));
    // Pass 1: 0.0.0.0 gets 40001, but 40001 is taken on IPv6 (Tornado #1860).
    EXPECT_CALL(sys, socket(AF_INET, _, _)).WillOnce(Return(SysOk(3)));
    EXPECT_CALL(sys, setsockopt(/*fd=*/3, _, _, _)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, bind(/*fd=*/3, Ip("0.0.0.0", 0))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, getsockname(/*fd=*/3)).WillOnce(Return(Named(Ip("0.0.0.0", 40001))));
    EXPECT_CALL(sys, listen(/*fd=*/3, _)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, socket(AF_INET6, _, _)).WillOnce(Return(SysOk(4)));
    EXPECT_CALL(sys, setsockopt(/*fd=*/4, _, _, _)).Times(2).WillRepeatedly(Return(SysOk()));
    EXPECT_CALL(sys, bind(/*fd=*/4, Ip("::", 40001))).WillOnce(Return(SysErr(EADDRINUSE)));
    EXPECT_CALL(sys, close(/*fd=*/4));
    // Pass 2: fd 3 still holds 40001, so the kernel hands out another port.
    EXPECT_CALL(sys, socket(AF_INET, _, _)).WillOnce(Return(SysOk(5)));
    EXPECT_CALL(sys, setsockopt(/*fd=*/5, _, _, _)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, bind(/*fd=*/5, Ip("0.0.0.0", 0))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, getsockname(/*fd=*/5)).WillOnce(Return(Named(Ip("0.0.0.0", 40002))));
    EXPECT_CALL(sys, listen(/*fd=*/5, _)).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, socket(AF_INET6, _, _)).WillOnce(Return(SysOk(6)));
    EXPECT_CALL(sys, setsockopt(/*fd=*/6, _, _, _)).Times(2).WillRepeatedly(Return(SysOk()));
    EXPECT_CALL(sys, bind(/*fd=*/6, Ip("::", 40002))).WillOnce(Return(SysOk()));
    EXPECT_CALL(sys, getsockname(/*fd=*/6)).WillOnce(Return(Named(Ip("::", 40002))));
    EXPECT_CALL(sys, listen(/*fd=*/6, _)).WillOnce(Return(SysOk()));
    // The held port is released only as bind_sockets returns.
    EXPECT_CALL(sys, close(/*fd=*/3));
  }
  ASSERT_OK_AND_ASSIGN(auto listeners, bind_sockets(sys, BindOptions{.port = 0}));
  EXPECT_THAT(AddressesOf(listeners), ElementsAre(Ip("0.0.0.0", 40002), Ip("::", 40002)));
  EXPECT_CALL(sys, close(/*fd=*/5));
  EXPECT_CALL(sys, close(/*fd=*/6));
}

TEST(BindSockets, BIND_023_GivesUpAfterPortRetriesWithNothingLeaked) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 0), Ip("::", 0)});
  EXPECT_CALL(sys, bind(_, _)).Times(AnyNumber());
  // Every inherited IPv6 port is taken: 1 pass + 2 restarts, then give up.
  EXPECT_CALL(sys, bind(_, V6WithPort())).Times(3).WillRepeatedly(Return(SysErr(EADDRINUSE)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 0, .port_retries = 2}),
              IsError(kOs, EADDRINUSE, "bind"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
  // Held ports (fds 3 and 5, the first two passes' IPv4 sockets) stay open
  // through the last pass, whose IPv6 socket is fd 8.
  const auto& closed = kernel.closed();
  const auto pos = [&](int fd) {
    return std::find(closed.begin(), closed.end(), fd) - closed.begin();
  };
  EXPECT_GT(pos(3), pos(8));
  EXPECT_GT(pos(5), pos(8));
}

TEST(BindSockets, BIND_023_ZeroPortRetriesFailsOnFirstConflictLikeTornado) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 0), Ip("::", 0)});
  EXPECT_CALL(sys, bind(_, _)).Times(AnyNumber());
  EXPECT_CALL(sys, bind(_, V6WithPort())).WillOnce(Return(SysErr(EADDRINUSE)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 0, .port_retries = 0}),
              IsError(kOs, EADDRINUSE, "bind"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindSockets, BIND_023_ConflictOnFirstAddressIsNotRetried) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 0), Ip("::", 0)});
  // Only a port inherited from an earlier bind can be retried with another
  // port; an EADDRINUSE on the kernel's own choice is a plain error.
  EXPECT_CALL(sys, bind(_, Ip("0.0.0.0", 0))).WillOnce(Return(SysErr(EADDRINUSE)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 0}), IsError(kOs, EADDRINUSE, "bind"));
  EXPECT_THAT(kernel.open_fds(), IsEmpty());
}

TEST(BindSockets, BIND_024_InterruptedSetupCallsAreRetried) {
  StrictMock<MockSys> sys;
  InSequence seq;  // every call interrupted once, then repeated with the same arguments
  EXPECT_CALL(sys, getaddrinfo).WillOnce(Return(Resolved({Ip("::", 8888)})));
  EXPECT_CALL(sys, socket(AF_INET6, _, _))
      .WillOnce(Return(SysErr(EINTR)))
      .WillOnce(Return(SysOk(3)));
  EXPECT_CALL(sys, setsockopt(/*fd=*/3, SOL_SOCKET, SO_REUSEADDR, 1))
      .WillOnce(Return(SysErr(EINTR)))
      .WillOnce(Return(SysOk()));
  EXPECT_CALL(sys, setsockopt(/*fd=*/3, IPPROTO_IPV6, IPV6_V6ONLY, 1))
      .WillOnce(Return(SysErr(EINTR)))
      .WillOnce(Return(SysOk()));
  EXPECT_CALL(sys, bind(/*fd=*/3, Ip("::", 8888)))
      .WillOnce(Return(SysErr(EINTR)))
      .WillOnce(Return(SysOk()));
  EXPECT_CALL(sys, getsockname(/*fd=*/3))
      .WillOnce(Return(SysErr<SockAddr>(EINTR)))
      .WillOnce(Return(Named(Ip("::", 8888))));
  EXPECT_CALL(sys, listen(/*fd=*/3, _)).WillOnce(Return(SysErr(EINTR))).WillOnce(Return(SysOk()));
  EXPECT_CALL(sys, close(/*fd=*/3));  // the listener, dropped by EXPECT_THAT
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}),
              IsOkAndHolds(ElementsAre(ListenerAt(Ip("::", 8888)))));
}

TEST(BindSockets, BIND_024_CloseIsNeverRetried) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888)});
  EXPECT_CALL(sys, bind).WillOnce(Return(SysErr(EADDRINUSE)));
  // On Linux the fd is gone whatever close() says; a retry could close an fd
  // another thread just got.
  EXPECT_CALL(sys, close(/*fd=*/3)).Times(1).WillOnce(Return(SysErr(EINTR)));
  EXPECT_THAT(bind_sockets(sys, BindOptions{.port = 8888}), IsError(kOs, EADDRINUSE, "bind"));
}

TEST(BindSockets, BIND_025_ErrorNamesStepAddressAndErrno) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("0.0.0.0", 8888), Ip("::", 8888)});
  EXPECT_CALL(sys, bind(_, _)).Times(AnyNumber());
  EXPECT_CALL(sys, bind(_, Ip("::", 8888))).WillOnce(Return(SysErr(EADDRINUSE)));
  auto r = bind_sockets(sys, BindOptions{.port = 8888});
  ASSERT_THAT(r, IsError(kOs, EADDRINUSE, "bind"));
  // "Address already in use" alone would not say which of two sockets failed.
  EXPECT_EQ(r.error().address, "[::]:8888");
  EXPECT_THAT(r.error().ToString(), HasSubstr("bind"));
  EXPECT_THAT(r.error().ToString(), HasSubstr("[::]:8888"));
  EXPECT_THAT(r.error().ToString(), HasSubstr("EADDRINUSE"));
}

TEST(BindSockets, BIND_025_SetsockoptErrorNamesTheOption) {
  NiceMock<MockSys> sys;
  HealthyKernel kernel(sys);
  kernel.Resolve({Ip("::", 8888)});
  EXPECT_CALL(sys, setsockopt(_, _, _, _)).Times(AnyNumber());
  EXPECT_CALL(sys, setsockopt(_, IPPROTO_IPV6, IPV6_V6ONLY, _))
      .WillOnce(Return(SysErr(ENOPROTOOPT)));
  auto r = bind_sockets(sys, BindOptions{.port = 8888});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().address, "[::]:8888");
  EXPECT_THAT(r.error().ToString(), HasSubstr("setsockopt(IPV6_V6ONLY)"));
  EXPECT_THAT(r.error().ToString(), HasSubstr("ENOPROTOOPT"));
}

TEST(BindSockets, BIND_025_ResolveErrorNamesTheEaiCode) {
  NiceMock<MockSys> sys;
  EXPECT_CALL(sys, getaddrinfo).WillOnce(Return(fakes::ResolveFails(EAI_NONAME)));
  auto r = bind_sockets(sys, BindOptions{.port = 8888, .address = "no.such.host"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().ToString(), HasSubstr("EAI_NONAME"));
  EXPECT_THAT(r.error().ToString(), HasSubstr("no.such.host"));
}

}  // namespace
}  // namespace netutil
