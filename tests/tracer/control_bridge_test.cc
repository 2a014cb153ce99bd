// netutil-trace driven through the interposer's control region
// (--netfault-control, src/control_bridge.h), as netconform --mode traced
// drives it: the region's plan faults the command, a plan written while it
// runs takes over, typed records land in the region, the command's pid is
// published, and what the tracer cannot do (resolver entries) is refused.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child_process.h"
#include "netfault_control.h"
#include "netutil/fakes/syscall_table.h"

namespace netutil::tracer {
namespace {

using namespace std::chrono_literals;

class ControlBridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("control-bridge-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<netfault::ControlFile> Region(const netfault::Config& config) {
    std::string error;
    auto file = netfault::ControlFile::Create(dir_ / "ctl", config, netfault::Sizes{}, &error);
    EXPECT_NE(file, nullptr) << error;
    return file;
  }

  // netutil-trace --netfault-control on the probe; its output and exit status.
  std::pair<std::string, int> Run(const std::string& probe_mode,
                                  const std::vector<std::string>& env = {}) {
    tools::ChildSpec spec;
    spec.argv = {NETUTIL_TRACE, "--netfault-control", (dir_ / "ctl").string(), "--", RAW_PROBE,
                 probe_mode};
    spec.extra_env = env;
    spec.stderr_to = tools::ChildSpec::Stderr::kTail;
    tools::ChildProcess child;
    EXPECT_EQ(child.Start(spec), "");
    std::string out;
    const std::optional<int> status =
        child.WaitForExit(tools::Clock::now() + 5000ms, &out, 1 << 16);
    out += child.stderr_tail().kept();
    child.Kill();
    return {out, status ? *status : -1};
  }

  std::filesystem::path dir_;
};

TEST_F(ControlBridgeTest, TheRegionsPlanFaultsAndItsTraceHoldsTypedRecords) {
  netfault::Config config;
  config.plan = "bind = EADDRINUSE\n";
  auto region = Region(config);
  ASSERT_NE(region, nullptr);
  const netfault::TraceMark mark = region->Mark();
  const auto [out, status] = Run("net");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_NE(out.find("bind -1 " + std::to_string(EADDRINUSE)), std::string::npos) << out;
  EXPECT_GT(region->owner(), 0);  // the probe's pid, published once it exec'd
  const netfault::TraceSince since = region->ReadSince(mark);
  ASSERT_EQ(since.corrupted, "");
  bool bind_seen = false;
  for (const netfault::TraceLine& l : since.lines) {
    if (l.call != static_cast<uint16_t>(fakes::Call::kBind)) continue;
    bind_seen = true;
    const nlohmann::json fields = nlohmann::json::parse(l.fields);
    EXPECT_EQ(fields["call"], "bind");
    EXPECT_EQ(fields["err"], "EADDRINUSE");
    EXPECT_EQ(fields["injected"], true);
    EXPECT_NE(l.text.find("(injected)"), std::string::npos) << l.text;
  }
  EXPECT_TRUE(bind_seen);
}

TEST_F(ControlBridgeTest, TraceOffRecordsNothingButStillFaults) {
  netfault::Config config;
  config.plan = "listen = 7\n";
  config.trace = false;
  auto region = Region(config);
  ASSERT_NE(region, nullptr);
  const netfault::TraceMark mark = region->Mark();
  const auto [out, status] = Run("net");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_NE(out.find("listen 7 0"), std::string::npos) << out;
  EXPECT_TRUE(region->ReadSince(mark).lines.empty());
}

// libnetutil_quiet_gai.so keeps getaddrinfo's own sockets (nscd, netlink for
// AI_ADDRCONFIG, the sort's UDP probes) out of the trace and the faults; the
// program's own socket after it is traced and faulted as before.
TEST_F(ControlBridgeTest, QuietGaiKeepsTheCLibrarysResolverCallsOut) {
  for (const bool shim : {false, true}) {
    SCOPED_TRACE(shim ? "preloaded" : "plain");
    netfault::Config config;
    config.plan = "socket always = EMFILE\n";
    auto region = Region(config);
    ASSERT_NE(region, nullptr);
    const netfault::TraceMark mark = region->Mark();
    std::vector<std::string> env;
    if (shim) env.push_back(std::string("LD_PRELOAD=") + QUIET_GAI);
    const auto [out, status] = Run("gai", env);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
    EXPECT_NE(out.find("socket -1 " + std::to_string(EMFILE)), std::string::npos) << out;
    size_t sockets = 0;
    for (const netfault::TraceLine& l : region->ReadSince(mark).lines) {
      sockets += l.call == static_cast<uint16_t>(fakes::Call::kSocket);
    }
    if (shim) {
      EXPECT_NE(out.find("gai 0 0"), std::string::npos) << out;  // its sockets were not faulted
      EXPECT_EQ(sockets, 1U) << out;                             // the program's own only
    } else {
      EXPECT_GT(sockets, 1U) << out;  // glibc's own sockets show, and meet the fault
    }
    std::filesystem::remove(dir_ / "ctl");
  }
}

TEST_F(ControlBridgeTest, ResolverEntriesAreRefusedWithTheReason) {
  netfault::Config config;
  config.resolver = "conform.test = 127.0.0.1\n";
  auto region = Region(config);
  ASSERT_NE(region, nullptr);
  const auto [out, status] = Run("net");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 125) << status;
  EXPECT_NE(out.find("getaddrinfo is no syscall"), std::string::npos) << out;
}

TEST_F(ControlBridgeTest, NoRegionIsAClearError) {
  std::ofstream(dir_ / "ctl") << "not a region";
  const auto [out, status] = Run("net");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 125) << status;
  EXPECT_NE(out.find("control region"), std::string::npos) << out;
}

}  // namespace
}  // namespace netutil::tracer
