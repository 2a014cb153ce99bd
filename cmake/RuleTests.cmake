# netutil_add_gtest(<target> LABEL <label> [PROPERTIES ...])
#
# Registers every test of a gtest binary with ctest, one ctest test per gtest
# test, like gtest_discover_tests, but names them after the spec's rule IDs:
# gtest's `BindSockets.BIND_013_PortZeroReusesFirstBoundPort` becomes ctest's
# `BindSockets.BIND-013_PortZeroReusesFirstBoundPort`, so `ctest -R BIND-013`
# finds the spelling docs/SPEC.md uses. A test that calls GTEST_SKIP() is
# reported by ctest as skipped, never as a silent pass.
function(netutil_add_gtest target)
  cmake_parse_arguments(ARG "" "LABEL" "PROPERTIES" ${ARGN})
  set(tests_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_tests.cmake")
  set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_include.cmake")
  string(REPLACE ";" " " props "${ARG_PROPERTIES}")
  add_custom_command(
    TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND}
            -D "TEST_EXECUTABLE=$<TARGET_FILE:${target}>"
            -D "TESTS_FILE=${tests_file}"
            -D "LABEL=${ARG_LABEL}"
            -D "PROPS=${props}"
            -P "${PROJECT_SOURCE_DIR}/cmake/ListRuleTests.cmake"
    BYPRODUCTS "${tests_file}"
    VERBATIM)
  file(WRITE "${include_file}"
       "if(EXISTS \"${tests_file}\")\n"
       "  include(\"${tests_file}\")\n"
       "else()\n"
       "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
endfunction()
