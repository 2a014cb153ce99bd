// A private network namespace for one case, entered by the calling thread
// only (Linux keeps the network namespace per thread): what the case starts
// from that thread (the adapter process, in-process listeners, netconform's own
// clients and held ports) lives in it, and other cases running on other
// threads (--jobs) do not see it. The namespace dies with the last socket and
// process in it, after the Scope has returned the thread to where it was.
//
// Used for environments the real kernel must provide itself: a narrowed
// ephemeral port range, IPv6 without ::1. Needs CAP_SYS_ADMIN (root here);
// without it such cases are SKIPPED with the reason.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace netutil::conform::netns {

struct Settings {
  std::optional<std::pair<int, int>> port_range;  // net.ipv4.ip_local_port_range
  bool no_loopback6 = false;                      // ::1 removed from lo
};

// Why this process cannot make namespaces (probed once), or nullopt.
std::optional<std::string> Unavailable();

class Scope {
 public:
  Scope() = default;
  ~Scope();  // back to the thread's namespace of before Enter
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  // Moves the calling thread into a new namespace with lo up and `settings`
  // applied. On failure the thread is back where it was.
  std::optional<std::string> Enter(const Settings& settings);

 private:
  void Leave();
  int original_ = -1;
};

}  // namespace netutil::conform::netns
