# `cmake --install`: two components, `suite` (the programs, the helpers, the
# catalog, the adapters, the docs: what a conformance run needs) and `dev`
# (the library and its fakes: headers, archives, CMake package, pkg-config).
# Without --component, both: the suite (netconform, netreport, netutil-adapter and the
# helpers netconform runs), the reference library and its fakes as a CMake
# package (find_package(netutil 0.2 CONFIG): netutil::netutil, netutil::fakes)
# and a pkg-config file, the case catalog, the adapter SDKs and the docs.
#
#   bin/                      netconform, netreport, netutil-adapter
#   lib/                      libnetutil.a, libnetutil_fakes_core.a, libnetutil_fakes.a,
#                             libnetutil_fakes_gmock.a, cmake/netutil/, pkgconfig/netutil.pc
#   lib/netutil/              libnetfault.so, libnetutil_quiet_gai.so, netutil-trace:
#                             netconform's private helpers (preloaded into or running
#                             an implementation, never linked or run by a user)
#   include/netutil/          the reference's and the fakes' headers
#   share/netconform/cases    the catalog (VERSION: its version)
#   share/netconform/adapters the Python, Node and Go SDKs and the adapters on them
#   share/doc/netconform/     README, CHANGELOG and docs/
#
# Private helpers in lib/netutil/, not libexec/: libnetfault.so and
# libnetutil_quiet_gai.so are libraries (LD_PRELOAD), and the FHS puts a
# package's internal binaries under lib/<package> as well. netconform finds
# everything relative to its own executable (NETCONFORM_*_REL below), so an
# install prefix can be moved as a whole.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(NETUTIL_HELPERS_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/netutil)
set(NETCONFORM_DATA_INSTALL_DIR ${CMAKE_INSTALL_DATADIR}/netconform)
set(NETCONFORM_DOC_INSTALL_DIR ${CMAKE_INSTALL_DATAROOTDIR}/doc/netconform)
set(NETUTIL_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/netutil)

# bin/ -> the helpers and the data, for netconform's lookups (compiled in by
# tools/conform, relative: the prefix may move).
file(RELATIVE_PATH NETCONFORM_HELPERS_REL /prefix/${CMAKE_INSTALL_BINDIR}
     /prefix/${NETUTIL_HELPERS_INSTALL_DIR})
file(RELATIVE_PATH NETCONFORM_DATA_REL /prefix/${CMAKE_INSTALL_BINDIR}
     /prefix/${NETCONFORM_DATA_INSTALL_DIR})
set_property(SOURCE ${PROJECT_SOURCE_DIR}/tools/conform/install_layout.cc
  TARGET_DIRECTORY netconform_engine APPEND PROPERTY COMPILE_DEFINITIONS
  NETCONFORM_DATA_REL="${NETCONFORM_DATA_REL}" NETCONFORM_HELPERS_REL="${NETCONFORM_HELPERS_REL}")

# What each component installs, as build targets: `make deb` and
# ci/netconform-ci.sh build these instead of everything (the test suite is not
# installed). CMAKE_SKIP_INSTALL_ALL_DEPENDENCY (top CMakeLists.txt) keeps
# cpack's install step from building everything first.
add_custom_target(netutil_suite_targets)
add_dependencies(netutil_suite_targets netconform netreport netutil-adapter netutil-trace netfault
                 netutil_quiet_gai)
add_custom_target(netutil_install_targets)
add_dependencies(netutil_install_targets netutil_suite_targets netutil netutil_fakes_core
                 netutil_fakes netutil_fakes_gmock)

# The programs, and the helpers netconform runs.
install(TARGETS netconform netreport netutil-adapter
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT suite)
install(TARGETS netutil-trace RUNTIME DESTINATION ${NETUTIL_HELPERS_INSTALL_DIR} COMPONENT suite)
install(TARGETS netfault netutil_quiet_gai
        LIBRARY DESTINATION ${NETUTIL_HELPERS_INSTALL_DIR} COMPONENT suite)

# The library package. netutil_fakes_gmock needs the consumer's own GTest:
# its own export set, loaded by netutilConfig.cmake only when GTest is found.
set_target_properties(netutil PROPERTIES EXPORT_NAME netutil)
set_target_properties(netutil_fakes_core PROPERTIES EXPORT_NAME fakes_core)
set_target_properties(netutil_fakes PROPERTIES EXPORT_NAME fakes)
set_target_properties(netutil_fakes_gmock PROPERTIES EXPORT_NAME fakes_gmock)
install(TARGETS netutil netutil_fakes_core netutil_fakes EXPORT netutilTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS netutil_fakes_gmock EXPORT netutilGmockTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/impl/include/ ${PROJECT_SOURCE_DIR}/fakes/include/
                  ${PROJECT_SOURCE_DIR}/fakes/gmock/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(EXPORT netutilTargets NAMESPACE netutil:: DESTINATION ${NETUTIL_CMAKE_INSTALL_DIR}
        COMPONENT dev)
install(EXPORT netutilGmockTargets NAMESPACE netutil:: DESTINATION ${NETUTIL_CMAKE_INSTALL_DIR}
        COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/netutilConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/netutilConfig.cmake
  INSTALL_DESTINATION ${NETUTIL_CMAKE_INSTALL_DIR})
# 0.x: a minor version may break the API, so 0.2 accepts 0.2.* only
# (SameMinorVersion); from 1.0 on SameMajorVersion is the promise.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/netutilConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/netutilConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/netutilConfigVersion.cmake
        DESTINATION ${NETUTIL_CMAKE_INSTALL_DIR} COMPONENT dev)

# pkg-config: the reference library (the fakes need nlohmann_json's CMake
# package; their users take the CMake package).
file(RELATIVE_PATH NETUTIL_PC_PREFIX_REL /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${PROJECT_SOURCE_DIR}/cmake/netutil.pc.in ${PROJECT_BINARY_DIR}/netutil.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/netutil.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)

# The catalog, the adapters and their SDKs, the docs.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/tests/conformance/cases
        DESTINATION ${NETCONFORM_DATA_INSTALL_DIR} COMPONENT suite)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/tools/adapters/python
                  ${PROJECT_SOURCE_DIR}/tools/adapters/node
                  ${PROJECT_SOURCE_DIR}/tools/adapters/go
        DESTINATION ${NETCONFORM_DATA_INSTALL_DIR}/adapters COMPONENT suite
        PATTERN __pycache__ EXCLUDE)
file(GLOB netconform_adapter_scripts ${PROJECT_SOURCE_DIR}/tools/adapters/*.py)
install(PROGRAMS ${netconform_adapter_scripts}
        DESTINATION ${NETCONFORM_DATA_INSTALL_DIR}/adapters COMPONENT suite)
install(FILES ${PROJECT_SOURCE_DIR}/tools/adapters/README.md
        DESTINATION ${NETCONFORM_DATA_INSTALL_DIR}/adapters COMPONENT suite)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/ci/netconform-ci.sh
        DESTINATION ${NETCONFORM_DATA_INSTALL_DIR}/ci COMPONENT suite)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md
        DESTINATION ${NETCONFORM_DOC_INSTALL_DIR} COMPONENT suite)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${NETCONFORM_DOC_INSTALL_DIR}/docs
        COMPONENT suite)
