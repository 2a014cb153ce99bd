// A fixture for SpecCoverage.FixtureWithGapsFails. BIND_002 in a comment.
#include <gtest/gtest.h>

TEST(Fixture, BIND_001_HasATestName) {}

TEST(Fixture, Unnamed) {
  const char* s = "TEST(Fixture, BIND_002_InAString)";
  EXPECT_NE(s, nullptr);
}
