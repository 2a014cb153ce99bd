// Setting up a fresh Linux network namespace from inside it: what the
// integration sandbox (tests/integration/netns_sandbox.h, a forked child) and
// netconform's per-case namespaces (tools/conform/netns.h, a thread) share.
// Each returns "" on success or a sentence saying what failed and why.
#pragma once

#include <string>

namespace netutil::netns {

// Writes `value` to a /proc/sys file (of the calling thread's namespaces).
std::string WriteProcFile(const std::string& path, const std::string& value);

// Brings lo up (ioctl SIOCSIFFLAGS); Linux then gives it 127.0.0.1 and ::1.
std::string BringLoopbackUp();

// `ip -6 addr del ::1/128 dev lo`, over rtnetlink: IPv6 stays on ("::" still
// binds) but ::1 is gone, as in a container without it.
std::string RemoveLoopbackIpv6();

}  // namespace netutil::netns
