// netutil-trace: runs a command under netutil_tracer and prints its trace, as
// strace would but in the suite's own trace format and with a fault plan:
//
//   netutil-trace [--plan FILE] [--out FILE] [--no-trace] -- COMMAND [ARG ...]
//   netutil-trace --netfault-control-fd N -- COMMAND [ARG ...]
//   netutil-trace --netfault-control FILE -- COMMAND [ARG ...]   (trusted: bench)
//
// The command keeps this process's stdin, stdout and stderr; the trace goes to
// stderr (or --out) once it has ended, then "# N seccomp stops". Exits with
// the command's exit code (128 + signal when killed), 125 when it cannot run.
// With --netfault-control-fd the plan and the trace live in the interposer's
// control region instead (control_bridge.h): how netconform --mode traced
// runs an adapter; the command then stays in this process's process group.
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "control_bridge.h"
#include "netutil/fakes/fault_plan.h"
#include "netutil/fakes/trace.h"
#include "netutil/tracer/syscall_tracer.h"

namespace {

constexpr int kCannotRun = 125;

// The plan file's text, parsed as the LD_PRELOAD interposer reads plans.
bool ReadPlan(const std::string& path, netutil::fakes::FaultPlan* plan) {
  if (path.empty()) return true;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = netutil::fakes::FaultPlan::Parse(text.str(), netutil::fakes::ErrnoCheck::kAny);
  if (!in || !parsed.ok()) {
    std::cerr << "netutil-trace: " << path << ": "
              << (parsed.error ? parsed.error->ToString() : "cannot read") << "\n";
    return false;
  }
  *plan = *parsed.plan;
  return true;
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : kCannotRun;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"netutil-trace: a command's calls of the seam, traced and faulted by ptrace"};
  std::string plan_file, out_file;
  std::vector<std::string> command;
  bool no_trace = false;
  int control_fd = -1;
  std::string control_file;
  auto* plan_opt =
      app.add_option("--plan", plan_file, "fault plan file (docs/SPEC.md's plan language)");
  auto* out_opt = app.add_option("--out", out_file, "write the trace here instead of stderr");
  auto* no_trace_opt = app.add_flag("--no-trace", no_trace, "fault only: record nothing");
  auto* fd_opt =
      app.add_option("--netfault-control-fd", control_fd,
                     "plan and trace in this inherited control region (netconform --mode traced)")
          ->check(CLI::NonNegativeNumber)
          ->excludes(plan_opt, out_opt, no_trace_opt);
  app.add_option("--netfault-control", control_file,
                 "plan and trace in this control file (made by a trusted program: the benchmark)")
      ->excludes(plan_opt, out_opt, no_trace_opt, fd_opt);
  app.add_option("command", command, "the command and its arguments")->required();
  app.allow_extras(false);
  CLI11_PARSE(app, argc, argv);

  netutil::tracer::SyscallTracer::Options options;
  options.argv = command;
  options.record_trace = !no_trace;
  std::string error;
  std::unique_ptr<netutil::tracer::ControlBridge> bridge;
  if (control_fd >= 0 || !control_file.empty()) {
    bridge = control_fd >= 0 ? netutil::tracer::ControlBridge::Attach(control_fd, &error)
                             : netutil::tracer::ControlBridge::AttachPath(control_file, &error);
    if (!bridge) {
      std::cerr << "netutil-trace: " << error << "\n";
      return kCannotRun;
    }
    bridge->Configure(&options);
    // netconform kills this process's group; the command belongs to it.
    options.own_process_group = false;
  } else if (!ReadPlan(plan_file, &options.plan)) {
    return kCannotRun;
  }
  auto tracer = netutil::tracer::SyscallTracer::Start(std::move(options), &error);
  if (!tracer) {
    std::cerr << "netutil-trace: " << error << "\n";
    return kCannotRun;
  }
  if (bridge) bridge->Started(tracer->pid());
  std::optional<int> status;
  while (!(status = tracer->Wait(std::chrono::hours(1)))) {
  }
  const int code = ExitCode(tracer->Stop());
  if (bridge) return code;  // the trace is in the region
  std::ofstream file;
  if (!out_file.empty()) file.open(out_file);
  std::ostream& out = out_file.empty() ? std::cerr : file;
  const netutil::fakes::Trace trace = tracer->TakeTrace();
  for (const auto& entry : trace.entries()) {
    out << netutil::fakes::FormatTraceLine(entry) << "\n";
  }
  out << "# " << tracer->SyscallsSeen() << " seccomp stops\n";
  return code;
}
