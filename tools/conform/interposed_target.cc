#include "interposed_target.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "bounded_json.h"
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
  InterposedSession(std::unique_ptr<Session> inner, std::unique_ptr<ControlInstrument> instrument)
      : instrument_(std::move(instrument)), inner_(std::move(inner)) {}

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
  std::optional<pid_t> ProcessId() const override { return inner_->ProcessId(); }
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

std::unique_ptr<Session> SpawnWithControl(const std::string& command,
                                          const std::string& scratch_dir, const Environment& env,
                                          std::vector<std::string> extra_env, int control_fd,
                                          std::string* error) {
  std::lock_guard<std::mutex> lock(g_spawn_mu);
  int child_fd = ::fcntl(control_fd, F_DUPFD, kChildControlFd);
  if (child_fd < 0) child_fd = ::fcntl(control_fd, F_DUPFD, 3);  // a low RLIMIT_NOFILE
  if (child_fd < 0) {
    *error =
        std::string("cannot pass the interposer's control region: dup: ") + std::strerror(errno);
    return nullptr;
  }
  extra_env.push_back("NETFAULT_CONTROL_FD=" + std::to_string(child_fd));
  // A NETFAULT_CONTROL of netconform's own environment must not reach the adapter.
  extra_env.push_back("NETFAULT_CONTROL=");
  std::unique_ptr<Session> s = SpawnAdapter(command, scratch_dir, env, extra_env, error);
  ::close(child_fd);
  return s;
}

class InterposedTarget final : public Target {
 public:
  InterposedTarget(std::string command, std::string library)
      : command_(std::move(command)), library_(std::move(library)) {}

  bool MayBeBlind() const override { return true; }
  std::string Describe() const override {
    return "adapter: " + command_ + " (interposed: " + library_ + ")";
  }
  bool CanInject() const override { return true; }

  std::unique_ptr<Session> Open(const std::string& scratch_dir, const Environment& env,
                                std::string* error) override {
    std::error_code ec;
    netfault::Config config;
    config.plan = env.faults.Print();
    config.resolver = netfault::PrintResolver(env.resolver);
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
    std::vector<std::string> extra_env = {
        Prepended("LD_PRELOAD", std::filesystem::absolute(library_, ec).string(), ":"),
        // An ASan-built adapter refuses a library preloaded before its runtime.
        Prepended("ASAN_OPTIONS", "verify_asan_link_order=0", ":"),
    };
    const int control_fd = file->fd();
    auto instrument = std::make_unique<ControlInstrument>(std::move(file), std::move(config));
    std::unique_ptr<Session> inner =
        SpawnWithControl(command_, scratch_dir, env, std::move(extra_env), control_fd, error);
    if (!inner) return nullptr;
    return std::make_unique<InterposedSession>(std::move(inner), std::move(instrument));
  }

 private:
  std::string command_;
  std::string library_;
};

}  // namespace

std::unique_ptr<Target> MakeInterposedTarget(std::string command, std::string library_path) {
  return std::make_unique<InterposedTarget>(std::move(command), std::move(library_path));
}

std::optional<std::string> FindInterposer() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  const std::filesystem::path lib = exe.parent_path() / "libnetfault.so";
  if (::access(lib.c_str(), R_OK) != 0) return std::nullopt;
  return lib.string();
}

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
