// The bind-conflict rules of the fake (fakes/bind_rules.h) for each platform.
// Linux's rows are the ones the fidelity table checks against the real
// kernel; darwin's and Windows' cannot be run here, so they are pinned down
// as the documented BSD and Winsock behaviour.
#include "netutil/fakes/bind_rules.h"

#include <gtest/gtest.h>

namespace netutil::property {
namespace {

using fakes::Binding;
using fakes::BindRules;

Binding B(const char* ip, bool reuseaddr = false, bool reuseport = false, bool v6only = true,
          bool listening = true) {
  return Binding{*SockAddr::FromIp(ip, 8000), reuseaddr, reuseport, v6only, listening};
}

struct Row {
  BindRules rules;
  Binding candidate;
  Binding existing;
  bool conflicts;
  const char* why;
};

TEST(BindRules, ExplicitPortConflictsPerPlatform) {
  const Row rows[] = {
      {BindRules::kLinux, B("127.0.0.1"), B("127.0.0.1"), true, "same address"},
      {BindRules::kLinux, B("127.0.0.1", true), B("127.0.0.1", true, false, true, false), false,
       "SO_REUSEADDR on both, the other not listening"},
      {BindRules::kLinux, B("127.0.0.1", true), B("0.0.0.0", true), true,
       "SO_REUSEADDR does not pass a listener"},
      {BindRules::kLinux, B("127.0.0.1", false, true), B("127.0.0.1", false, true), false,
       "SO_REUSEPORT on both"},
      {BindRules::kLinux, B("0.0.0.0"), B("::", false, false, false), true, "dual-stack ::"},
      {BindRules::kLinux, B("0.0.0.0"), B("::", false, false, true), false, "V6ONLY ::"},
      {BindRules::kLinux, B("0.0.0.0"), B("::1", false, false, false), false,
       "a plain IPv6 address holds no IPv4 address"},
      {BindRules::kLinux, B("127.0.0.1"), B("::ffff:127.0.0.1", false, false, false), true,
       "v4-mapped"},
      {BindRules::kLinux, B("127.0.0.2"), B("127.0.0.1"), false, "different addresses"},
      // BSD: a specific address beside a wildcard needs SO_REUSEADDR, the same
      // address needs SO_REUSEPORT on both; listening does not matter.
      {BindRules::kBsd, B("127.0.0.1", true), B("0.0.0.0"), false, "BSD wildcard + specific"},
      {BindRules::kBsd, B("127.0.0.1"), B("0.0.0.0"), true, "BSD without SO_REUSEADDR"},
      {BindRules::kBsd, B("127.0.0.1", true), B("127.0.0.1", true), true,
       "BSD same address with SO_REUSEADDR only"},
      {BindRules::kBsd, B("127.0.0.1", false, true), B("127.0.0.1", false, true), false,
       "BSD same address, SO_REUSEPORT on both"},
      // Windows: SO_REUSEADDR takes the port whatever holds it, the hijacking
      // Tornado avoids by not setting it there (BIND-010).
      {BindRules::kWindows, B("127.0.0.1", true), B("127.0.0.1"), false, "Windows hijack"},
      {BindRules::kWindows, B("127.0.0.1"), B("127.0.0.1"), true, "Windows without the option"},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(fakes::Conflicts(r.rules, r.candidate, r.existing, /*relax=*/true,
                               /*reuseport_ok=*/true),
              r.conflicts)
        << r.why;
  }
}

// The kernel's own choice for port 0 (relax and reuseport_ok false) takes
// only a port no socket's address overlaps, whatever the options say.
TEST(BindRules, BIND_010_BIND_013_KernelChoiceAvoidsEveryOverlap) {
  for (BindRules rules : {BindRules::kLinux, BindRules::kBsd, BindRules::kWindows}) {
    EXPECT_TRUE(fakes::Conflicts(rules, B("127.0.0.1", true, true),
                                 B("127.0.0.1", true, true, true, false), false, false));
    EXPECT_FALSE(fakes::Conflicts(rules, B("127.0.0.1", true, true), B("127.0.0.2"), false, false));
  }
}

}  // namespace
}  // namespace netutil::property
