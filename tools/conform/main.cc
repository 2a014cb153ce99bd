// netconform: the conformance runner for netutil implementations.
//
//   netconform list     [--cases DIR] [--filter GLOB | --rule ID] [--format text|json]
//   netconform coverage [--cases DIR]
//   netconform rules-index [--cases DIR]    (tests/conformance/cases/RULES.md)
//   netconform run      [--cases DIR] [--impl NAME | --adapter 'CMD ...'] [--mode MODE]
//                       [--profile tornado|strict] [--filter GLOB] [--jobs N]
//                       [--format text|json|junit|tap|html] [--out FILE]
//                       [--expect FILE] [--timeout-ms N] [--case-timeout-ms N]
//                       [--interposer PATH | --no-interposer] [--tracer PATH]
//                       [--max-skips N]
//                       [--keep-tmp] [-v]
//   netconform selftest --adapter 'CMD ...' [--timeout-ms N]
//                       (the adapter's protocol layer in seconds: selftest.h)
//
// Modes (docs/CONFORMANCE.md): the reference runs in-process on the fake kernel
// (fake), in-process on the real kernel (inprocess), or like every other
// implementation in its own process on the real kernel (process), where the
// interposer (libnetfault.so) makes the environment and records the trace,
// or in its own process under the syscall tracer (traced: netutil-trace, for
// runtimes that bypass the C library; docs/TRACER.md).
// Exit status: 0 when no case failed (with --expect: when every verdict was
// the expected one) and the skips are allowed (none in --mode fake, at most
// --max-skips N elsewhere), 1 otherwise, 2 on a usage or catalog error or when
// the report cannot be written.
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bounded_json.h"
#include "catalog.h"
#include "expectations.h"
#include "install_layout.h"
#include "interposed_target.h"
#include "protocol.h"
#include "report.h"
#include "report_formats.h"
#include "report_text.h"
#include "rules_index.h"
#include "runner.h"
#include "selftest.h"
#include "spec_rules.h"
#include "target.h"

namespace {

using netutil::conform::Case;
using json = nlohmann::json;

// The report's destination. A regular file (or a new one) is written to a
// temporary file beside it and renamed over it once complete, so a crash or a
// failed write never leaves a truncated report; anything else (/dev/stdout, a
// pipe, /dev/full) is written directly. Every write error is reported.
class ReportFile {
 public:
  // Empty path: standard output.
  bool Open(const std::string& path, std::string* error) {
    path_ = path;
    if (path.empty()) return true;
    struct stat st {};
    const bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
      file_.open(path, std::ios::out | std::ios::trunc);
    } else {
      const std::filesystem::path p(path);
      std::string tmpl = (p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path()) /
                         ("." + p.filename().string() + ".XXXXXX");
      const int fd = ::mkstemp(tmpl.data());
      if (fd < 0) {
        *error = "cannot write " + path + ": " + std::strerror(errno);
        return false;
      }
      ::fchmod(fd, 0644 & ~CurrentUmask());
      ::close(fd);
      tmp_ = tmpl;
      file_.open(tmp_, std::ios::out | std::ios::trunc);
    }
    if (!file_) {
      *error = "cannot write " + path;
      Discard();
      return false;
    }
    return true;
  }

  std::ostream& stream() { return path_.empty() ? std::cout : file_; }

  // Flushes, closes and (for a temporary file) renames into place.
  bool Commit(std::string* error) {
    if (path_.empty()) {
      std::cout.flush();
      if (!std::cout || std::fflush(stdout) != 0) {
        *error = "cannot write the report to standard output";
        return false;
      }
      return true;
    }
    file_.flush();
    const bool written = static_cast<bool>(file_);
    file_.close();
    if (!written || file_.fail()) {
      *error = "cannot write " + path_ + " (write failed: disk full?)";
      Discard();
      return false;
    }
    if (!tmp_.empty() && ::rename(tmp_.c_str(), path_.c_str()) != 0) {
      *error = "cannot write " + path_ + ": rename: " + std::strerror(errno);
      Discard();
      return false;
    }
    tmp_.clear();
    return true;
  }

  ~ReportFile() { Discard(); }

 private:
  static mode_t CurrentUmask() {
    const mode_t m = ::umask(022);
    ::umask(m);
    return m;
  }
  void Discard() {
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
    tmp_.clear();
  }

  std::string path_;
  std::string tmp_;
  std::ofstream file_;
};

// SIGINT, SIGTERM, SIGHUP: the adapters' process groups (and in-process
// workers) go with netconform.
void OnFatalSignal(int sig) {
  netutil::conform::KillAdapterGroups();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// netconform is a child subreaper: an adapter's descendant that left its
// process group (setsid) is re-parented to netconform instead of init, and
// killed here when the run ends.
void KillOrphans() {
  const pid_t self = ::getpid();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid != self) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// The command that starts `impl`'s adapter, or why there is none.
std::optional<std::string> ImplCommand(const std::string& impl, std::string* error) {
  if (impl == "reference") return netutil::conform::SelfDir() + "/netutil-adapter";
  const char* dir_env = std::getenv("NETCONFORM_ADAPTERS");
  // The environment's, an installed netconform's (share/netconform/adapters), the source tree's.
  const std::string dir =
      dir_env != nullptr && *dir_env != '\0'
          ? dir_env
          : netutil::conform::InstalledDataDir("adapters").value_or(NETCONFORM_ADAPTERS_DIR);
  const char* py_env = std::getenv("NETCONFORM_PYTHON");
  // Debian's interpreter: the one python3-tornado is installed for.
  const std::string python = py_env != nullptr && *py_env != '\0' ? py_env : "/usr/bin/python3";
  const std::string script = dir + "/" + impl + "_adapter.py";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(script, ec)) {
    *error = "no adapter for --impl " + impl + " (" + script + " is missing)";
    return std::nullopt;
  }
  if (::access(python.c_str(), X_OK) != 0) {
    *error = "--impl " + impl + " needs " + python + " (set NETCONFORM_PYTHON)";
    return std::nullopt;
  }
  // asyncio collects the resolved addresses in a set, so its bind order (and
  // with it BIND-006's verdicts) would change with Python's per-process hash
  // seed: fixed, a run is repeatable.
  return "env PYTHONHASHSEED=0 " + python + " " + script;
}

int List(const std::vector<Case>& all, const std::string& filter, const std::string& rule,
         const std::string& format) {
  std::vector<const Case*> cases;
  if (!rule.empty()) {
    if (std::optional<std::string> why = netutil::conform::RuleIdProblem(rule)) {
      std::fprintf(stderr, "netconform: list --rule: %s\n", why->c_str());
      return 2;
    }
    cases = netutil::conform::CasesForRule(all, rule);
  } else {
    for (const Case& c : all) cases.push_back(&c);
  }
  json out = json::array();
  for (const Case* selected : cases) {
    const Case& c = *selected;
    if (!netutil::conform::Selected(c, filter)) continue;
    if (format == "json") {
      out.push_back({{"id", c.id},
                     {"rules", c.rules},
                     {"level", c.level},
                     {"title", c.title},
                     {"env", c.env},
                     {"file", c.origin}});
      if (c.reference_only()) {
        out.back()["reference_only"] = {{"impls", c.reference_impls}, {"why", c.reference_why}};
      }
      if (c.synthetic()) {
        out.back()["synthetic"] = {{"impls", c.synthetic_impls}, {"why", c.synthetic_why}};
      }
    } else {
      std::printf("%-46s %-24s %-7s %s%s\n", c.id.c_str(), Join(c.rules, ",").c_str(),
                  c.level.c_str(),
                  c.reference_only() ? "[reference-only] " : (c.synthetic() ? "[synthetic] " : ""),
                  c.title.c_str());
    }
  }
  if (format == "json") std::cout << out.dump(2) << "\n";
  return 0;
}

int Coverage(const std::vector<Case>& cases) {
  int covered = 0;
  int total = 0;
  for (const netutil::spec::Rule& r : netutil::spec::kRules) {
    if (r.withdrawn) continue;
    ++total;
    std::vector<std::string> ids;
    for (const Case& c : cases) {
      for (const std::string& id : c.rules) {
        if (id == r.id) ids.push_back(c.id);
      }
    }
    if (!ids.empty()) ++covered;
    std::printf("%-11s %-6s %-8s %s\n", r.id, r.level, r.mark,
                ids.empty() ? "-" : Join(ids, " ").c_str());
  }
  std::printf("%d of %d rules have a conformance case\n", covered, total);
  return covered == total ? 0 : 1;
}

struct RunArgs {
  std::string filter;
  std::string impl = "reference";
  std::string adapter;
  std::string mode;  // fake | inprocess | process | traced; empty: the default for the impl
  std::string profile = "strict";
  std::string format = "text";
  std::string out_path;
  std::string expect_path;
  // --expect-as PROFILE=FILE: the same verdicts, named as PROFILE names them.
  std::vector<std::string> expect_as;
  std::string interposer;
  bool no_interposer = false;
  std::string tracer;
  int jobs = 1;
  int max_skips = -1;  // SkipsFail (environment.h): -1 no limit; --mode fake allows none
  netutil::conform::RunOptions options;
  std::string catalog_version;  // CatalogVersion of the --cases directory, for the report
};

using namespace netutil::conform;

// Settles the mode for the implementation; false, with the message on stderr,
// when --mode and the implementation do not go together.
bool ResolveMode(RunArgs* a) {
  if (a->mode.empty()) {
    a->mode = a->adapter.empty() && a->impl == "reference" ? "inprocess" : "process";
  }
  const bool own_process = a->mode == "process" || a->mode == "traced";
  if (!own_process && (!a->adapter.empty() || a->impl != "reference")) {
    std::fprintf(stderr,
                 "netconform: --mode %s runs the reference only; other implementations "
                 "run in --mode process or traced\n",
                 a->mode.c_str());
    return false;
  }
  if (a->mode == "inprocess" && a->jobs > 1) {
    // Cases count the process's open fds (no leak): in-process they would
    // see each other's.
    std::fprintf(stderr,
                 "netconform: --mode inprocess shares netconform's fd table between "
                 "cases: running them one at a time (--jobs ignored)\n");
    a->jobs = 1;
  }
  return true;
}

// The target of the mode: how to reach the implementation. nullptr, with
// *error, when it cannot be reached.
std::unique_ptr<Target> MakeTarget(const RunArgs& a, std::string* error) {
  if (a.mode == "fake") return MakeFakeKernelTarget();
  if (a.mode == "inprocess") return MakeInProcessTarget();
  std::string command = a.adapter;
  if (command.empty()) {
    std::optional<std::string> c = ImplCommand(a.impl, error);
    if (!c) return nullptr;
    command = *c;
  }
  if (a.mode == "traced") {
    std::optional<std::string> tracer = a.tracer.empty() ? FindTracer() : a.tracer;
    if (!tracer || ::access(tracer->c_str(), X_OK) != 0) {
      *error = tracer ? "--tracer " + *tracer + ": cannot execute it"
                      : "--mode traced: no netutil-trace beside netconform (give --tracer PATH)";
      return nullptr;
    }
    return MakeTracedTarget(command, *tracer);
  }
  std::optional<std::string> lib;
  if (!a.no_interposer) lib = a.interposer.empty() ? FindInterposer() : a.interposer;
  if (lib && ::access(lib->c_str(), R_OK) != 0) {
    *error = "--interposer " + *lib + ": cannot read it";
    return nullptr;
  }
  return lib ? MakeInterposedTarget(command, *lib) : MakeProcessTarget(command);
}

std::vector<const Case*> SelectCases(const std::vector<Case>& all, const std::string& filter) {
  std::vector<const Case*> selected;
  for (const Case& c : all) {
    if (Selected(c, filter)) selected.push_back(&c);
  }
  return selected;
}

// What a run came to: the verdict counts and the verdicts not as --expect said.
struct Tally {
  Summary summary;
  std::vector<std::string> surprises;
};

// A list to hold the run to, and the profile its verdicts are named in.
struct ExpectedList {
  std::string path;
  Profile profile;
  Expectations list;
};

// Runs the cases on `jobs` threads; results are reported in catalog order as
// soon as every earlier case is done, so the report reads the same for any N.
// The error when the case workers cannot start.
std::optional<std::string> RunCases(Runner& runner, const std::vector<const Case*>& selected,
                                    int jobs, const std::vector<ExpectedList>& expected,
                                    Reporter& reporter, Tally* tally) {
  std::vector<std::optional<CaseResult>> results(selected.size());
  std::mutex mu;
  std::condition_variable cv;
  size_t next = 0;
  auto worker = [&] {
    while (true) {
      size_t i;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next == selected.size()) return;
        i = next++;
      }
      CaseResult r = runner.Run(*selected[i]);
      {
        std::lock_guard<std::mutex> lock(mu);
        results[i] = std::move(r);
      }
      cv.notify_all();
    }
  };
  if (std::optional<std::string> error = runner.StartWorkers(jobs)) return error;
  std::vector<std::thread> threads;
  for (int t = 0; t < jobs; ++t) threads.emplace_back(worker);
  for (size_t i = 0; i < selected.size(); ++i) {
    CaseResult r;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return results[i].has_value(); });
      r = std::move(*results[i]);
    }
    tally->summary.Count(r.verdict);
    for (const ExpectedList& e : expected) {
      if (std::optional<std::string> why = e.list.Check(UnderProfile(r, e.profile))) {
        tally->surprises.push_back(e.path + ": " + *why);
      }
    }
    reporter.CaseDone(r);
  }
  for (std::thread& t : threads) t.join();
  return std::nullopt;
}

// The exit status of a run whose only verdicts not OK are BLIND ones: the
// harness could not judge them (docs/CONFORMANCE.md, "Exit status").
constexpr int kExitBlind = 3;

// Tells the terminal the count, the skips and the surprises; the exit status.
int Conclude(const RunArgs& a, const Target& target, const Tally& tally,
             const std::vector<ExpectedList>& expected, bool ready) {
  const Summary& s = tally.summary;
  // With --out the report goes to the file; the terminal still gets the count.
  if (!a.out_path.empty() || a.format != "text") std::cerr << SummaryLine(s) << "\n";
  // Skips: any on the fake kernel, more than --max-skips elsewhere, fail the run.
  const std::optional<std::string> skips = SkipsFail(target.RealKernel(), s.skipped, a.max_skips);
  if (skips) std::cerr << "netconform: " << *skips << "\n";
  if (!expected.empty()) {
    const std::vector<std::string>& surprises = tally.surprises;
    for (const std::string& why : surprises) std::cerr << "netconform: unexpected: " << why << "\n";
    std::string paths;
    for (const ExpectedList& e : expected) paths += (paths.empty() ? "" : ", ") + e.path;
    std::cerr << "netconform: "
              << (surprises.empty()
                      ? "every verdict as expected in "
                      : std::to_string(surprises.size()) + " verdicts not as expected in ")
              << paths << "\n";
    return surprises.empty() && ready && !skips ? 0 : 1;
  }
  if (s.failed != 0 || !ready || skips) return 1;
  return s.blind == 0 ? 0 : kExitBlind;
}

// --expect (in the run's profile) and every --expect-as PROFILE=FILE, read
// and checked against the catalog; false with *error naming the bad one.
bool ReadExpectedLists(const RunArgs& a, const std::vector<Case>& all,
                       std::vector<ExpectedList>* out, std::string* error) {
  std::vector<std::pair<std::string, Profile>> wanted;
  if (!a.expect_path.empty()) wanted.emplace_back(a.expect_path, a.options.profile);
  for (const std::string& spec : a.expect_as) {
    const size_t eq = spec.find('=');
    const std::string profile = spec.substr(0, eq);
    if (eq == std::string::npos || (profile != "strict" && profile != "tornado") ||
        eq + 1 == spec.size()) {
      *error = "--expect-as \"" + TerminalText(BoundedString(spec, 200)) +
               "\": give PROFILE=FILE, PROFILE strict or tornado";
      return false;
    }
    wanted.emplace_back(spec.substr(eq + 1),
                        profile == "tornado" ? Profile::kTornado : Profile::kStrict);
  }
  for (const auto& [path, profile] : wanted) {
    std::optional<Expectations> list = ReadExpectations(path, all, error);
    if (!list) return false;
    out->push_back(ExpectedList{path, profile, std::move(*list)});
  }
  return true;
}

int Run(const std::vector<Case>& all, RunArgs a) {
  std::string error;
  // Which implementation, and how to reach it.
  const std::string impl_name = a.adapter.empty() ? a.impl : a.adapter;
  if (!ResolveMode(&a)) return 2;
  std::unique_ptr<Target> target = MakeTarget(a, &error);
  if (!target) {
    std::fprintf(stderr, "netconform: %s\n", error.c_str());
    return 2;
  }

  a.options.profile = a.profile == "tornado" ? Profile::kTornado : Profile::kStrict;
  std::vector<ExpectedList> expected;
  if (!ReadExpectedLists(a, all, &expected, &error)) {
    std::fprintf(stderr, "netconform: %s\n", error.c_str());
    return 2;
  }

  ReportFile report;
  if (!report.Open(a.out_path, &error)) {
    std::fprintf(stderr, "netconform: %s\n", error.c_str());
    return 2;
  }
  std::unique_ptr<Reporter> reporter = MakeReporter(a.format, report.stream());

  const std::vector<const Case*> selected = SelectCases(all, a.filter);
  if (selected.empty()) {  // a typo in --filter must not read as a clean run
    std::fprintf(stderr, "netconform: no case matches --filter %s\n", a.filter.c_str());
    return 2;
  }
  Runner runner(*target, a.options);
  const auto start = std::chrono::steady_clock::now();
  const std::optional<std::string> not_ready = runner.Prepare();
  // The reason can quote the adapter's hello: escaped like every text from it.
  if (not_ready) std::fprintf(stderr, "netconform: %s\n", TerminalText(*not_ready).c_str());
  reporter->Begin(RunInfo{target->Describe(), impl_name, a.options.profile, runner.hello(),
                          selected.size(), a.mode, a.jobs, a.catalog_version});

  Tally tally;
  if (std::optional<std::string> why =
          RunCases(runner, selected, a.jobs, expected, *reporter, &tally)) {
    std::fprintf(stderr, "netconform: cannot start the case workers: %s\n", why->c_str());
    return 2;
  }
  tally.summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  reporter->End(tally.summary);
  if (!report.Commit(&error)) {
    std::fprintf(stderr, "netconform: %s\n", error.c_str());
    return 2;
  }
  return Conclude(a, *target, tally, expected, !not_ready);
}

// What the command line says beyond the run's own arguments.
struct CommandLine {
  std::string cases_dir = DefaultCaseDir();
  RunArgs run;
  std::string list_format = "text";
  std::string list_rule;
  long long timeout_ms = 10000;
  long long case_timeout_ms = 60000;
  std::string selftest_adapter;
};

// The subcommands that read the catalog without running it: list, coverage,
// rules-index.
CLI::App* AddListingCommands(CLI::App& app, CommandLine* cl) {
  CLI::App* list = app.add_subcommand("list", "List the cases: ID, rules, level, title");
  list->add_option("--filter", cl->run.filter,
                   "Only cases whose ID or a rule ID matches this glob");
  list->add_option("--rule", cl->list_rule,
                   "Only the cases that check this rule of docs/SPEC.md (primary rule first)");
  list->add_option("--format", cl->list_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_subcommand("coverage", "For every rule of docs/SPEC.md, the cases that check it");
  app.add_subcommand("rules-index", "Print tests/conformance/cases/RULES.md, the cases by rule");
  return list;
}

// `run`: which implementation, how to reach it, and what the report is.
void AddRunCommand(CLI::App& app, CommandLine* cl) {
  RunArgs& a = cl->run;
  CLI::App* run = app.add_subcommand("run", "Run the cases and give each a verdict");
  run->add_option("--filter", a.filter, "Only cases whose ID or a rule ID matches this glob");
  run->add_option("--impl", a.impl, "The implementation: reference, tornado, asyncio, pysocket")
      ->check(CLI::IsMember({"reference", "tornado", "asyncio", "pysocket"}));
  run->add_option("--adapter", a.adapter,
                  "Run this adapter command (docs/ADAPTER.md) instead of --impl");
  run->add_option("--mode", a.mode,
                  "fake (the reference on the fake kernel), inprocess (the reference on the real "
                  "kernel; default for it), process (default for the others; the interposer), "
                  "traced (in its own process under the syscall tracer)")
      ->check(CLI::IsMember({"fake", "inprocess", "process", "traced"}));
  run->add_option("--profile", a.profile,
                  "strict: every rule; tornado: a missed strict rule is NON-STRICT, not FAILED")
      ->check(CLI::IsMember({"tornado", "strict"}));
  run->add_option("--format", a.format, "text, json, junit, tap or html")
      ->check(CLI::IsMember({"text", "json", "junit", "tap", "html"}));
  run->add_option("--out", a.out_path, "Write the report to this file");
  run->add_option("--expect", a.expect_path,
                  "Known verdicts (docs/CONFORMANCE.md): exit 0 when every verdict is as listed");
  run->add_option("--expect-as", a.expect_as,
                  "PROFILE=FILE: also hold the verdicts, as PROFILE names them, to FILE (one "
                  "run checked against both profiles' lists)");
  run->add_option("--jobs,-j", a.jobs, "Cases run at once")->check(CLI::Range(1, 64));
  run->add_option("--timeout-ms", cl->timeout_ms, "Per-request timeout")
      ->check(CLI::Range(1LL, 3600000LL));
  run->add_option("--case-timeout-ms", cl->case_timeout_ms, "Per-case timeout, all steps together")
      ->check(CLI::Range(1LL, 3600000LL));
  run->add_option("--interposer", a.interposer,
                  "libnetfault.so for --mode process (default: the one beside netconform)");
  run->add_flag("--no-interposer", a.no_interposer,
                "--mode process without the interposer (cases needing it are skipped)");
  run->add_option("--tracer", a.tracer,
                  "netutil-trace for --mode traced (default: the one beside netconform)");
  run->add_option("--max-skips", a.max_skips,
                  "Fail the run when more cases are SKIPPED (default: no limit; --mode fake "
                  "allows none)")
      ->check(CLI::Range(0, 1000000));
  run->add_flag("--keep-tmp", a.options.keep_tmp, "Keep each case's temp dir");
  run->add_flag("-v,--verbose", a.options.verbose, "Show the syscall trace of a failed step");
}

// `selftest`: the adapter's protocol layer, without the catalog.
void AddSelfTestCommand(CLI::App& app, CommandLine* cl) {
  CLI::App* st = app.add_subcommand(
      "selftest", "Check an adapter's protocol layer in seconds (exit 1 on a violation)");
  st->add_option("--adapter", cl->selftest_adapter, "The adapter command (docs/ADAPTER.md)")
      ->required();
  st->add_option("--timeout-ms", cl->timeout_ms, "Per-request timeout")
      ->check(CLI::Range(1LL, 3600000LL));
}

// The subcommand the command line names, on the loaded catalog.
int Dispatch(const CLI::App& app, const CLI::App& list, CommandLine cl) {
  if (app.got_subcommand("selftest")) {
    SelfTestOptions options;
    options.command = cl.selftest_adapter;
    options.timeout = std::chrono::milliseconds(cl.timeout_ms);
    const int failed = SelfTest(options, std::cout);
    std::cout.flush();
    KillOrphans();
    return failed == 0 ? 0 : 1;
  }
  std::vector<std::string> problems;
  const std::vector<Case> cases = LoadCatalog(ReadCaseDir(cl.cases_dir, &problems), &problems);
  if (!problems.empty()) {
    for (const std::string& p : problems) std::fprintf(stderr, "netconform: %s\n", p.c_str());
    return 2;
  }
  if (list) return List(cases, cl.run.filter, cl.list_rule, cl.list_format);
  if (app.got_subcommand("coverage")) return Coverage(cases);
  if (app.got_subcommand("rules-index")) {
    std::cout << RulesIndexMarkdown(cases);
    return std::cout.flush() ? 0 : 2;
  }
  cl.run.catalog_version = CatalogVersion(cl.cases_dir);
  cl.run.options.request_timeout = std::chrono::milliseconds(cl.timeout_ms);
  cl.run.options.case_timeout = std::chrono::milliseconds(cl.case_timeout_ms);
  const int rc = Run(cases, std::move(cl.run));
  KillOrphans();  // after the runner and its sessions are gone
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a dead adapter's pipe must not kill the runner
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, OnFatalSignal);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  CLI::App app{"netconform: conformance cases for netutil implementations (docs/SPEC.md)"};
  app.require_subcommand(1);
  CommandLine cl;
  app.add_option("--cases", cl.cases_dir,
                 "The directory of scenario files (tests/conformance/cases)");
  // The three versions (CHANGELOG.md): the tool's, the adapter protocol's, the catalog's.
  app.set_version_flag("--version", [&cl] {
    return std::string("netconform ") + NETUTIL_VERSION + "\nadapter protocol " +
           std::to_string(netutil::adapter::kProtocolVersion) + "\ncatalog " +
           CatalogVersion(cl.cases_dir) + " (" + cl.cases_dir + ")";
  });
  const CLI::App* list = AddListingCommands(app, &cl);
  AddRunCommand(app, &cl);
  AddSelfTestCommand(app, &cl);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints the usage or the error
    return rc == 0 ? 0 : 2;
  }
  return Dispatch(app, *list, std::move(cl));
}
