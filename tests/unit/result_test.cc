// Result and Error: what every API call returns (BIND-025: an error names its
// step, address and errno).
#include "netutil/result.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netdb.h>

#include <cerrno>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace netutil {
namespace {

using ::testing::HasSubstr;

TEST(Result, HoldsValueOrError) {
  Result<int> v = 7;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), 7);
  Result<int> e = Error::Os(EBADF, "close");
  ASSERT_FALSE(e.ok());
  EXPECT_FALSE(static_cast<bool>(e));
  EXPECT_EQ(e.error().code, EBADF);
}

TEST(Result, MovesOutMoveOnlyValues) {
  Result<std::vector<std::unique_ptr<int>>> r = std::vector<std::unique_ptr<int>>{};
  r.value().push_back(std::make_unique<int>(3));
  auto v = std::move(r).value();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(*v[0], 3);
}

TEST(Result, OsErrorNamesStepAddressAndErrno) {
  Error e = Error::Os(EADDRINUSE, "bind", "[::]:8888");
  EXPECT_EQ(e.kind, Error::Kind::kOs);
  EXPECT_STREQ(e.KindName(), "os");
  EXPECT_EQ(e.ToString(), "bind [::]:8888: EADDRINUSE (Address already in use)");
}

TEST(Result, ArgumentErrorIsEinval) {
  Error e = Error::Argument("port", "port 70000 is outside 0..65535");
  EXPECT_EQ(e.kind, Error::Kind::kArgument);
  EXPECT_EQ(e.code, EINVAL);
  EXPECT_EQ(e.step, "port");
  EXPECT_STREQ(e.KindName(), "argument");
  EXPECT_THAT(e.ToString(), HasSubstr("70000"));
}

TEST(Result, ResolveErrorCarriesEaiCodeAndErrno) {
  Error e = Error::Resolve(EAI_SYSTEM, EMFILE, "example.com:80");
  EXPECT_EQ(e.kind, Error::Kind::kResolve);
  EXPECT_EQ(e.code, EAI_SYSTEM);
  EXPECT_EQ(e.sys_errno, EMFILE);
  EXPECT_STREQ(e.KindName(), "resolve");
  EXPECT_THAT(e.ToString(), HasSubstr("EAI_SYSTEM"));
  EXPECT_THAT(e.ToString(), HasSubstr("EMFILE"));
}

TEST(Result, ErrorPrintsKindAndMessage) {
  std::ostringstream os;
  os << Error::Os(EBADF, "accept4", "0.0.0.0:80");
  EXPECT_THAT(os.str(), HasSubstr("os"));
  EXPECT_THAT(os.str(), HasSubstr("accept4 0.0.0.0:80: EBADF"));
}

TEST(Result, StatusOk) { EXPECT_TRUE(OkStatus().ok()); }

}  // namespace
}  // namespace netutil
