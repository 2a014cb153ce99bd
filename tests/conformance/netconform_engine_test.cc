// netconform's own machinery: the reply matcher, the catalog check, the
// verdicts (a wrong expectation fails with expected against actual, a crashed
// or hung adapter fails its case and the run goes on, a case needing injection
// is skipped out of process) and what a case's env makes of fakes::InjectingSys
// (fault rules, resolver overrides, no IPv6).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <tuple>

#include "case_test_util.h"
#include "catalog.h"
#include "environment.h"
#include "expectations.h"
#include "json_match.h"
#include "netutil/fakes/injecting_sys.h"
#include "netutil/posix_sys.h"
#include "runner.h"
#include "target.h"

namespace netutil::conform {
namespace {

using test_util::Details;
using test_util::MakeCase;

// A temp dir with executable shell scripts standing in for broken adapters.
class ScriptDir {
 public:
  ScriptDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/netconform-test-XXXXXX";
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  ~ScriptDir() { std::filesystem::remove_all(dir_); }
  std::string File(const std::string& name, const std::string& body) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << body;
    return path;
  }
  // The script may call `reply "$line"`: {"id":N,"ok":true} for the request
  // `$line` (protocol 2 echoes the id; netconform writes it first).
  std::string Script(const std::string& name, const std::string& body) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n"
                        << "reply() { printf '{\"id\":%s,\"ok\":true}\\n' "
                           "\"$(printf '%s' \"$1\" | sed 's/^{\"id\":\\([0-9]*\\).*/\\1/')\"; }\n"
                        << body;
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

// A trace's entries are matched by field: "$subseq" and "$none" take
// patterns as well as globs.
TEST(JsonMatch, SubseqAndNoneMatchEntriesByField) {
  const json entries = json::parse(R"([
      {"call":"socket","family":"inet6","result":3},
      {"call":"setsockopt","fd":3,"opt":"IPV6_V6ONLY","value":1,"result":0},
      {"call":"bind","fd":3,"addr":"::","port":0,"result":0}])");
  EXPECT_FALSE(Match(json::parse(R"({"$subseq":[{"call":"setsockopt","opt":"IPV6_V6ONLY"},
                                                 {"call":"bind","addr":"::"}]})"),
                     entries));
  const auto out_of_order = Match(json::parse(R"({"$subseq":[{"call":"bind"},
                                                             {"call":"setsockopt"}]})"),
                                  entries);
  ASSERT_TRUE(out_of_order);
  EXPECT_NE(out_of_order->expected.find("in order"), std::string::npos);
  EXPECT_TRUE(
      Match(json::parse(R"({"$subseq":[{"call":"bind","err":{"$type":"string"}}]})"), entries));
  EXPECT_FALSE(Match(json::parse(R"({"$none":{"call":"listen"}})"), entries));
  const auto found = Match(json::parse(R"({"$none":{"call":"bind","port":0}})"), entries);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->where, "/2");
  // A glob never matches an object, and a pattern never a line.
  EXPECT_TRUE(Match(json::parse(R"({"$subseq":["bind*"]})"), entries));
  EXPECT_TRUE(
      Match(json::parse(R"({"$subseq":[{"call":"bind"}]})"), json::parse(R"j(["bind(3)"])j")));
  EXPECT_FALSE(CheckPattern(json::parse(R"({"$subseq":[{"call":"bind","port":{"$ge":1}}]})")));
  EXPECT_TRUE(CheckPattern(json::parse(R"({"$subseq":[{"port":{"$frob":1}}]})")));
  EXPECT_TRUE(CheckPattern(json::parse(R"({"$none":{"$frob":1}})")));
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

// A glob is text: a variable in it is too, so a number can be matched in a
// string field (getaddrinfo's service "40001").
TEST(JsonMatch, SubstituteGivesGlobsText) {
  const Vars vars = {{"port", 40001}};
  std::string error;
  std::optional<json> j =
      Substitute(json::parse(R"({"service":{"$glob":"${port}"}})"), vars, &error);
  ASSERT_TRUE(j) << error;
  EXPECT_EQ((*j)["service"]["$glob"], "40001");
  EXPECT_FALSE(Match(*j, json::parse(R"({"service":"40001"})")));
  EXPECT_TRUE(Match(*j, json::parse(R"({"service":"40002"})")));
  // A glob that is no string (a hand-made pattern) is a mismatch, not a throw.
  EXPECT_TRUE(Match(json::parse(R"({"$glob":7})"), json("7")));
}

// --- the catalog ---

TEST(Catalog, ScenarioFilesLoadAndNameSpecRules) {
  std::vector<std::string> problems;
  std::vector<Case> cases = LoadCatalog(ReadCaseDir(DefaultCaseDir(), &problems), &problems);
  for (const std::string& p : problems) ADD_FAILURE() << p;
  EXPECT_GE(cases.size(), 80u);
  std::set<std::string> ids;
  for (const Case& c : cases) {
    EXPECT_TRUE(ids.insert(c.id).second) << c.id;
    EXPECT_TRUE(c.level == "tornado" || c.level == "strict") << c.id;
  }
}

// Problems name the file and the line of the part at fault.
TEST(Catalog, ProblemsNameFileAndLine) {
  const std::vector<std::tuple<std::string, std::string, std::string>> bad = {
      {"cases/bind/a.json",
       "{\n \"id\": \"bind/a\",\n \"rules\": [\"BIND-013\"],\n \"title\": \"t\",\n"
       " \"steps\": [\n  {\"send\": {\"op\": \"hello\"}},\n  {\"sned\": 1}\n ]\n}\n",
       "cases/bind/a.json:7: [bind/a] step 2:"},
      {"cases/bind/b.json", "{\n \"id\": \"bind/b\",\n \"rules\": [\"BIND-013\"]\n \"title\": 1}",
       "cases/bind/b.json:4:8: not JSON"},
      {"cases/bind/c.json",
       "{\"id\": \"bind/other\", \"rules\": [\"BIND-013\"], \"title\": \"t\",\n"
       " \"steps\": [{\"sleep_ms\": 1}]}",
       "does not match the file's path (bind/c)"},
      {"cases/bind/d.json",
       "{\"id\": \"bind/d\", \"title\": \"t\", \"steps\": [{\"sleep_ms\": 1}],\n"
       " // a comment line\n \"rules\": [\"BIND-013\",\n  \"BIND-"
       "998\"]}",
       "cases/bind/d.json:4: [bind/d] rule"},
      {"cases/bind/e.json",
       "{\"id\": \"bind/e\", \"rules\": [\"BIND-013\"], \"title\": \"t\",\n"
       " \"env\": {\"faults\": [\"bind #0 = EADDRINUSE\"]},\n \"steps\": [{\"sleep_ms\": 1}]}",
       "cases/bind/e.json:2: [bind/e] env.faults[0]: line 1, column 6"},
  };
  for (const auto& [origin, text, want] : bad) {
    std::vector<std::string> problems;
    EXPECT_TRUE(LoadCatalog({{origin, text}}, &problems).empty()) << text;
    ASSERT_EQ(problems.size(), 1u) << text;
    EXPECT_NE(problems[0].find(want), std::string::npos) << problems[0] << "\nwanted: " << want;
  }
}

TEST(Catalog, LevelIsStrictWhenAnyRuleIsStrict) {
  EXPECT_EQ(
      MakeCase(R"({"id":"t/a","rules":["BIND-013"],"title":"t","steps":[{"sleep_ms":0}]})").level,
      "tornado");
  EXPECT_EQ(MakeCase(R"({"id":"t/b","rules":["BIND-013","BIND-018"],"title":"t",
                         "steps":[{"sleep_ms":0}]})")
                .level,
            "strict");
}

TEST(Catalog, MissingDirectoryIsAProblem) {
  std::vector<std::string> problems;
  EXPECT_TRUE(ReadCaseDir("/nonexistent-netconform-cases", &problems).empty());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("not a directory"), std::string::npos) << problems[0];
}

TEST(Catalog, BadCasesAreRefusedWithTheProblem) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      // Split so that tools/spec_coverage does not take the typo for a real reference.
      {R"({"id":"x/y","rules":["BIND-)"
       "999"
       R"("],"title":"t","steps":[{"sleep_ms":1}]})",
       "BIND-"
       "999"},
      {R"({"id":"Bad Id","rules":["BIND-013"],"title":"t","steps":[{"sleep_ms":1}]})", "id"},
      {R"({"id":"x/y","rules":["BIND-013"],"title":"t","steps":[{"jump":1}]})", "step 1"},
      {R"({"id":"x/y","rules":["BIND-013"],"title":"t",
           "steps":[{"send":{"op":"hello"},"expect":{"$frobnicate":1}}]})",
       "$frobnicate"},
      {R"({"id":"x/y","rules":["BIND-013"],"title":"t","env":{"faults":["bind"]},
           "steps":[{"sleep_ms":1}]})",
       "env.faults[0]: line 1"},
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

// Out of process without an instrument, a case that needs injection cannot be
// judged: BLIND, not SKIPPED (the host lacks nothing) and never OK.
TEST(Runner, InjectionCaseBlindWithoutAnInstrument) {
  std::unique_ptr<Target> target = MakeProcessTarget(NETUTIL_ADAPTER_PATH);
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  EXPECT_EQ(runner.hello().value("impl", ""), "reference");
  const Case c = MakeCase(R"({"id":"t/inject","rules":["BIND-024"],"title":"t",
      "env":{"faults":["bind = EINTR"]},
      "steps":[{"send":{"op":"hello"}}]})");
  CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kBlind);
  EXPECT_EQ(r.reason.rfind("harness blind: needs fault injection", 0), 0u) << r.reason;
}

// A trace pattern no instrument could check makes an otherwise passing case
// BLIND; a failure the runner did see stays FAILED.
TEST(Runner, UnseenTraceIsBlindButASeenFailureStands) {
  std::unique_ptr<Target> target = MakeProcessTarget(NETUTIL_ADAPTER_PATH);
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const CaseResult blind = runner.Run(MakeCase(R"({"id":"t/unseen","rules":["BIND-016"],
      "title":"t","steps":[{"send":{"op":"bind_sockets","port":0,"address":"127.0.0.1"},
                            "expect":{"ok":true},"trace":{"calls":{"listen":1}}}]})"));
  EXPECT_EQ(blind.verdict, Verdict::kBlind) << Details(blind);
  EXPECT_EQ(blind.reason.rfind("harness blind: the trace of step 1", 0), 0u) << blind.reason;
  const CaseResult failed = runner.Run(MakeCase(R"({"id":"t/seen","rules":["BIND-016"],
      "title":"t","steps":[{"send":{"op":"bind_sockets","port":0,"address":"127.0.0.1"},
                            "expect":{"ok":false},"trace":{"calls":{"listen":1}}}]})"));
  EXPECT_EQ(failed.verdict, Verdict::kFailed) << Details(failed);
}

TEST(Runner, CrashedAdapterFailsItsCaseAndTheRunGoesOn) {
  ScriptDir dir;
  // Answers one request; on a second one it dies; at end of input it exits 0.
  const std::string script =
      dir.Script("crash.sh", "read l && reply \"$l\"\nread l || exit 0\nkill -SEGV $$\n");
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
      dir.Script("hang.sh", "read l && reply \"$l\"\nread l || exit 0\nexec sleep 30\n");
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
  EXPECT_NE(r.reason.find("timeout after 300 ms: no reply"), std::string::npos) << Details(r);
}

TEST(Runner, AdapterExitingNonZeroAtEndOfInputFails) {
  ScriptDir dir;
  const std::string script =
      dir.Script("exit3.sh", "while read l; do reply \"$l\"; done\nexit 3\n");
  std::unique_ptr<Target> target = MakeProcessTarget(script);
  Runner runner(*target, {});
  EXPECT_TRUE(runner.Prepare()) << "hello's session ends badly too";
  const Case one = MakeCase(R"({"id":"t/one","rules":["BIND-013"],"title":"t",
      "steps":[{"send":{"op":"hello"}}]})");
  CaseResult r = runner.Run(one);
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("status 3"), std::string::npos) << Details(r);
}

TEST(Runner, StrictCaseFailedIsNonStrictUnderTheTornadoProfile) {
  std::unique_ptr<Target> target = MakeInProcessTarget();
  RunOptions options;
  options.profile = Profile::kTornado;
  Runner runner(*target, options);
  ASSERT_FALSE(runner.Prepare());
  const char* wrong = R"({"send":{"op":"bind_sockets","port":70000},"expect":{"ok":true}})";
  const Case strict = MakeCase(std::string(R"({"id":"t/s","rules":["BIND-019"],"title":"t",
      "steps":[)") + wrong + "]}");
  const Case tornado = MakeCase(std::string(R"({"id":"t/t","rules":["BIND-013"],"title":"t",
      "steps":[)") + wrong + "]}");
  EXPECT_EQ(runner.Run(strict).verdict, Verdict::kNonStrict);
  EXPECT_EQ(runner.Run(tornado).verdict, Verdict::kFailed);
}

TEST(Runner, CaseTimeoutCutsTheCaseShort) {
  std::unique_ptr<Target> target = MakeInProcessTarget();
  RunOptions options;
  options.case_timeout = std::chrono::milliseconds(200);
  Runner runner(*target, options);
  ASSERT_FALSE(runner.Prepare());
  const Case c = MakeCase(R"({"id":"t/slow","rules":["BIND-013"],"title":"t",
      "steps":[{"sleep_ms":300},{"send":{"op":"hello"}}]})");
  CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("ran out of time"), std::string::npos) << Details(r);
}

// The fake kernel target answers from its own kernel: clients, held ports,
// files and the clock of the case are the fake's.
TEST(FakeTarget, HostActionsGoToTheFakeKernel) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  EXPECT_FALSE(target->RealKernel());
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case c = MakeCase(R"({"id":"t/fake","rules":["ACCEPT-001"],"title":"t","steps":[
      {"send": {"op": "open_fds"}, "save": {"fds": "/open_fds"}},
      {"hold": {"address": "127.0.0.1", "port": 0}, "save": {"held": "/port"}},
      {"send": {"op": "bind_sockets", "port": "${held}", "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"errno": "EADDRINUSE"}}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 3}},
      {"send": {"op": "serve", "listener": 0}, "expect": {"accepted": 3}},
      {"make": {"path": "${TMP}/f", "kind": "regular", "content": "keep"}},
      {"check": "${TMP}/f", "expect": {"type": "regular", "content": "keep"}},
      {"send": {"op": "close_all"}},
      {"send": {"op": "open_fds"}, "expect": {"open_fds": {"$le": "${fds}"}}},
      {"sleep_ms": 10000}]})");
  const auto start = std::chrono::steady_clock::now();
  CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5))
      << "sleep_ms moves the fake clock";
}

TEST(FakeTarget, EnvironmentShapesTheKernel) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case c = MakeCase(R"({"id":"t/env","rules":["BIND-013"],"title":"t",
      "env": {"port_range": [40000, 40000], "fd_limit": 5, "ipv6": "absent"},
      "steps":[
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true, "listeners": [{"port": 40000}]}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"errno": "EMFILE"}}},
      {"send": {"op": "close_all"}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "::1"},
       "expect": {"ok": true, "listeners": []}, "trace": {"log": [{"$glob": "getaddrinfo*"},
                                                                  "socket(AF_INET6, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 6) = -1 EAFNOSUPPORT"]}}]})");
  CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
}

// A namespace per case for what the real kernel must provide: a narrowed
// port range (needs root; skipped with the reason otherwise).
TEST(Netns, PortRangeCaseRunsInItsOwnNamespace) {
  std::unique_ptr<Target> target = MakeInProcessTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case c = MakeCase(R"({"id":"t/range","rules":["BIND-013"],"title":"t",
      "env": {"port_range": [40120, 40129]},
      "steps":[
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"port": "/listeners/0/port"},
       "expect": {"ok": true, "listeners": [{"port": {"$ge": 40120, "$le": 40129}}]}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 2}},
      {"send": {"op": "serve", "listener": 0}, "expect": {"accepted": 2}}]})");
  CaseResult r = runner.Run(c);
  if (r.verdict == Verdict::kSkipped) GTEST_SKIP() << r.reason;
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
  // The thread is back in the host's namespace: the range there is untouched.
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int lo = 0;
  int hi = 0;
  range >> lo >> hi;
  EXPECT_FALSE(lo == 40120 && hi == 40129);
}

TEST(Expectations, ListedVerdictsAndErrors) {
  ScriptDir dir;
  std::vector<Case> cases = {MakeCase(R"({"id":"t/a","rules":["BIND-013"],"title":"t",
                                          "steps":[{"sleep_ms":0}]})")};
  const std::string good = dir.File("good.txt", "# known\nt/a FAILED  # why\n\n");
  std::string error;
  std::optional<Expectations> e = ReadExpectations(good, cases, &error);
  ASSERT_TRUE(e.has_value()) << error;
  CaseResult r;
  r.c = &cases[0];
  r.verdict = Verdict::kFailed;
  EXPECT_FALSE(e->Check(r));
  r.verdict = Verdict::kOk;
  EXPECT_TRUE(e->Check(r)) << "a case that starts passing must leave the list";
  r.verdict = Verdict::kSkipped;
  EXPECT_FALSE(e->Check(r));
  r.verdict = Verdict::kNotApplicable;
  EXPECT_TRUE(e->Check(r)) << "N/A is checked: it depends on the hello only";
  // A case may be expected N/A (capabilities.h); then anything else is a surprise.
  const std::string na = dir.File("na.txt", "t/a N/A  # needs serve.batch=4\n");
  std::optional<Expectations> n = ReadExpectations(na, cases, &error);
  ASSERT_TRUE(n.has_value()) << error;
  EXPECT_FALSE(n->Check(r));
  r.verdict = Verdict::kFailed;
  EXPECT_TRUE(n->Check(r));
  for (const auto& [text, want] : std::vector<std::pair<std::string, std::string>>{
           {"t/a\n", ":1: \"t/a\" needs a verdict"},
           {"\nt/zz FAILED\n", ":2: no case \"t/zz\""},
           {"t/a MAYBE\n", ":1: unknown verdict"},
           {"t/a FAILED\nt/a OK\n", ":2: \"t/a\" is listed twice"}}) {
    const std::string path = dir.File("bad.txt", text);
    EXPECT_FALSE(ReadExpectations(path, cases, &error)) << text;
    EXPECT_NE(error.find(want), std::string::npos) << error;
  }
}

// --expect-as: one run, both profiles' lists. Only a strict case's failure
// changes its name; a tornado case's failure is FAILED under both.
TEST(Expectations, UnderProfileRenamesOnlyAStrictCasesFailure) {
  std::vector<Case> cases = {
      MakeCase(R"({"id":"t/s","rules":["BIND-013"],"title":"t","steps":[{"sleep_ms":0}]})"),
      MakeCase(R"({"id":"t/t","rules":["BIND-013"],"title":"t","steps":[{"sleep_ms":0}]})")};
  cases[0].level = "strict";  // the level of the case's rules in docs/SPEC.md
  cases[1].level = "tornado";
  CaseResult r;
  r.c = &cases[0];
  r.verdict = Verdict::kFailed;
  EXPECT_EQ(UnderProfile(r, Profile::kTornado).verdict, Verdict::kNonStrict);
  EXPECT_EQ(UnderProfile(r, Profile::kStrict).verdict, Verdict::kFailed);
  r.verdict = Verdict::kNonStrict;
  EXPECT_EQ(UnderProfile(r, Profile::kStrict).verdict, Verdict::kFailed);
  EXPECT_EQ(UnderProfile(r, Profile::kTornado).verdict, Verdict::kNonStrict);
  for (Verdict v : {Verdict::kOk, Verdict::kSkipped, Verdict::kBlind, Verdict::kNotApplicable}) {
    r.verdict = v;
    EXPECT_EQ(UnderProfile(r, Profile::kStrict).verdict, v);
    EXPECT_EQ(UnderProfile(r, Profile::kTornado).verdict, v);
  }
  r.c = &cases[1];
  r.verdict = Verdict::kFailed;
  EXPECT_EQ(UnderProfile(r, Profile::kTornado).verdict, Verdict::kFailed);
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
  fakes::InjectingSys sys(posix, Faults(R"(["socket #2 x2 family=inet = EMFILE"])"));
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
    if (e.call() == fakes::Call::kSocket && e.injected && e.err() == EMFILE) ++injected;
  }
  EXPECT_EQ(injected, 2);
}

TEST(Environment, RulesTheInjectorWouldRefuseAreParseErrors) {
  std::string error;
  EXPECT_FALSE(ParseFaults(json::parse(R"(["listen family=inet = EINTR"])"), &error));
  EXPECT_NE(error.find("family"), std::string::npos) << error;
  EXPECT_FALSE(ParseFaults(json::parse(R"(["umask = EINTR"])"), &error));
}

// ${TMP} in rule lines is the case's dir; a swap stays beneath it, checked
// again with the dir a run gives (a variable substituted into "inject" could
// otherwise take it elsewhere).
TEST(Environment, SwapRulesTakeTheCasesDir_UNIX_017) {
  std::string error;
  std::optional<Environment> env = ParseEnvironment(
      json::parse(R"({"faults": ["after bind #1 swap ${TMP}/s.sock with symlink:${TMP}/v"]})"),
      &error, "/tmp/nc/3");
  ASSERT_TRUE(env.has_value()) << error;
  ASSERT_EQ(env->faults.rules().size(), 1u);
  const fakes::FaultRule& r = env->faults.rules()[0];
  ASSERT_TRUE(r.swap.has_value());
  EXPECT_EQ(r.swap->path, "/tmp/nc/3/s.sock");
  EXPECT_EQ(r.swap->kind, fakes::FsSwap::Kind::kSymlink);
  EXPECT_EQ(r.swap->arg, "/tmp/nc/3/v");
  EXPECT_TRUE(env->injects());

  // "inject" mixes failures and swaps; the runner has substituted ${TMP} already.
  std::optional<fakes::FaultPlan> plan = ParseFaults(json::parse(R"(["listen = EINTR",
                      "after connect #1 swap /tmp/nc/3/s.sock with rename:/tmp/nc/3/p"])"),
                                                     &error, "/tmp/nc/3");
  ASSERT_TRUE(plan.has_value()) << error;
  ASSERT_EQ(plan->rules().size(), 2u);
  EXPECT_FALSE(plan->rules()[0].swap.has_value());
  ASSERT_TRUE(plan->rules()[1].swap.has_value());
  EXPECT_EQ(plan->rules()[1].swap->arg, "/tmp/nc/3/p");

  // The same lines checked against another case's dir are refused.
  EXPECT_FALSE(ParseFaults(json::parse(R"(["after connect #1 swap /tmp/nc/3/s.sock with file"])"),
                           &error, "/tmp/nc/4"));
  EXPECT_NE(error.find("not in the case's temp dir /tmp/nc/4"), std::string::npos) << error;
  EXPECT_FALSE(
      ParseFaults(json::parse(R"(["after bind swap /tmp/nc/4/s.sock with symlink:/tmp/nc/40/x"])"),
                  &error, "/tmp/nc/4"));
  EXPECT_NE(error.find("symlink:/tmp/nc/40/x"), std::string::npos) << error;
  // A malformed line names its column.
  EXPECT_FALSE(ParseFaults(json::parse(R"(["after bind swap"])"), &error, "/tmp/nc/4"));
  EXPECT_NE(error.find("[0]: line 1, column"), std::string::npos) << error;
}

// A serve's own timeout_ms, when it comes from a variable, is not checked at
// load: the wait for it saturates instead of overflowing.
TEST(Runner, ServeWaitSaturates) {
  EXPECT_EQ(ServeWaitMs(json(500)), 5500);
  EXPECT_EQ(ServeWaitMs(json(-7)), 5000);
  EXPECT_EQ(ServeWaitMs(json(std::numeric_limits<long long>::max())), 125000);
  EXPECT_EQ(ServeWaitMs(json(std::numeric_limits<unsigned long long>::max())), 125000);
  EXPECT_EQ(ServeWaitMs(json(std::numeric_limits<long long>::min())), 5000);
  EXPECT_EQ(ServeWaitMs(json("500")), 5000);
  EXPECT_EQ(ServeWaitMs(json(1e300)), 5000);
}

TEST(Environment, InjectedCloseFailureStillClosesTheFd) {
  PosixSys posix;
  fakes::InjectingSys sys(posix, Faults(R"(["close = EINTR"])"));
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
