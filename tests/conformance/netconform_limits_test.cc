// netconform against hostile adapters and hung implementations (issue 11):
// each misbehaviour becomes a FAILED verdict or a clear error naming it,
// within a stated time and with bounded memory (docs/ADAPTER.md, Limits).
// The adapters are tests/conformance/hostile_adapter.cc, one mode each.
// Every test states its time bound; ctest's TIMEOUT stops a regression that
// would hang.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "case_test_util.h"
#include "catalog.h"
#include "runner.h"
#include "target.h"

extern char** environ;

namespace netutil::conform {
namespace {

using test_util::Details;
using test_util::MakeCase;

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
using namespace std::chrono_literals;

const Case& OneHello() {
  static const Case c = MakeCase(R"({"id":"t/hello","rules":["BIND-013"],"title":"t",
      "steps":[{"send":{"op":"hello"}}]})");
  return c;
}

std::string Hostile(const std::string& mode, const std::string& arg = "") {
  return std::string(HOSTILE_ADAPTER_PATH) + " " + mode + (arg.empty() ? "" : " " + arg);
}

long MaxRssKiB() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/netconform-lim-XXXXXX";
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(dir_); }
  std::string operator/(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

// Whether `pid` is gone (or a zombie nobody reaped yet), waiting up to `limit`.
bool GoneWithin(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (true) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const size_t close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z')
      return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

pid_t ReadPid(const std::string& file, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    std::ifstream in(file);
    long pid = 0;
    if (in >> pid && pid > 0) return static_cast<pid_t>(pid);
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

// --- 1: deadlines hold whatever the adapter writes ---

// Bound: 3 s (request timeout 500 ms). Before: each byte reset the wait, and
// a byte every 10 ms kept the request going for ever.
TEST(AdapterLimits, TrickleWithoutNewlineHitsTheRequestTimeout) {
  std::unique_ptr<Target> target = MakeProcessTarget(Hostile("trickle"));
  RunOptions options;
  options.request_timeout = 500ms;
  Runner runner(*target, options);
  auto start = Clock::now();
  std::optional<std::string> not_ready = runner.Prepare();
  ASSERT_TRUE(not_ready);
  EXPECT_NE(not_ready->find("timeout after 500 ms"), std::string::npos) << *not_ready;
  EXPECT_LT(Clock::now() - start, 3s);
  start = Clock::now();
  CaseResult r = runner.Run(OneHello());
  const auto took = Clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("timeout after 500 ms: no reply"), std::string::npos) << Details(r);
  EXPECT_NE(r.reason.find("without its newline"), std::string::npos) << Details(r);
  EXPECT_LT(took, 3s);
  std::printf("trickling adapter: FAILED after %.2f s\n",
              std::chrono::duration<double>(took).count());
}

// Bound: 3 s (case timeout 700 ms, request timeout 60 s).
TEST(AdapterLimits, TrickleWithoutNewlineHitsTheCaseTimeout) {
  std::unique_ptr<Target> target = MakeProcessTarget(Hostile("trickle"));
  RunOptions options;
  options.request_timeout = 60s;
  options.case_timeout = 700ms;
  Runner runner(*target, options);
  const auto start = Clock::now();
  CaseResult r = runner.Run(OneHello());
  const auto took = Clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("timeout after"), std::string::npos) << Details(r);
  EXPECT_LT(took, 3s);
}

// Bound: 5 s, memory +64 MiB. Before: the buffer grew for as long as the
// adapter wrote (and the timeout never came).
TEST(AdapterLimits, FloodWithoutNewlineIsAProtocolErrorNamingTheLimit) {
  std::unique_ptr<Target> target = MakeProcessTarget(Hostile("flood"));
  RunOptions options;
  options.request_timeout = 30s;
  Runner runner(*target, options);
  const long rss_before = MaxRssKiB();
  const auto start = Clock::now();
  CaseResult r = runner.Run(OneHello());
  const auto took = Clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("protocol error: reply line longer than the limit of 1048576 bytes"),
            std::string::npos)
      << Details(r);
  EXPECT_LT(took, 5s);
  EXPECT_LT(MaxRssKiB() - rss_before, 64 * 1024);
  std::printf("flooding adapter: FAILED after %.2f s, max RSS grew by %ld KiB\n",
              std::chrono::duration<double>(took).count(), MaxRssKiB() - rss_before);
}

// --- 2: a long reply line is read in linear time ---

// A 1,000,000-byte reply, written 16 bytes at a time. Bound: 5 s. Before:
// every read searched the whole line so far for its newline (quadratic).
TEST(AdapterLimits, LongReplyLineIsReadInLinearTime) {
  std::unique_ptr<Target> target = MakeProcessTarget(Hostile("longline", "1000000"));
  Runner runner(*target, {});
  const auto start = Clock::now();
  ASSERT_FALSE(runner.Prepare());
  CaseResult r = runner.Run(OneHello());
  const auto took = Clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
  EXPECT_LT(took, 5s);
  std::printf("two 1 MB reply lines in 16-byte writes: %.2f s\n",
              std::chrono::duration<double>(took).count());
}

// Just over the limit: refused, naming it.
TEST(AdapterLimits, ReplyLineOverTheLimitIsAProtocolError) {
  std::unique_ptr<Target> target =
      MakeProcessTarget(Hostile("longline", std::to_string(kMaxReplyLineBytes + 10)));
  Runner runner(*target, {});
  CaseResult r = runner.Run(OneHello());
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("longer than the limit of 1048576 bytes"), std::string::npos)
      << Details(r);
}

// --- 3: stderr is drained as it comes, only its tail kept ---

// 64 MiB of stderr before each reply, then exit 3 at end of input. Bound: 20 s,
// memory +32 MiB. The adapter is never blocked on its stderr (the requests
// are answered), the failure shows the tail and how much was dropped.
TEST(AdapterLimits, StderrFloodIsDrainedAndOnlyItsTailKept) {
  std::unique_ptr<Target> target = MakeProcessTarget(Hostile("stderr", "64"));
  RunOptions options;
  options.request_timeout = 15s;
  Runner runner(*target, options);
  const long rss_before = MaxRssKiB();
  const auto start = Clock::now();
  CaseResult r = runner.Run(OneHello());
  const auto took = Clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("status 3"), std::string::npos) << r.reason;
  const std::string d = Details(r);
  EXPECT_NE(d.find("the end of stderr"), std::string::npos) << d.substr(0, 500);
  EXPECT_NE(d.find(std::to_string(64 * 1048576 + 19 - kStderrKeptBytes) + " bytes dropped"),
            std::string::npos)
      << d.substr(0, 500);
  EXPECT_LT(d.size(), 4000u);
  EXPECT_LT(took, 20s);
  EXPECT_LT(MaxRssKiB() - rss_before, 32 * 1024);
  std::printf("64 MiB of stderr: FAILED (exit 3) after %.2f s, max RSS grew by %ld KiB\n",
              std::chrono::duration<double>(took).count(), MaxRssKiB() - rss_before);
}

// --- 4: the adapter's descendants do not outlive its case ---

// Bound: 5 s.
TEST(AdapterLimits, GrandchildIsKilledWithItsCase) {
  TempDir tmp;
  std::unique_ptr<Target> target = MakeProcessTarget(Hostile("grandchild", tmp / "pid"));
  Runner runner(*target, {});
  CaseResult r = runner.Run(OneHello());
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
  const pid_t grandchild = ReadPid(tmp / "pid", 2s);
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(GoneWithin(grandchild, 2s)) << "grandchild " << grandchild << " survived its case";
}

// Bound: 5 s (request timeout 500 ms).
TEST(AdapterLimits, HungAdapterAndItsGrandchildAreKilledAtTheTimeout) {
  TempDir tmp;
  std::unique_ptr<Target> target = MakeProcessTarget(Hostile("hang-grandchild", tmp / "pid"));
  RunOptions options;
  options.request_timeout = 500ms;
  Runner runner(*target, options);
  CaseResult r = runner.Run(OneHello());
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("timeout after 500 ms"), std::string::npos) << Details(r);
  const pid_t grandchild = ReadPid(tmp / "pid", 2s);
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(GoneWithin(grandchild, 2s)) << "grandchild " << grandchild << " survived";
}

// netconform itself interrupted (SIGTERM) while an adapter hangs: the
// adapter's process group goes with it. Bound: 10 s.
TEST(AdapterLimits, SignalToNetconformKillsTheAdapterGroup) {
  TempDir tmp;
  const std::string adapter = Hostile("hang-grandchild", tmp / "pid");
  const char* argv[] = {NETCONFORM_PATH,   "run",          "--adapter", adapter.c_str(),
                        "--no-interposer", "--timeout-ms", "60000",     nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  ASSERT_EQ(
      ::posix_spawn(&pid, NETCONFORM_PATH, &actions, nullptr, const_cast<char**>(argv), environ),
      0);
  posix_spawn_file_actions_destroy(&actions);
  const pid_t grandchild = ReadPid(tmp / "pid", 5s);
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(GoneWithin(grandchild, 2s)) << "grandchild " << grandchild << " survived netconform";
}

// --- 5: replies are matched to requests ---

// Bound: 3 s each.
TEST(AdapterLimits, SecondLineForOneRequestIsAnUnsolicitedLine) {
  std::unique_ptr<Target> target = MakeProcessTarget(Hostile("stray"));
  Runner runner(*target, {});
  std::optional<std::string> not_ready = runner.Prepare();
  ASSERT_TRUE(not_ready);
  EXPECT_NE(not_ready->find("unsolicited output from the adapter after its reply to request 1"),
            std::string::npos)
      << *not_ready;
  CaseResult r = runner.Run(OneHello());
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("protocol error: unsolicited"), std::string::npos) << Details(r);
}

TEST(AdapterLimits, LineWhenNoRequestIsOutstandingIsAnUnsolicitedLine) {
  std::unique_ptr<Target> target = MakeProcessTarget(Hostile("late-stray"));
  Runner runner(*target, {});
  // After hello, before the end of input.
  std::optional<std::string> not_ready = runner.Prepare();
  ASSERT_TRUE(not_ready);
  EXPECT_NE(not_ready->find("unsolicited output from the adapter at end of input"),
            std::string::npos)
      << *not_ready;
  // Between two requests: the stray line must not pass for the second reply.
  const Case c = MakeCase(R"({"id":"t/late","rules":["BIND-013"],"title":"t",
      "steps":[{"send":{"op":"hello"}},{"sleep_ms":400},{"send":{"op":"hello"}}]})");
  CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("step 3"), std::string::npos) << Details(r);
  EXPECT_NE(r.reason.find("unsolicited output from the adapter before request 2"),
            std::string::npos)
      << Details(r);
}

TEST(AdapterLimits, ReplyWithAnotherIdIsAnUnsolicitedLine) {
  std::unique_ptr<Target> target = MakeProcessTarget(Hostile("wrong-id"));
  Runner runner(*target, {});
  CaseResult r = runner.Run(OneHello());
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("unsolicited line from the adapter (id 2 while waiting for the reply "
                          "to request 1)"),
            std::string::npos)
      << Details(r);
}

// --- 6: in-process, a hung implementation is killed at the deadline ---

// An in-process implementation that spins on {"op": "spin"} (like one that
// retries EINTR for ever) and answers anything else.
class SpinningSession final : public Session {
 public:
  Exchange Send(const json& request, std::chrono::milliseconds) override {
    if (request.value("op", "") == "spin") {
      std::atomic<long> n{0};
      while (true) n.fetch_add(1, std::memory_order_relaxed);
    }
    return {json{{"ok", true}}, {}};
  }
};

class SpinningTarget final : public Target {
 public:
  std::string Describe() const override { return "spinning (in-process)"; }
  bool CanInject() const override { return false; }
  bool InProcess() const override { return true; }
  std::unique_ptr<Session> Open(const std::string&, const Environment&, std::string*) override {
    return std::make_unique<SpinningSession>();
  }
};

const Case& SpinCase() {
  static const Case c = MakeCase(R"({"id":"t/spin","rules":["BIND-013"],"title":"t",
      "steps":[{"send":{"op":"hello"}},{"send":{"op":"spin"}}]})");
  return c;
}

// Bound: 3 s (request timeout 300 ms). Before: netconform spun with it.
TEST(InProcessLimits, HungImplementationIsKilledAtTheRequestTimeout) {
  SpinningTarget target;
  RunOptions options;
  options.request_timeout = 300ms;
  Runner runner(target, options);
  ASSERT_FALSE(runner.Prepare());
  const auto start = Clock::now();
  CaseResult r = runner.Run(SpinCase());
  const auto took = Clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("step 2: send"), std::string::npos) << Details(r);
  EXPECT_NE(r.reason.find("timeout after 300 ms"), std::string::npos) << Details(r);
  EXPECT_LT(took, 3s);
  std::printf("spinning in-process implementation: FAILED after %.2f s\n",
              std::chrono::duration<double>(took).count());
  // The next case gets a fresh worker.
  EXPECT_EQ(runner.Run(OneHello()).verdict, Verdict::kOk);
}

// Bound: 3 s (case timeout 400 ms, request timeout 60 s).
TEST(InProcessLimits, HungImplementationIsKilledAtTheCaseTimeout) {
  SpinningTarget target;
  RunOptions options;
  options.request_timeout = 60s;
  options.case_timeout = 400ms;
  Runner runner(target, options);
  const auto start = Clock::now();
  CaseResult r = runner.Run(SpinCase());
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.reason.find("timeout after"), std::string::npos) << Details(r);
  EXPECT_LT(Clock::now() - start, 3s);
}

// --jobs: cases on several threads, each with its own worker. Bound: 4 s.
TEST(InProcessLimits, HungImplementationsOnSeveralThreads) {
  SpinningTarget target;
  RunOptions options;
  options.request_timeout = 300ms;
  Runner runner(target, options);
  ASSERT_FALSE(runner.StartWorkers(4));  // before the threads, as netconform does
  const auto start = Clock::now();
  std::vector<CaseResult> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = runner.Run(i % 2 == 0 ? SpinCase() : OneHello()); });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].verdict, i % 2 == 0 ? Verdict::kFailed : Verdict::kOk)
        << Details(results[i]);
  }
  EXPECT_LT(Clock::now() - start, 4s);
}

// The reference on the fake kernel still passes, through the workers.
TEST(InProcessLimits, FakeKernelCaseRunsInAWorker) {
  std::unique_ptr<Target> target = MakeFakeKernelTarget();
  Runner runner(*target, {});
  ASSERT_FALSE(runner.Prepare());
  const Case c = MakeCase(R"({"id":"t/fake","rules":["BIND-013"],"title":"t","steps":[
      {"send": {"op": "bind_sockets", "port": 0, "address": "127.0.0.1"},
       "expect": {"ok": true}, "trace": {"calls": {"bind": 1}}}]})");
  CaseResult r = runner.Run(c);
  EXPECT_EQ(r.verdict, Verdict::kOk) << Details(r);
  EXPECT_EQ(r.c, &c);
}

// --- 7: the report is written whole or the run fails ---

int RunNetconform(const std::string& args, std::string* err) {
  TempDir tmp;
  const std::string cmd = std::string("timeout 60 ") + NETCONFORM_PATH + " " + args + " 2>" +
                          (tmp / "err") + " >/dev/null";
  const int status = std::system(cmd.c_str());
  std::ifstream in(tmp / "err");
  std::stringstream ss;
  ss << in.rdbuf();
  *err = ss.str();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// Bound: 60 s each (the fake-kernel catalog takes well under a second).
TEST(ReportLimits, ReportThatCannotBeWrittenIsAnError) {
  std::string err;
  EXPECT_EQ(RunNetconform("run --mode fake --filter 'BIND-013' --out /dev/full", &err), 2) << err;
  EXPECT_NE(err.find("cannot write /dev/full"), std::string::npos) << err;
  EXPECT_EQ(
      RunNetconform("run --mode fake --filter 'BIND-013' --out /nonexistent-dir/r.json", &err), 2)
      << err;
  EXPECT_NE(err.find("cannot write /nonexistent-dir/r.json"), std::string::npos) << err;
}

// Bound: 60 s. Prepare's reason quotes the adapter's stderr: netconform
// prints it escaped like every text from an adapter (TerminalText), as one
// line, so no escape sequence or workflow command reaches the terminal or log.
TEST(ReportLimits, PrepareErrorIsPrintedEscaped) {
  std::string err;
  RunNetconform(
      "run --no-interposer --filter 'BIND-013' --adapter '" + Hostile("stderr-controls") + "'",
      &err);
  EXPECT_NE(err.find("adapter says hi"), std::string::npos) << err;
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
  EXPECT_EQ(err.find('\x07'), std::string::npos) << err;
  EXPECT_NE(err.find("\\x1b]0;owned\\x07"), std::string::npos) << err;
  EXPECT_EQ(err.find("\n::error::"), std::string::npos) << err;
}

// Bound: 60 s. Without the interposer, the cases of BIND-024 (EINTR
// retried: injection and traces) cannot be judged: BLIND, counted apart, and
// the exit status says the run was blind (3), not failed (1) nor clean (0).
TEST(ReportLimits, BlindRunExitsThree) {
  TempDir tmp;
  std::string err;
  EXPECT_EQ(RunNetconform(std::string("run --no-interposer --filter 'BIND-024' --adapter ") +
                              NETUTIL_ADAPTER_PATH + " --out " + (tmp / "r.txt"),
                          &err),
            3)
      << err;
  EXPECT_NE(err.find("BLIND (harness blind)"), std::string::npos) << err;
  EXPECT_EQ(err.find(" 1 failed"), std::string::npos) << err;
}

TEST(ReportLimits, ReportIsRenamedIntoPlaceWhole) {
  TempDir tmp;
  std::string err;
  ASSERT_EQ(
      RunNetconform("run --mode fake --filter 'BIND-013' --format json --out " + (tmp / "r.json"),
                    &err),
      0)
      << err;
  std::ifstream in(tmp / "r.json");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_TRUE(json::accept(ss.str())) << ss.str().substr(0, 300);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "r.json") << "a temporary file was left behind";
  }
  EXPECT_EQ(files, 1u);
}

// --- 8: the Python adapters, like the reference, echo ids and count fds ---

TEST(PythonAdapters, EchoIdAndCarryFdsDeltaOnEveryBindReply) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  TempDir tmp;
  std::ofstream(tmp / "in") << R"({"id":1,"op":"hello"})"
                            << "\n"
                            << R"({"id":2,"op":"bind_sockets","port":"x"})"
                            << "\n"
                            << R"({"id":3,"op":"bind_unix_socket"})"
                            << "\n"
                            << R"({"id":4,"op":"bind_sockets","port":1,"typo":1})"
                            << "\n";
  const std::string cmd = "timeout 30 /usr/bin/python3 " + std::string(NETCONFORM_ADAPTERS_DIR) +
                          "/pysocket_adapter.py <" + (tmp / "in") + " >" + (tmp / "out");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream out(tmp / "out");
  std::string line;
  int n = 0;
  while (std::getline(out, line)) {
    ++n;
    const json r = json::parse(line);
    EXPECT_EQ(r.value("id", 0), n) << line;
    if (n == 1) {
      EXPECT_EQ(r.value("protocol", 0), 3) << line;
    }
    if (n > 1) {
      EXPECT_EQ(r["error"].value("kind", ""), "protocol") << line;
      EXPECT_EQ(r.value("fds_delta", -1), 0) << line;
    }
  }
  EXPECT_EQ(n, 4);
}

}  // namespace
}  // namespace netutil::conform
