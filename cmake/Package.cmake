# `make deb`: one Debian package of the whole install (cmake/Install.cmake, both
# components: the suite and the library's dev files), built by CPack's DEB
# generator into build/packages/.
#
#   netutil-harness_<version>_<arch>.deb
#     /usr/bin/netconform, netreport, netutil-adapter
#     /usr/lib/netutil/                 netconform's private helpers
#     /usr/lib/{libnetutil*.a, cmake/netutil/, pkgconfig/netutil.pc}
#     /usr/include/netutil/
#     /usr/share/netconform/{cases,adapters,ci}
#     /usr/share/doc/netconform/
#
# Depends comes from dpkg-shlibdeps (the shared libraries the programs link),
# so it is what the binaries need and nothing more. The implementations an
# adapter drives (python3-tornado, nodejs, ...) are the user's to install:
# Suggests names them. The fakes' CMake package needs nlohmann-json3-dev
# (Recommends). tests/install/deb_test.sh installs the package into a scratch
# root and runs the installed netconform from there.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME netutil-harness)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "netutil-harness maintainers <netutil-harness@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "conformance suite and reference implementation for listening-socket code")
set(CPACK_PACKAGE_DESCRIPTION
    "netconform runs a catalog of listening-socket cases (bind_sockets, bind_unix_socket,
accept loops) against any implementation through a line-protocol adapter, on
real sockets in private network namespaces, under injected faults, or on a fake
kernel. Includes the reference implementation as a C++ library with a CMake
package and a pkg-config file, and its fake kernel for testing against the
same seam.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nlohmann-json3-dev, python3")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
    "python3-tornado, python3-trio, python3-twisted, nodejs, golang-go, libuv1, strace")
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)  # fast to make; the package is small
include(CPack)
