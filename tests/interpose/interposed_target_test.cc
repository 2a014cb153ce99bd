// netconform's interposed target (tools/conform/interposed_target.cc) against
// a hostile adapter: netfault_probe's "adapter" mode answers the line
// protocol and, when a request asks, truncates or scribbles over its control
// region. netconform must fail that case with the reason and go on with the
// next, never crash.
#include "interposed_target.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "../conformance/case_test_util.h"
#include "catalog.h"
#include "runner.h"
#include "target.h"

namespace netutil::conform {
namespace {

using test_util::Details;
using test_util::MakeCase;

class HostileAdapter : public ::testing::Test {
 protected:
  void SetUp() override {
    target_ = MakeInterposedTarget(std::string(NETFAULT_PROBE) + " adapter", NETFAULT_LIBRARY);
    RunOptions options;
    options.request_timeout = std::chrono::milliseconds(20000);
    runner_ = std::make_unique<Runner>(*target_, options);
    const std::optional<std::string> why = runner_->Prepare();
    ASSERT_FALSE(why) << *why;
    EXPECT_EQ(runner_->hello().value("impl", ""), "netfault_probe");
  }

  // A case of one request, traced: the probe's socket and close.
  CaseResult RunRequest(const std::string& request, const std::string& expect = "{}") {
    return runner_->Run(MakeCase(R"({"id":"t/hostile","rules":["BIND-019"],"title":"t",
        "env":{"needs":["trace"]},
        "steps":[{"send":)" + request +
                                 R"(,"expect":)" + expect +
                                 R"(,"trace":{"calls":{"socket":1,"close":1}}}]})"));
  }

  std::unique_ptr<Target> target_;
  std::unique_ptr<Runner> runner_;
};

TEST_F(HostileAdapter, TruncatingTheRegionFailsWithEpermAndTracingGoesOn) {
  const CaseResult r =
      RunRequest(R"({"op":"hello","do":"truncate"})", R"({"truncate":"-1 EPERM -1 EPERM"})");
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
}

TEST_F(HostileAdapter, ScribblingTheRegionFailsTheCaseAndTheNextCaseRuns) {
  const CaseResult bad = RunRequest(R"({"op":"hello","do":"scribble"})");
  EXPECT_EQ(bad.verdict, Verdict::kFailed);
  EXPECT_NE(bad.reason.find("control file corrupted: "), std::string::npos) << Details(bad);
  // The next case has a region of its own.
  const CaseResult good = RunRequest(R"({"op":"hello"})");
  EXPECT_EQ(good.verdict, Verdict::kOk) << Details(good);
  // And so does a third, after a scribble in the same run of cases again.
  EXPECT_EQ(RunRequest(R"({"op":"hello","do":"scribble"})").verdict, Verdict::kFailed);
  EXPECT_EQ(RunRequest(R"({"op":"hello"})").verdict, Verdict::kOk);
}

}  // namespace
}  // namespace netutil::conform
