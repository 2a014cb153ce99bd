// Prints the bad-input table (bad_inputs.h) as Markdown for docs/RESULTS.md:
// each input, the error it got in this run, and whether that is the error the
// table expects (bad_input_test checks the same rows).
#include <iostream>
#include <string>

#include "bad_inputs.h"

namespace {

// Table cells: a '|' would end the cell, a newline the row.
std::string Cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace

int main() {
  using netutil::bench::BadInputTable;
  int mismatches = 0;
  std::cout << "| # | area | input | rule | error (exact) | syscalls before it | as expected |\n"
            << "| ---: | --- | --- | --- | --- | ---: | --- |\n";
  int i = 0;
  for (const auto& row : BadInputTable()) {
    const auto got = row.run();
    const bool ok = got.error == row.expected &&
                    (row.expected_syscalls < 0 || got.syscalls == row.expected_syscalls);
    mismatches += ok ? 0 : 1;
    std::cout << "| " << ++i << " | " << row.area << " | " << Cell(row.input) << " | "
              << (row.rule.empty() ? "-" : row.rule) << " | `" << Cell(got.error) << "` | "
              << (got.syscalls < 0 ? "-" : std::to_string(got.syscalls)) << " | "
              << (ok ? "yes" : "NO, expected `" + Cell(row.expected) + "`") << " |\n";
  }
  std::cout << "\n" << i << " bad inputs, " << mismatches << " not as expected.\n";
  return mismatches == 0 ? 0 : 1;
}
