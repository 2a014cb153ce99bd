// Each fidelity scenario (fidelity_cases.h) on the FakeKernel and on the real
// kernel in a fresh network namespace: the outcomes must agree. A test skips,
// with the reason, only when the machine cannot give a namespace (not root, no
// unshare); a real-kernel child that crashes, hangs or breaks its set-up
// FAILS with how it ended. It never passes without having compared.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <iomanip>
#include <iostream>

#include "fidelity_cases.h"
#include "netutil/fakes/fake_kernel.h"

namespace netutil::fidelity {
namespace {

struct Compared {
  std::string fake;
  std::string trace;  // the fake's, for a disagreement
  ChildResult real;
};

Compared Compare(const FidelityCase& c) {
  Compared out;
  {
    FakeEnv env(c.spec);
    try {
      out.fake = c.run(env);
    } catch (const std::exception& e) {
      out.fake = std::string("exception: ") + e.what();
    }
    out.trace = env.kernel().trace().ToString();
  }
  out.real = RunInFreshNetns(c.spec, [&c] {
    RealEnv env(c.spec);
    return c.run(env);
  });
  return out;
}

// The real-kernel half ran, or the test ends: SKIPPED only when the machine
// cannot build the namespace, FAILED (with the signal, the timeout, ...) when
// the child crashed, hung or broke.
void RequireRealRun(const ChildResult& r) {
  if (r.status == ChildStatus::kNoEnvironment) GTEST_SKIP() << r.why;
  ASSERT_EQ(r.status, ChildStatus::kRan) << "the real-kernel run failed: " << r.why;
}

class FakeMatchesKernel : public ::testing::TestWithParam<FidelityCase> {};

TEST_P(FakeMatchesKernel, SameOutcome) {
  const FidelityCase& c = GetParam();
  const Compared r = Compare(c);
  RequireRealRun(r.real);
  if (IsSkipped() || HasFatalFailure()) return;
  EXPECT_EQ(r.fake, r.real.output)
      << "the fake kernel disagrees with Linux: a bug in the fake, to fix there\n"
      << "fake's trace:\n"
      << r.trace;
}

std::string CaseName(const ::testing::TestParamInfo<FidelityCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Table, FakeMatchesKernel, ::testing::ValuesIn(FidelityTable()), CaseName);

// The whole table at once, printed: what the closing note reports.
TEST(FidelityTable, EveryScenarioAgrees) {
  const auto& table = FidelityTable();
  ASSERT_GE(table.size(), 25u);
  int agree = 0, ran = 0, failed = 0, missing = 0;
  std::string why_not;
  for (const auto& c : table) {
    const Compared r = Compare(c);
    if (r.real.status == ChildStatus::kNoEnvironment) {
      ++missing;
      why_not = r.real.why;
      std::cout << "  SKIP  " << c.name << ": " << r.real.why << "\n";
      continue;
    }
    if (r.real.status == ChildStatus::kFailed) {
      ++failed;
      std::cout << "  FAIL  " << c.name << ": " << r.real.why << "\n";
      continue;
    }
    ++ran;
    const bool same = r.fake == r.real.output;
    agree += same ? 1 : 0;
    std::cout << (same ? "  same  " : "  DIFF  ") << std::left << std::setw(52) << c.name
              << r.real.output << "\n";
    if (!same) std::cout << "        fake: " << r.fake << "\n";
  }
  std::cout << "fidelity: " << agree << " of " << ran << " scenarios agree (" << table.size()
            << " in the table)\n";
  EXPECT_EQ(failed, 0) << "real-kernel runs that crashed, hung or broke their set-up";
  if (failed == 0 && missing == static_cast<int>(table.size())) GTEST_SKIP() << why_not;
  EXPECT_EQ(agree, ran);
  EXPECT_EQ(ran, static_cast<int>(table.size()));
}

// The machinery above, fed a child that crashes, one that hangs and one that
// exits without a word: each must come back FAILED with how it ended, never
// SKIPPED, both bare (RunInChild) and in the namespace the table uses.
std::string Crash() {
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);  // a deliberate crash leaves no core file behind
  // The default action, not a sanitizer's handler (ASan would turn the SEGV
  // into an abort): the child must die of signal 11 under every preset.
  std::signal(SIGSEGV, SIG_DFL);
  std::raise(SIGSEGV);
  return "still alive";
}
std::string Hang() {
  for (;;) ::pause();
}
std::string Vanish() { ::_exit(3); }

constexpr std::chrono::milliseconds kShort{300};

TEST(FidelityChild, ACrashingChildFailsWithItsSignal) {
  const ChildResult r = RunInChild(nullptr, Crash);
  EXPECT_EQ(r.status, ChildStatus::kFailed);
  EXPECT_NE(r.why.find("signal 11"), std::string::npos) << r.why;
  EXPECT_FATAL_FAILURE(RequireRealRun(RunInChild(nullptr, Crash)), "signal 11");
}

TEST(FidelityChild, AHangingChildFailsWithTheTimeout) {
  const auto start = std::chrono::steady_clock::now();
  const ChildResult r = RunInChild(nullptr, Hang, kShort);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r.status, ChildStatus::kFailed);
  EXPECT_EQ(r.why, "timeout after 300 ms (killed)");
  EXPECT_FATAL_FAILURE(RequireRealRun(RunInChild(nullptr, Hang, kShort)), "timeout after 300 ms");
}

TEST(FidelityChild, AChildThatExitsWithoutReportingFails) {
  const ChildResult r = RunInChild(nullptr, Vanish);
  EXPECT_EQ(r.status, ChildStatus::kFailed);
  EXPECT_EQ(r.why, "the child exited with status 3 without reporting");
}

TEST(FidelityChild, OnlyAMissingEnvironmentIsNotAFailure) {
  const ChildResult missing = RunInChild(
      [] {
        return std::optional<SetupFailure>({true, "unshare: EPERM"});
      },
      Crash);
  EXPECT_EQ(missing.status, ChildStatus::kNoEnvironment);
  EXPECT_NE(missing.why.find("unshare: EPERM"), std::string::npos) << missing.why;
  const ChildResult broken = RunInChild(
      [] {
        return std::optional<SetupFailure>({false, "mkstemp: EIO"});
      },
      Crash);
  EXPECT_EQ(broken.status, ChildStatus::kFailed);
  EXPECT_FATAL_FAILURE(RequireRealRun(RunInChild(
                           [] {
                             return std::optional<SetupFailure>({false, "mkstemp: EIO"});
                           },
                           Crash)),
                       "set-up failed: mkstemp: EIO");
  const ChildResult ran = RunInChild(nullptr, [] { return std::string("out"); });
  EXPECT_EQ(ran.status, ChildStatus::kRan);
  EXPECT_EQ(ran.output, "out");
}

// The same bodies inside the namespace the table builds. Where the machine
// cannot build it the test says so (SKIPPED with the reason); where it can,
// crash and hang must be FAILED.
TEST(FidelityChild, CrashAndHangInsideTheNamespaceFail) {
  const ChildResult crash = RunInFreshNetns(EnvSpec{}, Crash);
  if (crash.status == ChildStatus::kNoEnvironment) GTEST_SKIP() << crash.why;
  EXPECT_EQ(crash.status, ChildStatus::kFailed);
  EXPECT_NE(crash.why.find("signal 11"), std::string::npos) << crash.why;
  const ChildResult hang = RunInFreshNetns(EnvSpec{}, Hang, kShort);
  EXPECT_EQ(hang.status, ChildStatus::kFailed);
  EXPECT_EQ(hang.why, "timeout after 300 ms (killed)");
}

}  // namespace
}  // namespace netutil::fidelity
