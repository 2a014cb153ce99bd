// Skips (docs/CONFORMANCE.md, "Skips"): host probes never apply to the fake
// kernel, so --mode fake runs the IPv6 and 127.0.0.2 cases even where the
// host has neither; and how SKIPPED weighs on the exit status.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "catalog.h"
#include "environment.h"
#include "host.h"
#include "runner.h"
#include "target.h"

namespace netutil::conform {
namespace {

// The host as the probe would see a machine without IPv6 and without
// 127.0.0.2, for the whole test (NETCONFORM_HOST_PROBE, host.h).
class HostWithoutIpv6 : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("NETCONFORM_HOST_PROBE", "no-ipv6,no-loopback2", 1); }
  void TearDown() override { ::unsetenv("NETCONFORM_HOST_PROBE"); }
};

// The catalog's cases that need a host capability.
std::vector<Case> CasesNeedingTheHost() {
  std::vector<std::string> problems;
  std::vector<Case> all = LoadCatalog(ReadCaseDir(DefaultCaseDir(), &problems), &problems);
  EXPECT_TRUE(problems.empty());
  std::vector<Case> out;
  for (Case& c : all) {
    const nlohmann::json needs = c.env.value("needs", nlohmann::json::array());
    for (const auto& n : needs) {
      if (n == "ipv6" || n == "loopback2") {
        out.push_back(c);
        break;
      }
    }
  }
  return out;
}

TEST_F(HostWithoutIpv6, TheOverrideReachesTheHostProbeOnly) {
  const host::Probe real = host::ProbeHost();
  EXPECT_FALSE(real.ipv6);
  EXPECT_FALSE(real.loopback2);
  const host::Probe fake = host::ProbeFakeKernel();
  EXPECT_TRUE(fake.ipv6);
  EXPECT_TRUE(fake.loopback2);
  EXPECT_TRUE(host::ProbeFor(/*real_kernel=*/false).ipv6);
  EXPECT_FALSE(host::ProbeFor(/*real_kernel=*/true).ipv6);
}

TEST_F(HostWithoutIpv6, FakeModeStillRunsTheIpv6Cases) {
  const std::vector<Case> cases = CasesNeedingTheHost();
  ASSERT_GE(cases.size(), 10u) << "the catalog's IPv6 and 127.0.0.2 cases";
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  for (const Case& c : cases) {
    const CaseResult r = runner.Run(c);
    EXPECT_EQ(r.verdict, Verdict::kOk) << c.id << ": " << VerdictName(r.verdict) << " " << r.reason;
  }
}

// The control: on the real kernel the same override does skip them, naming
// what the host lacks (so the test above is not vacuous).
TEST_F(HostWithoutIpv6, RealKernelModesSkipThemWithTheReason) {
  const std::vector<Case> cases = CasesNeedingTheHost();
  std::unique_ptr<Target> target = MakeInProcessTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  for (const Case& c : cases) {
    const CaseResult r = runner.Run(c);
    EXPECT_EQ(r.verdict, Verdict::kSkipped) << c.id;
    const bool named = r.reason.find("no IPv6") != std::string::npos ||
                       r.reason.find("127.0.0.2") != std::string::npos;
    EXPECT_TRUE(named) << c.id << ": " << r.reason;
  }
}

TEST(SkipPolicy, AnySkipOnTheFakeKernelFailsTheRun) {
  EXPECT_FALSE(SkipsFail(/*real_kernel=*/false, 0, -1));
  const std::optional<std::string> why = SkipsFail(/*real_kernel=*/false, 1, -1);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("1 cases SKIPPED on the fake kernel"), std::string::npos) << *why;
  EXPECT_TRUE(SkipsFail(/*real_kernel=*/false, 1, 5)) << "--max-skips does not loosen fake mode";
}

TEST(SkipPolicy, MaxSkipsBoundsTheRealKernelModes) {
  EXPECT_FALSE(SkipsFail(/*real_kernel=*/true, 16, -1)) << "no limit by default";
  EXPECT_FALSE(SkipsFail(/*real_kernel=*/true, 16, 16));
  const std::optional<std::string> why = SkipsFail(/*real_kernel=*/true, 17, 16);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "17 cases SKIPPED, more than --max-skips 16");
  EXPECT_TRUE(SkipsFail(/*real_kernel=*/true, 1, 0));
}

}  // namespace
}  // namespace netutil::conform
