// Where netconform finds its files: the catalog, the adapters, and the helpers
// it runs (libnetfault.so, netutil-trace, libnetutil_quiet_gai.so).
//
// In the build tree they are where the build puts them (build/bin beside
// netconform) or in the source tree (paths compiled in). An installed
// netconform (cmake/Install.cmake) finds them relative to its own executable,
// <prefix>/bin/netconform -> <prefix>/share/netconform/... and
// <prefix>/lib/netutil/..., so a prefix works wherever it is moved. The
// environment overrides (NETCONFORM_CASES, NETCONFORM_ADAPTERS) come first.
#pragma once

#include <optional>
#include <string>

namespace netutil::conform {

// The directory of the running executable ("." when /proc/self/exe cannot be read).
std::string SelfDir();

// <prefix>/share/netconform/<name> of an installed netconform, when it is a
// directory; nullopt in the build tree.
std::optional<std::string> InstalledDataDir(const std::string& name);

// The helper `name` beside the executable (the build tree), else in
// <prefix>/lib/netutil (an install), if ::access(path, access_mode) allows it.
std::optional<std::string> FindHelper(const std::string& name, int access_mode);

}  // namespace netutil::conform
