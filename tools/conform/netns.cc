#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>

#include "netutil/errno_name.h"
#include "netutil/netns/netns_setup.h"

namespace netutil::conform::netns {

std::optional<std::string> Unavailable() {
  // Probed on a thread of its own, so the runner's threads stay where they are.
  static const std::optional<std::string> why = [] {
    std::optional<std::string> out;
    std::thread probe([&out] {
      if (::unshare(CLONE_NEWNET) != 0) {
        out = std::string("needs a private network namespace: unshare(CLONE_NEWNET): ") +
              ErrnoName(errno) + " (run as root)";
      }
    });
    probe.join();
    return out;
  }();
  return why;
}

Scope::~Scope() { Leave(); }

void Scope::Leave() {
  if (original_ < 0) return;
  if (::setns(original_, CLONE_NEWNET) != 0) {
    // The thread would run later cases in the wrong namespace: nothing sane
    // is left to do.
    std::perror("netconform: setns back to the original network namespace");
    std::abort();
  }
  ::close(original_);
  original_ = -1;
}

std::optional<std::string> Scope::Enter(const Settings& settings) {
  original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ < 0) return std::string("open /proc/thread-self/ns/net: ") + ErrnoName(errno);
  if (::unshare(CLONE_NEWNET) != 0) {
    const int err = errno;
    ::close(original_);
    original_ = -1;
    return std::string("unshare(CLONE_NEWNET): ") + ErrnoName(err);
  }
  std::string err = netutil::netns::BringLoopbackUp();
  if (err.empty() && settings.port_range) {
    err = netutil::netns::WriteProcFile("/proc/sys/net/ipv4/ip_local_port_range",
                                        std::to_string(settings.port_range->first) + " " +
                                            std::to_string(settings.port_range->second));
  }
  if (err.empty() && settings.no_loopback6) err = netutil::netns::RemoveLoopbackIpv6();
  if (!err.empty()) {
    Leave();
    return err;
  }
  return std::nullopt;
}

}  // namespace netutil::conform::netns
