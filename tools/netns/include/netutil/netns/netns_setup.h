// Setting up a fresh Linux network namespace from inside it: what the
// integration sandbox (tests/integration/netns_sandbox.h, a forked child), the
// fidelity table (tests/fidelity/netns_child.h, a forked child), netconform's
// per-case namespaces (tools/conform/netns.h, a thread) and the benchmarks
// (tools/bench) share. Each returns "" on success or a sentence saying what
// failed and why; with `failed_errno`, also the errno of the call that failed
// (0 when the failure is no call's), for callers that tell "this machine
// cannot" (EPERM, a read-only /proc/sys, ...) from a broken set-up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netutil::netns {

// Writes `value` to a /proc/sys file (of the calling thread's namespaces).
std::string WriteProcFile(const std::string& path, const std::string& value,
                          int* failed_errno = nullptr);

// Brings lo up (ioctl SIOCSIFFLAGS); Linux then gives it 127.0.0.1 and ::1.
std::string BringLoopbackUp(int* failed_errno = nullptr);

// `ip -6 addr del ::1/128 dev lo`, over rtnetlink: IPv6 stays on ("::" still
// binds) but ::1 is gone, as in a container without it.
std::string RemoveLoopbackIpv6(int* failed_errno = nullptr);

// In a mount namespace of the caller's own (unshare(CLONE_NEWNS) first):
// makes / private (MS_REC | MS_PRIVATE) and bind-mounts a file holding
// `content` over /etc/hosts. The file is created under $TMPDIR (else /tmp)
// and unlinked at once: the mount keeps it alive.
std::string MountPrivateHosts(const std::string& content, int* failed_errno = nullptr);

// One seccomp rule: syscall `nr` (with args[0] == `arg0` when set) returns
// -`err` without running; err 0 is a fake success.
struct SeccompRule {
  long nr;
  std::optional<uint32_t> arg0;
  int err;
};
// Installs the rules for this thread and the processes it starts (with
// PR_SET_NO_NEW_PRIVS); every other call runs as usual.
std::string InstallSeccomp(const std::vector<SeccompRule>& rules, int* failed_errno = nullptr);
// socket(AF_INET6, ...) fails with EAFNOSUPPORT, as on a kernel booted with
// ipv6.disable=1 (which a namespace cannot emulate: disable_ipv6 still lets
// AF_INET6 sockets be created and bound to "::").
SeccompRule NoIpv6SocketsRule();

}  // namespace netutil::netns
