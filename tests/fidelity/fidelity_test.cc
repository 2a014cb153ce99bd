// Each fidelity scenario (fidelity_cases.h) on the FakeKernel and on the real
// kernel in a fresh network namespace: the outcomes must agree. A test skips,
// with the reason, when the machine cannot give a namespace (not root, no
// unshare); it never passes without having compared.
#include <gtest/gtest.h>

#include <iomanip>
#include <iostream>

#include "fidelity_cases.h"
#include "netutil/fakes/fake_kernel.h"

namespace netutil::fidelity {
namespace {

struct Compared {
  std::string fake;
  std::string trace;  // the fake's, for a disagreement
  ChildResult real;
};

Compared Compare(const FidelityCase& c) {
  Compared out;
  {
    FakeEnv env(c.spec);
    try {
      out.fake = c.run(env);
    } catch (const std::exception& e) {
      out.fake = std::string("exception: ") + e.what();
    }
    out.trace = env.kernel().trace().ToString();
  }
  out.real = RunInFreshNetns(c.spec, [&c] {
    RealEnv env(c.spec);
    return c.run(env);
  });
  return out;
}

class FakeMatchesKernel : public ::testing::TestWithParam<FidelityCase> {};

TEST_P(FakeMatchesKernel, SameOutcome) {
  const FidelityCase& c = GetParam();
  const Compared r = Compare(c);
  if (!r.real.ran) GTEST_SKIP() << r.real.why;
  EXPECT_EQ(r.fake, r.real.output)
      << "the fake kernel disagrees with Linux: a bug in the fake, to fix there\n"
      << "fake's trace:\n"
      << r.trace;
}

std::string CaseName(const ::testing::TestParamInfo<FidelityCase>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Table, FakeMatchesKernel, ::testing::ValuesIn(FidelityTable()), CaseName);

// The whole table at once, printed: what the closing note reports.
TEST(FidelityTable, EveryScenarioAgrees) {
  const auto& table = FidelityTable();
  ASSERT_GE(table.size(), 25u);
  int agree = 0, ran = 0;
  std::string why_not;
  for (const auto& c : table) {
    const Compared r = Compare(c);
    if (!r.real.ran) {
      why_not = r.real.why;
      std::cout << "  SKIP  " << c.name << ": " << r.real.why << "\n";
      continue;
    }
    ++ran;
    const bool same = r.fake == r.real.output;
    agree += same ? 1 : 0;
    std::cout << (same ? "  same  " : "  DIFF  ") << std::left << std::setw(52) << c.name
              << r.real.output << "\n";
    if (!same) std::cout << "        fake: " << r.fake << "\n";
  }
  std::cout << "fidelity: " << agree << " of " << ran << " scenarios agree (" << table.size()
            << " in the table)\n";
  if (ran == 0) GTEST_SKIP() << why_not;
  EXPECT_EQ(agree, ran);
  EXPECT_EQ(ran, static_cast<int>(table.size()));
}

}  // namespace
}  // namespace netutil::fidelity
