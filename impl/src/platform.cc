#include "netutil/platform.h"

namespace netutil {

Platform Platform::Host() {
#if defined(__APPLE__)
  return Darwin();
#elif defined(_WIN32)
  return Windows();
#else
  return Linux();
#endif
}

const char* Platform::name() const {
  switch (os) {
    case Os::kLinux:
      return "linux";
    case Os::kDarwin:
      return "darwin";
    case Os::kWindows:
      return "windows";
  }
  return "unknown";
}

}  // namespace netutil
