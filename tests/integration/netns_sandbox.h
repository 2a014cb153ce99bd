// Runs a test body in a forked child inside fresh Linux namespaces, so a
// real-socket test builds exactly the network it needs (dual-stack loopback, no
// ::1, IPv6 off, a narrow ephemeral port range, its own /etc/hosts) and leaves
// nothing behind: the namespaces die with the child.
//
//   TEST(BindSocketsNetns, BIND_013_...) {
//     SandboxOptions options;
//     options.ip_local_port_range = "40000 40009";
//     RUN_IN_SANDBOX(options, [&] {
//       ASSERT_EQ(...);  // gtest assertions work as usual inside the body
//     });
//   }
//
// How results travel: the child replaces gtest's result printer with a
// listener that writes every assertion result (failure or skip, with file,
// line and message) to a pipe; the parent re-reports failures at the same
// file:line and turns a skip into GTEST_SKIP(). A child that crashes, exits
// early or outlives `timeout` is a failure, never a silent pass.
//
// When the machine cannot give the namespaces (not root, unshare EPERM, a
// read-only /proc/sys, no seccomp), the test is skipped with the reason.
//
// gtest-spi's EXPECT_*_FAILURE cannot wrap a sandbox: its interceptor is
// copied into the child and swallows the results there. Tests of the sandbox
// set report_failures = false and read SandboxOutcome::failures instead.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace netutil::integration {

struct SandboxOptions {
  // unshare(CLONE_NEWNET): a namespace whose only interface is lo.
  bool new_netns = true;
  // What to do when the network namespace cannot be made. true: skip the test.
  // false: run the body in a forked child on the host's network (for bodies
  // that touch 127.0.0.1 only and ask for no other setting below).
  bool netns_required = true;
  // Brings lo up (ioctl SIOCSIFFLAGS); Linux then gives it 127.0.0.1 and ::1.
  bool loopback_up = true;
  // net.ipv6.conf.{all,default,lo}.disable_ipv6 = 1 (the whole namespace).
  bool disable_ipv6 = false;
  // Deletes ::1/128 from lo over rtnetlink (as `ip -6 addr del ::1/128 dev
  // lo`); IPv6 itself stays on, so "::" still binds. A container without ::1.
  bool remove_loopback_ipv6 = false;
  // net.ipv4.ip_local_port_range, e.g. "40000 40009"; empty keeps the default.
  std::string ip_local_port_range;
  // When set: a private mount namespace (CLONE_NEWNS, / remounted MS_PRIVATE)
  // with this text bind-mounted over /etc/hosts.
  std::optional<std::string> hosts_file;
  // A seccomp filter makes socket(AF_INET6, ...) fail with EAFNOSUPPORT, as on a
  // kernel booted with ipv6.disable=1 (which a namespace cannot emulate:
  // disable_ipv6 still lets AF_INET6 sockets be created and bound to "::").
  bool ipv6_sockets_unsupported = false;
  // A seccomp filter makes chmod, fchmod and fchmodat succeed without doing
  // anything, so a file keeps the mode it was created with: what bind() under
  // the process umask produced is then visible after the call (UNIX-010).
  bool chmod_does_nothing = false;
  // The child is killed (SIGKILL to its process group) after this long.
  std::chrono::milliseconds timeout{30000};
  // Re-report the child's failures (and crash, early exit, timeout) as
  // failures of the calling test. false only for tests of the sandbox itself,
  // which read SandboxOutcome::failures instead.
  bool report_failures = true;
};

struct SandboxOutcome {
  enum class Kind {
    kRan,          // the body ran to its end (its failures are already reported)
    kSkipped,      // the body called GTEST_SKIP(); detail is its message
    kUnavailable,  // the environment could not be built; detail says why
    kAbnormal,     // crash, early exit or timeout; already reported as a failure
  };
  Kind kind = Kind::kAbnormal;
  std::string detail;
  // Every failure seen: the child's assertion messages, then the sandbox's own
  // ("killed by signal 9", ...).
  std::vector<std::string> failures;

  bool skip() const { return kind == Kind::kSkipped || kind == Kind::kUnavailable; }
};

// Forks, builds the environment in the child, runs `body` there, and waits.
// Failures recorded in the child are re-reported in the calling test.
// Must be called from the test's thread (gtest's), with no other threads that
// hold locks the child could need.
SandboxOutcome RunInSandbox(const SandboxOptions& options, const std::function<void()>& body);

}  // namespace netutil::integration

// Runs the body (a lambda) in a sandbox; skips the calling test when the body
// skipped or the environment is unavailable.
#define RUN_IN_SANDBOX(options, ...)                                                      \
  do {                                                                                    \
    const ::netutil::integration::SandboxOutcome netutil_sandbox_outcome_ =               \
        ::netutil::integration::RunInSandbox((options), __VA_ARGS__);                     \
    if (netutil_sandbox_outcome_.skip()) GTEST_SKIP() << netutil_sandbox_outcome_.detail; \
  } while (0)
