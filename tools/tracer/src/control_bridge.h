// netutil-trace --netfault-control-fd N: the tracer driven through the control
// region of the LD_PRELOAD interposer (tools/interpose/netfault_control.h), so
// netconform instruments a traced adapter exactly as an interposed one: it
// writes the fault plan and reads typed trace records in the same region,
// checked the same way. Here the region's writer is netutil-trace, not the
// implementation: the command never inherits its fd.
//
//   config.plan           the plan, re-read at the tracer's next stop whenever
//                         netconform changes it (counts restart)
//   config.ipv6_missing   socket(AF_INET6) = EAFNOSUPPORT
//   config.trace          off: nothing recorded
//   config.wait_for_stdin the plan and trace start with the first request
//   config.resolver       not applied (getaddrinfo is no syscall): Attach
//                         refuses a region with resolver entries
//   owner                 the command's pid, once it has exec'd
#pragma once

#include <memory>
#include <string>

#include "netfault_control.h"
#include "netutil/tracer/syscall_tracer.h"

namespace netutil::tracer {

class ControlBridge {
 public:
  // Maps the region behind `fd` (which stays open here, close-on-exec) and
  // reads its config; nullptr with `error` when it is no region or asks for
  // what the tracer cannot do.
  static std::unique_ptr<ControlBridge> Attach(int fd, std::string* error);
  // The same for a region in a file (ControlFile::Create): for trusted
  // programs only, as libnetfault.so's NETFAULT_CONTROL (the benchmark).
  static std::unique_ptr<ControlBridge> AttachPath(const std::string& path, std::string* error);

  // The tracer's options from the config, with the hooks that keep the plan
  // and the trace in step with the region. The bridge must outlive the tracer.
  void Configure(SyscallTracer::Options* options);
  // Publishes the command's pid (the region's owner) for the runner.
  void Started(pid_t pid) { file_->ClaimOwner(pid); }

 private:
  static std::unique_ptr<ControlBridge> From(std::unique_ptr<netfault::ControlFile> file,
                                             std::string* error);
  ControlBridge(std::unique_ptr<netfault::ControlFile> file, netfault::Config config,
                uint64_t generation)
      : file_(std::move(file)), config_(std::move(config)), generation_(generation) {}
  std::optional<fakes::FaultPlan> PollPlan();
  void Complain(const std::string& what);

  std::unique_ptr<netfault::ControlFile> file_;
  netfault::Config config_;
  uint64_t generation_ = 0;  // of the config in force
};

}  // namespace netutil::tracer
