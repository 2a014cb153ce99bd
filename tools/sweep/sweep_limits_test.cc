// The sweep's limits: a lopsided, a thin or a short sweep fails, naming the
// scenario and the figures; a balanced one passes.
#include "sweep_limits.h"

#include <gtest/gtest.h>

namespace netutil::sweep {
namespace {

using Problems = std::vector<std::string>;

TEST(SweepLimits, ABalancedSweepPasses) {
  const Limits l{.min_faults = 100, .max_share_percent = 40, .min_per_scenario = 10};
  EXPECT_EQ(SpreadProblems({{"a", 40}, {"b", 30}, {"c", 30}}, l), Problems{});
}

TEST(SweepLimits, OneScenarioOverTheShareFails) {
  const Limits l{.min_faults = 100, .max_share_percent = 40, .min_per_scenario = 10};
  // The catalogue as it was: one accept scenario gave about 60%.
  EXPECT_EQ(SpreadProblems({{"accept/big", 60}, {"b", 20}, {"c", 20}}, l),
            Problems{"accept/big gives 60 faults, 60.0% of all, more than 40%"});
}

TEST(SweepLimits, AThinScenarioFails) {
  const Limits l{.min_faults = 100, .max_share_percent = 40, .min_per_scenario = 10};
  EXPECT_EQ(SpreadProblems({{"a", 40}, {"b", 40}, {"c", 35}, {"empty", 0}}, l),
            Problems{"empty gives 0 faults, fewer than 10"});
}

TEST(SweepLimits, TooFewFaultsFail) {
  const Limits l{.min_faults = 1000, .max_share_percent = 40, .min_per_scenario = 10};
  EXPECT_EQ(SpreadProblems({{"a", 30}, {"b", 30}, {"c", 30}}, l),
            Problems{"only 90 faults injected and verified, fewer than 1000"});
  EXPECT_EQ(SpreadProblems({}, l), (Problems{"only 0 faults injected and verified, fewer than 1000",
                                             "no scenario was swept"}));
}

TEST(SweepLimits, TheTableShowsEachScenarioAndTheTotal) {
  const std::string t = SpreadTable({{"a", 3}, {"b", 1}});
  EXPECT_NE(t.find("a"), std::string::npos);
  EXPECT_NE(t.find("75.0%"), std::string::npos) << t;
  EXPECT_NE(t.find("25.0%"), std::string::npos) << t;
  EXPECT_NE(t.find("total"), std::string::npos) << t;
}

}  // namespace
}  // namespace netutil::sweep
