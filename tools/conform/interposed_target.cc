#include "interposed_target.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "bounded_json.h"
#include "install_layout.h"
#include "name_service.h"
#include "netfault_control.h"

namespace netutil::conform {
namespace {

using nlohmann::json;

// NAME=value for the adapter: ours first, then what netconform itself has
// (another preload, other ASan options), so neither is lost.
std::string Prepended(const char* name, const std::string& ours, const char* sep) {
  const char* theirs = std::getenv(name);
  std::string v = std::string(name) + "=" + ours;
  if (theirs != nullptr && *theirs != '\0') v += sep + std::string(theirs);
  return v;
}

// The state letter and parent pid of `pid` from /proc/PID/stat; nullopt when
// it is gone or the line is unreadable.
struct ProcStat {
  char state = 0;
  pid_t ppid = -1;
};
std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 1));
  ProcStat s;
  long ppid = -1;
  rest >> s.state >> ppid;
  if (!rest) return std::nullopt;
  s.ppid = static_cast<pid_t>(ppid);
  return s;
}

// The parent process id of `pid`; -1 when unreadable.
pid_t ParentOf(pid_t pid) {
  const std::optional<ProcStat> s = ReadProcStat(pid);
  return s ? s->ppid : -1;
}

// Whether `pid` is running (not gone, not a zombie).
bool Alive(pid_t pid) {
  const std::optional<ProcStat> s = ReadProcStat(pid);
  return s && s->state != 'Z';
}

// How long a traced session waits for netutil-trace to say the adapter's pid.
constexpr std::chrono::seconds kOwnerWait(5);

// NAME=value with ours after what netconform itself has: for options where
// the last one wins and ours must.
std::string Appended(const char* name, const std::string& ours, const char* sep) {
  const char* theirs = std::getenv(name);
  std::string v = std::string(name) + "=";
  if (theirs != nullptr && *theirs != '\0') v += std::string(theirs) + sep;
  return v + ours;
}

// What an adapter that wrote over its control region gets: the case fails
// with this and what is wrong, and the next case has a region of its own.
constexpr const char* kCorrupted = "control file corrupted: ";

// The session's view of the control region. The adapter (and the
// implementation in it) can write anything there, so every value read back
// is checked by ControlFile (Check, ReadSince, OpenSockets) and a corruption
// ends the case with the reason, never with a crash or a wrong trace.
class ControlInstrument final : public InterposerInstrument {
 public:
  ControlInstrument(std::unique_ptr<netfault::ControlFile> file, netfault::Config config)
      : file_(std::move(file)), config_(std::move(config)), mark_(file_->Mark()) {}

  void SetFaults(fakes::FaultPlan plan) override {
    config_.plan = plan.Print();
    std::string error;
    // Thrown, not ignored: the runner fails the case with the reason.
    if (!file_->WriteConfig(config_, &error)) throw std::runtime_error("interposer: " + error);
  }
  void ClearTrace() override {
    mark_ = file_->Mark();
    pending_.reset();
  }
  json TakeTrace() override {
    if (!pending_) {
      if (std::optional<std::string> why = Collect()) throw std::runtime_error(*why);
    }
    netfault::TraceSince since = std::move(*pending_);
    json entries = std::move(pending_entries_);
    pending_.reset();
    json log = json::array();
    for (const netfault::TraceLine& l : since.lines) log.push_back(l.text);
    json calls = json::object();
    size_t total = 0;
    size_t dropped = 0;
    for (fakes::Call c : fakes::kAllCalls) {
      const size_t i = static_cast<size_t>(c);
      size_t kept = 0;
      for (const netfault::TraceLine& l : since.lines) kept += l.call == i;
      // Lines not kept here or not written there are counted all the same.
      const size_t n = kept + since.unkept[i] + since.dropped[i];
      dropped += since.unkept[i] + since.dropped[i];
      calls[fakes::CallName(c)] = n;
      total += n;
    }
    return {{"calls", std::move(calls)},
            {"total", total},
            {"log", std::move(log)},
            {"entries", std::move(entries)},
            {"dropped", dropped}};
  }
  std::vector<int> OpenSockets() const override {
    std::string error;
    std::vector<int> fds = file_->OpenSockets(&error);
    if (!error.empty()) throw std::runtime_error(kCorrupted + error);
    return fds;
  }

  // Checks the region and reads the trace since ClearTrace() into private
  // memory (at most kMaxTraceLogLines lines kept); the corruption, if any.
  std::optional<std::string> Collect() {
    std::string error;
    if (!file_->Check(&error)) return kCorrupted + error;
    netfault::TraceSince since = file_->ReadSince(mark_, kMaxTraceLogLines);
    if (!since.corrupted.empty()) return kCorrupted + since.corrupted;
    mark_ = since.end;
    json entries = json::array();
    for (const netfault::TraceLine& l : since.lines) {
      std::string why;
      std::optional<json> fields = TraceRecordFields(l, &why);
      if (!fields) return kCorrupted + why;
      entries.push_back(std::move(*fields));
    }
    pending_ = std::move(since);
    pending_entries_ = std::move(entries);
    return std::nullopt;
  }
  pid_t Owner() const { return file_->owner(); }
  std::optional<std::string> CheckOnly() {
    std::string error;
    if (!file_->Check(&error)) return kCorrupted + error;
    return std::nullopt;
  }

 private:
  std::unique_ptr<netfault::ControlFile> file_;
  netfault::Config config_;
  netfault::TraceMark mark_;
  std::optional<netfault::TraceSince> pending_;  // read by Collect, given by TakeTrace
  json pending_entries_;                         // their fields, likewise
};

class InterposedSession final : public Session {
 public:
  // `traced`: the adapter runs under netutil-trace, whose process is the
  // session's; the adapter's own is the region's owner (ProcessId()).
  InterposedSession(std::unique_ptr<Session> inner, std::unique_ptr<ControlInstrument> instrument,
                    bool traced)
      : instrument_(std::move(instrument)), inner_(std::move(inner)), traced_(traced) {}

  // The request, then the region checked and the trace read at once: a
  // corrupted region fails this request, whatever the adapter answered.
  Exchange Send(const json& request, std::chrono::milliseconds timeout) override {
    if (corrupted_) return {std::nullopt, *corrupted_};
    Exchange ex = inner_->Send(request, timeout);
    if (std::optional<std::string> why = instrument_->Collect()) {
      corrupted_ = *why;
      // The adapter's own failure, if any, below the headline.
      return {std::nullopt, ex.reply ? *why : *why + "\n" + ex.failure};
    }
    return ex;
  }
  Instrument* instrument() override { return instrument_.get(); }
  host::Host* host() override { return inner_->host(); }
  std::optional<pid_t> ProcessId() const override {
    const std::optional<pid_t> inner = inner_->ProcessId();
    if (!traced_ || !inner) return inner;
    // netutil-trace publishes the adapter's pid once it has exec'd it, which
    // may be just after the session opened: waited for, a bounded time.
    const auto deadline = std::chrono::steady_clock::now() + kOwnerWait;
    pid_t owner = instrument_->Owner();
    while (owner <= 0 && std::chrono::steady_clock::now() < deadline && Alive(*inner)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      owner = instrument_->Owner();
    }
    // Believed only if it is netutil-trace's child.
    if (owner <= 0 || ParentOf(owner) != *inner) return std::nullopt;
    return owner;
  }
  std::string Close(std::chrono::milliseconds timeout) override {
    std::string closing = inner_->Close(timeout);
    // Written over after the last request: the case fails all the same.
    if (!corrupted_) {
      if (std::optional<std::string> why = instrument_->CheckOnly()) {
        closing = closing.empty() ? *why : *why + "\n" + closing;
      }
    }
    return closing;
  }

 private:
  // Destroyed in reverse: the adapter first (its destructor kills it), then
  // the mapping it wrote to.
  std::unique_ptr<ControlInstrument> instrument_;
  std::unique_ptr<Session> inner_;
  bool traced_ = false;
  std::optional<std::string> corrupted_;
};

// The memfd reaches the adapter as an inherited descriptor: SpawnAdapter
// (target.cc) passes on every descriptor without FD_CLOEXEC, so a copy
// without it exists only while one adapter is spawned, under this lock; no
// other spawn (every one in a run with the interposer goes through here)
// can inherit it. The copy is placed high, so the implementation's own fds
// keep their usual numbers under a small fd_limit.
std::mutex g_spawn_mu;
constexpr int kChildControlFd = 100;

// How the adapter is started around the control region's fd number in the
// child: the command line and the environment to add.
struct Launch {
  std::string command;
  std::vector<std::string> extra_env;
};
using LaunchFor = std::function<Launch(int child_fd)>;

std::unique_ptr<Session> SpawnWithControl(const LaunchFor& launch_for,
                                          const std::string& scratch_dir, const Environment& env,
                                          int control_fd, std::string* error) {
  std::lock_guard<std::mutex> lock(g_spawn_mu);
  int child_fd = ::fcntl(control_fd, F_DUPFD, kChildControlFd);
  if (child_fd < 0) child_fd = ::fcntl(control_fd, F_DUPFD, 3);  // a low RLIMIT_NOFILE
  if (child_fd < 0) {
    *error =
        std::string("cannot pass the interposer's control region: dup: ") + std::strerror(errno);
    return nullptr;
  }
  Launch launch = launch_for(child_fd);
  // A NETFAULT_CONTROL of netconform's own environment must not reach the adapter.
  launch.extra_env.push_back("NETFAULT_CONTROL=");
  std::unique_ptr<Session> s =
      SpawnAdapter(launch.command, scratch_dir, env, launch.extra_env, error);
  ::close(child_fd);
  return s;
}

// A word for /bin/sh: single-quoted, any ' closed, escaped and reopened.
std::string ShellQuoted(const std::string& word) {
  std::string q = "'";
  for (char ch : word) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

// The instrument's mechanism: libnetfault.so preloaded, or the adapter run
// under netutil-trace (ptrace + seccomp, docs/TRACER.md). Both speak through
// the same control region, so the runner's side is one.
enum class Mechanism { kPreload, kTracer };

class InterposedTarget final : public Target {
 public:
  InterposedTarget(std::string command, std::string tool, Mechanism mechanism)
      : command_(std::move(command)), tool_(std::move(tool)), mechanism_(mechanism) {}

  bool MayBeBlind() const override { return true; }
  bool SeesLibcCalls() const override { return mechanism_ == Mechanism::kPreload; }
  std::string Describe() const override {
    return "adapter: " + command_ +
           (mechanism_ == Mechanism::kPreload ? " (interposed: " : " (traced: ") + tool_ + ")";
  }
  bool CanInject() const override { return true; }
  // The tracer cannot override getaddrinfo: resolver entries become real name
  // service in the case's namespaces (name_service.h), which the runner makes
  // on the case's thread before Open, so netutil-trace and the adapter run in
  // them. The interposer keeps its override.
  bool NameService() const override { return mechanism_ == Mechanism::kTracer; }
  std::optional<std::string> CannotMake(const Environment& env) const override {
    if (mechanism_ == Mechanism::kTracer && !env.resolver.hosts().empty()) {
      if (std::optional<std::string> why = NameServiceCannotGive(env.resolver)) {
        return "resolver entries no name service gives (" + *why +
               "): getaddrinfo is a C library function, which the syscall tracer does not see "
               "(the interposer overrides it: --mode process)";
      }
    }
    return Target::CannotMake(env);
  }

  std::unique_ptr<Session> Open(const std::string& scratch_dir, const Environment& env,
                                std::string* error) override {
    netfault::Config config;
    config.plan = env.faults.Print();
    if (mechanism_ == Mechanism::kPreload) config.resolver = netfault::PrintResolver(env.resolver);
    config.ipv6_missing = env.ipv6_missing;
    config.trace = true;
    // The shell that execs the adapter, its start-up and an interpreter's
    // imports are not the implementation's calls: traced and faulted from
    // the first request it reads on.
    config.wait_for_stdin = true;
    std::string why;
    // A sealed memfd, not a file: the adapter cannot shrink it (no SIGBUS
    // here) and nothing of it is left in the scratch dir.
    std::unique_ptr<netfault::ControlFile> file =
        netfault::ControlFile::CreateSealed(config, netfault::Sizes{}, &why);
    if (!file) {
      *error = "cannot make the interposer's control file: " + why;
      return nullptr;
    }
    const int control_fd = file->fd();
    auto instrument = std::make_unique<ControlInstrument>(std::move(file), std::move(config));
    std::unique_ptr<Session> inner = SpawnWithControl(
        [this](int child_fd) { return LaunchOf(child_fd); }, scratch_dir, env, control_fd, error);
    if (!inner) return nullptr;
    return std::make_unique<InterposedSession>(std::move(inner), std::move(instrument),
                                               mechanism_ == Mechanism::kTracer);
  }

 private:
  Launch LaunchOf(int child_fd) const {
    std::error_code ec;
    const std::string tool = std::filesystem::absolute(tool_, ec).string();
    if (mechanism_ == Mechanism::kTracer) {
      // netutil-trace keeps the region's fd to itself (close-on-exec for the
      // command) and runs the adapter's command line as SpawnAdapter would.
      // libnetutil_quiet_gai.so keeps the C library's getaddrinfo insides
      // out of the trace and faults (quiet_gai.c); without it they show.
      std::vector<std::string> env;
      if (const std::optional<std::string> quiet = FindQuietGai()) {
        env.push_back(Prepended("LD_PRELOAD", *quiet, ":"));
      }
      // An ASan-built adapter: the preload comes before its runtime, and
      // LeakSanitizer cannot run under ptrace (it stops the process's threads
      // with ptrace itself), so its leak check at exit is off in this mode.
      // Last, so that it wins over netconform's own ASAN_OPTIONS.
      env.push_back(Appended("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=0", ":"));
      return {ShellQuoted(tool) + " --netfault-control-fd " + std::to_string(child_fd) +
                  " -- /bin/sh -c " + ShellQuoted("exec " + command_),
              env};
    }
    return {command_,
            {
                Prepended("LD_PRELOAD", tool, ":"),
                // An ASan-built adapter refuses a library preloaded before its runtime.
                Prepended("ASAN_OPTIONS", "verify_asan_link_order=0", ":"),
                "NETFAULT_CONTROL_FD=" + std::to_string(child_fd),
            }};
  }

  std::string command_;
  std::string tool_;  // libnetfault.so or netutil-trace
  Mechanism mechanism_;
};

}  // namespace

std::unique_ptr<Target> MakeInterposedTarget(std::string command, std::string library_path) {
  return std::make_unique<InterposedTarget>(std::move(command), std::move(library_path),
                                            Mechanism::kPreload);
}

std::unique_ptr<Target> MakeTracedTarget(std::string command, std::string tracer_path) {
  return std::make_unique<InterposedTarget>(std::move(command), std::move(tracer_path),
                                            Mechanism::kTracer);
}

// Beside netconform in the build tree (build/bin), in <prefix>/lib/netutil when
// installed (install_layout.h).
std::optional<std::string> FindInterposer() { return FindHelper("libnetfault.so", R_OK); }
std::optional<std::string> FindTracer() { return FindHelper("netutil-trace", X_OK); }
std::optional<std::string> FindQuietGai() { return FindHelper("libnetutil_quiet_gai.so", R_OK); }

std::optional<json> TraceRecordFields(const netfault::TraceLine& l, std::string* why) {
  const char* name = fakes::CallName(fakes::Call(l.call));
  const std::string where = "trace record of " + std::string(name);
  JsonProblem problem;
  std::optional<json> fields = ParseJsonBounded(l.fields, kTraceRecordLimits, &problem);
  if (!fields || !fields->is_object()) {
    *why = where + ": its fields are " + (fields ? "not an object" : problem.message);
    return std::nullopt;
  }
  const auto call = fields->find("call");
  if (call == fields->end() || *call != name) {
    *why = where + ": its fields name another call";
    return std::nullopt;
  }
  return fields;
}

}  // namespace netutil::conform
