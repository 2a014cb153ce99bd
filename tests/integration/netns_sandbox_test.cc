// The sandbox itself: a failure, a crash, an early exit or a hang in the child
// must reach the parent as a failure, a skip as a skip, and a machine without
// namespaces must give "unavailable", never a silent pass. Also checks that the
// settings really apply in the child and never leak to the host.
#include "netns_sandbox.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "integration_util.h"

namespace netutil::integration {
namespace {

using namespace std::chrono_literals;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Options for checks of the reporting path: no namespace needed, and the
// child's failures are read from the outcome instead of failing this test.
SandboxOptions ReportingOnly() {
  SandboxOptions o;
  o.new_netns = false;
  o.timeout = 10s;
  o.report_failures = false;
  return o;
}

// The one failure an outcome holds must contain `text`.
void ExpectOneFailure(const SandboxOutcome& out, const std::string& text) {
  ASSERT_EQ(out.failures.size(), 1u) << ::testing::PrintToString(out.failures);
  EXPECT_NE(out.failures[0].find(text), std::string::npos) << out.failures[0];
}

TEST(NetnsSandbox, FailureInTheChildIsReportedInTheParent) {
  SandboxOutcome out =
      RunInSandbox(ReportingOnly(), [] { ADD_FAILURE() << "reported from the child"; });
  EXPECT_EQ(out.kind, SandboxOutcome::Kind::kRan);
  ExpectOneFailure(out, "reported from the child");

  out = RunInSandbox(ReportingOnly(), [] {
    ASSERT_EQ(1, 2) << "fatal in child";
    ADD_FAILURE() << "not reached: ASSERT returns from the body";
  });
  ExpectOneFailure(out, "fatal in child");
}

TEST(NetnsSandbox, ExceptionInTheChildIsAFailure) {
  ExpectOneFailure(
      RunInSandbox(ReportingOnly(), [] { throw std::runtime_error("thrown in child"); }),
      "thrown in child");
}

TEST(NetnsSandbox, CrashEarlyExitAndHangAreFailures) {
  SandboxOutcome out = RunInSandbox(ReportingOnly(), [] { ::raise(SIGKILL); });
  EXPECT_EQ(out.kind, SandboxOutcome::Kind::kAbnormal);
  ExpectOneFailure(out, "killed by signal 9");

  out = RunInSandbox(ReportingOnly(), [] { ::_exit(0); });
  EXPECT_EQ(out.kind, SandboxOutcome::Kind::kAbnormal);
  ExpectOneFailure(out, "before the body finished");

  SandboxOptions o = ReportingOnly();
  o.timeout = 200ms;
  const auto t0 = std::chrono::steady_clock::now();
  out = RunInSandbox(o, [] { std::this_thread::sleep_for(30s); });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(out.kind, SandboxOutcome::Kind::kAbnormal);
  ExpectOneFailure(out, "did not finish within 200 ms");
}

TEST(NetnsSandbox, SkipInTheChildIsASkipAndPassIsAPass) {
  SandboxOutcome skipped =
      RunInSandbox(ReportingOnly(), [] { GTEST_SKIP() << "no such thing here"; });
  EXPECT_EQ(skipped.kind, SandboxOutcome::Kind::kSkipped);
  EXPECT_NE(skipped.detail.find("no such thing here"), std::string::npos) << skipped.detail;
  EXPECT_TRUE(skipped.failures.empty());
  SandboxOutcome passed = RunInSandbox(ReportingOnly(), [] {});
  EXPECT_EQ(passed.kind, SandboxOutcome::Kind::kRan);
  EXPECT_TRUE(passed.failures.empty());
}

// As root without CAP_SYS_ADMIN (capabilities dropped in a forked process):
// unshare fails EPERM, so a namespaced body is "unavailable" (a skip), and a
// loopback-only body falls back to the host.
TEST(NetnsSandbox, WithoutCapSysAdminTheOutcomeIsUnavailableNotAPass) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capset, &header, data) != 0) ::_exit(10);
    SandboxOptions required;
    SandboxOutcome out = RunInSandbox(required, [] {});
    if (out.kind != SandboxOutcome::Kind::kUnavailable) ::_exit(11);
    if (out.detail.find("EPERM") == std::string::npos) ::_exit(12);
    SandboxOptions preferred;
    preferred.netns_required = false;
    SandboxOutcome fallback = RunInSandbox(preferred, [] {});
    if (fallback.kind != SandboxOutcome::Kind::kRan || !fallback.failures.empty()) ::_exit(13);
    ::_exit(::testing::Test::HasFailure() ? 14 : 0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  // 10: capset failed; 11/12: not reported as unavailable (EPERM); 13: no
  // fallback; 14: a failure was recorded.
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(NetnsSandbox, SettingsApplyInTheChildAndNeverOnTheHost) {
  const std::string range_file = "/proc/sys/net/ipv4/ip_local_port_range";
  const std::string host_range = ReadText(range_file);
  const std::string host_hosts = ReadText("/etc/hosts");
  SandboxOptions o;
  o.ip_local_port_range = "40000 40009";
  o.hosts_file = "10.1.2.3 netutil-sandbox-probe\n";
  o.remove_loopback_ipv6 = true;
  RUN_IN_SANDBOX(o, [&] {
    // A fresh namespace: lo only.
    struct if_nameindex* names = ::if_nameindex();
    ASSERT_NE(names, nullptr);
    int count = 0;
    for (struct if_nameindex* n = names; n->if_index != 0; ++n) {
      ++count;
      EXPECT_STREQ(n->if_name, "lo");
    }
    ::if_freenameindex(names);
    EXPECT_EQ(count, 1);
    EXPECT_EQ(ReadText(range_file), "40000\t40009\n");
    EXPECT_EQ(ReadText("/etc/hosts"), "10.1.2.3 netutil-sandbox-probe\n");
    addrinfo* res = nullptr;
    ASSERT_EQ(::getaddrinfo("netutil-sandbox-probe", nullptr, nullptr, &res), 0);
    ::freeaddrinfo(res);
    // lo is up with 127.0.0.1; ::1 is gone.
    int err = 0;
    auto v4 = *SockAddr::FromIp("127.0.0.1", 0);
    ScopedFd s4(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(::bind(s4.get(), v4.data(), v4.len()), 0) << Errno(errno);
    auto v6 = *SockAddr::FromIp("::1", 0);
    ScopedFd s6(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    err = ::bind(s6.get(), v6.data(), v6.len()) == 0 ? 0 : errno;
    EXPECT_EQ(err, EADDRNOTAVAIL) << Errno(err);
  });
  EXPECT_EQ(ReadText(range_file), host_range);
  EXPECT_EQ(ReadText("/etc/hosts"), host_hosts);
}

}  // namespace
}  // namespace netutil::integration
