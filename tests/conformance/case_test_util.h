// Helpers shared by the tests that drive netconform's engine directly: one
// case from its text, and a result's reason with its detail lines.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog.h"
#include "runner.h"

namespace netutil::conform::test_util {

// The case the text holds; a load problem fails the calling test.
inline Case MakeCase(const std::string& text) {
  std::vector<std::string> problems;
  std::vector<Case> cases = LoadCatalog({{"test", text}}, &problems);
  EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems.front());
  EXPECT_EQ(cases.size(), 1u);
  return cases.empty() ? Case{} : cases.front();
}

// The reason and every detail line, for failure messages.
inline std::string Details(const CaseResult& r) {
  std::string out = r.reason;
  for (const std::string& d : r.details) out += "\n" + d;
  return out;
}

}  // namespace netutil::conform::test_util
