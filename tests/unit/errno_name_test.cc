// ErrnoName / GaiErrorName: errors and test output name codes (BIND-025).
#include "netutil/errno_name.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netdb.h>

#include <cerrno>
#include <string>

namespace netutil {
namespace {

using ::testing::Optional;

TEST(ErrnoName, NamesCommonErrnos) {
  EXPECT_STREQ(ErrnoName(EADDRINUSE), "EADDRINUSE");
  EXPECT_STREQ(ErrnoName(EAFNOSUPPORT), "EAFNOSUPPORT");
  EXPECT_STREQ(ErrnoName(EMFILE), "EMFILE");
  EXPECT_STREQ(ErrnoName(ECONNREFUSED), "ECONNREFUSED");
  EXPECT_STREQ(ErrnoName(ELOOP), "ELOOP");
}

TEST(ErrnoName, EagainWinsOverEwouldblock) {
  // Equal on Linux; printing says EAGAIN, parsing accepts both.
  EXPECT_STREQ(ErrnoName(EWOULDBLOCK), "EAGAIN");
  EXPECT_THAT(ErrnoFromName("EWOULDBLOCK"), Optional(EAGAIN));
  EXPECT_THAT(ErrnoFromName("EAGAIN"), Optional(EAGAIN));
}

TEST(ErrnoName, UnknownCodeIsNumbered) {
  EXPECT_EQ(std::string(ErrnoName(4000)), "E4000");
  EXPECT_EQ(ErrnoFromName("ENOTANERRNO"), std::nullopt);
}

TEST(ErrnoName, NamesEveryAcceptErrno) {
  // The parameterised accept-error tests are named by these.
  for (int err : {EPROTO, EPERM, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP,
                  ENETUNREACH, EMFILE, ENFILE, ENOBUFS, ENOMEM, EBADF, EINVAL, ENOTSOCK, EFAULT,
                  ECONNABORTED}) {
    const std::string name = ErrnoName(err);
    EXPECT_NE(name, "E" + std::to_string(err)) << err;
    EXPECT_THAT(ErrnoFromName(name), Optional(err)) << name;
  }
}

TEST(GaiErrorName, NamesResolverCodes) {
  EXPECT_STREQ(GaiErrorName(EAI_NONAME), "EAI_NONAME");
  EXPECT_STREQ(GaiErrorName(EAI_SYSTEM), "EAI_SYSTEM");
  EXPECT_THAT(GaiErrorFromName("EAI_AGAIN"), Optional(EAI_AGAIN));
  EXPECT_EQ(GaiErrorFromName("EAI_NOPE"), std::nullopt);
}

}  // namespace
}  // namespace netutil
