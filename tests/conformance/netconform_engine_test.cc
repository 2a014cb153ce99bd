// netconform's own machinery: the reply matcher, the catalog check, the
// verdicts (a wrong expectation fails with expected against actual, a crashed
// or hung adapter fails its case and the run goes on, a case needing injection
// is skipped out of process) and what a case's env makes of fakes::InjectingSys
// (fault rules, resolver overrides, no IPv6).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "catalog.h"
#include "environment.h"
#include "json_match.h"
#include "netutil/fakes/injecting_sys.h"
#include "netutil/posix_sys.h"
#include "runner.h"
#include "target.h"

namespace netutil::conform {
namespace {

std::string Details(const CaseResult& r) {
  std::string out = r.reason;
  for (const std::string& d : r.details) out += "\n" + d;
  return out;
}

Case MakeCase(const std::string& text) {
  std::vector<std::string> problems;
  std::vector<Case> cases = LoadCatalog({{"test", text}}, &problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(cases.size(), 1u);
  return cases.empty() ? Case{} : cases.front();
}

// A temp dir with executable shell scripts standing in for broken adapters.
class ScriptDir {
 public:
  ScriptDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/netconform-test-XXXXXX";
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  ~ScriptDir() { std::filesystem::remove_all(dir_); }
  std::string Script(const std::string& name, const std::string& body) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0755);
    return path;
  }

 private:
  std::string dir_;
};

// --- the matcher ---

TEST(JsonMatch, ObjectsAreSubsetsArraysExact) {
  const json reply = json::parse(R"({"ok":true,"listeners":[{"port":1,"x":2}],"extra":3})");
  EXPECT_FALSE(Match(json::parse(R"({"ok":true})"), reply));
  EXPECT_FALSE(Match(json::parse(R"({"listeners":[{"port":1}]})"), reply));
  EXPECT_TRUE(Match(json::parse(R"({"listeners":[]})"), reply));
  EXPECT_TRUE(Match(json::parse(R"({"missing":1})"), reply));
  EXPECT_FALSE(Match(json::parse(R"({"missing":{"$absent":true}})"), reply));
  EXPECT_TRUE(Match(json::parse(R"({"ok":{"$absent":true}})"), reply));
  EXPECT_FALSE(Match(json(1), json(1.0)));
}

TEST(JsonMatch, MismatchSaysWhereExpectedAndActual) {
  const json reply = json::parse(R"({"error":{"kind":"os"}})");
  std::optional<Mismatch> m = Match(json::parse(R"({"error":{"kind":"argument"}})"), reply);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->where, "/error/kind");
  EXPECT_EQ(m->expected, "\"argument\"");
  EXPECT_EQ(m->actual, "\"os\"");
}

TEST(JsonMatch, Operators) {
  EXPECT_FALSE(Match(json::parse(R"({"$ge":3,"$le":7})"), json(5)));
  EXPECT_TRUE(Match(json::parse(R"({"$ge":3,"$le":7})"), json(8)));
  EXPECT_FALSE(Match(json::parse(R"({"$len":2,"$each":{"$glob":"127.*"}})"),
                     json::parse(R"(["127.0.0.1:1","127.0.0.1:2"])")));
  EXPECT_TRUE(Match(json::parse(R"({"$each":{"$glob":"127.*"}})"), json::parse(R"(["::1"])")));
  EXPECT_FALSE(Match(json::parse(R"({"$any":["a","b"]})"), json("b")));
  EXPECT_FALSE(Match(json::parse(R"({"$contains":"USE"})"), json("EADDRINUSE")));
  EXPECT_FALSE(Match(json::parse(R"({"$subseq":["socket(*","bind(*"]})"),
                     json::parse(R"(["socket(2) = 3","x","bind(3) = 0"])")));
  EXPECT_TRUE(Match(json::parse(R"({"$subseq":["bind(*","socket(*"]})"),
                    json::parse(R"(["socket(2) = 3","bind(3) = 0"])")));
  EXPECT_TRUE(Match(json::parse(R"({"$none":"*REUSEPORT*"})"),
                    json::parse(R"j(["setsockopt(3, SO_REUSEPORT, 1)"])j")));
  EXPECT_FALSE(Match(json::parse(R"({"errno":"ELOOP","$any":[{"message":"m"},{"address":"a"}]})"),
                     json::parse(R"({"errno":"ELOOP","message":"x","address":"a"})")));
  EXPECT_TRUE(CheckPattern(json::parse(R"({"$frobnicate":1})")));
  EXPECT_FALSE(CheckPattern(json::parse(R"({"a":{"$ge":1},"b":[{"$glob":"x"}]})")));
}

TEST(JsonMatch, SubstituteKeepsTypesAndRefusesUnknownNames) {
  const Vars vars = {{"port", 40001}, {"TMP", "/t"}};
  std::string error;
  std::optional<json> j =
      Substitute(json::parse(R"({"port":"${port}","path":"${TMP}/s.sock","n":[1]})"), vars, &error);
  ASSERT_TRUE(j) << error;
  EXPECT_EQ((*j)["port"], 40001);
  EXPECT_EQ((*j)["path"], "/t/s.sock");
  EXPECT_FALSE(Substitute(json("${nope}"), vars, &error));
  EXPECT_NE(error.find("nope"), std::string::npos);
}

// --- the catalog ---

TEST(Catalog, BuiltinCasesLoadAndNameSpecRules) {
  std::vector<std::string> problems;
  std::vector<Case> cases = LoadCatalog(BuiltinCases(), &problems);
  for (const std::string& p : problems) ADD_FAILURE() << p;
  EXPECT_GE(cases.size(), 45u);
  std::set<std::string> ids;
  for (const Case& c : cases) EXPECT_TRUE(ids.insert(c.id).second) << c.id;
}

TEST(Catalog, BadCasesAreRefusedWithTheProblem) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      // Split so that tools/spec_coverage does not take the typo for a real reference.
      {R"({"id":"x/y","rules":["BIND-)" "999" R"("],"title":"t","steps":[{"sleep_ms":1}]})",
       "BIND-" "999"},
      {R"({"id":"Bad Id","rules":["BIND-013"],"title":"t","steps":[{"sleep_ms":1}]})", "id"},
      {R"({"id":"x/y","rules":["BIND-013"],"title":"t","steps":[{"jump":1}]})", "step 1"},
      {R"({"id":"x/y","rules":["BIND-013"],"title":"t",
           "steps":[{"send":{"op":"hello"},"expect":{"$frobnicate":1}}]})",
       "$frobnicate"},
      {R"({"id":"x/y","rules":["BIND-013"],"title":"t","env":{"faults":[{"call":"bind"}]},
           "steps":[{"sleep_ms":1}]})",
       "errno"},
      {R"({"id":"x/y","rules":["BIND-013"],"title":"t","env":{"needs":["ipv7"]},
           "steps":[{"sleep_ms":1}]})",
       "ipv7"},
      {R"({"id":"x/y", /* a comment is fine, a missing title is not */ "rules":["BIND-013"],
           "steps":[{"sleep_ms":1}]})",
       "title"},
      {R"({"id":"x/y",)", "not JSON"},
  };
  for (const auto& [text, what] : bad) {
    std::vector<std::string> problems;
    EXPECT_TRUE(LoadCatalog({{"t", text}}, &problems).empty()) << text;
    ASSERT_EQ(problems.size(), 1u) << text;
    EXPECT_NE(problems[0].find(what), std::string::npos) << problems[0];
  }
}

// --- verdicts ---

TEST(Runner, WrongExpectationFailsWithExpectedAndActual) {
  std::unique_ptr<Target> target = MakeInProcessTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case c = MakeCase(R"({"id":"t/wrong","rules":["BIND-019"],"title":"t","steps":[
      {"send":{"op":"bind_sockets","port":70000},"expect":{"ok":false,"error":{"kind":"os"}}}]})");
  CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  const std::string d = Details(r);
  EXPECT_NE(d.find("Expected: /error/kind = \"os\""), std::string::npos) << d;
  EXPECT_NE(d.find("Actual: \"argument\""), std::string::npos) << d;
}

TEST(Runner, TraceMismatchFailsInProcess) {
  std::unique_ptr<Target> target = MakeInProcessTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case c = MakeCase(R"({"id":"t/trace","rules":["BIND-019"],"title":"t","steps":[
      {"send":{"op":"bind_sockets","port":0,"address":"127.0.0.1"},"trace":{"calls":{"bind":2}}}]})");
  CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(Details(r).find("bind("), std::string::npos) << "the trace is shown: " << Details(r);
}

TEST(Runner, InjectionCaseSkippedOutOfProcess) {
  std::unique_ptr<Target> target = MakeProcessTarget(NETUTIL_ADAPTER_PATH);
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  EXPECT_EQ(runner.hello().value("impl", ""), "reference");
  const Case c = MakeCase(R"({"id":"t/inject","rules":["BIND-024"],"title":"t",
      "env":{"faults":[{"call":"bind","errno":"EINTR"}]},
      "steps":[{"send":{"op":"hello"}}]})");
  CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kSkipped);
  EXPECT_NE(r.reason.find("fault injection"), std::string::npos) << r.reason;
}

TEST(Runner, CrashedAdapterFailsItsCaseAndTheRunGoesOn) {
  ScriptDir dir;
  // Answers one request; on a second one it dies; at end of input it exits 0.
  const std::string script =
      dir.Script("crash.sh", "read l && echo '{\"ok\":true}'\nread l || exit 0\nkill -SEGV $$\n");
  std::unique_ptr<Target> target = MakeProcessTarget(script);
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case one = MakeCase(R"({"id":"t/one","rules":["BIND-013"],"title":"t",
      "steps":[{"send":{"op":"hello"}}]})");
  const Case two = MakeCase(R"({"id":"t/two","rules":["BIND-013"],"title":"t",
      "steps":[{"send":{"op":"hello"}},{"send":{"op":"hello"}}]})");
  EXPECT_EQ(runner.Run(one).verdict, Verdict::kOk);
  CaseResult crashed = runner.Run(two);
  EXPECT_EQ(crashed.verdict, Verdict::kFailed);
  EXPECT_NE(crashed.reason.find("step 2"), std::string::npos) << Details(crashed);
  EXPECT_NE(crashed.reason.find("signal 11"), std::string::npos) << Details(crashed);
  EXPECT_EQ(runner.Run(one).verdict, Verdict::kOk) << "each case has its own adapter";
}

TEST(Runner, HungAdapterTimesOut) {
  ScriptDir dir;
  const std::string script =
      dir.Script("hang.sh", "read l && echo '{\"ok\":true}'\nread l || exit 0\nexec sleep 30\n");
  std::unique_ptr<Target> target = MakeProcessTarget(script);
  RunOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  Runner runner(*target, options);
  ASSERT_FALSE(runner.Prepare());
  const Case two = MakeCase(R"({"id":"t/two","rules":["BIND-013"],"title":"t",
      "steps":[{"send":{"op":"hello"}},{"send":{"op":"hello"}}]})");
  const auto start = std::chrono::steady_clock::now();
  CaseResult r = runner.Run(two);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("no reply"), std::string::npos) << Details(r);
}

TEST(Runner, AdapterExitingNonZeroAtEndOfInputFails) {
  ScriptDir dir;
  const std::string script =
      dir.Script("exit3.sh", "while read l; do echo '{\"ok\":true}'; done\nexit 3\n");
  std::unique_ptr<Target> target = MakeProcessTarget(script);
  Runner runner(*target, {});
  EXPECT_TRUE(runner.Prepare()) << "hello's session ends badly too";
  const Case one = MakeCase(R"({"id":"t/one","rules":["BIND-013"],"title":"t",
      "steps":[{"send":{"op":"hello"}}]})");
  CaseResult r = runner.Run(one);
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("status 3"), std::string::npos) << Details(r);
}

// --- the environment, over fakes::InjectingSys ---

fakes::FaultPlan Faults(const char* text) {
  std::string error;
  std::optional<fakes::FaultPlan> plan = ParseFaults(json::parse(text), &error);
  EXPECT_TRUE(plan.has_value()) << error;
  return plan.value_or(fakes::FaultPlan{});
}

TEST(Environment, NthTimesAndFamilySelectCalls) {
  PosixSys posix;
  fakes::InjectingSys sys(posix, Faults(R"([{"call": "socket", "errno": "EMFILE", "nth": 2,
                                             "times": 2, "family": "inet"}])"));
  std::vector<int> errs;
  for (int i = 0; i < 4; ++i) {
    SysInt other = sys.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);  // another family
    ASSERT_TRUE(other.ok());
    (void)sys.close(other.value);
    SysInt s = sys.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    errs.push_back(s.err);
    if (s.ok()) (void)sys.close(s.value);
  }
  EXPECT_EQ(errs, (std::vector<int>{0, EMFILE, EMFILE, 0}));
  EXPECT_EQ(sys.trace().Count(fakes::Call::kSocket), 8u);
  int injected = 0;
  for (const fakes::TraceEntry& e : sys.trace().entries()) {
    if (e.call == fakes::Call::kSocket && e.injected && e.err == EMFILE) ++injected;
  }
  EXPECT_EQ(injected, 2);
}

TEST(Environment, RulesTheInjectorWouldRefuseAreParseErrors) {
  std::string error;
  EXPECT_FALSE(ParseFaults(
      json::parse(R"([{"call": "listen", "family": "inet", "errno": "EINTR"}])"), &error));
  EXPECT_NE(error.find("fault rule"), std::string::npos) << error;
  EXPECT_FALSE(ParseFaults(json::parse(R"([{"call": "umask", "errno": "EINTR"}])"), &error));
}

TEST(Environment, InjectedCloseFailureStillClosesTheFd) {
  PosixSys posix;
  fakes::InjectingSys sys(posix, Faults(R"([{"call": "close", "errno": "EINTR"}])"));
  SysInt s = sys.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(sys.close(s.value).err, EINTR);
  EXPECT_EQ(::fcntl(s.value, F_GETFD), -1) << "the fd must be gone, as on Linux";
}

TEST(Environment, ResolverOverrideTakesPortAndFamily) {
  std::string error;
  std::optional<Environment> env = ParseEnvironment(
      json::parse(R"({"resolver": [{"host": "conform.test", "addrs": ["::1", "127.0.0.1"]}],
                      "ipv6_missing": true})"),
      &error);
  ASSERT_TRUE(env.has_value()) << error;
  EXPECT_TRUE(env->injects());
  PosixSys posix;
  fakes::InjectingSys sys(posix);
  sys.set_resolver(env->resolver);
  sys.set_ipv6_missing(env->ipv6_missing);
  GaiResult all =
      sys.getaddrinfo(std::string("conform.test"), "8080", {AF_UNSPEC, SOCK_STREAM, 0, 0});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all.addrs.size(), 2u);
  EXPECT_EQ(all.addrs[0].addr.ToString(), "[::1]:8080");
  GaiResult v4 = sys.getaddrinfo(std::string("conform.test"), "1", {AF_INET, SOCK_STREAM, 0, 0});
  ASSERT_EQ(v4.addrs.size(), 1u);
  EXPECT_EQ(v4.addrs[0].addr.ToString(), "127.0.0.1:1");
  EXPECT_EQ(sys.socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0).err, EAFNOSUPPORT);
  ASSERT_FALSE(sys.trace().entries().empty());
  EXPECT_TRUE(sys.trace().entries().front().injected) << "answered by the table";
}

}  // namespace
}  // namespace netutil::conform
