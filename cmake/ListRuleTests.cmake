# Script mode (cmake -P): lists a gtest binary's tests and writes ctest's
# add_test() lines for them. Called after each build by netutil_add_gtest().
execute_process(
  COMMAND "${TEST_EXECUTABLE}" --gtest_list_tests
  OUTPUT_VARIABLE listing
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TEST_EXECUTABLE} --gtest_list_tests failed (${rc})")
endif()

string(REPLACE ";" "\\;" listing "${listing}")
string(REPLACE "\n" ";" lines "${listing}")
set(out "")
set(suite "")
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  string(REGEX REPLACE " *#.*$" "" line "${line}")  # drop "# GetParam() = ..."
  if(line MATCHES "^[^ ]")
    set(suite "${line}")
  else()
    string(STRIP "${line}" name)
    set(full "${suite}${name}")
    # BIND_013 -> BIND-013, the spec's spelling.
    string(REGEX REPLACE "([A-Z]+)_([0-9][0-9][0-9])" "\\1-\\2" shown "${full}")
    string(APPEND out
      "add_test([=[${shown}]=] \"${TEST_EXECUTABLE}\" [=[--gtest_filter=${full}]=] --gtest_also_run_disabled_tests=0)\n"
      "set_tests_properties([=[${shown}]=] PROPERTIES LABELS \"${LABEL}\" "
      "SKIP_REGULAR_EXPRESSION \"\\\\[  SKIPPED \\\\]\" ${PROPS})\n")
  endif()
endforeach()
file(WRITE "${TESTS_FILE}" "${out}")
