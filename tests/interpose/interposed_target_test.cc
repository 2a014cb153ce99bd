// netconform's interposed target (tools/conform/interposed_target.cc) against
// a hostile adapter: netfault_probe's "adapter" mode answers the line
// protocol and, when a request asks, truncates or scribbles over its control
// region. netconform must fail that case with the reason and go on with the
// next, never crash.
#include "interposed_target.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "../conformance/case_test_util.h"
#include "catalog.h"
#include "netutil/fakes/fake_kernel.h"
#include "netutil/fakes/trace_fields.h"
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

// An implementation whose calls the interposer cannot see (raw system calls,
// as Go makes them) gets BLIND for a case that needs its trace, never OK or
// FAILED, found by the canary before the case's steps.
TEST(HarnessBlind, RawSyscallsGiveBlindNotFailed) {
  std::unique_ptr<Target> target =
      MakeInterposedTarget(std::string(NETFAULT_PROBE) + " rawadapter", NETFAULT_LIBRARY);
  RunOptions options;
  options.request_timeout = std::chrono::milliseconds(20000);
  Runner runner(*target, options);
  ASSERT_FALSE(runner.Prepare());
  const CaseResult r = runner.Run(MakeCase(R"({"id":"t/blind","rules":["BIND-019"],"title":"t",
      "steps":[{"send":{"op":"hello"},"trace":{"calls":{"socket":1}}}]})"));
  EXPECT_EQ(r.verdict, Verdict::kBlind) << Details(r);
  EXPECT_EQ(r.reason.rfind("harness blind: the instrument saw no socket()", 0), 0u) << r.reason;
  // Its traces unseen, a case still fails on what the runner does see...
  const CaseResult seen = runner.Run(MakeCase(R"({"id":"t/seen","rules":["BIND-019"],"title":"t",
      "steps":[{"send":{"op":"hello"},"expect":{"ok":false},"trace":{"calls":{"socket":1}}}]})"));
  EXPECT_EQ(seen.verdict, Verdict::kFailed) << Details(seen);
  // ... but a case resting on injected faults is BLIND whatever its steps do.
  const CaseResult injected = runner.Run(MakeCase(R"({"id":"t/inj","rules":["BIND-019"],
      "title":"t","env":{"faults":["socket = EMFILE"]},
      "steps":[{"send":{"op":"hello"},"expect":{"ok":false}}]})"));
  EXPECT_EQ(injected.verdict, Verdict::kBlind) << Details(injected);
  // A case that needs nothing of the trace runs as usual.
  const CaseResult plain = runner.Run(MakeCase(R"({"id":"t/plain","rules":["BIND-019"],
      "title":"t","steps":[{"send":{"op":"hello"},"expect":{"ok":true}}]})"));
  EXPECT_EQ(plain.verdict, Verdict::kOk) << Details(plain);
}

// What the traced process writes is checked before it reaches a pattern: the
// fields of a record are a small JSON object naming the record's call.
TEST(TraceRecord, FieldsRoundTripThroughTheRegion) {
  fakes::FakeKernel kernel;
  (void)kernel.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const fakes::TraceEntry& entry = kernel.trace().entries().front();
  std::string error;
  std::unique_ptr<netfault::ControlFile> region =
      netfault::ControlFile::CreateSealed({}, {}, &error);
  ASSERT_TRUE(region) << error;
  const netfault::TraceMark start = region->Mark();
  ASSERT_TRUE(
      region->Append(static_cast<uint16_t>(entry.call()), netfault::TraceRecordText(entry)));
  const netfault::TraceSince since = region->ReadSince(start);
  ASSERT_EQ(since.lines.size(), 1u) << since.corrupted;
  EXPECT_EQ(since.lines[0].text, fakes::FormatTraceLine(entry));
  const std::optional<nlohmann::json> fields = TraceRecordFields(since.lines[0], &error);
  ASSERT_TRUE(fields) << error;
  EXPECT_EQ(*fields, fakes::TraceFields(entry));
}

TEST(TraceRecord, ForgedFieldsAreRefusedWithTheReason) {
  const uint16_t bind = static_cast<uint16_t>(fakes::Call::kBind);
  const struct {
    std::string fields;
    std::string why;
  } kForged[] = {
      {"", "trace record of bind: its fields are "},
      {"[1]", "trace record of bind: its fields are not an object"},
      {R"({"call":"socket"})", "trace record of bind: its fields name another call"},
      {R"({"port":1})", "trace record of bind: its fields name another call"},
      {std::string(10, '[') + std::string(10, ']'), "nested deeper than 4 levels"},
      {R"({"call":"bind","path":")" + std::string(70000, 'x') + R"("})", "bytes"},
  };
  for (const auto& f : kForged) {
    std::string why;
    EXPECT_FALSE(TraceRecordFields({bind, "bind(3, 0.0.0.0:0) = 0", f.fields}, &why)) << f.fields;
    EXPECT_NE(why.find(f.why), std::string::npos) << why;
  }
}

}  // namespace
}  // namespace netutil::conform
