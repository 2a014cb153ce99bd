# The rules of docs/SPEC.md (ID, level, mark, withdrawn) as a generated X-macro
# list, netutil_spec_rules.inc, read through tools/spec_rules/spec_rules.h by
# everything that must agree with the spec: the adapter's hello, netconform's
# catalog check and the report formats. Regenerated whenever the spec changes
# (the spec is a configure dependency).
#
# Defines the INTERFACE target netutil_spec_rules. Included once from the top
# level CMakeLists.txt.

set(spec_md "${PROJECT_SOURCE_DIR}/docs/SPEC.md")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${spec_md}")
file(STRINGS "${spec_md}" spec_rule_lines ENCODING UTF-8 REGEX "^\\*\\*[A-Z]+-[0-9]+\\*\\*")
set(spec_rules_inc "")
foreach(line IN LISTS spec_rule_lines)
  # **BIND-013** · MUST · tornado   (optionally marked *withdrawn*)
  if(NOT line MATCHES "^\\*\\*([A-Z]+-[0-9]+)\\*\\*[^A-Za-z]*(MUST|SHOULD)[^A-Za-z]*([a-z]+)")
    message(FATAL_ERROR "docs/SPEC.md: cannot read the rule line: ${line}")
  endif()
  set(rule "\"${CMAKE_MATCH_1}\", \"${CMAKE_MATCH_2}\", \"${CMAKE_MATCH_3}\"")
  set(withdrawn false)
  if(line MATCHES "withdrawn")
    set(withdrawn true)
  endif()
  string(APPEND spec_rules_inc "NETUTIL_SPEC_RULE(${rule}, ${withdrawn})\n")
endforeach()
if(spec_rules_inc STREQUAL "")
  message(FATAL_ERROR "docs/SPEC.md: no rule found")
endif()
set(spec_rules_dir "${PROJECT_BINARY_DIR}/generated/spec_rules")
file(CONFIGURE OUTPUT "${spec_rules_dir}/netutil_spec_rules.inc"
     CONTENT "// Generated from docs/SPEC.md by cmake/SpecRules.cmake. Do not edit.\n${spec_rules_inc}"
     @ONLY)

add_library(netutil_spec_rules INTERFACE)
target_include_directories(netutil_spec_rules INTERFACE
  "${PROJECT_SOURCE_DIR}/tools/spec_rules"
  "${spec_rules_dir}")
