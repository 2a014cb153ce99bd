#include "control_bridge.h"

#include <fcntl.h>

#include <iostream>
#include <utility>

namespace netutil::tracer {
namespace {

// The plan as the interposer reads it (any errno is admitted); a plan that
// does not parse is no plan, said on stderr, as libnetfault.so does.
fakes::FaultPlan PlanOf(const std::string& text, std::string* error) {
  fakes::FaultPlan::Parsed parsed = fakes::FaultPlan::Parse(text, fakes::ErrnoCheck::kAny);
  if (parsed.ok()) return std::move(*parsed.plan);
  *error = parsed.error ? parsed.error->ToString() : "unreadable";
  return {};
}

}  // namespace

std::unique_ptr<ControlBridge> ControlBridge::Attach(int fd, std::string* error) {
  std::string why;
  std::unique_ptr<netfault::ControlFile> file = netfault::ControlFile::AttachFd(fd, &why);
  if (!file) {
    *error = "control region (fd " + std::to_string(fd) + "): " + why;
    return nullptr;
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // the command must never write to it
  return From(std::move(file), error);
}

std::unique_ptr<ControlBridge> ControlBridge::AttachPath(const std::string& path,
                                                         std::string* error) {
  std::string why;
  std::unique_ptr<netfault::ControlFile> file = netfault::ControlFile::Attach(path, &why);
  if (!file) {
    *error = "control region " + path + ": " + why;
    return nullptr;
  }
  return From(std::move(file), error);
}

std::unique_ptr<ControlBridge> ControlBridge::From(std::unique_ptr<netfault::ControlFile> file,
                                                   std::string* error) {
  std::string why;
  uint64_t generation = 0;
  std::optional<netfault::Config> config = file->ReadConfig(&generation, &why);
  if (!config) {
    *error = "control region: " + why;
    return nullptr;
  }
  if (!config->resolver.empty()) {
    *error =
        "control region: resolver overrides are a C library matter (getaddrinfo is no "
        "syscall); the tracer cannot apply them";
    return nullptr;
  }
  return std::unique_ptr<ControlBridge>(
      new ControlBridge(std::move(file), std::move(*config), generation));
}

void ControlBridge::Complain(const std::string& what) {
  std::cerr << "netutil-trace: control region: " << what << "\n";
}

void ControlBridge::Configure(SyscallTracer::Options* o) {
  std::string error;
  o->plan = PlanOf(config_.plan, &error);
  if (!error.empty()) Complain("fault plan: " + error + "; no faults");
  o->record_trace = config_.trace;
  o->arm_at_stdin_read = config_.wait_for_stdin;
  o->ipv6_missing = config_.ipv6_missing;
  o->poll_plan = [this] { return PollPlan(); };
  o->trace_sink = [this](fakes::TraceEntry&& e) {
    const auto call = static_cast<uint16_t>(e.call());
    // A full area only counts the call (its dropped count): skip the text.
    if (file_->TraceFull()) {
      file_->Append(call, {});
      return;
    }
    file_->Append(call, netfault::TraceRecordText(e));
  };
}

// One atomic load per stop; the config is read again only when netconform
// has written a new one (an even generation past the one in force).
std::optional<fakes::FaultPlan> ControlBridge::PollPlan() {
  const uint64_t g = file_->generation();
  if (g == generation_ || g % 2 != 0) return std::nullopt;
  uint64_t read_generation = 0;
  std::string why;
  std::optional<netfault::Config> config = file_->ReadConfig(&read_generation, &why);
  if (!config) return std::nullopt;  // being written: the next stop sees it
  generation_ = read_generation;
  std::string error;
  fakes::FaultPlan plan = PlanOf(config->plan, &error);
  if (!error.empty()) Complain("fault plan: " + error + "; no faults");
  return plan;
}

}  // namespace netutil::tracer
