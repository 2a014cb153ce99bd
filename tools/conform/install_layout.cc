#include "install_layout.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

// Set by cmake/Install.cmake: bin/ -> share/netconform and bin/ -> lib/netutil,
// relative, as GNUInstallDirs lays the prefix out.
#ifndef NETCONFORM_DATA_REL
#define NETCONFORM_DATA_REL "../share/netconform"
#endif
#ifndef NETCONFORM_HELPERS_REL
#define NETCONFORM_HELPERS_REL "../lib/netutil"
#endif

namespace netutil::conform {

std::string SelfDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

std::optional<std::string> InstalledDataDir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(SelfDir()) / NETCONFORM_DATA_REL / name;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return dir.lexically_normal().string();
}

std::optional<std::string> FindHelper(const std::string& name, int access_mode) {
  const std::filesystem::path self = SelfDir();
  for (const std::filesystem::path& path :
       {self / name, (self / NETCONFORM_HELPERS_REL / name).lexically_normal()}) {
    if (::access(path.c_str(), access_mode) == 0) return path.string();
  }
  return std::nullopt;
}

}  // namespace netutil::conform
