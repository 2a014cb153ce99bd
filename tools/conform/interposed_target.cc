#include "interposed_target.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <utility>

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
  void ClearTrace() override { mark_ = file_->Mark(); }
  json TakeTrace() override {
    netfault::TraceSince since = file_->ReadSince(mark_);
    mark_ = since.end;
    std::vector<size_t> counts(netfault::kMaxCalls, 0);
    json log = json::array();
    size_t dropped = 0;
    for (const netfault::TraceLine& l : since.lines) {
      if (l.call < counts.size()) ++counts[l.call];
      if (log.size() < kMaxTraceLogLines) {
        log.push_back(l.text);
      } else {
        ++dropped;
      }
    }
    json calls = json::object();
    size_t total = 0;
    for (fakes::Call c : fakes::kAllCalls) {
      const size_t i = static_cast<size_t>(c);
      const size_t n = counts[i] + since.dropped[i];
      dropped += since.dropped[i];
      calls[fakes::CallName(c)] = n;
      total += n;
    }
    return {{"calls", std::move(calls)},
            {"total", total},
            {"log", std::move(log)},
            {"dropped", dropped}};
  }
  std::vector<int> OpenSockets() const override { return file_->OpenSockets(); }

 private:
  std::unique_ptr<netfault::ControlFile> file_;
  netfault::Config config_;
  netfault::TraceMark mark_;
};

class InterposedSession final : public Session {
 public:
  InterposedSession(std::unique_ptr<Session> inner, std::unique_ptr<ControlInstrument> instrument)
      : instrument_(std::move(instrument)), inner_(std::move(inner)) {}

  Exchange Send(const json& request, std::chrono::milliseconds timeout) override {
    return inner_->Send(request, timeout);
  }
  Instrument* instrument() override { return instrument_.get(); }
  host::Host* host() override { return inner_->host(); }
  std::string Close(std::chrono::milliseconds timeout) override { return inner_->Close(timeout); }

 private:
  // Destroyed in reverse: the adapter first (its destructor kills it), then
  // the mapping it wrote to.
  std::unique_ptr<ControlInstrument> instrument_;
  std::unique_ptr<Session> inner_;
};

class InterposedTarget final : public Target {
 public:
  InterposedTarget(std::string command, std::string library)
      : command_(std::move(command)), library_(std::move(library)) {}

  std::string Describe() const override {
    return "adapter: " + command_ + " (interposed: " + library_ + ")";
  }
  bool CanInject() const override { return true; }

  std::unique_ptr<Session> Open(const std::string& scratch_dir, const Environment& env,
                                std::string* error) override {
    std::error_code ec;
    const std::string dir = std::filesystem::absolute(scratch_dir, ec).string();
    const std::string path = dir + "/netfault.ctl";
    std::filesystem::remove(path, ec);  // a directory opened twice (hello) starts afresh
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
    std::unique_ptr<netfault::ControlFile> file =
        netfault::ControlFile::Create(path, config, netfault::Sizes{}, &why);
    if (!file) {
      *error = "cannot make the interposer's control file: " + why;
      return nullptr;
    }
    const std::vector<std::string> extra_env = {
        Prepended("LD_PRELOAD", std::filesystem::absolute(library_, ec).string(), ":"),
        "NETFAULT_CONTROL=" + path,
        // An ASan-built adapter refuses a library preloaded before its runtime.
        Prepended("ASAN_OPTIONS", "verify_asan_link_order=0", ":"),
    };
    auto instrument = std::make_unique<ControlInstrument>(std::move(file), std::move(config));
    std::unique_ptr<Session> inner = SpawnAdapter(command_, scratch_dir, env, extra_env, error);
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

}  // namespace netutil::conform
