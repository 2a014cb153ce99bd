// Every row of the bad-input table (bad_inputs.h) gets exactly the error it
// lists, and an argument error makes no syscall. One test per row, named after
// its area and row number (and rule, when it has one), so a failure names the input.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "bad_inputs.h"

namespace netutil::bench {
namespace {

class BadInputRow : public ::testing::TestWithParam<size_t> {};

TEST_P(BadInputRow, GetsExactlyItsError) {
  const BadInput& row = BadInputTable()[GetParam()];
  const BadInputOutcome got = row.run();
  EXPECT_EQ(got.error, row.expected) << "input: " << row.input;
  if (row.expected_syscalls >= 0) {
    EXPECT_EQ(got.syscalls, row.expected_syscalls)
        << "input: " << row.input << ": syscalls made before the error";
  }
}

TEST(BadInputTable, HasAtLeastThirtyRowsOverEveryArea) {
  EXPECT_GE(BadInputTable().size(), 30u);
  for (const char* area :
       {"bind_sockets", "bind_unix_socket", "add_accept_handler", "adapter", "fault plan"}) {
    bool seen = false;
    for (const BadInput& row : BadInputTable()) seen = seen || row.area == area;
    EXPECT_TRUE(seen) << "no row for " << area;
  }
}

// "bind_sockets_03_BIND_019": the rule ID keeps gtest's spelling (BIND_019),
// which the ctest registration turns into BIND-019.
std::string RowName(const ::testing::TestParamInfo<size_t>& info) {
  const BadInput& row = BadInputTable()[info.param];
  std::string name;
  for (char c : row.area) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  const size_t n = info.param + 1;
  name += (n < 10 ? "_0" : "_") + std::to_string(n);
  if (!row.rule.empty()) {
    name += "_";
    for (char c : row.rule) name += c == '-' ? '_' : c;
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Table, BadInputRow, ::testing::Range<size_t>(0, BadInputTable().size()),
                         RowName);

}  // namespace
}  // namespace netutil::bench
