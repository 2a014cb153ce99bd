// SockAddr: the address values tests, errors (BIND-025) and listeners
// (BIND-027) print and compare.
#include "netutil/sock_addr.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <string>

namespace netutil {
namespace {

TEST(SockAddr, ParsesIpv4) {
  auto a = SockAddr::FromIp("127.0.0.1", 8888);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->port(), 8888);
  EXPECT_EQ(a->ToString(), "127.0.0.1:8888");
}

TEST(SockAddr, Ipv6PrintsInBrackets) {
  // Errors name the address as "[::]:8888".
  auto a = SockAddr::FromIp("::", 8888);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(a->ToString(), "[::]:8888");
}

TEST(SockAddr, ScopeIdFromLiteralOrArgument) {
  auto literal = SockAddr::FromIp("fe80::1%3", 80);
  auto argument = SockAddr::FromIp("fe80::1", 80, /*scope_id=*/3);
  ASSERT_TRUE(literal.has_value());
  EXPECT_EQ(literal->scope_id(), 3u);
  EXPECT_EQ(literal, argument);
  EXPECT_EQ(literal->ToString(), "[fe80::1%3]:80");
}

TEST(SockAddr, RejectsNonLiterals) {
  EXPECT_EQ(SockAddr::FromIp("localhost", 80), std::nullopt);
  EXPECT_EQ(SockAddr::FromIp("1.2.3.4%1", 80), std::nullopt);  // scope on IPv4
  EXPECT_EQ(SockAddr::FromIp(std::string("1.2.3.4\0", 8), 80), std::nullopt);
  EXPECT_EQ(SockAddr::FromIp("fe80::1%x", 80), std::nullopt);
}

TEST(SockAddr, WithPortReplacesOnlyThePort) {
  // Port-0 reuse binds the later address to the first bound port.
  auto a = SockAddr::FromIp("::1", 0);
  ASSERT_TRUE(a.has_value());
  SockAddr b = a->WithPort(40001);
  EXPECT_EQ(b.port(), 40001);
  EXPECT_EQ(b.host(), "::1");
  EXPECT_EQ(a->port(), 0);  // a value: the original is unchanged
}

TEST(SockAddr, UnixPathAndAbstractName) {
  auto path = SockAddr::Unix("/run/app.sock");
  ASSERT_TRUE(path.has_value());
  EXPECT_EQ(path->family(), AF_UNIX);
  EXPECT_EQ(path->unix_path(), "/run/app.sock");
  EXPECT_FALSE(path->is_abstract_unix());
  EXPECT_EQ(path->ToString(), "unix:/run/app.sock");

  auto abstract = SockAddr::Unix(std::string("\0app", 4));
  ASSERT_TRUE(abstract.has_value());
  EXPECT_TRUE(abstract->is_abstract_unix());
  EXPECT_EQ(abstract->ToString(), "unix:@app");
}

TEST(SockAddr, UnixPathLongerThanSunPathDoesNotFit) {
  EXPECT_EQ(SockAddr::Unix(std::string(sizeof(sockaddr_un::sun_path) + 1, 'a')), std::nullopt);
  EXPECT_TRUE(SockAddr::Unix(std::string(sizeof(sockaddr_un::sun_path), 'a')).has_value());
}

TEST(SockAddr, EqualityAndOrderForDeduplication) {
  auto a = SockAddr::FromIp("10.0.0.1", 80);
  auto b = SockAddr::FromIp("10.0.0.1", 80);
  auto c = SockAddr::FromIp("10.0.0.2", 80);
  auto v6 = SockAddr::FromIp("::", 80);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_FALSE(*a < *b);
  EXPECT_FALSE(*b < *a);
  EXPECT_TRUE(*a < *c || *c < *a);
  EXPECT_TRUE(*a < *v6);  // by family first: AF_INET < AF_INET6
}

TEST(SockAddr, EmptyIsUnspec) {
  SockAddr a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.family(), AF_UNSPEC);
  EXPECT_EQ(a.port(), 0);
}

TEST(SockAddr, FamilyNames) {
  EXPECT_STREQ(FamilyName(AF_INET), "AF_INET");
  EXPECT_STREQ(FamilyName(AF_INET6), "AF_INET6");
  EXPECT_STREQ(FamilyName(AF_UNIX), "AF_UNIX");
  EXPECT_STREQ(FamilyName(AF_UNSPEC), "AF_UNSPEC");
}

}  // namespace
}  // namespace netutil
