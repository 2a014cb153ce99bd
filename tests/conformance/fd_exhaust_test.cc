// The exhaust_fds and restore_fds steps (tools/conform/fd_exhaust.h): a real
// EMFILE from the implementation's own RLIMIT_NOFILE, on the fake kernel
// (deterministic), in-process (the case's worker) and in another process (the
// reference adapter); hostile arguments refused at load; and the report's
// "injected" mark on the EMFILE cases that inject and only on those.
#include "fd_exhaust.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "case_test_util.h"
#include "catalog.h"
#include "interposed_target.h"
#include "report.h"
#include "runner.h"
#include "target.h"

namespace netutil::conform {
namespace {

using nlohmann::json;
using test_util::Details;
using test_util::MakeCase;

// The catalog's own case `id`, as netconform runs it.
const Case& CatalogCase(const std::string& id) {
  static const std::vector<Case> all = [] {
    std::vector<std::string> problems;
    std::vector<Case> cases = LoadCatalog(ReadCaseDir(DefaultCaseDir(), &problems), &problems);
    EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems.front());
    return cases;
  }();
  static const Case none;
  for (const Case& c : all) {
    if (c.id == id) return c;
  }
  ADD_FAILURE() << "no case " << id;
  return none;
}

// The EMFILE cases of the catalog: those that inject it and those that get
// it from the kernel.
const char* const kInjectedEmfile[] = {
    "accept/emfile-pauses-no-busy-loop", "accept/resource-error-once-per-backoff",
    "accept/no-connection-lost-to-backoff", "accept/remove-cancels-backoff-timer"};
const char* const kRealEmfile[] = {
    "accept/real-emfile-pauses-no-busy-loop", "accept/real-emfile-once-per-backoff",
    "accept/real-emfile-no-connection-lost", "accept/real-emfile-remove-cancels-backoff",
    "accept/real-emfile-under-lowered-limit"};

// --- the limit ---

TEST(FdExhaust, LimitLeavesExactlySpareFreeNumbers) {
  EXPECT_EQ(LimitForSpare({0, 1, 2}, 0), 3);
  EXPECT_EQ(LimitForSpare({0, 1, 2}, 4), 7);
  // Holes below count: 3 and 5 are free.
  EXPECT_EQ(LimitForSpare({0, 1, 2, 4, 6, 7}, 0), 3);
  EXPECT_EQ(LimitForSpare({0, 1, 2, 4, 6, 7}, 1), 5);
  EXPECT_EQ(LimitForSpare({0, 1, 2, 4, 6, 7}, 2), 8);
  EXPECT_EQ(LimitForSpare({7, 2, 1, 0, 2}, 0), 3) << "any order, duplicates";
  EXPECT_EQ(LimitForSpare({}, 0), 0);
  EXPECT_EQ(LimitForSpare({1}, 0), 0) << "a closed stdin is the lowest free fd";
}

TEST(FdExhaust, FreeBelowCountsTheFreeNumbersUnderALimit) {
  EXPECT_EQ(FreeBelow({0, 1, 2, 3, 4}, 3), 0) << "a limit under every fd: nothing free";
  EXPECT_EQ(FreeBelow({0, 1, 2, 4, 6, 7}, 6), 2) << "3 and 5";
  EXPECT_EQ(FreeBelow({7, 2, 1, 0, 2}, 5), 2) << "any order, duplicates";
  EXPECT_EQ(FreeBelow({1, 2, 9}, 3), 1) << "a closed stdin";
  EXPECT_EQ(FreeBelow({}, 4), 4);
  EXPECT_EQ(FreeBelow({0, 1, 2}, 0), 0);
}

// --- hostile arguments: refused when the case file is loaded, naming them ---

TEST(FdExhaust, HostileArgumentsAreRefusedAtLoad) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"exhaust_fds": {"spare": -1}})", "spare takes an integer 0..4096, got -1"},
      {R"({"exhaust_fds": {"spare": 4097}})", "spare takes an integer 0..4096"},
      {R"({"exhaust_fds": {"spare": 1e300}})", "spare takes an integer"},
      {R"({"exhaust_fds": {"spare": "${n}"}})", "spare takes an integer"},
      {R"({"exhaust_fds": {"spare": 0, "pid": 1}})", "unknown key \"pid\""},
      {R"({"exhaust_fds": 3})", "exhaust_fds takes an object"},
      {R"({"exhaust_fds": {}, "inject": []})", "unknown key \"inject\""},
      {R"({"exhaust_fds": {"limit": -1}})", "limit takes an integer 0..4096, got -1"},
      {R"({"exhaust_fds": {"limit": 4097}})", "limit takes an integer 0..4096"},
      {R"({"exhaust_fds": {"limit": 3.5}})", "limit takes an integer"},
      {R"({"exhaust_fds": {"limit": "${n}"}})", "limit takes an integer"},
      {R"({"exhaust_fds": {"limit": 3, "spare": 0}})",
       "\"spare\" and \"limit\" exclude each other"},
      {R"({"exhaust_fds": {"after_ms": 3}})",
       "unknown key \"after_ms\" (it takes \"spare\" or \"limit\")"},
      {R"({"send": {"op": "hello"}}, {"exhaust_fds": {"limit": 3}}, {"restore_fds": {"limit": 3}})",
       "restore_fds: unknown key \"limit\""},
      {R"({"send": {"op": "hello"}}, {"exhaust_fds": {}}, {"restore_fds": {"after_ms": 10001}})",
       "after_ms takes an integer 0..10000"},
      {R"({"send": {"op": "hello"}}, {"restore_fds": {}})",
       "restore_fds needs an exhaust_fds step before it"},
      {R"({"exhaust_fds": {}})", "exhaust_fds needs a send step before it"},
  };
  for (const auto& [steps, what] : bad) {
    const std::string text =
        R"({"id":"t/fds","rules":["ACCEPT-011"],"title":"t","steps":[)" + steps + "]}";
    std::vector<std::string> problems;
    EXPECT_TRUE(LoadCatalog({{"t", text}}, &problems).empty()) << text;
    ASSERT_EQ(problems.size(), 1u) << text;
    EXPECT_NE(problems[0].find(what), std::string::npos) << problems[0];
  }
}

// --- the fake kernel: deterministic ---

TEST(FdExhaust, FakeKernelLimitIsItsLowestFreeFd) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  // The adapter's epoll fd is 3, the listener 4: the lowest free fd is 5.
  const Case c = MakeCase(R"({"id":"t/fake-fds","rules":["ACCEPT-011"],"title":"t","steps":[
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"exhaust_fds": {}, "expect": {"limit": 5, "spare": 0, "open": 5, "was": 1024}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"errno": "EMFILE"}}},
      // One spare: one more socket, then EMFILE again.
      {"exhaust_fds": {"spare": 1}, "expect": {"limit": 6, "spare": 1}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"}, "expect": {"ok": true}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"errno": "EMFILE"}}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 3}},
      {"send": {"op": "serve", "listener": 0, "events": 1, "backoff_ms": 100},
       "expect": {"batches": [0], "accepted": 0, "errors": [{"errno": "EMFILE", "count": 1}]}},
      {"restore_fds": {}, "expect": {"limit": 1024, "after_ms": 0}},
      {"send": {"op": "serve", "listener": 0, "events": 1},
       "expect": {"batches": [3], "errors": []}}]})");
  const CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
  EXPECT_FALSE(r.injected);
}

// The limit itself, lowered under the implementation's fds: it keeps them,
// but an fd it frees at or above the limit makes no room (an admin's
// `prlimit --nofile` on a running server, where a reserve fd helps nothing).
TEST(FdExhaust, FakeKernelLoweredLimitKeepsFreedFdsOut) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  // The epoll fd is 3, the listeners 4 and 5.
  const Case c = MakeCase(R"({"id":"t/fake-limit","rules":["ACCEPT-011"],"title":"t","steps":[
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"}, "expect": {"ok": true}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"}, "expect": {"ok": true}},
      {"exhaust_fds": {"limit": 4}, "expect": {"limit": 4, "spare": 0, "open": 6, "was": 1024}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"errno": "EMFILE"}}},
      // Both listeners closed: fds 4 and 5 are free, and still nothing opens.
      {"send": {"op": "close_all"}, "expect": {"ok": true}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"errno": "EMFILE"}}},
      // A limit above them: the free numbers below it are its spare.
      {"exhaust_fds": {"limit": 6}, "expect": {"limit": 6, "spare": 2, "open": 4}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"}, "expect": {"ok": true}},
      {"restore_fds": {}, "expect": {"limit": 1024, "after_ms": 0}}]})");
  const CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
  EXPECT_FALSE(r.injected);
}

// A restore after N ms runs on the fake kernel's clock, inside the serve.
TEST(FdExhaust, FakeKernelRestoreAfterRunsOnItsClock) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case c = MakeCase(R"({"id":"t/fake-later","rules":["ACCEPT-013"],"title":"t","steps":[
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 2}},
      {"exhaust_fds": {}},
      {"restore_fds": {"after_ms": 2500}},
      {"send": {"op": "serve", "listener": 0, "events": 4, "timeout_ms": 10000,
                "backoff_ms": 1000},
       "expect": {"batches": [0, 0, 0, 2], "errors": [{"errno": "EMFILE", "count": 3}],
                  "elapsed_ms": {"$ge": 3000, "$le": 3010}}}]})");
  const auto start = std::chrono::steady_clock::now();
  const CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2)) << "fake time";
}

// The catalog's real-EMFILE cases pass on the fake kernel, unmarked; the
// injected ones pass marked.
TEST(FdExhaust, ACCEPT_011_EmfileCasesOnTheFakeKernelAreMarkedByTheirSource) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  for (const char* id : kRealEmfile) {
    const CaseResult r = runner.Run(CatalogCase(id));
    EXPECT_EQ(r.verdict, Verdict::kOk) << id << ": " << Details(r);
    EXPECT_FALSE(r.injected) << id;
  }
  for (const char* id : kInjectedEmfile) {
    const CaseResult r = runner.Run(CatalogCase(id));
    EXPECT_EQ(r.verdict, Verdict::kOk) << id << ": " << Details(r);
    EXPECT_TRUE(r.injected) << id;
  }
}

// glibc's EAI_SYSTEM for a name looked up with no fd free, as the fake kernel
// and the resolver override (in-process: the worker's fd table) answer it
// (ResolverTable::WithoutFreeFd): a real fault, not an injected one.
TEST(FdExhaust, BIND_029_RealEaiSystemOnTheFakeKernelAndInProcess) {
  for (auto make : {MakeFakeKernelTarget, MakeInProcessTarget}) {
    std::unique_ptr<Target> target = make();
    Runner runner(*target, {});
    ASSERT_FALSE(runner.Prepare());
    const CaseResult r = runner.Run(CatalogCase("bind/resolve-real-system-error"));
    EXPECT_EQ(r.verdict, Verdict::kOk) << target->Describe() << ": " << Details(r);
    EXPECT_FALSE(r.injected);
  }
}

// A resolver entry that fails the lookup is an injected fault too; one that
// only answers addresses is not a fault.
TEST(FdExhaust, ResolverFailureVerdictsAreMarkedInjected) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const CaseResult failing = runner.Run(CatalogCase("bind/resolve-failure-is-resolve-error"));
  EXPECT_EQ(failing.verdict, Verdict::kOk) << Details(failing);
  EXPECT_TRUE(failing.injected);
  const CaseResult answered = runner.Run(CatalogCase("bind/duplicates-removed-ipv4-first"));
  EXPECT_EQ(answered.verdict, Verdict::kOk) << Details(answered);
  EXPECT_FALSE(answered.injected);
}

// --- the real kernel ---

// In-process the limit is the case's worker's: the same cases pass, and
// netconform itself (this test's process) keeps its own limit.
TEST(FdExhaust, ACCEPT_013_RealEmfileInProcessLimitsOnlyTheWorker) {
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
  std::unique_ptr<Target> target = MakeInProcessTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  for (const char* id : kRealEmfile) {
    const CaseResult r = runner.Run(CatalogCase(id));
    EXPECT_EQ(r.verdict, Verdict::kOk) << id << ": " << Details(r);
    EXPECT_FALSE(r.injected) << id;
  }
  // A connect while the worker's limit is exhausted: the harness's clients
  // still connect, and the implementation still has no fd.
  const CaseResult r = runner.Run(MakeCase(R"({"id":"t/shared","rules":["ACCEPT-011"],
      "title":"t","steps":[
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"exhaust_fds": {}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 3}},
      {"send": {"op": "serve", "listener": 0, "events": 1, "backoff_ms": 100},
       "expect": {"accepted": 0, "errors": [{"errno": "EMFILE", "count": 1}]}},
      {"restore_fds": {}},
      {"send": {"op": "serve", "listener": 0, "events": 1}, "expect": {"batches": [3]}}]})"));
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
  // The same with the limit lowered under every fd: the connect runs with it
  // lifted, and the same limit is made again after.
  const CaseResult lowered = runner.Run(MakeCase(R"({"id":"t/shared-limit","rules":["ACCEPT-011"],
      "title":"t","steps":[
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "save": {"port": "/listeners/0/port"}, "expect": {"ok": true}},
      {"exhaust_fds": {"limit": 3}, "expect": {"limit": 3, "spare": 0}},
      {"connect": {"host": "127.0.0.1", "port": "${port}", "count": 3}},
      {"send": {"op": "serve", "listener": 0, "events": 1, "backoff_ms": 100},
       "expect": {"accepted": 0, "errors": [{"errno": "EMFILE", "count": 1}]}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"errno": "EMFILE"}}},
      {"restore_fds": {}},
      {"send": {"op": "serve", "listener": 0, "events": 1}, "expect": {"batches": [3]}}]})"));
  EXPECT_EQ(lowered.verdict, Verdict::kOk) << Details(lowered);
  rlimit after{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, before.rlim_cur);
}

// Another process: the reference adapter's RLIMIT_NOFILE, set with prlimit;
// interposed, as --mode process runs it (a case's trace patterns need it).
TEST(FdExhaust, ACCEPT_012_RealEmfileInTheAdapterProcess) {
  std::unique_ptr<Target> target =
      MakeInterposedTarget(NETUTIL_ADAPTER_PATH, NETUTIL_NETFAULT_PATH);
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  for (const char* id : kRealEmfile) {
    const CaseResult r = runner.Run(CatalogCase(id));
    EXPECT_EQ(r.verdict, Verdict::kOk) << id << ": " << Details(r);
    EXPECT_FALSE(r.injected) << id;
  }
  // The limit is the adapter's: at its lowest free fd even the adapter's own
  // listing of /proc/self/fd fails; one spare fd, and it lists the same fds
  // netconform saw.
  const CaseResult r = runner.Run(MakeCase(R"({"id":"t/process","rules":["ACCEPT-011"],
      "title":"t","steps":[
      {"send": {"op": "hello"}},
      {"exhaust_fds": {}, "save": {"open": "/open"},
       "expect": {"spare": 0, "limit": {"$ge": 3}, "open": {"$ge": 3}}},
      {"send": {"op": "open_fds"}, "expect": {"ok": false, "error": {"errno": "EMFILE"}}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": false, "error": {"errno": "EMFILE", "step": "socket"}}},
      {"exhaust_fds": {"spare": 1}, "expect": {"spare": 1, "open": "${open}"}},
      {"send": {"op": "open_fds"}, "expect": {"ok": true, "open_fds": "${open}"}},
      // The limit lowered under every fd but stdio: the adapter keeps them all,
      // and opens nothing more.
      {"exhaust_fds": {"limit": 3}, "expect": {"limit": 3, "spare": 0, "open": "${open}"}},
      {"send": {"op": "open_fds"}, "expect": {"ok": false, "error": {"errno": "EMFILE"}}},
      {"restore_fds": {}},
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true}}]})"));
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
}

// A session with neither an fd table nor a process: the case cannot be
// given its shortage, so it is SKIPPED with the reason, never run.
class TablelessSession final : public Session {
 public:
  Exchange Send(const json&, std::chrono::milliseconds) override {
    ++sent;
    return {json{{"ok", true}}, ""};
  }
  static inline int sent = 0;
};
class TablelessTarget final : public Target {
 public:
  std::string Describe() const override { return "tableless"; }
  bool CanInject() const override { return false; }
  std::unique_ptr<Session> Open(const std::string&, const Environment&, std::string*) override {
    return std::make_unique<TablelessSession>();
  }
};

TEST(FdExhaust, NoTableToLimitIsASkipWithTheReason) {
  TablelessTarget target;
  Runner runner(target, {});
  ASSERT_FALSE(runner.Prepare());
  TablelessSession::sent = 0;
  const CaseResult r = runner.Run(MakeCase(R"({"id":"t/none","rules":["ACCEPT-011"],
      "title":"t","steps":[{"send": {"op": "hello"}}, {"exhaust_fds": {}}]})"));
  EXPECT_EQ(r.verdict, Verdict::kSkipped);
  EXPECT_NE(r.reason.find("no fd table netconform can limit"), std::string::npos) << r.reason;
  EXPECT_EQ(TablelessSession::sent, 0) << "no step ran";
}

// --- the report ---

// Every verdict that rests on an injected EMFILE says "injected" in the text
// and JSON reports; none from the kernel's own EMFILE does.
TEST(FdExhaust, ReportMarksInjectedEmfileVerdictsOnly) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  std::ostringstream text;
  std::ostringstream js;
  std::unique_ptr<Reporter> text_report = MakeReporter("text", text);
  std::unique_ptr<Reporter> json_report = MakeReporter("json", js);
  RunInfo info;
  info.target = target->Describe();
  info.impl = "reference";
  text_report->Begin(info);
  json_report->Begin(info);
  std::vector<std::string> ids(std::begin(kInjectedEmfile), std::end(kInjectedEmfile));
  ids.insert(ids.end(), std::begin(kRealEmfile), std::end(kRealEmfile));
  for (const std::string& id : ids) {
    const CaseResult r = runner.Run(CatalogCase(id));
    text_report->CaseDone(r);
    json_report->CaseDone(r);
  }
  text_report->End({});
  json_report->End({});

  const std::string t = text.str();
  for (const std::string& id : ids) {
    const size_t at = t.find("[" + id + "]");
    ASSERT_NE(at, std::string::npos) << t;
    const std::string line = t.substr(at, t.find('\n', at) - at);
    const bool injected = id.find("/real-") == std::string::npos;
    EXPECT_EQ(line.find("(injected)") != std::string::npos, injected) << line;
  }
  const json doc = json::parse(js.str());
  ASSERT_TRUE(doc.contains("cases")) << doc.dump();
  size_t seen = 0;
  for (const json& c : doc["cases"]) {
    const std::string id = c.value("id", "");
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
    ++seen;
    const bool injected = id.find("/real-") == std::string::npos;
    EXPECT_EQ(c.value("injected", false), injected) << c.dump();
  }
  EXPECT_EQ(seen, ids.size());
}

}  // namespace
}  // namespace netutil::conform
